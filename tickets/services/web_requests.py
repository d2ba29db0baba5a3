"""What a customer does on the customer pages, without an account (docs/email.md, "Customer
pages"): a request sent with the web form, a reply from the request page, and a new link to
that page asked for by email.

The forms carry a one-time token (a signed nonce, read by the view); its use is written in
the same transaction as the ticket or message it made (``WebFormUse``), so the same form
posted twice — a double click, a reload, a retry after a lost answer — is answered with the
first result. Attachments are checked before anything is written and stored in the same
transaction, so a refused file leaves nothing behind."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, InvalidInput
from customers.choices import Language
from customers.models import Contact
from customers.services import (
    AmbiguousContact,
    contacts_with_email,
    find_or_create_contact,
    normalise_email,
)
from mail.attachments import check as check_attachment
from mail.inbound import IncomingAttachment

from ..choices import Channel, Priority, TicketStatus
from ..emails import send_request_link
from ..links import RequestAccess
from ..models import Ticket, TicketMessage, WebFormUse
from .intake import FirstMessage, open_ticket
from .work import record_customer_reply

# A request from the web form: the customer does not choose a priority; triage may change it.
WEB_PRIORITY = Priority.P3
# Files one form or reply may carry (each within KEFU_ATTACHMENT_MAX_BYTES).
MAX_FILES = 10
# /help/requests/ emails links for this many of the address's open requests, newest first.
LINKS_PER_LOOKUP = 10
# Statuses a customer may still write on (a closed ticket within its reopen window too).
OPEN_STATUSES = (
    TicketStatus.NEW,
    TicketStatus.OPEN,
    TicketStatus.PENDING_CUSTOMER,
    TicketStatus.RESOLVED,
)


class FormAlreadySent(Conflict):
    """The form's one-time token was used for other content (a stale form sent again after
    it was changed): nothing is done; the page offers a fresh form."""

    def __init__(self, number: str) -> None:
        super().__init__(_("This form was already sent (request %(number)s).") % {"number": number})
        self.number = number


def check_files(attachments: Sequence[IncomingAttachment]) -> None:
    """Raises ``InvalidInput`` naming every refused file (too many, too large, of a refused
    type: mail/attachments.py). Done before anything is written, so a refused file costs no
    ticket number; ``store`` checks each file again as it writes it."""
    problems: list[str] = []
    if len(attachments) > MAX_FILES:
        problems.append(_("Attach at most %(count)s files.") % {"count": MAX_FILES})
    for attachment in attachments:
        try:
            check_attachment(attachment.name, attachment.content_type, len(attachment.data))
        except InvalidInput as exc:
            problems.append(exc.message)
    if problems:
        raise InvalidInput(problems[0], {"attachments": problems})


def _fingerprint(*parts: object) -> str:
    canonical = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _files_fingerprint(attachments: Sequence[IncomingAttachment]) -> list[tuple[str, int, str]]:
    return [(a.name, len(a.data), hashlib.sha256(a.data).hexdigest()) for a in attachments]


def _previous_use(nonce: str, fingerprint: str) -> WebFormUse | None:
    """The committed use of the token, or None; the token used with other content is a
    ``FormAlreadySent``."""
    row = (
        WebFormUse.objects.select_related("ticket", "message")
        .filter(nonce=nonce, ticket__isnull=False)
        .first()
    )
    if row is None:
        return None
    assert row.ticket is not None
    if row.fingerprint != fingerprint:
        raise FormAlreadySent(row.ticket.number)
    return row


def contact_language(language: str) -> str:
    """The contact language closest to a page language (``zh-hans``, ``zh-cn`` → Chinese)."""
    return Language.SIMPLIFIED_CHINESE if language.lower().startswith("zh") else Language.ENGLISH


def submit_web_request(
    *,
    form_nonce: str,
    email: str,
    name: str,
    subject: str,
    description: str,
    category_code: str | None,
    language: str,
    attachments: Sequence[IncomingAttachment] = (),
) -> tuple[Ticket, bool]:
    """A request from the web form: a ticket through ``open_ticket`` (channel web, the
    contact found or created by address, routed and timed as any intake) whose first
    message is the customer's text with its files, all in one transaction.

    Returns ``(ticket, created)``; the same form sent again returns its first ticket and
    ``created=False``. A contact this request creates takes the page's language, so the
    acknowledgement is written in it. The fields were validated by the caller with the
    intake API's serializer; the service still refuses an unknown category, a refused file
    and an address it cannot place."""
    fingerprint = _fingerprint(
        "form",
        normalise_email(email),
        name,
        subject,
        description,
        category_code or "",
        _files_fingerprint(attachments),
    )
    previous = _previous_use(form_nonce, fingerprint)
    if previous is not None:
        assert previous.ticket is not None
        return previous.ticket, False
    check_files(attachments)
    try:
        with transaction.atomic():
            # Claimed first: a concurrent second POST of the form waits here for this one.
            use = WebFormUse.objects.create(nonce=form_nonce, fingerprint=fingerprint)
            contact = _contact_for(email, name, contact_language(language))
            ticket, _created = open_ticket(
                actor=None,
                subject=subject,
                description=description,
                priority=WEB_PRIORITY,
                channel=Channel.WEB,
                category_code=category_code or None,
                contact_id=contact.pk,
                # the request as the customer wrote it, with its files: the thread's first
                first_message=FirstMessage(
                    body=description, channel=Channel.WEB, attachments=attachments
                ),
            )
            use.ticket = ticket
            use.save(update_fields=["ticket", "updated_at"])
    except IntegrityError:
        previous = _previous_use(form_nonce, fingerprint)
        if previous is None:
            raise
        assert previous.ticket is not None
        return previous.ticket, False
    return ticket, True


def _contact_for(email: str, name: str, language: str) -> Contact:
    started = timezone.now()
    try:
        contact = find_or_create_contact(email=email, name=name)
    except AmbiguousContact as exc:
        # The form cannot ask which customer the person writes for (that would list them),
        # and a guess could file the request under the wrong one: email reaches a person.
        raise InvalidInput(
            _("We cannot take a request for this address through the form."),
            {
                "email": [
                    _("Please write to %(address)s instead; we will answer from there.")
                    % {"address": settings.KEFU_SUPPORT_ADDRESS}
                ]
            },
        ) from exc
    if contact.created_at >= started and contact.language != language:
        contact.language = language
        contact.save(update_fields=["language", "updated_at"])
    return contact


def add_web_reply(
    *,
    access: RequestAccess,
    form_nonce: str,
    body: str,
    attachments: Sequence[IncomingAttachment] = (),
) -> tuple[TicketMessage, bool]:
    """The customer's reply from the request page, through ``record_customer_reply``
    (channel web): it resumes a ticket waiting on them and reopens a resolved one, or a
    closed one within its reopen window; past it, ``Conflict``. Returns ``(message,
    created)``; the same reply form sent again returns its first message."""
    fingerprint = _fingerprint("reply", access.ticket_id, body, _files_fingerprint(attachments))
    previous = _previous_use(form_nonce, fingerprint)
    if previous is not None and previous.message is not None:
        return previous.message, False
    check_files(attachments)
    try:
        with transaction.atomic():
            use = WebFormUse.objects.create(
                nonce=form_nonce, fingerprint=fingerprint, ticket_id=access.ticket_id
            )
            message = record_customer_reply(
                ticket_id=access.ticket_id,
                body=body,
                channel=Channel.WEB,
                attachments=attachments,
                contact_id=access.contact_id,
            )
            use.message = message
            use.save(update_fields=["message", "updated_at"])
    except IntegrityError:
        previous = _previous_use(form_nonce, fingerprint)
        if previous is None or previous.message is None:
            raise
        return previous.message, False
    return message, True


# --- a new link to the request page, by email ---------------------------------------
def resend_request_link(*, access: RequestAccess, email: str) -> bool:
    """An expired link's owner asks for a new one: it is emailed when ``email`` is the
    address of the contact the link was issued to, and that contact still has the ticket.
    True when an email was queued (``tickets.emails.send_request_link``: the event's
    template in the contact's language, withheld past the per-address limit of automatic
    mail); the page answers the same either way."""
    contact = Contact.objects.filter(pk=access.contact_id).first()
    ticket = Ticket.objects.filter(pk=access.ticket_id).first()
    if contact is None or ticket is None:
        return False
    if normalise_email(contact.email) != normalise_email(email):
        return False
    if not may_follow(ticket, contact.pk):
        return False
    return send_request_link(ticket, contact) is not None


def send_request_links(*, email: str) -> int:
    """``/help/requests/``: a link to each open request of the address (its newest
    ``LINKS_PER_LOOKUP``), one email per request. Returns how many were queued; the page
    answers the same whatever the count."""
    address = normalise_email(email)
    tickets = list(
        Ticket.objects.select_related("contact")
        .filter(contact__in=contacts_with_email(address), status__in=OPEN_STATUSES)
        .order_by("-created_at", "-id")[:LINKS_PER_LOOKUP]
    )
    if not tickets:
        return 0
    with transaction.atomic():
        sent = [send_request_link(ticket, ticket.contact) for ticket in tickets]
    return sum(row is not None for row in sent)


def may_follow(ticket: Ticket, contact_id: int) -> bool:
    """A link issued to ``contact_id`` opens this ticket's page: the ticket's contact, or a
    contact who wrote on it."""
    if ticket.contact_id == contact_id:
        return True
    return TicketMessage.objects.filter(ticket=ticket, contact_id=contact_id).exists()
