"""A real Celery worker with beat, started against the test database and a private Redis db."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connection

from tests.processes import terminate

ROOT = Path(__file__).resolve().parents[2]
# Parallel checkouts on one machine pick their own db with KEFU_E2E_REDIS_DB.
E2E_REDIS_DB = int(os.environ.get("KEFU_E2E_REDIS_DB", "7"))


def _redis_url(db: int) -> str:
    parts = urlparse(settings.REDIS_URL)
    return parts._replace(path=f"/{db}").geturl()


@pytest.fixture
def celery_worker_process(transactional_db: Any) -> Iterator[subprocess.Popen[bytes]]:
    """Worker + beat on the live test database; beat fires the timer dispatcher twice a second."""
    import redis

    broker = _redis_url(E2E_REDIS_DB)
    client = redis.Redis.from_url(broker)
    client.flushdb()
    client.close()
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    workdir = tempfile.mkdtemp(prefix="kefu-celery-")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "KEFU_DATABASE_URL": database_url,
        "KEFU_REDIS_URL": broker,
        "KEFU_TIMER_INTERVAL": "0.5",
        "KEFU_LOG_LEVEL": "WARNING",
    }
    log = open(Path(workdir) / "worker.log", "wb")  # noqa: SIM115 - closed in finally
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "project",
            "worker",
            "-B",
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
            "--schedule",
            str(Path(workdir) / "beat-schedule"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        terminate(process)
        log.close()
        connection.close()


def worker_log(process: subprocess.Popen[bytes]) -> str:
    for arg in process.args:  # type: ignore[union-attr]
        if str(arg).endswith("beat-schedule"):
            return (Path(str(arg)).parent / "worker.log").read_text(errors="replace")[-5000:]
    return ""


# --- processes a test starts and may kill: a Celery worker, a private Redis --------
class WorkerProcess:
    """``celery worker -B`` in its own process group (so ``kill -9`` takes the pool and
    beat with it), logging to a file in ``workdir``."""

    def __init__(self, env: dict[str, str], workdir: Path, *, concurrency: int = 2) -> None:
        self.log_path = workdir / f"worker-{os.getpid()}-{id(self)}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "project",
                "worker",
                "-B",
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--schedule",
                str(workdir / f"beat-{id(self)}"),
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill9(self) -> None:
        """A crash: SIGKILL to the whole group, nothing gets to clean up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        if not self._log.closed:
            self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]


def worker_env(*, broker: str, **extra: str) -> dict[str, str]:
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "KEFU_DATABASE_URL": database_url,
        "KEFU_REDIS_URL": broker,
        "KEFU_TIMER_INTERVAL": "0.5",
        "KEFU_LOG_LEVEL": "WARNING",
        **extra,
    }


class PrivateRedis:
    """A redis-server of this test alone on a free port (restarting it touches nobody)."""

    def __init__(self) -> None:
        from tests.smtp_sink import free_port

        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import time

        import redis

        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                client = redis.Redis(port=self.port)
                client.ping()
                client.close()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_sink() -> Iterator[Any]:
    from tests.smtp_sink import running_sink

    with running_sink() as sink:
        yield sink


def point_celery_at(broker: str) -> str:
    """Makes this process publish to ``broker`` (the wake-ups a close sends on commit);
    returns the previous broker URL."""
    from project.celery import app

    celery: Any = app
    previous = str(celery.conf.broker_url)
    celery.conf.broker_url = broker
    celery._after_fork()  # drop the cached connection and producer pools
    return previous
