"""Celery tasks of the timer dispatcher (beat calls ``dispatch_due_timers`` every second)."""

from __future__ import annotations

import math

from celery import shared_task
from django.conf import settings

from . import dispatcher


@shared_task(ignore_result=True)
def dispatch_due_timers() -> int:
    """Fan the due backlog out to as many ``fire_due_timers`` workers as it needs."""
    due = dispatcher.due_timers_count()
    if due == 0:
        return 0
    workers = min(
        int(getattr(settings, "KEFU_TIMER_WORKERS", 4)),
        math.ceil(due / settings.KEFU_TIMER_BATCH),
    )
    for _ in range(max(1, workers)):
        fire_due_timers.apply_async(expires=5)
    return due


@shared_task(ignore_result=True, acks_late=True)
def fire_due_timers() -> int:
    """Idempotent: each timer is re-checked under its flow lock before it fires."""
    return dispatcher.drain(budget_seconds=5.0)
