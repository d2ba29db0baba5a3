"""The readiness checks of ``/readyz`` and the figures ``/metrics`` shares with them.

Each check answers a small dict: ``ok`` plus figures (counts, ages in seconds), never a
URL, host name or secret: ``/readyz`` is public (docs/operations.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Min
from django.utils import timezone

from core.redis import sentinel_master

logger = logging.getLogger(__name__)

Check = dict[str, Any]


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def _age(moment: datetime | None) -> float:
    return round((timezone.now() - moment).total_seconds(), 3) if moment else 0.0


def _broker_redis() -> Any:
    """A client of the broker's Redis (where beat's lock and heartbeat live), or None."""
    from project.celery import app

    from .beat import redis_url

    timeout = _setting("KEFU_READYZ_TIMEOUT", 1.0)
    behind_sentinel = sentinel_master(timeout=timeout)
    if behind_sentinel is not None:
        return behind_sentinel
    url = redis_url(app)
    if url is None:
        return None
    import redis

    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


def check_database() -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connection.vendor}


def check_cache() -> Check:
    from django.core.cache import cache

    key = "kefu:readyz:probe"
    cache.set(key, "1", 10)
    return {"ok": cache.get(key) == "1"}


def check_redis() -> Check:
    client = _broker_redis()
    if client is None:
        return {"ok": True, "used": False}
    try:
        return {"ok": bool(client.ping()), "used": True}
    finally:
        client.close()


def check_celery_workers() -> Check:
    """A broadcast ping answered by at least one worker within the timeout."""
    if not settings.REDIS_URL:
        return {"ok": True, "used": False}
    from project.celery import app

    replies = app.control.ping(timeout=_setting("KEFU_READYZ_TIMEOUT", 1.0), limit=1) or []
    return {"ok": bool(replies), "used": True, "answered": len(replies)}


def beat_heartbeat_age() -> float | None:
    """Seconds since the active beat's last heartbeat; None if there is none (or no Redis)."""
    from .beat import read_heartbeat

    client = _broker_redis()
    if client is None:
        return None
    try:
        beat = read_heartbeat(client)
    finally:
        client.close()
    return None if beat is None else round(max(0.0, time.time() - float(beat["at"])), 3)


def check_beat() -> Check:
    if not settings.REDIS_URL:
        return {"ok": True, "used": False}
    age = beat_heartbeat_age()
    stale = _setting("KEFU_READYZ_BEAT_STALE_SECONDS", 15.0)
    return {"ok": age is not None and age <= stale, "used": True, "heartbeat_age": age}


def outbox_figures() -> dict[str, Any]:
    from outbox.models import MessageStatus, OutboxMessage

    pending = OutboxMessage.objects.filter(status=MessageStatus.PENDING)
    oldest = pending.aggregate(oldest=Min("created_at"))["oldest"]
    return {
        "pending": pending.count(),
        "failed": OutboxMessage.objects.filter(status=MessageStatus.FAILED).count(),
        "oldest_pending_age": _age(oldest),
    }


def check_outbox() -> Check:
    figures = outbox_figures()
    ok = figures["pending"] <= _setting("KEFU_READYZ_OUTBOX_MAX_BACKLOG", 1000) and figures[
        "oldest_pending_age"
    ] <= _setting("KEFU_READYZ_OUTBOX_MAX_AGE", 600)
    return {"ok": ok, **figures}


def timer_figures() -> dict[str, Any]:
    """Due timers not fired yet and how late the oldest is: the dispatcher's own queries
    (processes/dispatcher.py: SLA clocks whose next checkpoint has passed, and viewflow
    TIMER tasks still SCHEDULED whose moment has passed)."""
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    from processes.dispatcher import due_timers_count
    from sla.ladder import oldest_due

    now = timezone.now()
    oldest_timer = Task.objects.filter(
        flow_task_type="TIMER", status=STATUS.SCHEDULED, scheduled__lte=now
    ).aggregate(oldest=Min("scheduled"))["oldest"]
    moments = [m for m in (oldest_timer, oldest_due(now)) if m is not None]
    oldest = min(moments) if moments else None
    return {"due": due_timers_count(), "max_lateness": _age(oldest)}


def check_timers() -> Check:
    figures = timer_figures()
    return {
        "ok": figures["max_lateness"] <= _setting("KEFU_READYZ_TIMER_MAX_LATENESS", 30),
        **figures,
    }


CHECKS: dict[str, Callable[[], Check]] = {
    "database": check_database,
    "cache": check_cache,
    "redis": check_redis,
    "celery_workers": check_celery_workers,
    "beat": check_beat,
    "outbox": check_outbox,
    "timers": check_timers,
}


def run_checks() -> dict[str, Check]:
    """Every check, each on its own: one that raises is failed with its error's class name."""
    results: dict[str, Check] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as error:
            logger.warning("readyz: check %s failed", name, exc_info=True)
            results[name] = {"ok": False, "error": type(error).__name__}
    return results
