"""What supervisors do from the board besides assigning: set the priority, acknowledge
an escalation. Each is one transaction under the ticket's flow lock, audited, and
pushed to every screen that shows the ticket."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from core.errors import Conflict, Forbidden, InvalidInput
from notifications.services import notify_users
from org import roles
from org.roles import Actor, Person
from sla import clock as clocks

from ..choices import EventVerb, Priority, TicketStatus
from ..events import publish_ticket_event
from ..models import Ticket
from ._common import audit, locked_ticket, save_changed


def _supervised(ticket_id: int, actor: Actor) -> Any:
    if not roles.is_supervisor(actor):
        # Agents learn nothing about tickets they cannot see.
        raise Forbidden(_("Only supervisors may do this."))
    return locked_ticket(ticket_id)


def _tell_assignee(ticket: Ticket, actor: Person, kind: str, data: dict[str, Any]) -> None:
    """The assignee hears of a supervisor's change to their ticket (unless they made it)."""
    if ticket.assignee_id and ticket.assignee_id != actor.pk:
        notify_users(
            recipient_ids=[ticket.assignee_id],
            kind=kind,
            data={"number": ticket.number, **data},
            subject_kind="ticket",
            object_id=ticket.pk,
        )


def change_priority(*, ticket_id: int, actor: Person, priority: str) -> Ticket:
    """Sets the priority. The SLA terms stay those the ticket opened with (docs/tickets.md)."""
    if priority not in Priority.values:
        choices = ", ".join(Priority.values)
        raise InvalidInput(
            _("Unknown priority."),
            {"priority": [_("Choose one of %(choices)s.") % {"choices": choices}]},
        )
    with _supervised(ticket_id, actor) as locked:
        ticket = locked.ticket
        if ticket.status == TicketStatus.CLOSED:
            raise Conflict(_("A closed ticket keeps its priority."))
        if ticket.priority == priority:
            return ticket
        before = ticket.priority
        ticket.priority = priority
        save_changed(ticket, ["priority"])
        audit(
            ticket,
            actor,
            EventVerb.PRIORITY_CHANGED,
            before={"priority": before},
            after={"priority": priority},
        )
        _tell_assignee(ticket, actor, "priority_changed", {"priority": priority})
        publish_ticket_event("updated", ticket)
        return ticket


def acknowledge_escalation(*, ticket_id: int, actor: Person) -> Ticket:
    """Marks the ticket's current escalation level as seen by a supervisor."""
    with _supervised(ticket_id, actor) as locked:
        ticket = locked.ticket
        if ticket.escalation_level == 0:
            raise Conflict(_("The ticket has not been escalated."))
        if ticket.escalation_acknowledged >= ticket.escalation_level:
            raise Conflict(_("This escalation is already acknowledged."))
        before = ticket.escalation_acknowledged
        assert ticket.clock is not None  # escalated, so it has a clock
        clocks.acknowledge(ticket.clock)
        save_changed(ticket, [])
        audit(
            ticket,
            actor,
            EventVerb.ACKNOWLEDGED,
            before={"escalation_acknowledged": before},
            after={"escalation_acknowledged": ticket.escalation_level},
        )
        _tell_assignee(ticket, actor, "acknowledged", {"level": ticket.escalation_level})
        publish_ticket_event("updated", ticket)
        return ticket
