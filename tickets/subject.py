"""A ticket as the platform describes it to other processes (``processes.subjects``)."""

from __future__ import annotations

from processes.subjects import SubjectFacts

from .models import Ticket


def describe_ticket(object_id: int) -> SubjectFacts | None:
    ticket = (
        Ticket.objects.filter(pk=object_id)
        .only("number", "subject", "description", "customer_id", "contact_id", "assignee_id")
        .first()
    )
    if ticket is None:
        return None
    return SubjectFacts(
        number=ticket.number,
        title=ticket.subject,
        description=ticket.description,
        customer_id=ticket.customer_id,
        contact_id=ticket.contact_id,
        assignee_id=ticket.assignee_id,
    )
