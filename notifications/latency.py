"""Push latency: from the commit that caused an event to its frame leaving a socket.

``realtime.push`` stamps every message with the wall-clock moment it was handed to the
channel layer (``PUSHED_AT``; it runs in the commit's ``on_commit`` hook, so this is the
commit). The consumer takes the stamp off before the frame goes out (clients never see it)
and records the difference here once the frame is written.

A web process keeps its observations in memory and adds them to one Redis hash
(``KEY``, in the broker's Redis) at most every ``FLUSH_SECONDS``, so ``/metrics`` answers
the same histogram from whichever process is scraped (docs/operations.md, "Metrics").
In the embedded mode (no Redis) the one server process answers its own figures. The
stamp is a wall clock: across machines the figure is as good as their clock sync (NTP);
a negative difference counts as 0.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from core.redis import sentinel_master

logger = logging.getLogger(__name__)

PUSHED_AT = "_kefu_pushed_at"
KEY = "kefu:metrics:push_latency"
FLUSH_SECONDS = 5.0
# Upper bounds in seconds; the push goal is p95 ≤ 50 ms (docs/benchmarks.md).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
KINDS = ("queue", "notification", "presence")


@dataclass
class Histogram:
    """Counts per bucket (not cumulative; the last one is +Inf), a sum and a count."""

    buckets: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))
    total: float = 0.0
    count: int = 0

    def add(self, seconds: float) -> None:
        index = next((i for i, bound in enumerate(BUCKETS) if seconds <= bound), len(BUCKETS))
        self.buckets[index] += 1
        self.total += seconds
        self.count += 1

    def cumulative(self) -> list[tuple[str, float]]:
        """Prometheus' ``le`` buckets: each counts every observation up to its bound."""
        running, rows = 0, []
        for bound, counted in zip((*map(str, BUCKETS), "+Inf"), self.buckets, strict=True):
            running += counted
            rows.append((bound, float(running)))
        return rows


def _field(kind: str, name: str) -> str:
    return f"{kind}:{name}"


class _Recorder:
    """This process's observations not yet added to Redis (all of them without Redis)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, Histogram] = {}
        self._local: dict[str, Histogram] = {}
        self._pid = 0

    def observe(self, kind: str, seconds: float) -> None:
        with self._lock:
            self._pending.setdefault(kind, Histogram()).add(max(seconds, 0.0))
            if self._pid != os.getpid():
                self._pid = os.getpid()
                if _redis_url():
                    threading.Thread(target=self._flusher, name="kefu-latency", daemon=True).start()

    def _take(self) -> dict[str, Histogram]:
        with self._lock:
            taken, self._pending = self._pending, {}
        return taken

    def _flusher(self) -> None:
        pid = os.getpid()
        while self._pid == pid:
            time.sleep(FLUSH_SECONDS)  # a period, not a wait for something to happen
            self.flush()

    def flush(self) -> None:
        """Adds the pending observations to Redis, or to this process's totals without it."""
        taken = self._take()
        if not taken:
            return
        client = _client()
        if client is None:
            with self._lock:
                for kind, histogram in taken.items():
                    _merge(self._local.setdefault(kind, Histogram()), histogram)
            return
        try:
            pipe = client.pipeline(transaction=False)
            for kind, histogram in taken.items():
                for index, counted in enumerate(histogram.buckets):
                    if counted:
                        pipe.hincrby(KEY, _field(kind, str(index)), counted)
                pipe.hincrby(KEY, _field(kind, "count"), histogram.count)
                pipe.hincrbyfloat(KEY, _field(kind, "sum"), histogram.total)
            pipe.execute()
        except Exception:  # a metric must never break a socket; the figures are kept
            logger.warning("Could not add push latencies to Redis", exc_info=True)
            with self._lock:
                for kind, histogram in taken.items():
                    _merge(self._pending.setdefault(kind, Histogram()), histogram)
        finally:
            client.close()

    def local(self) -> dict[str, Histogram]:
        with self._lock:
            return {kind: _copy(histogram) for kind, histogram in self._local.items()}


def _merge(into: Histogram, other: Histogram) -> None:
    into.buckets = [a + b for a, b in zip(into.buckets, other.buckets, strict=True)]
    into.total += other.total
    into.count += other.count


def _copy(histogram: Histogram) -> Histogram:
    return Histogram(list(histogram.buckets), histogram.total, histogram.count)


def _redis_url() -> str:
    return str(getattr(settings, "REDIS_URL", "") or "")


def _client() -> Any:
    url = _redis_url()
    if not url:
        return None
    behind_sentinel = sentinel_master(timeout=1.0)
    if behind_sentinel is not None:
        return behind_sentinel
    import redis

    return redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)


_recorder = _Recorder()


def stamp(message: dict[str, Any]) -> dict[str, Any]:
    """``message`` with the moment it leaves for the channel layer."""
    return {**message, PUSHED_AT: time.time()}


def unstamp(message: dict[str, Any]) -> tuple[dict[str, Any], float | None]:
    """``message`` as clients get it, and when it was pushed (None if it was not stamped)."""
    if PUSHED_AT not in message:
        return message, None
    clean = dict(message)
    pushed = clean.pop(PUSHED_AT)
    return clean, float(pushed) if isinstance(pushed, int | float) else None


def observe(kind: str, pushed_at: float | None) -> None:
    """Records that a frame of ``kind`` stamped ``pushed_at`` has just been written."""
    if pushed_at is not None:
        _recorder.observe(kind, time.time() - pushed_at)


def flush() -> None:
    """Adds this process's pending observations where ``/metrics`` reads them."""
    _recorder.flush()


def histograms() -> dict[str, Histogram]:
    """The installation's push latencies per kind (Redis), or this process's without Redis."""
    client = _client()
    if client is None:
        _recorder.flush()
        return _recorder.local()
    try:
        raw = client.hgetall(KEY)
    finally:
        client.close()
    found: dict[str, Histogram] = {}
    for key, value in raw.items():
        kind, _, name = key.decode().partition(":")
        histogram = found.setdefault(kind, Histogram())
        if name == "count":
            histogram.count = int(value)
        elif name == "sum":
            histogram.total = float(value)
        elif name.isdigit() and int(name) <= len(BUCKETS):
            histogram.buckets[int(name)] = int(value)
    return found


def kinds(found: dict[str, Histogram]) -> Iterable[str]:
    """Every known kind (so a scrape shows zeros before the first push), then any other."""
    return (*KINDS, *sorted(set(found) - set(KINDS)))


def _flush_before_exit() -> None:
    with suppress(Exception):
        flush()


atexit.register(_flush_before_exit)
