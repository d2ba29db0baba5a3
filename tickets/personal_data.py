"""Tickets' personal data about a contact (``customers.registry``; docs/customers-privacy.md):
the contact's tickets and their public conversation for an access request; for an erasure
the description, the contact's own messages (bodies, HTML, attached files) and any mention
of the contact's values in the staff's messages — the tickets, their subjects, numbers,
statuses and timings stay, so counts and statistics are unchanged."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q

from customers.registry import PersonalData
from mail.models import Attachment

from .models import Ticket, TicketMessage
from .search import ticket_terms

NAME = "tickets"


def export(contact: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    tickets = Ticket.objects.filter(contact=contact).order_by("created_at", "id")
    for ticket in tickets:
        messages = TicketMessage.objects.filter(ticket=ticket, internal=False).order_by(
            "created_at", "id"
        )
        out.append(
            {
                "number": ticket.number,
                "subject": ticket.subject,
                "description": ticket.description,
                "status": ticket.status,
                "channel": ticket.channel,
                "created_at": ticket.created_at.isoformat(),
                "resolution": ticket.resolution,
                "messages": [
                    {
                        "from": "you" if m.contact_id == contact.pk else "staff",
                        "body": m.body,
                        "channel": m.channel,
                        "at": m.created_at.isoformat(),
                    }
                    for m in messages
                ],
            }
        )
    return out


def erase(contact: Any, placeholder: str) -> int:
    from customers.services.privacy import personal_values, scrub_text

    values = personal_values(contact)
    tickets = list(Ticket.objects.filter(contact=contact).select_related("customer"))
    ids = [t.pk for t in tickets]
    own = TicketMessage.objects.filter(ticket_id__in=ids).filter(
        Q(contact=contact) | Q(author__isnull=True, internal=False)
    )
    own_ids = list(own.values_list("pk", flat=True))
    changed = own.update(body=placeholder, body_html="")
    for message in TicketMessage.objects.filter(ticket_id__in=ids).exclude(pk__in=own_ids):
        body, html = scrub_text(message.body, values), scrub_text(message.body_html, values)
        if (body, html) != (message.body, message.body_html):
            message.body, message.body_html = body, html
            message.save(update_fields=["body", "body_html", "updated_at"])
            changed += 1
    files = Attachment.objects.filter(subject_kind="ticket", object_id__in=ids).filter(
        Q(message_id__in=own_ids) | Q(message_id__isnull=True) | Q(original=True)
    )
    names = [name for name in files.values_list("file", flat=True) if name]
    files.update(file="", name=placeholder)
    for ticket in tickets:
        ticket.description = placeholder
        ticket.resolution = scrub_text(ticket.resolution, values)
        ticket.subject = scrub_text(ticket.subject, values)
        individual = ticket.customer is not None and ticket.customer.kind == "individual"
        ticket.search_terms = ticket_terms(
            number=ticket.number,
            subject=ticket.subject,
            description="",
            customer_name="" if individual or ticket.customer is None else ticket.customer.name,
        )
        ticket.save(update_fields=["description", "resolution", "subject", "search_terms"])
    if names:
        transaction.on_commit(lambda: _delete(names))
    return changed + len(tickets)


def audit_scope(contact: Any) -> Q:
    return Q(ticket__contact=contact)


def _delete(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def register() -> None:
    from customers import registry
    from customers.services.privacy import register_audit_scope

    registry.register_personal_data(PersonalData(NAME, export, erase))
    register_audit_scope(NAME, audit_scope)
