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


def describe_tickets(object_ids: list[int]) -> dict[int, SubjectFacts]:
    """``describe_ticket`` for a page of tickets, in one query."""
    rows = Ticket.objects.filter(pk__in=object_ids).only(
        "number", "subject", "description", "customer_id", "contact_id", "assignee_id"
    )
    return {
        t.pk: SubjectFacts(
            number=t.number,
            title=t.subject,
            description=t.description,
            customer_id=t.customer_id,
            contact_id=t.contact_id,
            assignee_id=t.assignee_id,
        )
        for t in rows
    }
