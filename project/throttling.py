"""Counting requests in the shared cache (Redis in production, so every web process sees
the same counts): who the client is, the rate format of DRF's throttles and an atomic
fixed-window counter."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

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


def client_address(request: HttpRequest) -> str:
    """The client's address as the deployment defines it; every throttle and login counter
    counts by it (docs/security.md, "Logins and passwords").

    With ``KEFU_TRUSTED_PROXIES = 0`` (the default) it is the peer of the connection
    (``REMOTE_ADDR``) and X-Forwarded-For is the client's own unverifiable claim, ignored.
    With N trusted proxies it is the N-th address from the right of X-Forwarded-For: the
    one the outermost trusted proxy appended (each proxy appends the peer it saw). DRF's
    throttles read ``NUM_PROXIES``, set from the same setting, and name the same client. A
    value that is no IP address (a proxy misconfigured) falls back to the peer.
    """
    peer = str(request.META.get("REMOTE_ADDR") or "")
    proxies: int = settings.KEFU_TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return peer
    hops = forwarded.split(",")
    candidate = hops[-min(proxies, len(hops))].strip()
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return peer
