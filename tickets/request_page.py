"""What a customer sees of their request on the request page (docs/email.md, "Customer
pages"): the number, the subject, the status in the customer's words and the public
conversation — the opening message, the customer's messages and the public replies, with
their files. Never internal notes, other tickets, or what only agents see (SLA, team,
priority, assignee, agents' names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from core.errors import NotFound
from customers.models import Contact
from mail.models import Attachment
from processes import runtime

from .choices import EventVerb, TicketStatus
from .links import RequestAccess
from .models import Category, Ticket, TicketMessage
from .services.web_requests import may_follow

KIND = "ticket"


@dataclass(frozen=True)
class CustomerStatus:
    code: str
    label: str
    explanation: str


@dataclass
class PublicMessage:
    key: str  # the element id on the page
    from_customer: bool
    author: str
    body: str
    created_at: datetime
    attachments: list[Attachment] = field(default_factory=list)


@dataclass
class RequestThread:
    ticket: Ticket
    contact: Contact
    status: CustomerStatus
    messages: list[PublicMessage]
    may_reply: bool


def customer_status(status: str) -> CustomerStatus:
    """The ticket's status in words a customer understands (agents' statuses name steps
    of work; a customer wants to know who acts next)."""
    words = {
        TicketStatus.NEW: (
            _("Received"),
            _("We have your request and will look at it soon."),
        ),
        TicketStatus.OPEN: (
            _("In progress"),
            _("We are working on your request."),
        ),
        TicketStatus.PENDING_CUSTOMER: (
            _("Waiting for your reply"),
            _("We need something from you to go on: please read our last message and reply."),
        ),
        TicketStatus.RESOLVED: (
            _("Resolved"),
            _("We think this is solved. If it is not, reply and we will take it up again."),
        ),
        TicketStatus.CLOSED: (
            _("Closed"),
            _("This request is closed."),
        ),
    }
    label, explanation = words.get(TicketStatus(status), (status, ""))
    return CustomerStatus(code=str(status), label=str(label), explanation=str(explanation))


def get_request(access: RequestAccess) -> Ticket:
    """The ticket a link opens; ``NotFound`` when it is gone or no longer the contact's."""
    ticket = Ticket.objects.select_related("contact").filter(pk=access.ticket_id).first()
    if ticket is None or not may_follow(ticket, access.contact_id):
        raise NotFound(_("Request not found."))
    return ticket


def may_reply(ticket: Ticket) -> bool:
    """A customer may write until the reopen window of a closed ticket is over (its process
    has left the ``closed`` wait)."""
    if ticket.status != TicketStatus.CLOSED:
        return True
    process = runtime.process_pk(KIND, ticket.pk)
    task = runtime.current_task(process) if process is not None else None
    return task is not None and task.flow_task.name == "closed"


def _public_messages(ticket: Ticket) -> list[TicketMessage]:
    return list(
        TicketMessage.objects.filter(ticket=ticket, internal=False).order_by("created_at", "id")
    )


def _public_files(ticket: Ticket, message_ids: list[int]) -> list[Attachment]:
    """Files of the opening message (stored without a message) and of public messages; the
    untouched originals of emails are for agents."""
    return list(
        Attachment.objects.filter(subject_kind=KIND, object_id=ticket.pk, original=False)
        .filter(Q(message_id__isnull=True) | Q(message_id__in=message_ids))
        .order_by("created_at", "id")
    )


def _first_message(ticket: Ticket, rows: list[TicketMessage]) -> TicketMessage | None:
    """The customer's own message an intake kept as the ticket's first (an email, the web
    form: ``open_ticket(first_message=…)``), which the description repeats. Every other
    message is written by a service that audits it (``replied``, ``noted``,
    ``customer_replied``, with the message's id); the intake's first is not."""
    if not rows:
        return None
    first = rows[0]
    if first.author_id is not None or first.contact_id != ticket.contact_id:
        return None
    audited = AuditEvent.objects.filter(
        ticket=ticket, verb=EventVerb.CUSTOMER_REPLIED, after__message=first.pk
    ).exists()
    return None if audited else first


def get_thread(access: RequestAccess) -> RequestThread:
    """The request page's content. The request opens the conversation: the intake's first
    message when there is one, else the description (a ticket opened by an agent or the
    API); files stored without a message belong to it."""
    ticket = get_request(access)
    contact = Contact.objects.get(pk=access.contact_id)
    rows = _public_messages(ticket)
    files = _public_files(ticket, [m.pk for m in rows])
    first = _first_message(ticket, rows)
    unattached = [f for f in files if f.message_id is None]
    messages: list[PublicMessage] = []
    if first is None:
        messages.append(
            PublicMessage(
                key="request",
                from_customer=True,
                author=_("You") if ticket.contact_id == contact.pk else ticket.contact.name,
                body=ticket.description,
                created_at=ticket.created_at,
                attachments=unattached,
            )
        )
    others = {m.contact_id for m in rows if m.contact_id and m.contact_id != contact.pk}
    names = dict(Contact.objects.filter(pk__in=others).values_list("pk", "name")) if others else {}
    for row in rows:
        from_customer = row.author_id is None and row.contact_id is not None
        if not from_customer:
            author = _("Customer service")
        elif row.contact_id == contact.pk:
            author = _("You")
        else:
            author = names.get(row.contact_id or 0, "")
        messages.append(
            PublicMessage(
                key=f"m{row.pk}",
                from_customer=from_customer,
                author=author,
                body=row.body,
                created_at=row.created_at,
                attachments=[f for f in files if f.message_id == row.pk]
                + (unattached if row is first else []),
            )
        )
    return RequestThread(
        ticket=ticket,
        contact=contact,
        status=customer_status(ticket.status),
        messages=messages,
        may_reply=may_reply(ticket),
    )


def get_public_attachment(access: RequestAccess, attachment_id: int) -> Attachment:
    """A file the request page offers: of this ticket, of its opening message or one of its
    public messages. Anything else — another ticket's file, an internal note's, an email's
    original — is ``NotFound``, the same answer as a file that does not exist."""
    ticket = get_request(access)
    attachment = Attachment.objects.filter(
        pk=attachment_id, subject_kind=KIND, object_id=ticket.pk, original=False
    ).first()
    if attachment is None:
        raise NotFound(_("File not found."))
    if (
        attachment.message_id is not None
        and not TicketMessage.objects.filter(
            pk=attachment.message_id, ticket=ticket, internal=False
        ).exists()
    ):
        raise NotFound(_("File not found."))
    return attachment


def list_categories() -> list[Category]:
    """The categories a customer may choose on the web form: every one there is."""
    return list(Category.objects.order_by("name", "code"))
