"""Writes of in-app notifications (escalations, assignments, mentions): create, mark read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import NotFound

from .models import Notification
from .realtime import agent_group, notification_message, send_event_on_commit
from .selectors import unread_count


def notify_users(
    *,
    recipient_ids: Iterable[int],
    kind: str,
    data: dict[str, Any],
    subject_kind: str = "",
    object_id: int | None = None,
) -> list[Notification]:
    """One in-app notification per distinct recipient about ``object_id`` of
    ``subject_kind`` (a ticket, a complaint …), in the caller's transaction; each
    recipient's open sockets hear of it after commit."""
    rows = [
        Notification(
            recipient_id=uid, kind=kind, data=data, subject_kind=subject_kind, object_id=object_id
        )
        for uid in sorted(set(recipient_ids))
    ]
    created = Notification.objects.bulk_create(rows)
    for row in created:
        send_event_on_commit([agent_group(row.recipient_id)], notification_message(row.pk))
    return created


def notify_many(batch: Iterable[Mapping[str, Any]]) -> list[Notification]:
    """``notify_users`` for many subjects in one insert: each item has ``recipient_ids``,
    ``kind``, ``data``, ``subject_kind`` and ``object_id`` (the SLA ladder's sweep)."""
    rows = [
        Notification(
            recipient_id=uid,
            kind=item["kind"],
            data=item["data"],
            subject_kind=item["subject_kind"],
            object_id=item["object_id"],
        )
        for item in batch
        for uid in sorted(set(item["recipient_ids"]))
    ]
    created = Notification.objects.bulk_create(rows) if rows else []
    for row in created:
        send_event_on_commit([agent_group(row.recipient_id)], notification_message(row.pk))
    return created


def mark_read(*, user: Any, notification_id: int) -> int:
    """Marks one of ``user``'s notifications read; returns the unread count (404 if not theirs)."""
    notification = Notification.objects.filter(pk=notification_id, recipient_id=user.pk).first()
    if notification is None:
        raise NotFound(_("Notification not found."))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at", "updated_at"])
    return unread_count(user.pk)


def mark_all_read(*, user: Any) -> int:
    Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return 0
