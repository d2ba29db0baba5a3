"""Counting requests in the shared cache (Redis in production, so every web process sees
the same counts): the rate format of DRF's throttles and an atomic fixed-window counter."""

from __future__ import annotations

from django.core.cache import cache

PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"10/min"`` → (10, 60)."""
    count, _, unit = rate.partition("/")
    return int(count), PERIODS[unit.strip().lower()]


def count_hit(key: str, seconds: int) -> int:
    """Adds one to the counter at ``key``, which lives ``seconds`` from its first hit;
    returns the new count. ``add`` starts a window and ``incr`` keeps its expiry (both
    atomic in Redis)."""
    if cache.add(key, 1, timeout=seconds):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=seconds)
        return 1
