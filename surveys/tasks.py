"""Celery tasks of surveys (thin; safe to run twice)."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(ignore_result=True, acks_late=True)
def queue_survey_reminders() -> int:
    """Beat, every few minutes: the reminders that are due go into the outbox."""
    return services.queue_survey_reminders()
