"""Receiving mail (docs/email.md, "Inbound"): one entry, ``receive_raw``, for every source
(IMAP, LMTP/SMTP, standard input), and the quarantine's ``retry`` and ``discard``.

A message is recorded and handled in one transaction: the ``InboundEmail`` row, what it
became (a process's handler threads or opens in the same transaction) and the original
kept as an attachment commit together. A handler that fails is rolled back to a savepoint
and the row is kept, quarantined with the error. Only when the row itself cannot be written
(the database or the storage is down) does ``receive_raw`` raise ``ReceiveFailed``, so the
caller leaves the message where it was (an IMAP message stays unflagged, LMTP answers 451,
the pipe exits 75) and it comes again.
"""

from __future__ import annotations

import hashlib
import logging
import traceback
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from email.utils import parseaddr

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit import services as audit
from core import configcache
from core.errors import Conflict, Forbidden, NotFound
from org.roles import Actor, is_administrator

from . import attachments
from .inbound import handler_for
from .models import AddressState, InboundEmail, InboundStatus, Mailbox
from .parse import Bounce, Unparseable, read, read_envelope

logger = logging.getLogger(__name__)

# Why a message did not become (or has not yet become) part of a process.
REASONS: dict[str, str | Promise] = {
    "too_large": _("Larger than the inbound limit"),
    "unparseable": _("Could not be read"),
    "no_sender": _("No sender"),
    "no_handler": _("No process takes this mailbox's mail"),
    "handler_error": _("The process refused it"),
    "bounce": _("Delivery report (bounce)"),
    "receipt": _("Read receipt"),
    "own_address": _("From one of our own addresses"),
    "blocked": _("Blocked sender"),
}
DEFAULT_KIND = "ticket"
ORIGINAL_NAME = "original.eml"


class ReceiveFailed(Exception):
    """The message could not be recorded: leave it with the sender's server and retry."""


# --- who is who -----------------------------------------------------------------------------
def _base_address(address: str) -> str:
    """``support+T-2026-000123@x`` → ``support@x``, lower case."""
    local, at, domain = address.strip().lower().rpartition("@")
    if not at:
        return address.strip().lower()
    return f"{local.split('+', 1)[0]}@{domain}"


def own_addresses() -> set[str]:
    """Every address Kefu sends from or reads: mail from them is never taken (loops)."""
    found = {settings.KEFU_SUPPORT_ADDRESS, *settings.KEFU_OWN_ADDRESSES}
    found.add(parseaddr(settings.DEFAULT_FROM_EMAIL)[1])
    found.update(_mailbox_addresses())
    return {_base_address(a) for a in found if a and "@" in a}


def _mailbox_addresses() -> tuple[str, ...]:
    """Every mailbox's address, kept per process until a mailbox is saved or deleted
    (``core.configcache``: the mailboxes are configuration; one cache GET a message)."""
    return configcache.cached(
        "mail.mailbox_addresses",
        lambda: tuple(Mailbox.objects.values_list("address", flat=True)),
    )


def is_own_address(address: str) -> bool:
    return _base_address(address) in own_addresses()


def is_blocked(address: str) -> bool:
    """Blocked by address, or by its domain (an ``AddressState`` of ``@example.com``)."""
    address = address.lower()
    domain = "@" + address.rpartition("@")[2]
    return AddressState.objects.filter(address__in=[address, domain], blocked=True).exists()


def mailbox_for(recipients: Iterable[str]) -> Mailbox | None:
    """The mailbox whose address one of the envelope recipients is (plus tag ignored): its
    ``opens`` decides the process. An LMTP-only address is a disabled mailbox."""
    wanted = {_base_address(r) for r in recipients if "@" in r}
    if not wanted:
        return None
    for mailbox in Mailbox.objects.order_by("id"):
        if _base_address(mailbox.address) in wanted:
            return mailbox
    return None


def mark_bouncing(bounce: Bounce) -> list[str]:
    """Every address a report says failed for good is bouncing from now on (the first
    bounce's time kept); automatic mail stops going to it, and it joins the customers'
    suppression list (reason "bounced"), which no campaign overrides."""
    from core.errors import InvalidInput
    from customers.services.consent import record_bounce

    now = timezone.now()
    summary = " ".join(f"{bounce.status} {bounce.diagnostic}".split())[:2000]
    for address in bounce.failed:
        state, _ = AddressState.objects.get_or_create(address=address[:254])
        AddressState.objects.filter(pk=state.pk).update(
            bouncing_since=Coalesce(F("bouncing_since"), now),
            last_bounce=f"{now:%Y-%m-%d %H:%M} {summary}".strip(),
            updated_at=now,
        )
        try:
            record_bounce(address)
        except InvalidInput:
            continue  # not an address the list can hold (a report's garbled recipient)
    return list(bounce.failed)


# --- recording ------------------------------------------------------------------------------
def _dedupe_key(message_id: str, raw: bytes) -> str:
    """The Message-ID, or for a message without one a digest of its bytes (a retried LMTP
    session repeats them exactly), so a second delivery is the same row."""
    if message_id and len(message_id) <= 255:
        return message_id
    digest = hashlib.sha256(raw).hexdigest()
    if message_id:  # absurdly long: keep its start, make it unique
        return f"{message_id[:180]}…{digest[:40]}"
    return f"<{digest}@no-message-id.kefu.invalid>"


def _finish(row: InboundEmail, status: str, reason: str = "", error: str = "") -> None:
    row.status = status
    row.reason = reason
    row.error = error
    row.processed_at = timezone.now()
    row.save()


def _process(row: InboundEmail, raw: bytes, envelope_to: Sequence[str]) -> None:
    """Classifies and hands on one recorded message, in the caller's transaction."""
    limit = settings.KEFU_INBOUND_MAX_BYTES
    if len(raw) > limit:
        _finish(
            row,
            InboundStatus.QUARANTINED,
            "too_large",
            f"{len(raw)} bytes; KEFU_INBOUND_MAX_BYTES is {limit}",
        )
        return
    try:
        reading = read(raw)
    except Unparseable as exc:
        _finish(row, InboundStatus.QUARANTINED, "unparseable", str(exc)[:4000])
        return
    email = reading.email
    envelope = [r.strip().lower() for r in envelope_to if r and "@" in r]
    if envelope:
        email = replace(email, recipients=tuple(dict.fromkeys([*email.recipients, *envelope])))
    row.sender = email.sender[:254]
    row.subject = email.subject[:255]
    row.recipients = ", ".join(email.recipients)
    if reading.bounce is not None:
        failed = mark_bouncing(reading.bounce)
        _finish(row, InboundStatus.IGNORED, "bounce", ", ".join(failed))
        return
    if reading.receipt:
        _finish(row, InboundStatus.IGNORED, "receipt")
        return
    if not email.sender:
        _finish(row, InboundStatus.QUARANTINED, "no_sender")
        return
    if is_own_address(email.sender):
        _finish(row, InboundStatus.IGNORED, "own_address")
        return
    if is_blocked(email.sender):
        _finish(row, InboundStatus.IGNORED, "blocked")
        return
    kind = row.mailbox.opens if row.mailbox else DEFAULT_KIND
    try:
        handler = handler_for(kind)
    except LookupError as exc:
        _finish(row, InboundStatus.QUARANTINED, "no_handler", str(exc))
        return
    try:
        with transaction.atomic():  # a savepoint: a failing handler leaves nothing behind
            handled = handler.receive(email)
            attachments.store(
                subject_kind=handled.subject_kind,
                object_id=handled.object_id,
                message_id=handled.message_id,
                name=ORIGINAL_NAME,
                data=raw,
                content_type="message/rfc822",
                original=True,
            )
    except Exception as exc:
        if transaction.get_connection().needs_rollback:
            raise  # the savepoint could not be rolled back: the database is gone
        logger.exception("inbound email %s: the %s handler failed", row.message_id, kind)
        # what went wrong first (an administrator reads it in the list), then where
        where = "".join(traceback.format_exception(exc))[-3000:]
        _finish(row, InboundStatus.QUARANTINED, "handler_error", f"{_summary(exc)}\n\n{where}")
        return
    row.subject_kind = handled.subject_kind
    row.object_id = handled.object_id
    _finish(row, InboundStatus.PROCESSED)


def _summary(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text.splitlines()[0][:500] if text else type(exc).__name__


def receive_raw(
    raw: bytes,
    *,
    source: str,
    mailbox: Mailbox | None = None,
    envelope_to: Sequence[str] = (),
) -> InboundEmail:
    """Records one message and hands it to its process; returns its row. A message seen
    before (same Message-ID) is not handled again: the first row is returned. Raises
    ``ReceiveFailed`` only when the message could not be recorded."""
    envelope = read_envelope(raw)
    key = _dedupe_key(envelope.message_id, raw)
    try:
        seen = InboundEmail.objects.filter(message_id=key).first()
        if seen is not None:
            return seen
        if mailbox is None and envelope_to:
            mailbox = mailbox_for(envelope_to)
    except DatabaseError as exc:
        raise ReceiveFailed(f"database: {exc}") from exc
    row = InboundEmail(
        mailbox=mailbox,
        source=source[:10],
        message_id=key,
        sender=envelope.sender[:254],
        subject=envelope.subject[:255],
        recipients=", ".join(envelope_to),
        size=len(raw),
        attempts=1,
    )
    try:
        row.raw.save(f"{uuid.uuid4().hex}.eml", ContentFile(raw), save=False)
    except Exception as exc:  # storage: a full disk, an unreachable bucket
        raise ReceiveFailed(f"storage: {exc}") from exc
    try:
        with transaction.atomic():
            # a second delivery of the same message waits here on the unique Message-ID
            # until the first commits, then fails: it is the same message
            row.save(force_insert=True)
            _process(row, raw, envelope_to)
    except IntegrityError as exc:
        _forget_file(row)
        try:
            seen = InboundEmail.objects.filter(message_id=key).first()
        except DatabaseError:
            seen = None
        if seen is not None:
            return seen
        raise ReceiveFailed(f"database: {exc}") from exc
    except DatabaseError as exc:
        _forget_file(row)
        raise ReceiveFailed(f"database: {exc}") from exc
    return row


def _forget_file(row: InboundEmail) -> None:
    try:
        row.raw.delete(save=False)
    except Exception:
        logger.warning("could not delete %s", row.raw.name, exc_info=True)


# --- the quarantine -------------------------------------------------------------------------
def _check_may_manage(actor: Actor) -> None:
    if actor is None or not is_administrator(actor):
        raise Forbidden(gettext("Only an administrator may manage the mail quarantine."))


def _quarantined(inbound_id: int) -> InboundEmail:
    row = InboundEmail.objects.select_for_update().filter(pk=inbound_id).first()
    if row is None:
        raise NotFound(gettext("No such inbound email."))
    if row.status != InboundStatus.QUARANTINED:
        raise Conflict(gettext("Only a quarantined email can be retried or discarded."))
    return row


def retry(inbound_id: int, *, actor: Actor) -> InboundEmail:
    """Handles a quarantined message again (after a fix, a larger limit, a handler that
    now exists); it may land back in quarantine with the new error."""
    _check_may_manage(actor)
    with transaction.atomic():
        row = _quarantined(inbound_id)
        before = {"status": row.status, "reason": row.reason}
        try:
            with row.raw.open("rb") as stored:
                raw = stored.read()
        except OSError as exc:
            raise Conflict(
                gettext("The raw message of this email is missing from the storage.")
            ) from exc
        row.attempts += 1
        envelope_to = [r.strip() for r in row.recipients.split(",") if r.strip()]
        _process(row, raw, envelope_to)
        audit.record(
            kind="inbound_email",
            verb="retried",
            actor=actor,
            object_id=row.pk,
            before=before,
            after={"status": row.status, "reason": row.reason, "attempts": row.attempts},
        )
    return row


def discard(inbound_id: int, *, actor: Actor) -> InboundEmail:
    """Gives up on a quarantined message; its row and raw message stay for the record."""
    _check_may_manage(actor)
    with transaction.atomic():
        row = _quarantined(inbound_id)
        before = {"status": row.status, "reason": row.reason}
        row.status = InboundStatus.DISCARDED
        row.processed_at = timezone.now()
        row.save(update_fields=["status", "processed_at"])
        audit.record(
            kind="inbound_email",
            verb="discarded",
            actor=actor,
            object_id=row.pk,
            before=before,
            after={"status": row.status},
        )
    return row
