"""Failed browser logins per client address and user name, counted in the shared cache.

The same rate as the API's token login (``KEFU_LOGIN_THROTTLE``, "10/min"), so a
password cannot be guessed faster through the login page than through the API.
The cache is Redis in production: every web process sees the same counters.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def login_rate() -> tuple[int, int]:
    """(attempts, seconds) from the API's "login" throttle rate, e.g. "10/min"."""
    api_settings: dict[str, Any] = settings.REST_FRAMEWORK
    rate: str = api_settings["DEFAULT_THROTTLE_RATES"]["login"]
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip().lower()]


def _key(request: HttpRequest, username: str) -> str:
    address = request.META.get("REMOTE_ADDR", "")
    digest = hashlib.sha256(f"{address}\0{username.strip().lower()}".encode()).hexdigest()
    return f"web-login-failures:{digest}"


def is_blocked(request: HttpRequest, username: str) -> bool:
    attempts, _ = login_rate()
    return int(cache.get(_key(request, username), 0)) >= attempts


def record_failure(request: HttpRequest, username: str) -> None:
    _, seconds = login_rate()
    key = _key(request, username)
    # add() starts the window; incr() keeps its expiry (both atomic in Redis).
    if not cache.add(key, 1, timeout=seconds):
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=seconds)


def forget(request: HttpRequest, username: str) -> None:
    cache.delete(_key(request, username))
