"""The customer's emails about a ticket (docs/email.md, "Outbound"): the acknowledgement on
intake, an agent's public reply, the notices (waiting on you, resolved, closed, reopened)
and a fresh link to the request page.

Ticket services call these inside their transaction: the email is an outbox row written
with the change, so a rolled-back change sends nothing, and the row's unique key (one per
event and object: the reply's message, the ticket at the version the change gave it) means
a retried request never sends twice. Automatic emails go only where
``mail.outbound.automatic_refusal`` allows; one withheld is recorded in the ticket's audit
with the reason. A person's reply always goes, unless the address is blocked or bounces:
then its outbox row is written as failed with the reason, which the API answer and the
message's delivery state show."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit import services as audit_trail
from core.errors import InvalidInput
from customers.models import Contact
from mail import outbound
from mail.models import Attachment
from org.roles import Actor
from org.selectors import person_name
from outbox.models import MessageStatus, OutboxMessage
from outbox.services import queue_email

from .choices import EventVerb
from .links import request_url
from .models import Ticket, TicketMessage

SUBJECT_KIND = "ticket"
ACKNOWLEDGED = "ticket.acknowledged"
REPLIED = "ticket.replied"
ON_HOLD = "ticket.on_hold"
RESOLVED = "ticket.resolved"
CLOSED = "ticket.closed"
REOPENED = "ticket.reopened"
LINK_REQUESTED = "ticket.link_requested"
# How much of the customer's latest message a reply quotes.
QUOTE_CHARS = 1500
# Requests for a fresh link within this many seconds share one email (a double-submitted
# form, a customer pressing the button twice).
LINK_WINDOW_SECONDS = 600


# --- what services call -------------------------------------------------------------
def acknowledge(ticket: Ticket, *, in_reply_to: str = "") -> OutboxMessage | None:
    """On intake: the number and the link to follow the request. ``in_reply_to``: the
    Message-ID of the email that opened the ticket (the acknowledgement answers it)."""
    thread = outbound.thread_headers(in_reply_to, []) if in_reply_to else {}
    return _send(
        ticket,
        event=ACKNOWLEDGED,
        key=f"{ACKNOWLEDGED}:ticket:{ticket.pk}",
        automatic=True,
        thread=thread,
    )


def reply(
    ticket: Ticket, message: TicketMessage, actor: Actor, *, attachment_ids: Sequence[int] = ()
) -> OutboxMessage | None:
    """An agent's public reply, carried by email, quoting the customer's latest message;
    ``attachment_ids``: files of the ticket stored for this reply (``mail.attachments``),
    linked to the message here and sent with the email."""
    files = _take_attachments(ticket, message, attachment_ids)
    context = {
        "message": message.body,
        "agent_name": person_name(actor) if actor is not None else "",
        **_quote(ticket, message),
    }
    row = _send(
        ticket,
        event=REPLIED,
        key=f"{REPLIED}:message:{message.pk}",
        automatic=False,
        context=context,
        attachment_ids=files,
    )
    if row is None:
        return None
    message.outbox = row
    message.channel = "email"
    message.email_message_id = row.message_id if row.status != MessageStatus.FAILED else ""
    message.save(update_fields=["outbox", "channel", "email_message_id", "updated_at"])
    return row


def on_hold(ticket: Ticket) -> OutboxMessage | None:
    """Waiting on the customer: what we asked is in the last reply; this says it waits."""
    return _notice(ticket, ON_HOLD)


def resolved(ticket: Ticket) -> OutboxMessage | None:
    return _notice(ticket, RESOLVED)


def closed(ticket: Ticket) -> OutboxMessage | None:
    """An agent closed the ticket. An auto-close (the customer stayed silent after the
    resolution, or while we waited on them) sends nothing: they were told when it was
    resolved, and silence is the answer we close on."""
    return _notice(ticket, CLOSED)


def reopened(ticket: Ticket, actor: Actor) -> OutboxMessage | None:
    """Staff reopened the ticket. A customer who reopened it by answering knows already."""
    if actor is None or not actor.is_authenticated:
        return None
    return _notice(ticket, REOPENED)


def send_request_link(ticket: Ticket, contact: Contact) -> OutboxMessage | None:
    """A fresh link to the request page that ``contact`` asked for (theirs expired or got
    lost): automatic mail, under the per-address limit; requests within ten minutes share
    one email. Its own transaction (a public page calls it)."""
    from django.db import transaction

    bucket = int(timezone.now().timestamp()) // LINK_WINDOW_SECONDS
    with transaction.atomic():
        return _send(
            ticket,
            event=LINK_REQUESTED,
            key=f"{LINK_REQUESTED}:ticket:{ticket.pk}:contact:{contact.pk}:{bucket}",
            automatic=True,
            contact=contact,
        )


def delivery(row: OutboxMessage | None) -> dict[str, Any] | None:
    """How an email stands, for an API answer: queued, sent, or failed with the reason."""
    if row is None:
        return None
    status = "queued" if row.status == MessageStatus.PENDING else str(row.status)
    return {
        "id": row.pk,
        "status": status,
        "to": row.to,
        "message_id": row.message_id if row.status != MessageStatus.FAILED else "",
        "error": row.last_error,
    }


# --- the one path every email takes ------------------------------------------------------
def _notice(ticket: Ticket, event: str) -> OutboxMessage | None:
    # the ticket's version names this change: resolved, reopened and resolved again is two
    return _send(ticket, event=event, key=f"{event}:ticket:{ticket.pk}:v{ticket.version}")


def _send(
    ticket: Ticket,
    *,
    event: str,
    key: str,
    automatic: bool = True,
    context: dict[str, Any] | None = None,
    thread: dict[str, str] | None = None,
    attachment_ids: Sequence[int] = (),
    contact: Contact | None = None,
) -> OutboxMessage | None:
    contact = contact if contact is not None else ticket.contact
    address = (contact.email or "").strip()
    if automatic:
        reason = outbound.automatic_refusal(address)
        if reason is not None:
            _record_withheld(ticket, event, address, reason)
            return None
        withheld = ""
    else:
        reason = outbound.person_refusal(address)
        if reason == outbound.NO_ADDRESS:
            return None
        withheld = outbound.refusal_text(reason, address) if reason else ""
        if reason:
            _record_withheld(ticket, event, address, reason)
    language = contact.language
    rendered = outbound.render(
        event, language, {**_context(ticket, contact, language), **(context or {})}
    )
    headers = {"Reply-To": outbound.reply_address(ticket.number)}
    headers |= thread if thread is not None else _thread(ticket)
    if automatic:
        # Exchange and Outlook send no out-of-office answer to it: half of a loop gone
        headers["X-Auto-Response-Suppress"] = "All"
    return queue_email(
        key=key,
        kind=event,
        to=address,
        subject=outbound.with_tag(rendered.subject, ticket.number),
        body_text=rendered.text,
        body_html=rendered.html,
        # every email holds the request-page link: a credential, not kept once sent
        discard_body_after_send=True,
        headers=headers,
        attachment_ids=attachment_ids,
        automatic=automatic,
        auto_submitted=None if automatic else "",
        subject_kind=SUBJECT_KIND,
        object_id=ticket.pk,
        withheld=withheld,
    )


def _context(ticket: Ticket, contact: Contact, language: str) -> dict[str, Any]:
    """What every event's template may use (docs/email.md, "Templates")."""
    with translation.override(outbound.language_of(language)):
        return {
            "number": ticket.number,
            "subject": ticket.subject,
            "status": str(ticket.get_status_display()),
            "contact_name": contact.name,
            "request_url": request_url(ticket_id=ticket.pk, contact_id=contact.pk),
            "link_days": int(settings.KEFU_REQUEST_LINK_DAYS),
            "reopen_days": int(settings.KEFU_CLOSED_REOPEN_DAYS),
            "sender_name": parseaddr(settings.DEFAULT_FROM_EMAIL)[0] or _("Customer service"),
        }


def _quote(ticket: Ticket, message: TicketMessage) -> dict[str, Any]:
    """The customer's latest message before ``message`` (else the request itself)."""
    latest = (
        TicketMessage.objects.filter(ticket=ticket, contact__isnull=False, internal=False)
        .exclude(pk=message.pk)
        .select_related("contact")
        .order_by("-created_at", "-id")
        .first()
    )
    contact = ticket.contact
    text: str
    at: datetime
    if latest is not None:
        text, at = latest.body, latest.created_at
        contact = latest.contact or contact
    else:
        text, at = ticket.description, ticket.created_at
    text = text.strip()
    if len(text) > QUOTE_CHARS:
        text = text[:QUOTE_CHARS].rstrip() + " …"
    return {
        "quoted_text": text,
        "quoted_lines": "\n".join(f"> {line}".rstrip() for line in text.splitlines()),
        "quoted_from": contact.name or contact.email,
        "quoted_at": timezone.localtime(at),
    }


def _thread(ticket: Ticket) -> dict[str, str]:
    """In-Reply-To and References of the ticket's next email. The root is the thread's
    first message: the customer's email that opened it, else our first email (whose own
    References name the customer's email when it answered one); then the latest few of
    both directions. Emails that never left (failed, withheld) are not part of it."""
    first_customer = (
        TicketMessage.objects.filter(ticket=ticket, contact__isnull=False)
        .exclude(email_message_id="")
        .order_by("created_at", "id")
        .values_list("email_message_id", "created_at")
        .first()
    )
    ours = OutboxMessage.objects.filter(subject_kind=SUBJECT_KIND, object_id=ticket.pk).exclude(
        status=MessageStatus.FAILED
    )
    first_ours = ours.order_by("created_at", "id").values_list(
        "message_id", "headers", "created_at"
    )
    root = ""
    first = first_ours.first()
    if first is not None:
        message_id, headers, at = first
        references = str((headers or {}).get("References", "")).split()
        root = references[0] if references else message_id
        if first_customer is not None and first_customer[1] < at:
            root = first_customer[0]
    elif first_customer is not None:
        root = first_customer[0]
    recent: list[tuple[datetime, str]] = [
        (at, mid)
        for mid, at in TicketMessage.objects.filter(ticket=ticket, internal=False)
        .exclude(email_message_id="")
        .order_by("-created_at", "-id")
        .values_list("email_message_id", "created_at")[: outbound.REFERENCES_KEPT]
    ]
    recent += [
        (at, mid)
        for mid, at in ours.order_by("-created_at", "-id").values_list("message_id", "created_at")[
            : outbound.REFERENCES_KEPT
        ]
    ]
    recent.sort()
    return outbound.thread_headers(root, [mid for _at, mid in recent])


def _take_attachments(
    ticket: Ticket, message: TicketMessage, attachment_ids: Sequence[int]
) -> list[int]:
    """The reply's files: the ticket's, not yet given to another message."""
    wanted = list(dict.fromkeys(int(pk) for pk in attachment_ids))
    if not wanted:
        return []
    found = Attachment.objects.filter(
        pk__in=wanted, subject_kind=SUBJECT_KIND, object_id=ticket.pk, message_id__isnull=True
    )
    if found.count() != len(wanted):
        raise InvalidInput(
            _("Unknown attachment."),
            {"attachments": [_("Each file must be uploaded to this ticket first.")]},
        )
    found.update(message_id=message.pk)
    return wanted


def _record_withheld(ticket: Ticket, event: str, address: str, reason: str) -> None:
    audit_trail.record(
        kind="ticket",
        verb=EventVerb.EMAIL_WITHHELD,
        actor=None,
        ticket=ticket,
        customer_id=ticket.customer_id,
        after={"event": event, "to": address, "reason": reason},
    )
