"""Writes of in-app notifications (escalations, assignments, urges)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .models import Notification


def notify_users(
    *, recipient_ids: Iterable[int], kind: str, data: dict[str, Any], ticket_id: int | None
) -> list[Notification]:
    """One in-app notification per distinct recipient, in the caller's transaction."""
    rows = [
        Notification(recipient_id=uid, kind=kind, data=data, ticket_id=ticket_id)
        for uid in sorted(set(recipient_ids))
    ]
    return Notification.objects.bulk_create(rows)
