"""A closed-loop HTTP load generator: N threads, one keep-alive connection each.

Each thread sends its next request as soon as the previous answer is read, so
the concurrency is exactly N requests in flight. ``http.client`` reconnects by
itself when a server closes the connection (gunicorn's sync workers do so after
every response), and that reconnect is part of the measured latency.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from .stats import Summary

# (method, path, body or None) for the i-th request of a run.
RequestFor = Callable[[int], tuple[str, str, bytes | None]]


@dataclass
class Run:
    concurrency: int
    requests: int
    wall: float
    latencies: list[float]
    statuses: Counter[int]
    errors: list[str] = field(default_factory=list)
    sample_body: bytes = b""

    @property
    def throughput(self) -> float:
        return self.requests / self.wall if self.wall else 0.0

    @property
    def summary(self) -> Summary:
        return Summary.of(self.latencies)


def run_load(
    port: int,
    request_for: RequestFor,
    *,
    total: int,
    concurrency: int,
    headers: dict[str, str],
    timeout: float = 30.0,
) -> Run:
    lock = threading.Lock()
    next_index = [0]
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    sample: list[bytes] = []

    def take() -> int | None:
        with lock:
            i = next_index[0]
            if i >= total:
                return None
            next_index[0] = i + 1
            return i

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            while (i := take()) is not None:
                method, path, body = request_for(i)
                hdrs = dict(headers)
                if body is not None:
                    hdrs["Content-Type"] = "application/json"
                started = time.perf_counter()
                try:
                    conn.request(method, path, body=body, headers=hdrs)
                    response = conn.getresponse()
                    data = response.read()
                    status = response.status
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                        statuses[0] += 1
                    continue
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    statuses[status] += 1
                    if not sample:
                        sample.append(data)
                    elif status >= 400 and len(errors) < 20:
                        errors.append(f"HTTP {status}: {data[:300]!r}")
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return Run(concurrency, total, wall, latencies, statuses, errors, sample[0] if sample else b"")
