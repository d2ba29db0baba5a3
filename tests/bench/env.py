"""The benchmark environment: a dedicated database and Redis db, the settings every
process of the run shares, Django in this process, and the subprocesses it starts."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# Parallel checkouts (and the smoke test, tests/test_bench_smoke.py) on one machine pick
# their own with KEFU_BENCH_DB / KEFU_BENCH_REDIS_DB. The cache uses the next Redis db
# (project.settings), so two runs need Redis dbs at least 2 apart.
DB_NAME = os.environ.get("KEFU_BENCH_DB", "kefu_bench")
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
# The freshly migrated database, kept to be copied (CREATE DATABASE … TEMPLATE) while the
# migrations and the installed packages are those it was migrated with.
TEMPLATE_DB_NAME = f"{DB_NAME}_migrated"
REDIS_DB = int(os.environ.get("KEFU_BENCH_REDIS_DB", "5"))
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
# Redis pub/sub ignores the db number: the channel layer's names carry the run's own prefix.
CHANNEL_PREFIX = f"{DB_NAME}-asgi"
HOST = "127.0.0.1"

# What the production processes (gunicorn, celery) and this process run with.
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "project.settings",
    "KEFU_ENV": "production",
    "KEFU_SECRET_KEY": "bench",
    "KEFU_ALLOWED_HOSTS": HOST,
    "KEFU_DATABASE_URL": DATABASE_URL,
    "KEFU_REDIS_URL": REDIS_URL,
    "KEFU_CHANNEL_PREFIX": CHANNEL_PREFIX,
    "KEFU_LOG_LEVEL": "WARNING",
    # The load generator speaks plain HTTP over loopback (TLS would be a proxy's job): no
    # redirect to HTTPS.
    "KEFU_HTTPS_REDIRECT": "false",
}

# Server logs, Celery beat schedules, socket clients' files: one directory per bench database,
# so that two runs at once (a full run and the smoke test) never share or delete each other's.
LOG_DIR = Path(tempfile.gettempdir()) / "kefu-bench" / DB_NAME


def apply_env() -> None:
    """Makes this process a production-configured Kefu process on the bench database."""
    os.environ.update(BENCH_ENV)
    os.environ.pop("KEFU_DEBUG", None)


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(BENCH_ENV)
    env.pop("KEFU_DEBUG", None)
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def setup_django() -> None:
    """``django.setup()`` once, after the bench variables are in the environment."""
    apply_env()
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def close_db_connections() -> None:
    from django.apps import apps

    if apps.ready:
        from django.db import connections

        connections.close_all()


def schema_fingerprint() -> str:
    """What a migrated database depends on: every migration file of the project and the
    installed distributions (Django's, viewflow's, DRF's migrations) with their versions."""
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    for dist in sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions()):
        digest.update(dist.encode() + b"\0")
    return digest.hexdigest()


def reset_database() -> None:
    """Drops and recreates the bench database (``kefu_bench``, or KEFU_BENCH_DB; nothing
    else), migrated, and flushes the bench Redis db (5, or KEFU_BENCH_REDIS_DB).

    ``manage.py migrate`` runs when the migrations or packages changed since the last run;
    otherwise the database is a copy of ``<name>_migrated``, the result of that migrate."""
    import psycopg
    import redis

    close_db_connections()
    fingerprint = schema_fingerprint()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [TEMPLATE_DB_NAME],
        ).fetchone()
        copy = row is not None and row[0] == fingerprint
        conn.execute(
            f"CREATE DATABASE {DB_NAME} TEMPLATE {TEMPLATE_DB_NAME}"
            if copy
            else f"CREATE DATABASE {DB_NAME}"
        )
    if not copy:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=child_env(),
            check=True,
        )
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE_DB_NAME} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {TEMPLATE_DB_NAME} TEMPLATE {DB_NAME}")
            conn.execute(f"COMMENT ON DATABASE {TEMPLATE_DB_NAME} IS '{fingerprint}'")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    finally:
        client.close()


def sql(statement: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    """Runs one statement on the bench database through Django's connection."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return list(cursor.fetchall()) if cursor.description else []


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Service:
    """A subprocess of the run (gunicorn, uvicorn, a Celery worker), logs in a temp file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.argv = argv
        self.log_path = LOG_DIR / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env or child_env(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._stop_sent = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def ask_to_stop(self) -> None:
        """SIGTERM to the main process, once (``stop`` then waits for it)."""
        if self.proc.poll() is None and not self._stop_sent:
            self.proc.terminate()
            self._stop_sent = True

    def stop(self, timeout: float = 20.0) -> None:
        """Graceful: SIGTERM to the main process only (gunicorn and Celery then stop their
        own workers); whatever is left of the process group it started gets SIGKILL."""
        if self.proc.poll() is None:
            self.ask_to_stop()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        deadline = time.monotonic() + 5
        while _group_alive(self.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _group_alive(self.proc.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()

    def log_problems(self) -> list[str]:
        """Lines of the log that report an error (tracebacks, ERROR/CRITICAL records)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        markers = ("Traceback", "ERROR", "CRITICAL", "Error:")
        return [line for line in text.splitlines() if any(m in line for m in markers)]

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def stop_all(services: Sequence[Service]) -> None:
    """Stops several services at once: each gets SIGTERM first, so their shutdowns overlap."""
    for s in services:
        s.ask_to_stop()
    for s in services:
        s.stop()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def wait_for_port(port: int, service: Service, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.alive():
            raise RuntimeError(f"{service.name} exited early:\n{service.tail()}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{service.name} did not listen on {port} within {timeout} s")


def wait_for_worker(service: Service, name_prefix: str, timeout: float = 60.0) -> None:
    """Waits until a Celery worker whose node name starts with ``name_prefix`` answers a
    ping (it has connected to the broker and takes tasks)."""
    from project.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.alive():
            raise RuntimeError(f"{service.name} exited:\n{service.tail()}")
        replies = app.control.ping(timeout=1.0) or []
        if any(name.startswith(name_prefix) for reply in replies for name in reply):
            return
    raise RuntimeError("the Celery worker did not answer a ping in time")
