"""Celery tasks of the real-time layer (thin: each calls one service)."""

from __future__ import annotations

from celery import shared_task

from . import presence


@shared_task(name="notifications.tasks.sweep_dead_connections", ignore_result=True)
def sweep_dead_connections() -> int:
    return presence.sweep_dead_connections()
