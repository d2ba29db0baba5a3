"""Every benchmark of ``tests/bench`` runs to completion: ``python -m tests.bench NAME --quick
--no-write`` in a subprocess, one test per name of the harness's own list (a new benchmark
is covered without touching this file). A smoke run: the test asserts that the run exited 0
and printed its summary figures, never what they are. Nothing is written to
docs/benchmarks.md.

The runs are the harness's own: production settings, gunicorn/uvicorn/Celery subprocesses,
the PostgreSQL and Redis of 127.0.0.1 (the harness's fixed addresses). Each run drops and
recreates its database, so the smoke runs use their own, never the full benchmark's nor
the tests':

* database ``KEFU_BENCH_SMOKE_DB``, default ``<the test database's name>_bench_smoke``
  (``kefu_bench_smoke`` when KEFU_DATABASE_URL is unset), which must contain ``bench``;
* Redis db ``KEFU_BENCH_SMOKE_REDIS_DB``, default 9, and the next one (the cache), which
  must not overlap the test run's (KEFU_REDIS_URL and its cache), the full benchmark's
  (KEFU_BENCH_REDIS_DB, default 5) or the end-to-end tests' (KEFU_E2E_REDIS_DB, default 7).

Two smoke runs on one machine that share a Redis db or a database wait for each other
(PostgreSQL advisory locks held while this module runs) instead of flushing each other's
broker or dropping each other's database.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.bench import NAMES
from tests.processes import terminate

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"  # tests/bench/env.py's server
TIMEOUT = 300.0  # per benchmark: a hang guard, not a figure (a quick run takes about a minute)
LOCK_WAIT = "20min"


def _db_name_of(url: str) -> str:
    return urlparse(url).path.strip("/") or "kefu"


def _redis_db_of(url: str) -> int:
    return int(urlparse(url).path.strip("/") or 0)


SMOKE_DB = os.environ.get("KEFU_BENCH_SMOKE_DB") or (
    f"{_db_name_of(os.environ.get('KEFU_DATABASE_URL', ''))}_bench_smoke"
)
SMOKE_REDIS_DB = int(os.environ.get("KEFU_BENCH_SMOKE_REDIS_DB", "9"))


def _check_isolation() -> None:
    """Refuses a configuration in which the smoke runs would drop or flush someone else's."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", SMOKE_DB) or "bench" not in SMOKE_DB:
        pytest.fail(
            f"KEFU_BENCH_SMOKE_DB={SMOKE_DB!r}: the smoke run drops and recreates this database,"
            " so its name must be a plain identifier containing 'bench'"
        )
    if os.environ.get("KEFU_BENCH_DB", "kefu_bench") == SMOKE_DB:
        pytest.fail(f"the smoke database {SMOKE_DB} is the full benchmark's (KEFU_BENCH_DB)")
    taken = {
        "the full benchmark (KEFU_BENCH_REDIS_DB)": int(os.environ.get("KEFU_BENCH_REDIS_DB", "5")),
        "the end-to-end tests (KEFU_E2E_REDIS_DB)": int(os.environ.get("KEFU_E2E_REDIS_DB", "7")),
    }
    if os.environ.get("KEFU_REDIS_URL"):
        taken["the tests (KEFU_REDIS_URL)"] = _redis_db_of(os.environ["KEFU_REDIS_URL"])
    mine = {SMOKE_REDIS_DB, SMOKE_REDIS_DB + 1}
    for owner, db in taken.items():
        if mine & {db, db + 1}:
            pytest.fail(
                f"KEFU_BENCH_SMOKE_REDIS_DB={SMOKE_REDIS_DB} (and {SMOKE_REDIS_DB + 1}, its cache)"
                f" overlaps Redis db {db} and {db + 1} of {owner}; pick another"
            )


def _smoke_env() -> dict[str, str]:
    """The caller's environment without Kefu's or Django's settings (the harness sets its
    own; a stray KEFU_CACHE_URL must not reach the bench processes), on the smoke's db."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEFU_", "DJANGO_"))}
    env.update(
        KEFU_BENCH_DB=SMOKE_DB,
        KEFU_BENCH_REDIS_DB=str(SMOKE_REDIS_DB),
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture(scope="module")
def smoke_env() -> Iterator[dict[str, str]]:
    """The subprocesses' environment, while this run holds the locks of the smoke's Redis
    db and database (released when the connection closes)."""
    import psycopg

    _check_isolation()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"SET lock_timeout = '{LOCK_WAIT}'")
        for resource in (f"kefu-bench-redis-{SMOKE_REDIS_DB}", f"kefu-bench-db-{SMOKE_DB}"):
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))", [resource])
        try:
            yield _smoke_env()
        finally:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                for db in (SMOKE_DB, f"{SMOKE_DB}_migrated"):  # tests/bench/env.py's
                    admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")


def _tail(text: str, lines: int = 80) -> str:
    return "\n".join(text.splitlines()[-lines:])


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.parametrize("name", NAMES)
def test_benchmark_runs(name: str, smoke_env: dict[str, str]) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.bench", name, "--quick", "--no-write"],
        cwd=ROOT,
        env=smoke_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        terminate(process, timeout=60)  # SIGTERM: the harness stops what it started
        output, _ = process.communicate()
        pytest.fail(f"{name} --quick still running after {TIMEOUT:.0f} s:\n{_tail(output)}")
    assert process.returncode == 0, f"{name} --quick exited {process.returncode}:\n{_tail(output)}"
    assert f"=== {name} ===" in output, _tail(output)
    figures = re.findall(rf"^\[{re.escape(name)}\] summary: (.+): (.+) \(goal", output, re.M)
    assert figures, f"{name} printed no summary figures:\n{_tail(output)}"
    assert any(re.search(r"\d", measured) for _figure, measured in figures), figures


def test_every_benchmark_is_covered() -> None:
    """The parametrization reads the harness's list; the harness runs exactly that list."""
    from tests.bench import MODULES

    assert set(MODULES) == set(NAMES)
    assert all((ROOT / "tests" / "bench" / f"{module}.py").exists() for module in MODULES.values())
