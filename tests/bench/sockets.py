"""5. Sockets per web process: how many idle ``/ws/queue/`` sockets one uvicorn process
holds under 200 MB RSS, for both channels_redis layers."""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import env, report
from .ws import AGENTS, LAYERS, ClientProcess, WebProcess, flush_redis, seed_realtime

STEPS = (250, 500, 1000, 2000, 4000, 8000, 12000, 16000)
QUICK_STEPS = (20, 40)
QUICK_AGENTS = 20
LIMIT_MB = 200.0
PER_CLIENT_PROCESS = 2000
IDLE_SECONDS = 3.0
FD_MARGIN = 200  # descriptors the server needs besides its sockets (database, Redis, files)


@dataclass
class Step:
    sockets: int
    rss_mb: float
    open_seconds: float
    failed: int


@dataclass
class LayerResult:
    layer: str
    base_mb: float
    steps: list[Step]
    fd_limit: int
    stopped_by: str
    problems: list[str] = field(default_factory=list)

    def fit(self) -> tuple[float, float]:
        """Least squares RSS = a + b * sockets over the steps (MB, MB per socket)."""
        xs = [float(s.sockets) for s in self.steps]
        ys = [s.rss_mb for s in self.steps]
        if len(xs) < 2:
            return math.nan, math.nan
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
            (x - mx) ** 2 for x in xs
        )
        return my - b * mx, b

    @property
    def observed_max(self) -> int:
        under = [s.sockets for s in self.steps if s.rss_mb < LIMIT_MB]
        return max(under) if under else 0

    @property
    def extrapolated_max(self) -> float:
        a, b = self.fit()
        return (LIMIT_MB - a) / b if b and b > 0 else math.nan


def _fd_limit(pid: int) -> int:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    return 0


def _idle_rss(server: WebProcess, quick: bool = False) -> float:
    """The median of three readings 1 s apart once the sockets are idle (quick: one
    reading after 0.5 s)."""
    if quick:
        time.sleep(0.5)
        return server.rss_mb()
    time.sleep(IDLE_SECONDS)
    readings = []
    for _ in range(3):
        readings.append(server.rss_mb())
        time.sleep(1.0)
    return statistics.median(readings)


def measure(
    layer: str, tokens: list[str], steps: tuple[int, ...], quick: bool = False
) -> LayerResult:
    env.close_db_connections()
    flush_redis()
    server = WebProcess(layer, "sockets")
    clients: list[ClientProcess] = []
    result = LayerResult(layer, 0.0, [], _fd_limit(server.pid), "the last step")
    try:
        result.base_mb = _idle_rss(server, quick)
        print(f"[sockets]   {layer}: idle server {result.base_mb:.1f} MB", flush=True)
        held = 0
        for target in steps:
            if target + FD_MARGIN > result.fd_limit:
                result.stopped_by = f"the server's open-files limit ({result.fd_limit})"
                break
            took = 0.0
            failed = 0
            while held < target:
                n = min(target - held, PER_CLIENT_PROCESS)
                chunk = [tokens[(held + i) % len(tokens)] for i in range(n)]
                client = ClientProcess(
                    server.port, chunk, f"sockets-{layer}-{len(clients)}", record=False
                )
                clients.append(client)
                client.wait_ready()
                took += client.open_seconds
                failed += client.failed
                held += client.opened
                if client.failed:
                    break
            rss = _idle_rss(server, quick)
            result.steps.append(Step(held, rss, took, failed))
            print(
                f"[sockets]   {layer}: {held} sockets → RSS {rss:.1f} MB "
                f"(opened in {took:.1f} s, {failed} failed)",
                flush=True,
            )
            if failed:
                result.stopped_by = f"{failed} refused connections"
                break
            if rss >= LIMIT_MB:
                result.stopped_by = f"RSS ≥ {LIMIT_MB:.0f} MB"
                break
        result.problems = server.service.log_problems()[:10]
    finally:
        for client in clients:
            client.kill()
        server.stop()
    return result


def run(*, quick: bool = False) -> report.Section:
    started = time.monotonic()
    env.reset_database()
    env.setup_django()
    desk = seed_realtime(0, QUICK_AGENTS if quick else AGENTS)
    tokens = desk.agent_tokens + desk.supervisor_tokens
    results = []
    for layer in LAYERS:
        print(f"[sockets] {layer} layer")
        results.append(measure(layer, tokens, QUICK_STEPS if quick else STEPS, quick))
    env.close_db_connections()
    return _section(results, len(desk.agent_tokens), len(desk.supervisor_tokens),
                    time.monotonic() - started)  # fmt: skip


def _section(
    results: list[LayerResult], agents: int, supervisors: int, seconds: float
) -> report.Section:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    summary = []
    max_rows = []
    for r in results:
        a, b = r.fit()
        summary.append(
            (f"sockets under {LIMIT_MB:.0f} MB RSS, {r.layer} layer",
             f"{r.observed_max} observed, ≈ {r.extrapolated_max:,.0f} extrapolated",
             "—", "—")
        )  # fmt: skip
        max_rows.append(
            [f"`{r.layer}`", f"{r.base_mb:.1f} MB", f"{b * 1024:.1f} KB" if b == b else "n/a",
             f"{a:.1f} MB", str(r.observed_max), f"≈ {r.extrapolated_max:,.0f}", r.stopped_by]
        )  # fmt: skip
    counts = sorted({s.sockets for r in results for s in r.steps})
    by = {r.layer: {s.sockets: s for s in r.steps} for r in results}
    rss_rows = []
    for n in counts:
        row = [str(n)]
        for r in results:
            s = by[r.layer].get(n)
            row.append(f"{s.rss_mb:.1f} MB (opened in {s.open_seconds:.1f} s)" if s else "—")
        rss_rows.append(row)
    problems = [p for r in results for p in r.problems]
    body = f"""\
## 5. Sockets per web process

_Measured {now}; took {seconds:.0f} s._

**What is measured.** How many connected, idle `/ws/queue/` sockets one web
process holds with less than {LIMIT_MB:.0f} MB of resident memory, for both
channels_redis layers.

**Topology.** One `uvicorn project.asgi:application` process (no `--workers`,
production settings, `KEFU_CHANNEL_LAYER=core` or `pubsub`). Client processes
(`tests/bench/ws_clients.py`, at most {PER_CLIENT_PROCESS} sockets each, so their
memory is not the server's) open sockets in steps with `?token=` of the
{agents} agents and {supervisors} supervisors (several sockets per user, like
open tabs); each socket is authenticated, gets its `Connection` row, joins its
2-3 groups and reads its `hello`. After each step, once the sockets are idle
({IDLE_SECONDS:.0f} s), the server's `VmRSS` is read from `/proc/<pid>/status`
three times 1 s apart (median). The steps stop at {LIMIT_MB:.0f} MB, at the
first refused connection, or before the server's open-files limit
(`ulimit -n` of the server: {results[0].fd_limit if results else "?"}).

{report.table(["sockets", *[f"RSS, `{r.layer}`" for r in results]], rss_rows)}

{report.table(["layer", "idle server (no socket)", "per socket (fit)", "intercept (fit)",
               f"largest step under {LIMIT_MB:.0f} MB", f"extrapolated to {LIMIT_MB:.0f} MB",
               "steps stopped by"], max_rows)}

"Per socket" is the slope of a least-squares line through the steps; the
extrapolated maximum is where that line crosses {LIMIT_MB:.0f} MB. RSS also
grows with what Python's allocator keeps after the connect bursts, so the line
is an estimate; the observed column is a measurement. The machine is shared
(2 cores, other people's test runs): connect times vary between runs, memory
much less.
"""  # fmt: skip
    if problems:
        body += "\nServer log lines reporting errors (first 10):\n\n" + report.code(
            "\n".join(problems[:10])
        )
        body += "\n"
    return report.Section("sockets", "Sockets per process", body, summary, now, seconds)
