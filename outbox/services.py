"""The outbox: queue an email inside the causing transaction, deliver it afterwards.

Delivery guarantee (docs/surveys.md, "Delivery"): a queued email is sent until the SMTP
server accepts it; it is marked sent right after the server's answer, one row at a time,
so a crash between the two resends at most that one message — with the same Message-ID.
"""

from __future__ import annotations

import itertools
import logging
import random
import smtplib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid, parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import InterfaceError, OperationalError, transaction
from django.db import connection as db_connection
from django.db.models import F
from django.utils import timezone

from mail.models import Attachment

from .models import MessageStatus, OutboxMessage

logger = logging.getLogger(__name__)

DISCARDED_BODY = "[sent; body discarded because it held a private link]"
AUTO_GENERATED = "auto-generated"
AUTO_REPLIED = "auto-replied"
# Headers Kefu sets itself; a row's ``headers`` cannot replace them.
OWN_HEADERS = {"message-id", "from", "to", "subject", "x-kefu-outbox-key"}
# How often a drain tries again to record a message the SMTP server accepted while the
# database cannot be reached (see _mark_sent).
MARK_SENT_RETRY_SECONDS = 0.5


class TransientDeliveryError(Exception):
    """The SMTP server could not be reached or refused for now; try again later."""


@dataclass(frozen=True)
class DrainResult:
    sent: int
    failed: int
    deferred: int
    more: bool


def _message_id_domain() -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
    return domain or "kefu.localhost"


def queue_email(
    *,
    key: str,
    kind: str,
    to: str,
    subject: str,
    body_text: str,
    body_html: str = "",
    discard_body_after_send: bool = False,
    headers: Mapping[str, str] | None = None,
    attachment_ids: Sequence[int] = (),
    automatic: bool = False,
    auto_submitted: str | None = None,
    subject_kind: str = "",
    object_id: int | None = None,
    withheld: str = "",
) -> OutboxMessage:
    """Writes the email into the outbox in the caller's transaction and asks a worker to
    send it once that transaction commits. The same ``key`` twice returns the first row.

    ``headers``: extra headers (In-Reply-To, References, Reply-To). ``Auto-Submitted``
    (RFC 3834) is ``auto_submitted`` when given ("" for a person's message: no header),
    else ``auto-replied`` for an ``automatic`` email (it counts against the address's hourly
    limit) and ``auto-generated`` for any other machine-made one (a survey invitation).
    ``withheld``: the reason the email may not go (a blocked address); the row is written
    as failed with that reason, so the subject's page shows why nothing was sent.

    No savepoint: one SELECT and one INSERT in the caller's transaction. Keys name one
    change of one object, written under that object's lock, so two transactions never race
    for a key; if they did, the unique constraint would still refuse the second."""
    message = OutboxMessage.objects.filter(key=key).first()
    if message is not None:
        return message
    extra = {name: str(value) for name, value in (headers or {}).items()}
    if auto_submitted is None:
        auto_submitted = AUTO_REPLIED if automatic else AUTO_GENERATED
    extra["Auto-Submitted"] = auto_submitted
    now = timezone.now()
    message = OutboxMessage.objects.create(
        key=key,
        kind=kind,
        to=to,
        subject=subject[:255],
        body_text=body_text,
        body_html=body_html,
        discard_body=discard_body_after_send,
        message_id=make_msgid(domain=_message_id_domain()),
        headers=extra,
        attachment_ids=[int(pk) for pk in attachment_ids],
        automatic=automatic,
        subject_kind=subject_kind,
        object_id=object_id,
        status=MessageStatus.FAILED if withheld else MessageStatus.PENDING,
        last_error=withheld[:2000],
        next_attempt_at=now,
    )
    if not withheld:
        transaction.on_commit(request_delivery, robust=True)
    return message


def request_delivery() -> None:
    """Wakes a worker (in-process in the embedded mode). If the broker is down the
    periodic sweep finds the row anyway, so a failure here loses nothing."""
    from .tasks import drain_outbox

    drain_outbox.apply_async(
        retry=True,
        retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2},
    )


def due_count(cap: int = 10_000) -> int:
    return (
        OutboxMessage.objects.filter(
            status=MessageStatus.PENDING, next_attempt_at__lte=timezone.now()
        )[:cap]
        .values("pk")
        .count()
    )


def claim(batch: int, lease_seconds: float) -> list[OutboxMessage]:
    """Takes up to ``batch`` due rows for this drain, in one short transaction: locked with
    SKIP LOCKED (so concurrent drains take disjoint rows) and leased by moving their next
    attempt past the lease."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(status=MessageStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")[:batch]
        )
        if rows:
            OutboxMessage.objects.filter(pk__in=[r.pk for r in rows]).update(
                next_attempt_at=now + timedelta(seconds=lease_seconds)
            )
    return rows


def backoff_seconds(attempts: int) -> float:
    """30 s, 1 min, 2 min, … capped at an hour, with ±20 % jitter."""
    base = min(3600.0, 30.0 * 2 ** max(0, attempts - 1))
    return base * random.uniform(0.8, 1.2)


class AttachmentUnavailable(Exception):
    """An attachment of the message is gone (its row deleted): the message cannot go as
    written, so it fails rather than go without the file."""


def _email(message: OutboxMessage, connection: Any) -> EmailMultiAlternatives:
    """The email as the row holds it. Reads the attachments from storage (an OSError there
    is a storage problem: the caller tries again later)."""
    headers: dict[str, str] = {
        "Message-ID": message.message_id,
        "X-Kefu-Outbox-Key": message.key,
        # rows written before headers were stored are machine-made survey invitations
        "Auto-Submitted": AUTO_GENERATED,
    }
    for name, value in (message.headers or {}).items():
        if name.lower() not in OWN_HEADERS:
            headers[name] = value
    if headers.get("Auto-Submitted", "") == "":
        headers.pop("Auto-Submitted", None)  # a person's message says nothing
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers=headers,
        connection=connection,
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    if message.attachment_ids:
        files = Attachment.objects.in_bulk(list(message.attachment_ids))
        for pk in message.attachment_ids:
            attachment = files.get(pk)
            if attachment is None:
                raise AttachmentUnavailable(f"attachment {pk} no longer exists")
            with attachment.file.open("rb") as handle:
                email.attach(attachment.name, handle.read(), attachment.content_type)
    return email


def _mark_sent(message: OutboxMessage, *, until: float) -> None:
    """Records that the server accepted ``message``. The server has it already, so a
    database that is away for a moment (a restart, a failover) is waited for while this
    drain's lease lasts (``until``, monotonic): given up, the row would be sent again after
    the lease (docs/resilience.md)."""
    fields: dict[str, Any] = {
        "status": MessageStatus.SENT,
        "sent_at": timezone.now(),
        "attempts": F("attempts") + 1,
        "last_error": "",
    }
    if message.discard_body:
        fields |= {"body_text": DISCARDED_BODY, "body_html": ""}
    for attempt in itertools.count():
        try:
            OutboxMessage.objects.filter(pk=message.pk, status=MessageStatus.PENDING).update(
                **fields
            )
            return
        except (OperationalError, InterfaceError):
            if db_connection.in_atomic_block or time.monotonic() >= until:
                raise
            if attempt == 0:
                logger.warning(
                    "Outbox message %s was accepted by the SMTP server but the database cannot "
                    "be reached to mark it sent; trying again while the lease lasts",
                    message.pk,
                )
            db_connection.close()  # the next query opens a new connection
            time.sleep(MARK_SENT_RETRY_SECONDS)


def _defer(message: OutboxMessage, error: str, *, permanent: bool) -> bool:
    """Records a failed attempt; returns True when the message is given up."""
    attempts = message.attempts + 1
    give_up = permanent or attempts >= settings.KEFU_OUTBOX_MAX_ATTEMPTS
    OutboxMessage.objects.filter(pk=message.pk, status=MessageStatus.PENDING).update(
        status=MessageStatus.FAILED if give_up else MessageStatus.PENDING,
        attempts=attempts,
        last_error=error[:2000],
        next_attempt_at=timezone.now() + timedelta(seconds=backoff_seconds(attempts)),
    )
    return give_up


def _release(messages: list[OutboxMessage]) -> None:
    """Hands back claimed rows this drain will not send (its lease is nearly over)."""
    if messages:
        OutboxMessage.objects.filter(
            pk__in=[m.pk for m in messages], status=MessageStatus.PENDING
        ).update(next_attempt_at=timezone.now())


def drain(*, batch: int | None = None, budget_seconds: float = 20.0) -> DrainResult:
    """Sends due messages batch after batch over ONE SMTP connection until none is left
    or the budget is spent. Raises TransientDeliveryError when the server is unreachable
    (the rows are deferred with backoff first)."""
    size = batch or settings.KEFU_OUTBOX_BATCH
    lease = float(settings.KEFU_OUTBOX_LEASE_SECONDS)
    margin = min(5.0, lease / 4)
    deadline = time.monotonic() + budget_seconds
    sent = failed = deferred = 0
    connection: Any = None
    try:
        while time.monotonic() < deadline:
            claimed = claim(size, lease)
            if not claimed:
                return DrainResult(sent, failed, deferred, more=False)
            lease_end = time.monotonic() + lease - margin
            if connection is None:
                connection = get_connection()
                try:
                    connection.open()
                except (smtplib.SMTPException, OSError) as exc:
                    for message in claimed:
                        _defer(message, f"connect: {exc!r}", permanent=False)
                    raise TransientDeliveryError(str(exc)) from exc
            for index, message in enumerate(claimed):
                if time.monotonic() > lease_end:
                    _release(claimed[index:])
                    return DrainResult(sent, failed, deferred, more=True)
                try:
                    email = _email(message, connection)
                    email.message()  # a header it cannot carry fails here, not mid-send
                except (AttachmentUnavailable, ValueError) as exc:
                    failed += _defer(message, str(exc), permanent=True)
                    continue
                except OSError as exc:  # the storage, not the SMTP server
                    if _defer(message, f"attachment: {exc!r}", permanent=False):
                        failed += 1
                    else:
                        deferred += 1
                    continue
                try:
                    connection.send_messages([email])
                except smtplib.SMTPResponseException as exc:
                    # 5xx: this message will never go (bad address); 4xx: later
                    permanent = exc.smtp_code >= 500
                    if _defer(message, f"{exc.smtp_code} {exc.smtp_error!r}", permanent=permanent):
                        failed += 1
                    else:
                        deferred += 1
                except smtplib.SMTPRecipientsRefused as exc:
                    failed += _defer(message, f"refused: {exc.recipients!r}", permanent=True)
                except (smtplib.SMTPException, OSError) as exc:
                    # the connection is gone: defer this one, hand the rest back, retry later
                    _defer(message, repr(exc), permanent=False)
                    _release(claimed[index + 1 :])
                    raise TransientDeliveryError(str(exc)) from exc
                else:
                    _mark_sent(message, until=lease_end)
                    sent += 1
            if len(claimed) < size:
                return DrainResult(sent, failed, deferred, more=False)
        return DrainResult(sent, failed, deferred, more=True)
    finally:
        if connection is not None:
            try:
                connection.close()
            except Exception:  # a broken connection must not hide the real outcome
                logger.debug("closing the SMTP connection failed", exc_info=True)
