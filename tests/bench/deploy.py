"""The production topology under mixed load: deploy/Procfile run by honcho on this machine
(nginx with TLS in front of gunicorn's sync workers, two uvicorn socket processes, a Celery
worker and two beats), driven through the proxy only: ticket intake, queue reads and live
sockets at the same time (docs/deploy.md).

``python -m tests.bench.deploy clients URL TOKENS_JSON OUT_JSON CAFILE`` is the socket client
process of this benchmark: ``wss://`` through the proxy, one socket per token, each
``queue.event`` stamped as it is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import itertools
import json
import os
import re
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import cpu, env, report
from .env import HOST, LOG_DIR, ROOT, Service, child_env, free_port
from .seed import LARGE_CAPACITY, BenchDesk, seed_desk
from .stats import Summary, ms
from .ws import SocketClientProcess

DURATION = 60.0
INTAKE_CONCURRENCY = 4
QUEUE_CONCURRENCY = 4
SOCKETS = 200
# Sockets of agents in a team that intake never routes to: open and idle, like most of a
# desk's screens while one team takes the new work.
IDLE_AGENTS = 40
WEB_WORKERS = 2  # README's topology: gunicorn, one sync worker per core (docs/deploy.md)
WORKER_CONCURRENCY = 2
GRACE_SECONDS = 2.0  # after the load: the last pushes reach the sockets
GOAL_PUSH_P95 = 0.050  # the push benchmark's goal (docs/benchmarks.md, section 4)
PRIORITIES = ("P2", "P3", "P2", "P1", "P4", "P3")
WORK_DIR = LOG_DIR / "deploy"


# --- the topology -------------------------------------------------------------------------
class Topology:
    """deploy/Procfile under honcho, with an env file of this run: the bench database and
    Redis db, free ports, a self-signed certificate, the static files collected for nginx."""

    def __init__(self) -> None:
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        self.http_port, self.https_port = free_port(), free_port()
        self.web_port, self.socket_ports = free_port(), (free_port(), free_port())
        self.lmtp_port = free_port()
        self.cert, self.key = WORK_DIR / "tls" / "cert.pem", WORK_DIR / "tls" / "key.pem"
        self.static = WORK_DIR / "static"
        _self_signed(self.cert, self.key)
        values = {
            **env.BENCH_ENV,
            "KEFU_ALLOWED_HOSTS": f"{HOST},localhost",
            "KEFU_SITE_URL": f"https://{HOST}:{self.https_port}",
            "KEFU_CACHE_URL": f"redis://127.0.0.1:6379/{env.REDIS_DB + 1}",
            # TLS ends at nginx, which says so in X-Forwarded-Proto: Kefu's redirect and HSTS
            # stay as in production.
            "KEFU_HTTPS_REDIRECT": "true",
            "KEFU_TRUSTED_PROXIES": "1",
            "KEFU_STATIC_ROOT": str(self.static),
            "KEFU_PROXY_ADDRESS": HOST,
            "KEFU_PROXY_HTTP_PORT": str(self.http_port),
            "KEFU_PROXY_HTTPS_PORT": str(self.https_port),
            "KEFU_TLS_CERT": str(self.cert),
            "KEFU_TLS_KEY": str(self.key),
            "KEFU_WEB_PORT": str(self.web_port),
            "KEFU_WEB_WORKERS": str(WEB_WORKERS),
            "KEFU_SOCKET_PORT_1": str(self.socket_ports[0]),
            "KEFU_SOCKET_PORT_2": str(self.socket_ports[1]),
            "KEFU_LMTP_PORT": str(self.lmtp_port),
            "KEFU_WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
            "KEFU_DEPLOY_DIR": str(WORK_DIR / "run"),
        }
        self.deploy_dir = values["KEFU_DEPLOY_DIR"]
        (Path(self.deploy_dir) / "nginx-access.log").unlink(missing_ok=True)  # this run's only
        self.env_file = WORK_DIR / "env"
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        self.redis_url = values["KEFU_REDIS_URL"]
        bin_dir = str(Path(sys.executable).parent)  # the virtualenv's, where gunicorn lives
        run_env = child_env(PATH=f"{bin_dir}:{os.environ.get('PATH', '')}")
        run_env.pop("KEFU_CACHE_URL", None)
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=ROOT, env={**run_env, "KEFU_STATIC_ROOT": str(self.static)}, check=True,
        )  # fmt: skip
        self.service = Service(
            "deploy-honcho",
            [sys.executable, "-m", "honcho", "-f", "deploy/Procfile", "-d", str(ROOT),
             "-e", str(self.env_file), "start"],
            run_env,
        )  # fmt: skip
        self.tls = ssl.create_default_context(cafile=str(self.cert))

    def https(self, timeout: float = 30.0) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(HOST, self.https_port, timeout=timeout, context=self.tls)

    def wait_ready(self, timeout: float = 120.0) -> dict[str, Any]:
        """``/readyz`` through the proxy answers 200: nginx, a web worker, the database, Redis,
        a Celery worker's ping and the active beat's heartbeat are all there."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if not self.service.alive():
                raise RuntimeError(f"honcho exited early:\n{self.service.tail(60)}")
            conn = self.https(timeout=10)
            try:
                conn.request("GET", "/readyz")
                response = conn.getresponse()
                body = response.read()
                if response.status == 200:
                    ready: dict[str, Any] = json.loads(body)
                    return ready
                last = f"HTTP {response.status}: {body[:300]!r}"
            except (OSError, http.client.HTTPException) as exc:
                last = repr(exc)
            finally:
                conn.close()
            time.sleep(0.3)
        raise RuntimeError(f"the topology is not ready: {last}\n{self.service.tail(60)}")

    def processes(self) -> dict[int, str]:
        """Every process under honcho, by kind."""
        snap = cpu.snapshot()
        tree = cpu._tree(snap.procs, (self.service.pid,))
        return {pid: _kind(pid, snap.procs[pid].comm) for pid in tree if pid in snap.procs}

    def stop(self) -> None:
        self.service.stop(timeout=30)


def memory_by_kind(kinds: dict[int, str]) -> dict[str, float]:
    """Proportional set size (MB) per process kind: pages shared between a master and its
    forked workers are split between them, so the sums add up."""
    out: dict[str, float] = defaultdict(float)
    for pid, kind in kinds.items():
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    out[kind] += int(line.split()[1]) / 1024
                    break
    return dict(out)


def _self_signed(cert: Path, key: Path) -> None:
    """A certificate for 127.0.0.1 (kept between runs while it is valid for another day)."""
    if cert.exists() and key.exists():
        valid = subprocess.run(
            ["openssl", "x509", "-checkend", "86400", "-noout", "-in", str(cert)],
            capture_output=True,
        )
        if valid.returncode == 0:
            return
    cert.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


KINDS = ("proxy (nginx)", "web (gunicorn)", "sockets (uvicorn)", "worker (celery)", "beats")


def _kind(pid: int, comm: str) -> str:
    line = _cmdline(pid)
    if comm.startswith("nginx"):
        return KINDS[0]
    if "gunicorn" in line:
        return KINDS[1]
    if "uvicorn" in line:
        return KINDS[2]
    if "celery" in line:
        return KINDS[4] if re.search(r"\bbeat\b", line) else KINDS[3]
    return "runner (honcho)"


class CpuWindow:
    """Who used the CPU while the load ran, per process kind of the topology.

    Like ``cpu.Window`` (a sampler remembers processes that end inside the window: a database
    connection past CONN_MAX_AGE is replaced by a new backend), but every process is labelled
    while it is alive: a backend of another database that ends inside the window counts as
    "other", not as this run's PostgreSQL. Shares: 2 CPUs = 100 %."""

    def __init__(self, root: int, load_pids: tuple[int, ...], interval: float = 0.2) -> None:
        self.root = root
        self.load_pids = {os.getpid(), *load_pids}
        self.interval = interval
        self.tree = {root}
        self.labels: dict[int, str] = {}
        self.seen: dict[int, cpu.Proc] = {}
        self.shares: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _label(self, pid: int, proc: cpu.Proc) -> str:
        if proc.ppid in self.tree or pid in self.tree:
            self.tree.add(pid)
            return _kind(pid, proc.comm)
        if pid in self.load_pids:
            return "load generator"
        if proc.comm.startswith("postgres"):
            return "postgres" if cpu._bench_or_shared_backend(pid) else "other"
        if proc.comm.startswith("redis-server"):
            return "redis"
        return "other"

    def _look(self, procs: dict[int, cpu.Proc]) -> None:
        for pid in sorted(procs):  # parents (lower pids, mostly) before their children
            if pid not in self.labels:
                self.labels[pid] = self._label(pid, procs[pid])

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            procs = cpu.snapshot().procs
            self._look(procs)
            self.seen.update(procs)

    def __enter__(self) -> CpuWindow:
        self.before = cpu.snapshot()
        self._look(self.before.procs)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        after = cpu.snapshot()
        self._look(after.procs)
        for pid, proc in self.seen.items():
            after.procs.setdefault(pid, proc)
        wall = max(after.at - self.before.at, 1e-9)
        scale = 100.0 / wall / (os.cpu_count() or 1)
        out: dict[str, float] = defaultdict(float)
        for pid, proc in after.procs.items():
            then = self.before.procs.get(pid)
            spent = max(0.0, proc.cpu - (then.cpu if then else 0.0)) * scale
            label = self.labels.get(pid, "other")
            if label != "other":
                out[label] += spent
        total = after.total - self.before.total
        busy = 100.0 * (after.busy - self.before.busy) / total if total else 0.0
        out["other"] = max(0.0, busy - sum(out.values()))
        out["machine busy"] = busy
        self.shares = dict(out)


# --- the socket clients -------------------------------------------------------------------
class SocketClients(SocketClientProcess):
    """This module's ``clients`` entry in its own process (its CPU is not the server's)."""

    def __init__(self, url: str, tokens: list[str], cafile: Path) -> None:
        tokens_path, out_path = WORK_DIR / "tokens.json", WORK_DIR / "clients.json"
        argv = [sys.executable, "-m", "tests.bench.deploy", "clients", url,
                str(tokens_path), str(out_path), str(cafile)]  # fmt: skip
        super().__init__(
            argv,
            tokens,
            tokens_path=tokens_path,
            out_path=out_path,
            err_path=WORK_DIR / "clients.log",
        )


async def _clients(url: str, tokens: list[str], out: str, cafile: str) -> None:
    import websockets

    tls = ssl.create_default_context(cafile=cafile)
    gate = asyncio.Semaphore(50)
    hello: dict[int, dict[str, Any]] = {}
    receipts: list[tuple[int, int, str, str, float]] = []
    errors: list[str] = []
    state = {"stopping": False, "closed_early": 0}

    async def ping(ws: Any, every: float) -> None:
        with contextlib.suppress(websockets.ConnectionClosed, asyncio.CancelledError):
            while True:
                await asyncio.sleep(every)
                await ws.send('{"type": "ping"}')

    async def listen(index: int, ws: Any) -> None:
        pinger = asyncio.create_task(ping(ws, float(hello[index]["heartbeat"])))
        try:
            async for raw in ws:
                now = time.time()
                message = json.loads(raw)
                if message.get("type") == "queue.event":
                    receipts.append(
                        (index, int(message["object"]["object_id"]), str(message["event"]),
                         str(message["at"]), now)
                    )  # fmt: skip
        except websockets.ConnectionClosed:
            pass
        finally:
            pinger.cancel()
        if not state["stopping"]:
            state["closed_early"] += 1

    async def open_one(index: int, token: str) -> Any:
        async with gate:
            try:
                ws = await websockets.connect(
                    f"{url}?token={token}", ssl=tls, open_timeout=60, max_queue=None,
                    compression=None,
                )  # fmt: skip
                first = json.loads(await asyncio.wait_for(ws.recv(), 60))
            except Exception as exc:  # counted and reported
                errors.append(f"socket {index}: {exc!r}"[:200])
                return None
        if first.get("type") != "hello":
            errors.append(f"socket {index}: first message {first!r}"[:200])
            await ws.close()
            return None
        hello[index] = first
        return ws

    started = time.monotonic()
    opened = await asyncio.gather(*(open_one(i, t) for i, t in enumerate(tokens)))
    took = time.monotonic() - started
    sockets = {i: ws for i, ws in enumerate(opened) if ws is not None}
    tasks = [asyncio.create_task(listen(i, ws)) for i, ws in sockets.items()]
    print(f"ready {len(sockets)} {len(tokens) - len(sockets)} {took:.2f}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    state["stopping"] = True
    await asyncio.gather(*(ws.close() for ws in sockets.values()), return_exceptions=True)
    await asyncio.gather(*tasks, return_exceptions=True)
    with open(out, "w") as fh:
        json.dump(
            {
                "opened": len(sockets),
                "groups": {str(i): h.get("groups", []) for i, h in hello.items()},
                "receipts": receipts,
                "closed_early": state["closed_early"],
                "errors": errors[:20],
            },
            fh,
        )


def clients_cli(argv: list[str]) -> None:
    url, tokens_path, out, cafile = argv
    tokens: list[str] = json.loads(Path(tokens_path).read_text())
    try:
        import uvloop

        uvloop.run(_clients(url, tokens, out, cafile))
    except ImportError:
        asyncio.run(_clients(url, tokens, out, cafile))


# --- the load -------------------------------------------------------------------------------
@dataclass
class Kind:
    name: str
    concurrency: int
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0

    @property
    def summary(self) -> Summary:
        return Summary.of(self.latencies)


Request = tuple[str, str, bytes | None, dict[str, str]]


def drive(topology: Topology, plans: list[tuple[Kind, Any]], duration: float) -> None:
    """Closed loops for ``duration`` seconds: each kind's threads keep one HTTPS keep-alive
    connection to the proxy and send the next request when the answer is read."""
    stop_at = time.monotonic() + duration
    lock = threading.Lock()

    def worker(kind: Kind, request_for: Any, counter: itertools.count[int]) -> None:
        conn = topology.https()
        try:
            while time.monotonic() < stop_at:
                with lock:
                    i = next(counter)
                method, path, body, headers = request_for(i)
                started = time.perf_counter()
                try:
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    with lock:
                        kind.statuses[0] += 1
                        if len(kind.errors) < 20:
                            kind.errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                elapsed = time.perf_counter() - started
                with lock:
                    kind.latencies.append(elapsed)
                    kind.statuses[response.status] += 1
                    if response.status >= 400 and len(kind.errors) < 20:
                        kind.errors.append(f"HTTP {response.status}: {data[:200]!r}")
        finally:
            conn.close()

    threads = []
    for kind, request_for in plans:
        counter = itertools.count()
        threads += [
            threading.Thread(target=worker, args=(kind, request_for, counter), daemon=True)
            for _ in range(kind.concurrency)
        ]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    for kind, _ in plans:
        kind.wall = wall


def intake_request(token: str, tag: str) -> Any:
    headers = {
        "Authorization": f"Token {token}",
        "Accept": "application/json",
        "Content-Type": "application/json",
    }

    def request_for(i: int) -> Request:
        body = {
            "subject": f"{tag} #{i}: the invoice total is wrong",
            "description": "The customer reports a wrong total on the last invoice.",
            "priority": PRIORITIES[i % len(PRIORITIES)],
            "channel": "api",
            "contact": {
                "email": f"deploy-{i}-{tag.split()[-1]}@bench.example.com",
                "name": f"Customer {i}",
            },
        }
        return "POST", "/api/tickets/", json.dumps(body).encode(), headers

    return request_for


def queue_request(token: str) -> Any:
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}

    def request_for(i: int) -> Request:
        return "GET", "/api/queue/", None, headers

    return request_for


# --- seeding --------------------------------------------------------------------------------
@dataclass
class Desk:
    bench: BenchDesk
    queue_token: str
    socket_tokens: list[str]
    routed_team: int


def seed(sockets: int, idle_agents: int) -> Desk:
    """The bench desk, plus ``idle_agents`` agents in the team intake is not routed to, and
    the tokens of ``sockets`` sockets: the routed team's agents and the admin (a supervisor's
    view) one tab each, the other sockets spread over the idle agents."""
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    from org.models import AgentProfile, Team
    from tests.factories import role

    desk = seed_desk()
    idle_team = Team.objects.get(pk=desk.other_team_id)
    agent_role = role("agent")
    idle: list[str] = []
    for n in range(idle_agents):
        user = User.objects.create(username=f"deploy-idle{n + 1}", password="!")
        user.groups.add(agent_role)
        AgentProfile.objects.update_or_create(
            user=user, defaults={"presence": "offline", "capacity": LARGE_CAPACITY}
        )
        idle_team.members.add(user)
        idle.append(Token.objects.create(user=user).key)
    routed = [Token.objects.get_or_create(user_id=pk)[0].key for pk in desk.agent_ids]
    watching = [desk.token, *routed]
    tokens = watching[:sockets]
    rest = max(0, sockets - len(tokens))
    tokens += [idle[i % len(idle)] for i in range(rest)] if idle else []
    return Desk(desk, routed[0], tokens, desk.team_id)


# --- checks through the proxy -----------------------------------------------------------
def proxy_checks(topology: Topology, desk: Desk) -> list[list[str]]:
    """What the reverse proxy must do, each asked once: (check, answer, as expected)."""
    rows: list[list[str]] = []

    def ask(
        conn: http.client.HTTPConnection, path: str, headers: dict[str, str] | None = None
    ) -> http.client.HTTPResponse:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response

    plain = http.client.HTTPConnection(HOST, topology.http_port, timeout=10)
    try:
        r = ask(plain, "/api/queue/")
        location = r.getheader("Location") or ""
        rows.append(["plain HTTP `/api/queue/`", f"{r.status} → `{location}`",
                     _ok(r.status == 301 and location.startswith("https://"))])  # fmt: skip
        r = ask(plain, "/healthz")
        rows.append(["plain HTTP `/healthz` (probe)", str(r.status), _ok(r.status == 200)])
    finally:
        plain.close()
    tls = topology.https()
    token = {"Authorization": f"Token {desk.bench.token}"}
    try:
        r = ask(tls, "/readyz")
        rows.append(["HTTPS `/readyz`", str(r.status), _ok(r.status == 200)])
        r = ask(tls, "/api/me/", token)
        hsts = r.getheader("Strict-Transport-Security") or "none"
        passed = r.status == 200 and "max-age" in hsts
        rows.append(["HTTPS `/api/me/`: no redirect, Kefu's HSTS (X-Forwarded-Proto believed)",
                     f"{r.status}, `{hsts}`", _ok(passed)])  # fmt: skip
        r = ask(tls, "/api/me/", {**token, "X-Request-ID": "deploy-bench-check"})
        echoed = r.getheader("X-Request-ID") or "none"
        rows.append(["client's X-Request-ID passed through", f"`{echoed}`",
                     _ok(echoed == "deploy-bench-check")])  # fmt: skip
        r = ask(tls, "/static/web/kefu.css")
        served_by = "nginx" if r.getheader("X-Request-ID") is None else "Kefu"
        rows.append(["`/static/web/kefu.css`", f"{r.status}, served by {served_by}",
                     _ok(r.status == 200 and served_by == "nginx")])  # fmt: skip
        # A client's own X-Forwarded-For is not believed: Kefu counts the address nginx
        # appended (KEFU_TRUSTED_PROXIES=1), here 127.0.0.1, inside KEFU_METRICS_ALLOW.
        r = ask(tls, "/metrics", {"X-Forwarded-For": "203.0.113.9"})
        rows.append(["`/metrics` with a forged `X-Forwarded-For: 203.0.113.9`",
                     f"{r.status} (nginx's peer counts)", _ok(r.status == 200)])  # fmt: skip
    finally:
        tls.close()
    return rows


def access_log_check(topology: Topology) -> list[str]:
    """After the sockets came and went: their ``?token=`` is in no line of nginx's log."""
    log = Path(topology.deploy_dir) / "nginx-access.log"
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    sockets = sum("/ws/queue/" in line for line in lines)
    leaked = sum("token=" in line for line in lines)
    return [
        "nginx's access log: no `?token=` of the sockets",
        f"{len(lines)} lines, {sockets} socket handshakes, {leaked} with a token",
        _ok(sockets > 0 and leaked == 0),
    ]


def _ok(passed: bool) -> str:
    return "yes" if passed else "**NO**"


def beat_pair(topology: Topology, kinds: dict[int, str]) -> tuple[str, bool]:
    """Which beat holds the leader lock, and whether exactly one does."""
    import redis

    from ops.beat import LOCK_KEY

    client = redis.Redis.from_url(topology.redis_url)
    try:
        holder = client.get(LOCK_KEY)
    finally:
        client.close()
    beats = {pid: _cmdline(pid) for pid, kind in kinds.items() if kind == "beats"}
    if not isinstance(holder, bytes):
        return f"no beat holds the lock ({len(beats)} beats running)", False
    pid = int(holder.decode().split(":")[1])
    name = next((re.search(r"(beat\d)-schedule", line) for p, line in beats.items() if p == pid),
                None)  # fmt: skip
    label = name.group(1) if name else f"pid {pid}"
    others = len(beats) - (1 if pid in beats else 0)
    return f"{label} active (pid {pid}), {others} standing by", pid in beats and others >= 1


# --- the run --------------------------------------------------------------------------------
@dataclass
class Pushes:
    latencies: list[float]
    expected: int
    received: int
    leaked: int
    receiving_sockets: int
    idle_sockets: int

    @property
    def lost(self) -> int:
        return self.expected - self.received


def analyse_pushes(received: dict[str, Any], tag: str) -> tuple[Pushes, int]:
    """Each ticket this run opened must reach every socket in one of its groups
    (``supervisors``, its team, its assignee) as a ``created`` event; latency = the socket's
    receipt - the event's ``at`` (stamped in the intake's transaction, just before commit)."""
    from tickets.models import Ticket

    tickets = {
        pk: {"supervisors", f"team.{team}", f"agent.{agent}"}
        for pk, team, agent in Ticket.objects.filter(subject__startswith=tag).values_list(
            "pk", "team_id", "assignee_id"
        )
    }
    groups = {int(i): set(g) for i, g in received["groups"].items()}
    first: dict[tuple[int, int], float] = {}
    leaked = 0
    for index, ticket, event, at, now in received["receipts"]:
        if event != "created" or ticket not in tickets:
            continue
        if not groups.get(index, set()) & tickets[ticket]:
            leaked += 1
            continue
        if (index, ticket) not in first:
            first[(index, ticket)] = now - datetime.fromisoformat(at).timestamp()
    expected = sum(1 for g in groups.values() for wanted in tickets.values() if g & wanted)
    receiving = sum(1 for g in groups.values() if any(g & w for w in tickets.values()))
    pushes = Pushes(
        list(first.values()), expected, len(first), leaked, receiving, len(groups) - receiving
    )
    return pushes, len(tickets)


def run(*, quick: bool = False) -> report.Section:
    started = time.monotonic()
    duration = 6.0 if quick else DURATION
    sockets = 12 if quick else SOCKETS
    idle_agents = 4 if quick else IDLE_AGENTS
    env.reset_database()
    env.setup_django()
    desk = seed(sockets, idle_agents)
    tag = f"Deploy bench {int(time.time())}"
    print(f"[deploy] starting deploy/Procfile under honcho ({WEB_WORKERS} web workers, "
          f"2 socket processes, worker, 2 beats, nginx)", flush=True)  # fmt: skip
    topology = Topology()
    clients: SocketClients | None = None
    try:
        boot = time.monotonic()
        ready = topology.wait_ready()
        boot_seconds = time.monotonic() - boot
        kinds = topology.processes()
        checks = proxy_checks(topology, desk)
        url = f"wss://{HOST}:{topology.https_port}/ws/queue/"
        clients = SocketClients(url, desk.socket_tokens, topology.cert)
        clients.wait_ready()
        print(f"[deploy] ready in {boot_seconds:.1f} s; {clients.opened} sockets open "
              f"({clients.failed} failed) in {clients.open_seconds:.1f} s; "
              f"{duration:.0f} s of mixed load", flush=True)  # fmt: skip
        intake = Kind("intake: POST /api/tickets/", INTAKE_CONCURRENCY)
        reads = Kind("queue read: GET /api/queue/", QUEUE_CONCURRENCY)
        window = CpuWindow(topology.service.pid, (clients.pid,))
        with window:
            drive(
                topology,
                [(intake, intake_request(desk.bench.token, tag)),
                 (reads, queue_request(desk.queue_token))],
                duration,
            )  # fmt: skip
        shares = window.shares
        memory = memory_by_kind(kinds)
        time.sleep(GRACE_SECONDS)
        received = clients.finish()
        clients = None
        beats, one_active = beat_pair(topology, kinds)
        checks.append(access_log_check(topology))
        problems = topology.service.log_problems()[:10]
    finally:
        if clients is not None:
            clients.kill()
        topology.stop()
    pushes, created = analyse_pushes(received, tag)
    env.close_db_connections()
    counts = Counter(kinds.values())
    clients_opened = int(received["opened"])
    for kind in (intake, reads):
        s = kind.summary
        print(f"[deploy]   {kind.name}: {kind.requests} requests, {kind.throughput:.1f}/s, "
              f"p50 {ms(s.p50)}, p95 {ms(s.p95)}, p99 {ms(s.p99)}, max {ms(s.max)}, "
              f"statuses {dict(kind.statuses)}")  # fmt: skip
    p = Summary.of(pushes.latencies)
    print(f"[deploy]   pushes ({clients_opened} sockets, {pushes.receiving_sockets} receiving): "
          f"{pushes.received}/{pushes.expected} received, {pushes.leaked} leaked, p50 {ms(p.p50)}, "
          f"p95 {ms(p.p95)}, p99 {ms(p.p99)}, max {ms(p.max)}", flush=True)  # fmt: skip
    print(f"[deploy]   CPU {describe(shares)}; processes {dict(counts)}; memory (PSS) "
          + ", ".join(f"{k} {v:.0f} MB" for k, v in memory.items()))  # fmt: skip
    passed = sum(row[-1] == "yes" for row in checks)
    print(
        f"[deploy]   proxy checks {passed}/{len(checks)} as expected; {beats}; "
        f"ready in {boot_seconds:.1f} s; {len(problems)} error lines in the logs",
        flush=True,
    )
    return _section(
        duration=duration,
        intake=intake,
        reads=reads,
        pushes=pushes,
        created=created,
        shares=shares,
        memory=memory,
        counts=counts,
        checks=checks,
        ready=ready,
        boot_seconds=boot_seconds,
        clients_opened=clients_opened,
        sockets=sockets,
        closed_early=int(received["closed_early"]),
        client_errors=list(received["errors"]),
        beats=beats,
        one_active=one_active,
        problems=problems,
        seconds=time.monotonic() - started,
    )


def describe(shares: dict[str, float]) -> str:
    parts = [
        f"{k} {v:.0f} %"
        for k, v in sorted(shares.items(), key=lambda kv: -kv[1])
        if k != "machine busy" and v >= 0.5
    ]
    return f"machine busy {shares.get('machine busy', 0):.0f} % (" + ", ".join(parts) + ")"


def _section(
    *,
    duration: float,
    intake: Kind,
    reads: Kind,
    pushes: Pushes,
    created: int,
    shares: dict[str, float],
    memory: dict[str, float],
    counts: Counter[str],
    checks: list[list[str]],
    ready: dict[str, Any],
    boot_seconds: float,
    clients_opened: int,
    sockets: int,
    closed_early: int,
    client_errors: list[str],
    beats: str,
    one_active: bool,
    problems: list[str],
    seconds: float,
) -> report.Section:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    p = Summary.of(pushes.latencies)
    errors = sum(n for k in (intake, reads) for code, n in k.statuses.items() if code >= 400
                 or code == 0)  # fmt: skip
    summary = [
        (f"intake through nginx, mixed load (c={INTAKE_CONCURRENCY})",
         f"{intake.throughput:.1f} tickets/s, p95 {ms(intake.summary.p95)}", "—", "—"),
        (f"queue reads through nginx, mixed load (c={QUEUE_CONCURRENCY})",
         f"{reads.throughput:.1f}/s, p95 {ms(reads.summary.p95)}", "—", "—"),
        (f"push p95 to {clients_opened} wss:// sockets", ms(p.p95),
         f"≤ {GOAL_PUSH_P95 * 1000:.0f} ms", report.verdict(p.p95 <= GOAL_PUSH_P95)),
        ("pushes lost / HTTP errors", f"{pushes.lost} / {errors}", "0 / 0",
         report.verdict(pushes.lost == 0 and errors == 0)),
    ]  # fmt: skip
    load_rows = []
    for kind in (intake, reads):
        s = kind.summary
        bad = ", ".join(f"{'exception' if c == 0 else c}: {n}" for c, n in
                        sorted(kind.statuses.items()) if c == 0 or c >= 400) or "none"  # fmt: skip
        load_rows.append(
            [kind.name, str(kind.concurrency), str(kind.requests), f"{kind.throughput:.1f}",
             ms(s.p50), ms(s.p95), ms(s.p99), ms(s.max), bad]
        )  # fmt: skip
    push_rows = [[
        f"{clients_opened} of {sockets} ({pushes.receiving_sockets} in the new tickets' groups, "
        f"{pushes.idle_sockets} in a team intake is not routed to)",
        f"{ms(p.p50)} / **{ms(p.p95)}** / {ms(p.p99)} / {ms(p.max)}",
        f"{pushes.received} / {pushes.expected}", str(pushes.lost), str(pushes.leaked),
        str(closed_early),
    ]]  # fmt: skip
    process_rows = [
        [kind, str(counts.get(kind, 0)), f"{shares.get(kind, 0.0):.1f} %",
         f"{memory.get(kind, 0.0):.0f} MB"]
        for kind in (*KINDS, "runner (honcho)")
    ]  # fmt: skip
    process_rows += [
        [name, "—", f"{shares.get(name, 0.0):.1f} %", "—"]
        for name in ("postgres", "redis", "load generator", "other")
    ]
    process_rows.append(
        ["**machine busy**", "", f"**{shares.get('machine busy', 0.0):.1f} %**", ""]
    )
    ready_failed = ", ".join(ready.get("failed", [])) or "none"
    load_table = report.table(
        ["kind", "threads", "requests", "per second", "p50", "p95", "p99", "max", "errors"],
        load_rows,
    )
    push_table = report.table(
        ["sockets", "push p50 / p95 / p99 / max", "created events received / expected", "lost",
         "leaked to other teams", "closed by the server"],
        push_rows,
    )  # fmt: skip
    process_table = report.table(
        ["process kind", "processes", "CPU", "memory (PSS) at the end"], process_rows
    )
    checks_table = report.table(["check", "answer", "as expected"], checks)
    lines = problems + [f"socket client: {e}" for e in client_errors]
    lines += [f"{k.name}: {e}" for k in (intake, reads) for e in k.errors[:5]]
    body = f"""\
## The production topology under mixed load

_Measured {now}; took {seconds:.0f} s._

**Topology.** `deploy/Procfile` run by honcho (`python -m honcho -f deploy/Procfile -d .
-e <env> start`), the same file as `make deploy-local` (docs/deploy.md), with the bench
database and Redis db, production settings (`KEFU_ENV=production`, `KEFU_TRUSTED_PROXIES=1`,
HTTPS redirect and HSTS on) and free ports: nginx (TLS 1.3, HTTP/1.1 to the clients here),
gunicorn with {WEB_WORKERS} sync workers for the REST API (the intake benchmark's fastest
configuration), two uvicorn processes for `/ws/` (nginx `least_conn`), one Celery worker
(`--concurrency {WORKER_CONCURRENCY}`) and two beats. Ready (`/readyz` 200 through the proxy,
failed checks: {ready_failed}) {boot_seconds:.1f} s after honcho started.

**Load**, all through nginx's HTTPS port, for {duration:.0f} s at once: {INTAKE_CONCURRENCY}
threads opening tickets (`POST /api/tickets/`, the admin's token, a new contact each;
routing sends them all to one team) and {QUEUE_CONCURRENCY} threads reading an agent's queue
(`GET /api/queue/`, first page), each thread on one keep-alive TLS connection, closed loop
(the next request when the answer is read). A socket client process (this module's
`clients`, asyncio, `websockets`) holds {clients_opened} `wss://…/ws/queue/?token=` sockets:
one per agent of the routed team and the admin (who sees every ticket), the rest idle agents
of another team. Latency of a push = the socket's receipt - the `at` of the `created` event
(stamped by `tickets.events` at the end of the intake's transaction, just before its commit;
same clock).

{load_table}

Tickets opened: {created} rows for {intake.statuses.get(201, 0)} answers 201.

{push_table}

**CPU during the load** (2 CPUs = 100 %; each process kind is the sum of its processes):

{process_table}

**What the proxy does** (each asked once before the load; the access log read after it):

{checks_table}

**The beat pair**: {beats} ({"as expected" if one_active else "**not as expected**"}).

Log lines reporting errors (honcho's merged log, the clients, the load; first 10):

{report.code(chr(10).join(lines[:10]) or "none")}
"""
    return report.Section("deploy", "Production topology", body, summary, now, seconds)


if __name__ == "__main__":
    if sys.argv[1:2] == ["clients"]:
        clients_cli(sys.argv[2:])
    else:
        sys.exit("usage: python -m tests.bench.deploy clients URL TOKENS_JSON OUT_JSON CAFILE")
