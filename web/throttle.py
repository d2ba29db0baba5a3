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

from project.throttling import count_hit, parse_rate


def login_rate() -> tuple[int, int]:
    """(attempts, seconds) from the API's "login" throttle rate, e.g. "10/min"."""
    api_settings: dict[str, Any] = settings.REST_FRAMEWORK
    return parse_rate(api_settings["DEFAULT_THROTTLE_RATES"]["login"])


def _key(request: HttpRequest, username: str) -> str:
    address = request.META.get("REMOTE_ADDR", "")
    digest = hashlib.sha256(f"{address}\0{username.strip().lower()}".encode()).hexdigest()
    return f"web-login-failures:{digest}"


def is_blocked(request: HttpRequest, username: str) -> bool:
    attempts, _ = login_rate()
    return int(cache.get(_key(request, username), 0)) >= attempts


def record_failure(request: HttpRequest, username: str) -> None:
    _, seconds = login_rate()
    count_hit(_key(request, username), seconds)


def forget(request: HttpRequest, username: str) -> None:
    cache.delete(_key(request, username))
