"""The chaos test's machinery (tests/ops/test_chaos.py, docs/resilience.md).

A private PostgreSQL cluster and a private redis-server (restarting them touches nobody
else), Kefu's production processes against them (uvicorn, a Celery worker, a Celery beat),
a load client that opens and closes tickets over HTTP the way a careful client does
(an ``Idempotency-Key`` per logical request, the same key again after a failure), and a
poller that records every ``/readyz`` answer. Nothing here imports Django: the test
process only talks HTTP, SQL (psycopg) and SMTP (the sink) to the system under test.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import http.client
import json
import os
import pwd
import queue
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from tests.smtp_sink import Sink, free_port

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
DB_NAME = "kefu_chaos"


# --- tools -------------------------------------------------------------------------------
def pg_bin() -> Path | None:
    """PostgreSQL's server binaries: KEFU_PG_BIN, else the newest /usr/lib/postgresql/*/bin."""
    if configured := os.environ.get("KEFU_PG_BIN"):
        return Path(configured)
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def missing_tools() -> list[str]:
    """What this machine lacks to run the chaos test; empty when everything is there."""
    problems = []
    binaries = pg_bin()
    if binaries is None or not all((binaries / b).exists() for b in ("initdb", "pg_ctl")):
        problems.append(
            "PostgreSQL's initdb and pg_ctl (apt-get install postgresql; or set KEFU_PG_BIN)"
        )
    if shutil.which("redis-server") is None:
        problems.append("redis-server on PATH (apt-get install redis-server)")
    if os.geteuid() == 0:
        # initdb refuses to run as root: the cluster is run by the postgres OS user
        if shutil.which("runuser") is None:
            problems.append("runuser (util-linux), to run PostgreSQL as the postgres user")
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            problems.append("an OS user named postgres, to run PostgreSQL (we run as root)")
    return problems


def wait_until(
    condition: Callable[[], Any], *, timeout: float, what: str, every: float = 0.05
) -> Any:
    """Polls ``condition`` until it is truthy; raises TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


# --- ports ---------------------------------------------------------------------------------
# Below Linux's ephemeral range (32768-60999 by default): neither ``bind(0)`` nor an outgoing
# connection is ever given one of these, so a server restarted on its port (the test
# restarts PostgreSQL and Redis) finds it free again.
PORT_RANGE = (20_000, 32_000)
# One lock file per port, shared by every checkout on this machine: a port is this
# process's while it holds the file's lock (released by the kernel if the process dies).
PORT_LOCKS = Path(tempfile.gettempdir()) / "kefu-chaos-ports"


class ReservedPort:
    """A loopback TCP port no other chaos run on this machine uses while this one holds it
    (two checkouts running the chaos test at once never share a server's port, even across
    a restart), and nothing else listened on when it was taken."""

    def __init__(self, attempts: int = 500) -> None:
        PORT_LOCKS.mkdir(mode=0o777, exist_ok=True)
        for _ in range(attempts):
            port = random.randrange(*PORT_RANGE)
            handle = (PORT_LOCKS / f"{port}.lock").open("a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            if _bindable(port):
                self.port, self._handle = port, handle
                return
            handle.close()
        raise RuntimeError(f"no free port in {PORT_RANGE} after {attempts} attempts")

    def release(self) -> None:
        self._handle.close()


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


# --- the private services ----------------------------------------------------------------
class PrivatePostgres:
    """A PostgreSQL cluster of this test alone, in a temporary directory, on a reserved port.

    Run by the ``postgres`` OS user when we are root (initdb refuses root). fsync is off:
    the test crashes processes, never the machine, and PostgreSQL's own crash safety is
    not what is tested."""

    def __init__(self, workdir: Path) -> None:
        binaries = pg_bin()
        assert binaries is not None, missing_tools()
        self.bin = binaries
        self.dir = workdir / "pg"
        self.dir.mkdir()
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.reserved = ReservedPort()
        self.port = self.reserved.port
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        settings = {
            "port": str(self.port),
            "listen_addresses": f"'{HOST}'",
            "unix_socket_directories": f"'{self.dir}'",
            "fsync": "off",
            "max_connections": "100",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def _run(self, tool: str, *args: str) -> None:
        argv = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=self.dir)

    def url(self, database: str = DB_NAME) -> str:
        return f"postgres://postgres@{HOST}:{self.port}/{database}"

    def start(self) -> None:
        """Returns once the server accepts connections (``pg_ctl -w``)."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: every session is disconnected, open transactions roll back."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def create_database(self) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DB_NAME}")

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop("immediate")


class PrivateRedis:
    """A redis-server of this test alone, on a reserved port, nothing persisted: a restart
    loses every key (queued tasks, beat's lock and heartbeat, the cache)."""

    def __init__(self) -> None:
        self.reserved = ReservedPort()
        self.port = self.reserved.port
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int) -> str:
        return f"redis://{HOST}:{self.port}/{db}"

    def start(self) -> None:
        """Returns once the server answers PING."""
        import redis

        self.process = subprocess.Popen(
            [
                "redis-server", "--port", str(self.port), "--bind", HOST,
                "--save", "", "--appendonly", "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip

        def answers() -> bool:
            client = redis.Redis(host=HOST, port=self.port, socket_connect_timeout=0.5)
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False
            finally:
                client.close()

        wait_until(answers, timeout=20, what="redis-server to answer PING")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- the mail server ---------------------------------------------------------------------
@dataclass
class HoldingSink(Sink):
    """The SMTP sink, which can hold back its 250 to one message: the message is stored
    (the server has it) but the sender has not heard so yet. The test cuts a service in
    exactly that window, the one the outbox's guarantee is about (docs/surveys.md)."""

    _hold_next: threading.Event = field(default_factory=threading.Event)
    _holding: threading.Event = field(default_factory=threading.Event)
    _released: threading.Event = field(default_factory=threading.Event)
    held: list[str] = field(default_factory=list)  # Message-IDs held, in order

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if not reply.startswith("250") or not self._hold_next.is_set():
            return reply
        with self.lock:
            message_id = str(self.messages[-1]["Message-ID"])
            if any(str(m["Message-ID"]) == message_id for m in self.messages[:-1]):
                return reply  # a resend: hold the next message seen for the first time
            self.held.append(message_id)
        self._hold_next.clear()
        self._holding.set()
        deadline = time.monotonic() + 60  # never hang the sender for good
        try:
            while not self._released.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        finally:  # also when the session is cancelled: the sender died meanwhile
            self._holding.clear()
        return reply

    def hold_next(self, timeout: float) -> str:
        """Holds the reply to the next message; returns its Message-ID once it is held."""
        with self.lock:
            before = len(self.held)
        self._released.clear()
        self._hold_next.set()

        def held() -> bool:
            with self.lock:
                return len(self.held) > before and self._holding.is_set()

        try:
            wait_until(
                held, timeout=timeout, what="an outbox message at the SMTP server", every=0.002
            )
        except TimeoutError:
            self._hold_next.clear()
            raise
        with self.lock:
            return self.held[before]

    def release(self) -> None:
        self._released.set()


@contextlib.contextmanager
def running_holding_sink() -> Iterator[HoldingSink]:
    from aiosmtpd.controller import Controller

    sink = HoldingSink(port=free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        sink.release()
        controller.stop()


# --- Kefu's processes --------------------------------------------------------------------
def kefu_env(*, database_url: str, redis: PrivateRedis, email_url: str, **extra: str) -> dict:
    """Production settings (as the benchmarks run them) on the private services. Every
    KEFU_ variable of the test session is dropped first: the shared services it names must
    never be touched."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "PYTHONPATH": str(ROOT),
            "KEFU_ENV": "production",
            "KEFU_SECRET_KEY": "chaos-test-only",
            "KEFU_ALLOWED_HOSTS": HOST,
            # plain HTTP over loopback: TLS is a proxy's job
            "KEFU_HTTPS_REDIRECT": "false",
            "KEFU_DATABASE_URL": database_url,
            "KEFU_REDIS_URL": redis.url(0),
            "KEFU_CACHE_URL": redis.url(1),
            "KEFU_CHANNEL_PREFIX": f"chaos-{os.getpid()}",
            "KEFU_EMAIL_URL": email_url,
            "KEFU_LOG_FORMAT": "text",
            "KEFU_LOG_LEVEL": "WARNING",
            **extra,
        }
    )
    return env


class KefuProcess:
    """One process of the topology in its own process group (so ``kill -9`` takes its
    children with it: the prefork pool, uvicorn's workers), logging to a file."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.log_path = logs / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            list(argv),
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill9(self) -> None:
        """A crash: SIGKILL to the whole group; nothing gets to clean up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._log.close()

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        if not self._log.closed:
            self._log.close()

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def web_argv(port: int, workers: int = 2) -> list[str]:
    """The production web server (README): uvicorn over the ASGI application."""
    return [
        sys.executable, "-m", "uvicorn", "project.asgi:application", "--host", HOST,
        "--port", str(port), "--workers", str(workers), "--log-level", "warning",
        "--no-access-log",
    ]  # fmt: skip


def worker_argv(name: str, concurrency: int = 2) -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "project", "worker", "-n", f"{name}@%h",
        "--concurrency", str(concurrency), "--loglevel", "INFO",
        "--without-gossip", "--without-mingle",
    ]  # fmt: skip


def beat_argv(schedule: Path) -> list[str]:
    # the scheduler is ops.beat:LeaderScheduler (CELERY_BEAT_SCHEDULER in the settings)
    return [
        sys.executable, "-m", "celery", "-A", "project", "beat", "--loglevel", "INFO",
        "--schedule", str(schedule),
    ]  # fmt: skip


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def seed(env: dict[str, str], *, first_response: int, resolution: int, warning: int) -> str:
    """The test desk (tests.factories.build_desk) in the private database, in a child
    process with the production settings: SLA targets short enough that checkpoints fall
    due during the run. Returns an API token of the administrator who opens and closes
    tickets."""
    script = (
        "from tests.ops.chaos import seed_in_process; "
        f"seed_in_process({first_response}, {resolution}, {warning})"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"seeding the chaos database failed:\n{done.stderr[-3000:]}")
    return str(json.loads(done.stdout.strip().splitlines()[-1])["token"])


def seed_in_process(first_response: int, resolution: int, warning: int) -> None:
    import django

    django.setup()
    from django.test import override_settings
    from rest_framework.authtoken.models import Token

    from sla.models import SlaPolicy
    from surveys.models import SurveyTemplate
    from tests.factories import build_desk

    # the passwords are never used (the client authenticates with a token)
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        desk = build_desk()
    SlaPolicy.objects.filter(kind="ticket").update(
        targets={"first_response": first_response, "resolution": resolution},
        warning_percent=warning,
        escalation=[],
    )
    # closing a ticket invites its contact to the default survey (the data migration's CSAT)
    assert SurveyTemplate.objects.filter(is_default=True, is_active=True).exists()
    token, _ = Token.objects.get_or_create(user=desk.admin)
    print(json.dumps({"token": token.key}))


# --- HTTP --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Answer:
    started: float  # wall clock (time.time), comparable with the database's and the sink's
    ended: float
    status: int  # 0: no answer (refused, reset, timed out)
    body: Any
    error: str = ""


def call(
    port: int,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    idempotency_key: str | None = None,
    timeout: float = 15.0,
) -> Answer:
    """One request on a new connection; an answer whatever happened (status 0 on none)."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    started = time.time()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        try:
            parsed: Any = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw[:300].decode(errors="replace")
        return Answer(started, time.time(), response.status, parsed)
    except (OSError, http.client.HTTPException) as exc:
        return Answer(started, time.time(), 0, None, repr(exc))
    finally:
        conn.close()


# --- the load ----------------------------------------------------------------------------
RETRY_PAUSE = 0.1


@dataclass
class Request:
    """One logical request of the client (an intake or a close) and every attempt at it."""

    key: str
    attempts: list[Answer] = field(default_factory=list)
    ticket_id: int | None = None
    refused: str = ""  # an answer that must not be retried (a 4xx the client did not expect)

    @property
    def succeeded(self) -> Answer | None:
        return next((a for a in self.attempts if a.status in (200, 201)), None)


@dataclass
class Intake(Request):
    kind: str = "timer"  # "timer": left open for its SLA checkpoints; "survey": closed at once
    subject: str = ""


class Load:
    """The client: one thread opens tickets, another closes every "survey" ticket.

    Each logical request has its own ``Idempotency-Key`` and is retried with the same key
    and body after no answer, a 5xx, or (a close only) a 409 from a busy flow lock, so a
    retry can never act twice. ``stop()`` ends the intake of new tickets; the requests in
    flight are still retried until they succeed or ``give_up()``."""

    def __init__(self, port: int, token: str, *, interval: float, run: str) -> None:
        self.port = port
        self.token = token
        self.interval = interval
        self.run = run
        self.intakes: list[Intake] = []
        self.closes: list[Request] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._giving_up = threading.Event()
        self._to_close: queue.Queue[int | None] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._open_tickets, name="chaos-intake", daemon=True),
            threading.Thread(target=self._close_tickets, name="chaos-close", daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float) -> None:
        """Stops opening tickets and waits (up to ``timeout``) for every request in flight
        and every close to finish; then gives up on what is left."""
        self._stopping.set()
        deadline = time.monotonic() + timeout
        self._threads[0].join(timeout)
        self._to_close.put(None)
        self._threads[1].join(max(0.0, deadline - time.monotonic()))
        self.give_up()

    def give_up(self) -> None:
        self._giving_up.set()
        self._to_close.put(None)
        for thread in self._threads:
            thread.join(20)

    def successes(self) -> list[Answer]:
        with self._lock:
            return sorted(
                (a for r in self.intakes for a in r.attempts if a.status in (200, 201)),
                key=lambda a: a.ended,
            )

    def _attempt_until_done(
        self, request: Request, send: Callable[[], Answer], retry_on: set[int]
    ) -> None:
        while not self._giving_up.is_set():
            answer = send()
            with self._lock:
                request.attempts.append(answer)
            if answer.status in (200, 201):
                return
            if answer.status != 0 and answer.status < 500 and answer.status not in retry_on:
                request.refused = f"{answer.status} {answer.body!r}"[:500]
                return
            self._giving_up.wait(RETRY_PAUSE)

    def _open_tickets(self) -> None:
        n = 0
        while not self._stopping.is_set():
            n += 1
            kind = "timer" if n % 2 else "survey"
            intake = Intake(key=f"chaos-{self.run}-{n}", kind=kind)
            intake.subject = f"Chaos {self.run} {kind} #{n}"
            body = {
                "subject": intake.subject,
                "description": "Opened by the chaos test's client.",
                "priority": "P2",
                "channel": "api",
                "contact": {"email": f"chaos-{self.run}-{n}@example.com", "name": f"Chaos {n}"},
            }
            with self._lock:
                self.intakes.append(intake)

            def send(body: dict[str, Any] = body, key: str = intake.key) -> Answer:
                return call(
                    self.port, "POST", "/api/tickets/",
                    token=self.token, body=body, idempotency_key=key,
                )  # fmt: skip

            self._attempt_until_done(intake, send, retry_on=set())
            done = intake.succeeded
            if done is not None:
                intake.ticket_id = int(done.body["id"])
                if kind == "survey":
                    self._to_close.put(intake.ticket_id)
            # the client's pace, not a synchronisation: a new ticket every ``interval``
            self._stopping.wait(self.interval)

    def _close_tickets(self) -> None:
        while not self._giving_up.is_set():
            ticket_id = self._to_close.get()
            if ticket_id is None:
                return
            close = Request(key=f"chaos-{self.run}-close-{ticket_id}", ticket_id=ticket_id)
            with self._lock:
                self.closes.append(close)

            def send(ticket_id: int = ticket_id, key: str = close.key) -> Answer:
                return call(
                    self.port, "POST", f"/api/tickets/{ticket_id}/close/",
                    token=self.token, body={}, idempotency_key=key,
                )  # fmt: skip

            # 409: the flow lock was busy (a timer firing on the ticket); the key is unused
            self._attempt_until_done(close, send, retry_on={409})


# --- /readyz -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Probe:
    started: float
    ended: float
    status: int
    failed: tuple[str, ...]
    error: str = ""


class ReadyzPoller:
    """Asks ``/readyz`` again as soon as it answered (and at most every ``every`` seconds),
    keeping every answer."""

    def __init__(self, port: int, every: float = 0.2) -> None:
        self.port = port
        self.every = every
        self.probes: list[Probe] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="chaos-readyz", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(20)

    def snapshot(self) -> list[Probe]:
        with self._lock:
            return list(self.probes)

    def _poll(self) -> None:
        while not self._stop.is_set():
            answer = call(self.port, "GET", "/readyz", timeout=30)
            failed: tuple[str, ...] = ()
            if isinstance(answer.body, dict):
                failed = tuple(answer.body.get("failed") or ())
            probe = Probe(answer.started, answer.ended, answer.status, failed, answer.error)
            with self._lock:
                self.probes.append(probe)
            self._stop.wait(max(0.0, self.every - (answer.ended - answer.started)))


# --- SQL on the private database ----------------------------------------------------------
class Database:
    """The test's own look at the private database (a new connection per question: the
    server is restarted under it)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
            return conn.execute(sql, params).fetchall()

    def value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.rows(sql, params)[0][0]


# --- the topology ------------------------------------------------------------------------
class Topology:
    """Production in miniature on private services: PostgreSQL, Redis, an SMTP server
    (the sink, in this process), uvicorn, one Celery worker and one Celery beat."""

    def __init__(self, root: Path, sink: HoldingSink, **settings: str) -> None:
        self.root = root
        self.logs = root / "logs"
        self.logs.mkdir()
        self.sink = sink
        self.pg = PrivatePostgres(root)
        self.redis = PrivateRedis()
        self.env = kefu_env(
            database_url=self.pg.url(), redis=self.redis, email_url=sink.url, **settings
        )
        self.db = Database(self.pg.url())
        self.web_port = ReservedPort()  # bound only after migrating and seeding
        self.port = self.web_port.port
        self.workers: list[KefuProcess] = []
        self.processes: list[KefuProcess] = []
        self.token = ""  # the administrator's API token, once seeded
        self.passed = False  # set by the test at its end: the directory is removed then

    def start_services(self) -> None:
        self.pg.start()
        self.pg.create_database()
        migrate(self.env)
        self.redis.start()

    def start_kefu(self) -> None:
        self.processes.append(KefuProcess("web", web_argv(self.port), self.env, self.logs))
        self.processes.append(
            KefuProcess("beat", beat_argv(self.root / "beat-schedule"), self.env, self.logs)
        )
        self.start_worker()

    def start_worker(self) -> KefuProcess:
        name = f"worker-{len(self.workers) + 1}"
        worker = KefuProcess(name, worker_argv(f"chaos-{name}"), self.env, self.logs)
        self.workers.append(worker)
        self.processes.append(worker)
        return worker

    @property
    def worker(self) -> KefuProcess:
        return self.workers[-1]

    def tails(self) -> str:
        parts = [f"--- {p.name} ---\n{p.tail()}" for p in self.processes]
        with contextlib.suppress(OSError):
            parts.append(f"--- postgres ---\n{self.pg.log.read_text(errors='replace')[-3000:]}")
        return "\n".join(parts)

    def close(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.redis.stop()
        self.pg.destroy()
        for reserved in (self.redis.reserved, self.pg.reserved, self.web_port):
            reserved.release()
