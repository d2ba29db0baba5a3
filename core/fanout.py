"""Sharing a backlog between workers: as many drains as the backlog needs, no more than
the deployment allows. The timer dispatcher and the outbox sweep both fan out this way."""

from __future__ import annotations

import math
from typing import Any


def fan_out(task: Any, *, due: int, batch: int, most: int, expires: float) -> int:
    """Queues ``ceil(due / batch)`` runs of ``task`` (a Celery task), at least one and at
    most ``most``, each expiring after ``expires`` seconds (a later sweep sends fresh ones);
    returns how many it queued (0 when nothing is due)."""
    if due <= 0:
        return 0
    runs = max(1, min(most, math.ceil(due / max(1, batch))))
    for _ in range(runs):
        task.apply_async(expires=expires)
    return runs
