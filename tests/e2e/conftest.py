"""A real Celery worker with beat, started against the test database and a private Redis db."""

from __future__ import annotations

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
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        connection.close()


def worker_log(process: subprocess.Popen[bytes]) -> str:
    for arg in process.args:  # type: ignore[union-attr]
        if str(arg).endswith("beat-schedule"):
            return (Path(str(arg)).parent / "worker.log").read_text(errors="replace")[-5000:]
    return ""
