"""Reads of in-app notifications."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import Notification


def notifications_for(user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient_id=user.pk)


def unread_count(user_id: int) -> int:
    return Notification.objects.filter(recipient_id=user_id, read_at__isnull=True).count()


def notification_row(user_id: int, notification_id: int) -> dict[str, Any] | None:
    """A notification as the API and the socket show it, title in the active language."""
    n = Notification.objects.filter(pk=notification_id, recipient_id=user_id).first()
    return None if n is None else as_row(n)


def as_row(n: Notification) -> dict[str, Any]:
    return {
        "id": n.pk,
        "kind": n.kind,
        "title": n.title,
        "ticket": n.object_id if n.subject_kind == "ticket" else None,
        "subject_kind": n.subject_kind or None,
        "object_id": n.object_id,
        "created": n.created_at.isoformat(),
        "read": n.read_at is not None,
    }
