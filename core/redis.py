"""Clients of the broker's Redis behind Redis Sentinel (docs/deploy.md, "Redis with
Sentinel"): with ``KEFU_REDIS_SENTINELS`` set, the master the sentinels name now, found
again after a failover; without it, None (callers use the broker URL as before)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlparse

from django.conf import settings


def sentinel_master(*, timeout: float) -> Any | None:
    """A client of the current master (``KEFU_REDIS_SENTINEL_MASTER``) in the database and
    with the password of ``KEFU_REDIS_URL``, or None when Sentinel is not configured."""
    sentinels = list(getattr(settings, "KEFU_REDIS_SENTINELS", []) or [])
    url = str(getattr(settings, "REDIS_URL", "") or "")
    if not sentinels or not url:
        return None
    from redis.sentinel import Sentinel

    parsed = urlparse(url)
    credentials: dict[str, Any] = {}
    if parsed.password:
        credentials["password"] = unquote(parsed.password)
    if parsed.username:
        credentials["username"] = unquote(parsed.username)
    sentinel = Sentinel(
        sentinels,
        sentinel_kwargs=dict(getattr(settings, "KEFU_REDIS_SENTINEL_KWARGS", {}) or {}),
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
    )
    return sentinel.master_for(
        settings.KEFU_REDIS_SENTINEL_MASTER,
        db=int(parsed.path.strip("/") or 0),
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        **credentials,
    )
