"""Celery tasks of the timer dispatcher (beat calls ``dispatch_due_timers`` every second)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from core.fanout import fan_out

from . import dispatcher


@shared_task(ignore_result=True)
def dispatch_due_timers() -> int:
    """Fan the due backlog out to as many ``fire_due_timers`` workers as it needs."""
    due = dispatcher.due_timers_count()
    fan_out(
        fire_due_timers,
        due=due,
        batch=settings.KEFU_TIMER_BATCH,
        most=int(getattr(settings, "KEFU_TIMER_WORKERS", 4)),
        expires=5,
    )
    return due


@shared_task(ignore_result=True, acks_late=True)
def fire_due_timers() -> int:
    """Idempotent: each timer is re-checked under its flow lock before it fires."""
    return dispatcher.drain(budget_seconds=5.0)
