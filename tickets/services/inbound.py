"""What a customer's email does to tickets (docs/email.md, "Threading"): it joins the ticket
it answers, or it opens one. The mail app parses, screens and stores the message and calls
``TicketMail.receive`` inside its transaction; an error raised here quarantines the mail."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from core.errors import InvalidInput, KefuError
from customers.models import Contact
from customers.services import (
    contact_for_sender,
    contacts_with_email,
    normalise_email,
)
from mail.attachments import check as check_attachment
from mail.attachments import clean_name, content_type_of
from mail.inbound import Handled, IncomingAttachment, ParsedEmail, message_ids, thread_ids
from outbox.models import OutboxMessage
from processes import runtime

from ..choices import Priority, TicketStatus
from ..models import Ticket, TicketMessage
from .intake import FirstMessage, open_ticket
from .work import record_customer_reply

KIND = "ticket"
# The priority of a ticket opened by email; routing rules and SLA policies take it from there.
EMAIL_PRIORITY = Priority.P3
# A ticket number as Kefu writes it (T-2026-000123), not inside a longer Latin word or
# number (Chinese text runs into it without a space: 工单T-2026-000123的问题).
TICKET_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_-])T-([0-9]{4})-([0-9]{6,})(?![A-Za-z0-9_-])", re.IGNORECASE
)
# Reply and forward prefixes mail clients put before a subject, in the languages Kefu's
# customers write: Re/Fwd and their German, Nordic, Dutch and French forms, 回复/转发 …
# (a full-width colon, U+FF1A, after the Chinese ones)
REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|wg|sv|antw|tr|回复|回覆|答复|答覆|转发|轉寄|轉發)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*[:\uff1a]\s*)+",
    re.IGNORECASE,
)


class TicketMail:
    """The tickets' mail handler, registered for the kind "ticket" (``TicketsConfig``)."""

    def receive(self, email: ParsedEmail) -> Handled:
        return receive_email(email)


@dataclass(frozen=True)
class Match:
    ticket: Ticket
    route: str  # "header", "plus_address" or "subject"


def receive_email(email: ParsedEmail) -> Handled:
    """Threads the email onto the ticket it answers, or opens a new ticket (one transaction).

    The same message twice is recorded once: the second delivery returns the first one's
    message. Raises ``InvalidInput`` for mail with no sender (the mail app quarantines it)."""
    sender = normalise_email(email.sender)
    if not sender:
        raise InvalidInput(_("The email has no sender address."), {"from": [_("Missing.")]})
    message_id = message_ids(email.message_id)[:1]
    own_id = message_id[0] if message_id else ""
    # No savepoint of its own: an error fails the whole change, and a caller inside a
    # transaction rolls back to its own savepoint (the mail app's ``receive_raw`` does,
    # to quarantine the message). Two statements a message saved.
    with transaction.atomic(savepoint=False):
        if own_id:
            known = _message_with_id(own_id)
            if known is not None:
                return Handled(KIND, known[1], known[0], created=False)
        match = find_ticket(email)
        if match is None:
            return _open(email, sender, own_id)
        return _thread(email, sender, own_id, match.ticket)


def find_ticket(email: ParsedEmail) -> Match | None:
    """The ticket an email answers, by the first route that names one:

    1. ``In-Reply-To``, then ``References`` newest first: a Message-ID of one of the
       ticket's messages (the customer's emails, the agents' replies) or of an email Kefu
       sent about it (acknowledgement, notices: the outbox). Any sender: these IDs are not
       guessable, whoever has one was given the thread.
    2. The plus address among the recipients (``support+T-2026-000123@…``, on the support
       address only), then
    3. the ticket number in the subject; both only when the sender is the ticket's contact
       or a contact of the ticket's customer, because a number can be guessed."""
    sender = normalise_email(email.sender)
    ticket = _by_headers(email)
    if ticket is not None:
        return Match(ticket, "header")
    for route, numbers in (
        ("plus_address", _plus_numbers(email.recipients)),
        ("subject", _subject_numbers(email.subject)),
    ):
        for number in numbers:
            ticket = Ticket.objects.select_related("contact").filter(number=number).first()
            if ticket is not None and _writes_for(ticket, sender):
                return Match(ticket, route)
    return None


# --- finding the ticket --------------------------------------------------------------
def _by_headers(email: ParsedEmail) -> Ticket | None:
    ids = thread_ids(email)
    if not ids:
        return None
    # newest row last, so a Message-ID on two tickets (never by Kefu) names the newest
    tickets = dict(
        TicketMessage.objects.filter(email_message_id__in=ids)
        .order_by("id")
        .values_list("email_message_id", "ticket_id")
    )
    for message_id, object_id in (
        OutboxMessage.objects.filter(message_id__in=ids, subject_kind=KIND)
        .exclude(object_id=None)
        .values_list("message_id", "object_id")
    ):
        assert object_id is not None
        tickets.setdefault(message_id, object_id)
    for message_id in ids:
        if message_id in tickets:
            return Ticket.objects.select_related("contact").filter(pk=tickets[message_id]).first()
    return None


def _plus_numbers(recipients: Iterable[str]) -> Iterator[str]:
    """Ticket numbers in plus addresses of the support address, in the recipients' order."""
    support = normalise_email(settings.KEFU_SUPPORT_ADDRESS)
    for recipient in recipients:
        local, at, domain = normalise_email(recipient).rpartition("@")
        base, plus, tag = local.partition("+")
        if not (at and plus) or f"{base}@{domain}" != support:
            continue
        found = TICKET_NUMBER.fullmatch(tag)
        if found:
            yield _number(found)


def _subject_numbers(subject: str) -> Iterator[str]:
    for found in TICKET_NUMBER.finditer(subject or ""):
        yield _number(found)


def _number(found: re.Match[str]) -> str:
    return f"T-{found.group(1)}-{found.group(2)}"


def _writes_for(ticket: Ticket, sender: str) -> bool:
    """The sender is the ticket's contact or a contact of the ticket's customer."""
    if normalise_email(ticket.contact.email) == sender:
        return True
    return (
        ticket.customer_id is not None
        and contacts_with_email(sender).filter(customer_id=ticket.customer_id).exists()
    )


def _message_with_id(message_id: str, ticket_id: int | None = None) -> tuple[int, int] | None:
    """The first message recorded with ``message_id`` (on ``ticket_id``): (its id, its
    ticket's id)."""
    rows = TicketMessage.objects.filter(email_message_id=message_id[:255])
    if ticket_id is not None:
        rows = rows.filter(ticket_id=ticket_id)
    return rows.order_by("id").values_list("pk", "ticket_id").first()


# --- threading onto a ticket ---------------------------------------------------------
def _thread(email: ParsedEmail, sender: str, own_id: str, ticket: Ticket) -> Handled:
    """The email as the customer's message on ``ticket``; a ticket past its reopen window
    gets a new ticket instead, which names it."""
    process_pk = _wait_for_ticket(ticket.pk)
    # Under the ticket's lock: a concurrent delivery of the same message has committed.
    if own_id:
        known = _message_with_id(own_id, ticket.pk)
        if known is not None:
            return Handled(KIND, ticket.pk, known[0], created=False)
    if _past_reopen_window(ticket.pk, process_pk):
        return _open(email, sender, own_id, follow_up_of=ticket)
    contact = _author(ticket, email, sender)
    body, attachments = _content(email)
    message = record_customer_reply(
        ticket_id=ticket.pk,
        body=body,
        channel="email",
        body_html=email.html,
        email_message_id=own_id,
        attachments=attachments,
        contact_id=contact.pk,
        automatic=email.automatic,
    )
    return Handled(KIND, ticket.pk, message.pk, created=False)


def _wait_for_ticket(ticket_id: int) -> int | None:
    """Takes the ticket's flow lock, waiting for it: mail is not a person who can retry,
    and the services' own lock (``NOWAIT``) then finds it held by this transaction."""
    process_pk = runtime.process_pk(KIND, ticket_id)
    if process_pk is not None:
        model = runtime.kind(KIND).process_model
        model.objects.select_for_update().filter(pk=process_pk).exists()
    return process_pk


def _past_reopen_window(ticket_id: int, process_pk: int | None) -> bool:
    status = Ticket.objects.filter(pk=ticket_id).values_list("status", flat=True).first()
    if status != TicketStatus.CLOSED or process_pk is None:
        return False
    task = runtime.current_task(process_pk)
    return task is None or task.flow_task.name != "closed"


def _author(ticket: Ticket, email: ParsedEmail, sender: str) -> Contact:
    """Who wrote: the ticket's contact, a colleague (a contact of the ticket's customer) or,
    for anyone else who answers the thread, their own contact; the ticket's contact and
    customer never change."""
    if normalise_email(ticket.contact.email) == sender:
        return ticket.contact
    if ticket.customer_id is not None:
        colleague = contacts_with_email(sender).filter(customer_id=ticket.customer_id).first()
        if colleague is not None:
            return colleague
    return _contact_by_address(email, sender)


# --- opening a ticket ----------------------------------------------------------------
def _open(
    email: ParsedEmail, sender: str, own_id: str, *, follow_up_of: Ticket | None = None
) -> Handled:
    """A new ticket from the email, by the contact of its sender (``open_ticket``: routed,
    its SLA started and assigned as any intake); the email is its first message."""
    if follow_up_of is None:
        contact = _contact_by_address(email, sender)
    else:
        contact = _author(follow_up_of, email, sender)
    body, attachments = _content(email)
    subject = _ticket_subject(email.subject, follow_up_of)
    description = body
    if follow_up_of is not None:
        with translation.override(settings.LANGUAGE_CODE):
            note = _(
                "Follows up on ticket %(number)s, which is closed and can no longer be reopened."
            ) % {"number": follow_up_of.number}
        description = f"{note}\n\n{body}"
    ticket, _created = open_ticket(
        actor=None,
        subject=subject,
        description=description,
        priority=EMAIL_PRIORITY,
        channel="email",
        contact_id=contact.pk,
        # no automatic answer to automatic mail (RFC 3834); the acknowledgement threads
        # under the customer's own message
        acknowledge=not email.automatic,
        in_reply_to=own_id,
        first_message=FirstMessage(
            body=body,
            channel="email",
            body_html=email.html,
            email_message_id=own_id,
            attachments=attachments,
        ),
    )
    first = TicketMessage.objects.filter(ticket=ticket).order_by("id").values_list("pk", flat=True)
    return Handled(KIND, ticket.pk, first.first(), created=True)


def _contact_by_address(email: ParsedEmail, sender: str) -> Contact:
    return contact_for_sender(sender, name=email.sender_name, language=email.language)


def _ticket_subject(subject: str, follow_up_of: Ticket | None) -> str:
    subject = " ".join((subject or "").split())
    if follow_up_of is not None:  # the old number is in the description
        subject = re.sub(
            rf"\[\s*{re.escape(follow_up_of.number)}\s*\]", " ", subject, flags=re.IGNORECASE
        )
        subject = " ".join(subject.split())
    subject = REPLY_PREFIX.sub("", subject).strip()
    if not subject:
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("(no subject)")
    return subject[:200]


# --- the message's content -----------------------------------------------------------
def _content(email: ParsedEmail) -> tuple[str, list[IncomingAttachment]]:
    """The text to store and the attachments to keep. A file over the limits or of a
    refused type is left out and named in the text (the raw message keeps it), so a
    customer's message is never refused for its attachment. Kefu's notes in the text are
    written in the site's language (``LANGUAGE_CODE``)."""
    body = email.text.strip() or email.full_text.strip() or email.subject.strip()
    kept: list[IncomingAttachment] = []
    with translation.override(settings.LANGUAGE_CODE):
        notes: list[str] = []
        for attachment in email.attachments:
            name = clean_name(attachment.name)
            try:
                check_attachment(
                    name, content_type_of(name, attachment.content_type), len(attachment.data)
                )
            except KefuError as exc:
                notes.append(_("[Attachment not kept: %(reason)s]") % {"reason": exc.message})
            else:
                kept.append(attachment)
        if notes:
            body = "\n\n".join([body, "\n".join(notes)]) if body else "\n".join(notes)
        if not body and not kept:
            body = _("(The email had no text.)")
    return body, kept
