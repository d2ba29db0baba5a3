"""Celery tasks of the mailboxes (thin; docs/email.md, "Mailboxes (IMAP)"). Beat sends
``poll_mailboxes`` every ``KEFU_MAIL_POLL_SECONDS``; it queues one ``poll_mailbox`` per
enabled mailbox. In the embedded mode the dev server's periodic thread runs the same
entry in-process."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from . import imap
from .models import Mailbox


@shared_task(ignore_result=True)
def poll_mailboxes() -> int:
    """One poll per enabled mailbox; a poll still queued when the next beat comes expires."""
    ids = list(Mailbox.objects.filter(enabled=True).order_by("pk").values_list("pk", flat=True))
    for mailbox_id in ids:
        poll_mailbox.apply_async(args=(mailbox_id,), expires=settings.KEFU_MAIL_POLL_SECONDS)
    return len(ids)


@shared_task(ignore_result=True, acks_late=True)
def poll_mailbox(mailbox_id: int) -> int:
    """Idempotent: a message is marked taken only after its change committed, and a second
    delivery of it is recognised by its Message-ID. A round that used its time budget while
    mail was still waiting queues the next one at once (not in the embedded mode, where the
    next beat tick continues)."""
    result = imap.poll_mailbox(mailbox_id)
    if result.stopped == "budget" and not settings.CELERY_TASK_ALWAYS_EAGER:
        poll_mailbox.apply_async(args=(mailbox_id,), expires=settings.KEFU_MAIL_POLL_SECONDS)
    return result.taken
