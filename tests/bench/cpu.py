"""Who used the CPU during a measured window: read from /proc (Linux), nothing is signalled.

Groups: the app server or workers this run started (the whole process tree), the
PostgreSQL backends, Redis, this process (the load generator / poller), and
"other": everything else on the machine (other people's tests, the kernel), so a
disturbed measurement shows as such.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from .env import DB_NAME

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Proc:
    comm: str
    ppid: int
    cpu: float  # seconds (user + system) since the process started


def _stat(pid: int) -> Proc | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            raw = fh.read()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    rest = raw[raw.rindex(")") + 2 :].split()
    return Proc(comm, int(rest[1]), (int(rest[11]) + int(rest[12])) / _TICK)


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            parts = fh.read().split(b"\0")
    except OSError:
        return ""
    words = [p.decode(errors="replace") for p in parts if p]
    words = [w.rsplit("/", 1)[-1] if i == 0 else w for i, w in enumerate(words)]
    return " ".join(words)[:60]


def _bench_or_shared_backend(pid: int) -> bool:
    """A backend of the bench database or a shared server process (checkpointer, WAL
    writer, autovacuum); backends of other databases count as "other"."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            title = fh.read().replace(b"\0", b" ").decode(errors="replace").split()
    except OSError:
        return True
    words = title[1:] if title[:1] == ["postgres:"] else title
    if words and words[0].endswith(":"):  # the cluster name, e.g. "15/main:"
        words = words[1:]
    if len(words) >= 3 and ("(" in words[2] or words[2] == "[local]"):
        return words[1] == DB_NAME  # "user database host(port) state"
    return True


def _busy_total() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot."""
    with open("/proc/stat") as fh:
        fields = [int(v) for v in fh.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


@dataclass
class Snapshot:
    at: float
    busy: float
    total: float
    procs: dict[int, Proc] = field(default_factory=dict)
    roots: tuple[int, ...] = ()
    label: str = "app"


def snapshot(roots: Iterable[int] = (), label: str = "app") -> Snapshot:
    busy, total = _busy_total()
    procs = {int(p): s for p in os.listdir("/proc") if p.isdigit() and (s := _stat(int(p)))}
    return Snapshot(time.monotonic(), busy, total, procs, tuple(roots), label)


def _tree(procs: dict[int, Proc], roots: tuple[int, ...]) -> set[int]:
    tree = set(roots)
    grew = True
    while grew:
        grew = False
        for pid, p in procs.items():
            if p.ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return tree


def usage(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """Share of the whole machine (all CPUs = 100 %) per group, plus 'machine busy'.

    Per process: CPU at the end minus CPU at the start (a process started inside the
    window counts fully; one that ended inside it is not counted).
    """
    wall = max(after.at - before.at, 1e-9)
    scale = 100.0 / wall / (os.cpu_count() or 1)
    tree = _tree(after.procs, after.roots) | _tree(before.procs, before.roots)
    me = os.getpid()
    label = after.label
    out: dict[str, float] = {label: 0.0, "postgres": 0.0, "redis": 0.0, "bench": 0.0}
    others: dict[int, float] = {}
    for pid, p in after.procs.items():
        spent = (p.cpu - before.procs[pid].cpu) if pid in before.procs else p.cpu
        spent = max(0.0, spent) * scale
        if pid in tree:
            out[label] += spent
        elif pid == me:
            out["bench"] += spent
        elif p.comm.startswith("postgres") and _bench_or_shared_backend(pid):
            out["postgres"] += spent
        elif p.comm.startswith("redis-server"):
            out["redis"] += spent
        elif spent > 0:
            others[pid] = spent
    spent_total = after.total - before.total
    out["machine busy"] = 100.0 * (after.busy - before.busy) / spent_total if spent_total else 0.0
    out["other"] = max(
        0.0, out["machine busy"] - sum(v for k, v in out.items() if k != "machine busy")
    )
    top = sorted(others.items(), key=lambda kv: -kv[1])[:2]
    for pid, share in top:
        if share >= 5.0:
            out[f"  of which `{_cmdline(pid) or after.procs[pid].comm}`"] = share
    return out


def describe(shares: dict[str, float]) -> str:
    """'machine busy 97 % (web server 60 %, postgres 25 %, …)'."""
    main = [k for k in shares if k != "machine busy" and not k.startswith("  ")]
    main.sort(key=lambda k: -shares[k])
    parts = []
    for k in main:
        if k == "other":
            extra = [f"{n.strip()[9:]} {v:.0f} %" for n, v in shares.items() if n.startswith("  ")]
            suffix = f" [{'; '.join(extra)}]" if extra else ""
            parts.append(f"other {shares[k]:.0f} %{suffix}")
        elif shares[k] >= 0.5:
            parts.append(f"{k} {shares[k]:.0f} %")
    return f"machine busy {shares.get('machine busy', 0):.0f} % (" + ", ".join(parts) + ")"


class Window:
    """``with Window(roots, label) as w: …`` then ``w.shares``: like two snapshots, but a
    sampler also remembers processes that end inside the window (Celery closes its
    database connection after every task, so those backends come and go)."""

    def __init__(self, roots: Iterable[int] = (), label: str = "app", interval: float = 0.2):
        self.roots = tuple(roots)
        self.label = label
        self.interval = interval
        self.shares: dict[str, float] = {}
        self._seen: dict[int, Proc] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            for p in os.listdir("/proc"):
                if p.isdigit() and (proc := _stat(int(p))) is not None:
                    self._seen[int(p)] = proc

    def __enter__(self) -> Window:
        self._before = snapshot(self.roots, self.label)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        after = snapshot(self.roots, self.label)
        for pid, proc in self._seen.items():
            after.procs.setdefault(pid, proc)
        self.shares = usage(self._before, after)
