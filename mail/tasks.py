"""Celery tasks of the mailboxes (thin; docs/email.md, "Mailboxes (IMAP)"). Beat sends
``poll_mailboxes`` every ``KEFU_MAIL_POLL_SECONDS``; it queues one ``poll_mailbox`` per
enabled mailbox. In the embedded mode the dev server's periodic thread runs the same
entry in-process."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from . import imap
from .models import Mailbox


def lanes() -> int:
    """``KEFU_IMAP_LANES`` pollers per mailbox; one in the embedded mode (tasks run inline,
    one after the other)."""
    return 1 if settings.CELERY_TASK_ALWAYS_EAGER else max(1, settings.KEFU_IMAP_LANES)


@shared_task(ignore_result=True)
def poll_mailboxes() -> int:
    """One poll per lane of every enabled mailbox; a poll still queued when the next beat
    comes expires."""
    ids = list(Mailbox.objects.filter(enabled=True).order_by("pk").values_list("pk", flat=True))
    count = lanes()
    for mailbox_id in ids:
        for lane in range(count):
            poll_mailbox.apply_async(
                args=(mailbox_id, lane, count), expires=settings.KEFU_MAIL_POLL_SECONDS
            )
    return len(ids)


@shared_task(ignore_result=True, acks_late=True)
def poll_mailbox(mailbox_id: int, lane: int = 0, lanes: int = 1) -> int:
    """Idempotent: a message is marked taken only after its change committed, and a second
    delivery of it is recognised by its Message-ID. A round that used its time budget while
    mail was still waiting queues the next one at once (not in the embedded mode, where the
    next beat tick continues)."""
    result = imap.poll_mailbox(mailbox_id, lane, lanes)
    if result.stopped == "budget" and not settings.CELERY_TASK_ALWAYS_EAGER:
        poll_mailbox.apply_async(
            args=(mailbox_id, lane, lanes), expires=settings.KEFU_MAIL_POLL_SECONDS
        )
    return result.taken
