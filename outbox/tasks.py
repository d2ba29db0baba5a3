"""Celery tasks of the outbox: thin and safe to run twice (every row is claimed first)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings

from core.fanout import fan_out

from . import services

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    ignore_result=True,
    max_retries=8,
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
)
def drain_outbox(self: Any) -> int:
    """Sends what is due over one SMTP connection; queues itself again while more is due."""
    try:
        result = services.drain(budget_seconds=settings.KEFU_OUTBOX_DRAIN_SECONDS)
    except services.TransientDeliveryError as exc:
        logger.warning("Outbox delivery failed, will retry: %s", exc)
        if self.request.is_eager:
            return 0  # the embedded mode retries from the periodic sweep
        raise self.retry(exc=exc) from exc
    if result.more and not self.request.is_eager:
        drain_outbox.apply_async()
    return result.sent


@shared_task(ignore_result=True)
def sweep_outbox() -> int:
    """Beat: re-queues whatever is due and undelivered (a lost wake-up, a dead worker's
    lease run out, a retry whose time has come)."""
    due = services.due_count()
    fan_out(
        drain_outbox,
        due=due,
        batch=settings.KEFU_OUTBOX_BATCH,
        most=settings.KEFU_OUTBOX_WORKERS,
        expires=settings.KEFU_OUTBOX_SWEEP_SECONDS * 2,
    )
    return due
