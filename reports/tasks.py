"""The complaint rollups refreshed every minute by Celery beat (docs/reports.md)."""

from __future__ import annotations

from celery import shared_task

from .rollup import refresh_complaint_rollups


@shared_task(ignore_result=True)
def refresh_complaint_report() -> int:
    """Recounts the days whose complaints changed; safe to run twice (a row lock orders
    two refreshes, the second finds little to do). Returns the days recounted."""
    return refresh_complaint_rollups().days
