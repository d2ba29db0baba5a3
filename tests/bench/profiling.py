"""cProfile and query counting for in-process runs of a service."""

from __future__ import annotations

import cProfile
import pstats
import site
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .env import ROOT

_PREFIXES = sorted(
    {str(Path(p)) + "/" for p in [*site.getsitepackages(), site.getusersitepackages()]}
    | {str(ROOT) + "/"},
    key=len,
    reverse=True,
)

# Where the time goes: (label, file suffix, function name) summed by cumulative time.
BUCKETS: list[tuple[str, str, str]] = [
    ("SQL statements (cursor.execute round trips)", "django/db/backends/utils.py", "_execute"),
    ("COMMIT", "django/db/backends/base/base.py", "_commit"),
    (
        "after-commit hooks (real-time pushes), as seen from the calling thread",
        "django/db/backends/base/base.py",
        "run_and_clear_commit_hooks",
    ),
]


def short(path: str) -> str:
    for prefix in _PREFIXES:
        if path.startswith(prefix):
            return path[len(prefix) :]
    return path


@dataclass
class Profile:
    calls: int
    wall: float
    stats: pstats.Stats

    @property
    def per_call(self) -> float:
        return self.wall / self.calls if self.calls else 0.0

    def top(self, sort: str = "cumulative", limit: int = 15) -> list[tuple[str, ...]]:
        """Rows: ncalls, tottime, cumtime, cum per profiled call, function."""
        raw: dict[Any, Any] = self.stats.stats  # type: ignore[attr-defined]
        key = 3 if sort == "cumulative" else 2
        rows = sorted(raw.items(), key=lambda kv: -kv[1][key])
        out: list[tuple[str, ...]] = []
        for (path, line, name), (cc, nc, tt, ct, _callers) in rows:
            if name == "<module>" or (
                path == "~" and name.startswith("<built-in method builtins.exec")
            ):
                continue
            if Path(path).name == "profiling.py":
                continue
            calls = f"{nc}/{cc}" if nc != cc else str(nc)
            where = f"{short(path)}:{line}({name})" if path != "~" else name
            out.append(
                (
                    calls,
                    f"{tt:.3f}",
                    f"{ct:.3f}",
                    f"{ct / self.calls * 1000:.2f} ms",
                    where,
                )
            )
            if len(out) >= limit:
                break
        return out

    def cumulative(self, suffix: str, name: str) -> float:
        raw: dict[Any, Any] = self.stats.stats  # type: ignore[attr-defined]
        return sum(
            v[3] for (path, _line, fn), v in raw.items() if fn == name and path.endswith(suffix)
        )

    def buckets(self) -> list[tuple[str, float, float]]:
        """(label, ms per call, share of wall) of the BUCKETS, and the rest."""
        out = []
        for label, suffix, name in BUCKETS:
            total = self.cumulative(suffix, name)
            out.append((label, total / self.calls * 1000, total / self.wall if self.wall else 0))
        rest = self.wall - sum(ms * self.calls / 1000 for _, ms, _ in out)
        out.append(
            (
                "everything else: Python (ORM, DRF, viewflow, services; profiler overhead "
                "included)",
                rest / self.calls * 1000,
                rest / self.wall if self.wall else 0,
            )
        )
        return out


def time_calls(fn: Callable[[int], Any], calls: int) -> float:
    """Wall seconds per call without a profiler."""
    started = time.perf_counter()
    for i in range(calls):
        fn(i)
    return (time.perf_counter() - started) / calls


def run_profiled(fn: Callable[[int], Any], calls: int) -> Profile:
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for i in range(calls):
        fn(i)
    profiler.disable()
    wall = time.perf_counter() - started
    return Profile(calls, wall, pstats.Stats(profiler))


def statement_kind(sql: str) -> str:
    word = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"
    if word in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
        return "SAVEPOINT/RELEASE"
    return word


@dataclass
class QueryCount:
    calls: int
    kinds: Counter[str]

    @property
    def statements(self) -> int:
        """Everything sent, BEGIN/COMMIT and savepoints included."""
        return sum(self.kinds.values())

    @property
    def queries(self) -> int:
        """SELECT/INSERT/UPDATE/DELETE only."""
        return sum(
            v for k, v in self.kinds.items() if k in ("SELECT", "INSERT", "UPDATE", "DELETE")
        )

    def per_call(self, kind: str | None = None) -> float:
        value = self.queries if kind is None else self.kinds.get(kind, 0)
        return value / self.calls if self.calls else 0.0

    def breakdown(self) -> str:
        parts = [f"{k} {v / self.calls:.1f}" for k, v in self.kinds.most_common()]
        return ", ".join(parts)


def count_queries(fn: Callable[[int], Any], calls: int) -> QueryCount:
    """Counts the statements of each call (one CaptureQueriesContext per call, so the
    9,000-entry query log never overflows)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    kinds: Counter[str] = Counter()
    for i in range(calls):
        with CaptureQueriesContext(connection) as captured:
            fn(i)
        for query in captured.captured_queries:
            kinds[statement_kind(query["sql"])] += 1
    return QueryCount(calls, kinds)


def wsgi_request(
    method: str, path: str, headers: dict[str, str]
) -> Callable[[bytes], tuple[int, bytes]]:
    """Calls the production WSGI application (``project.wsgi``: every middleware, the DRF
    authentication, the view, the service) in this process, as a gunicorn sync worker
    does, without a socket. Returns ``send(body) -> (status, response body)``."""
    import io
    import sys

    from project.wsgi import application

    base = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()},
    }
    base["HTTP_HOST"] = "127.0.0.1"

    def send(body: bytes) -> tuple[int, bytes]:
        environ = {**base, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        status: list[str] = []

        def start_response(code: str, _headers: Any, _exc_info: Any = None) -> Any:
            status.append(code)
            return lambda _data: None

        response = application(environ, start_response)
        try:
            content = b"".join(response)
        finally:
            close = getattr(response, "close", None)
            if close is not None:
                close()
        return int(status[0].split()[0]), content

    return send


@dataclass
class CpuPerCall:
    """CPU per call, median over batches: this process (all its threads, the real-time
    publisher's included) and this connection's PostgreSQL backend (read from /proc; 0 when
    the server is elsewhere). /proc counts in clock ticks (10 ms), hence the batches."""

    batches: int
    calls_per_batch: int
    web: list[float]
    postgres: list[float]

    @property
    def web_ms(self) -> float:
        return statistics.median(self.web) * 1000

    @property
    def postgres_ms(self) -> float:
        return statistics.median(self.postgres) * 1000


def cpu_per_call(fn: Callable[[int], Any], batches: int, calls_per_batch: int) -> CpuPerCall:
    import os

    from django.db import connection

    from notifications import realtime

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    tick = os.sysconf("SC_CLK_TCK")

    def backend_cpu() -> float:
        try:
            with open(f"/proc/{backend}/stat") as fh:
                rest = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(rest[11]) + int(rest[12])) / tick

    web: list[float] = []
    postgres: list[float] = []
    n = 0
    for _ in range(batches):
        cpu0, pg0 = time.process_time(), backend_cpu()
        for _ in range(calls_per_batch):
            fn(n)
            n += 1
        realtime.wait_for_pending()  # the pushes after commit belong to the calls
        web.append((time.process_time() - cpu0) / calls_per_batch)
        postgres.append((backend_cpu() - pg0) / calls_per_batch)
    return CpuPerCall(batches, calls_per_batch, web, postgres)
