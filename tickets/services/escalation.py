"""What the process does on its own: the SLA ladder's acts on tickets (warnings, breaches
and escalation levels are decided and recorded by ``sla.ladder``; this adapter saves and
announces what they changed), auto-close and archive."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from core.bulk import update_columns
from org.selectors import supervisors_by_team
from processes.queue import most_significant
from sla.kinds import Subject
from sla.models import SlaClock

from .. import selectors, sla
from ..assignment import choose_agent
from ..choices import EventVerb, Priority
from ..events import announce_many, publish_ticket_event
from ..models import Ticket
from ._common import audit, hand_over, mark_closed, save_changed

RAISED = {Priority.P4: Priority.P3, Priority.P3: Priority.P2, Priority.P2: Priority.P1}


class TicketSubjects:
    """Tickets as the SLA ladder sees them (``sla.kinds``): loaded, changed and announced
    set-wise; only a ticket whose work moves (a reassign level, or nobody has it) goes
    through the flow, one by one."""

    kind = sla.KIND
    target_order = sla.TARGETS

    def load(self, object_ids: Sequence[int], clocks: Mapping[int, SlaClock]) -> dict[int, Subject]:
        tickets = Ticket.objects.select_related("customer", "team").in_bulk(list(object_ids))
        subjects: dict[int, Subject] = {}
        for pk, ticket in tickets.items():
            if pk in clocks:
                ticket.sla_clock = clocks[pk]  # the sweep's own copy, changed in memory
            subjects[pk] = Subject(
                object_id=pk,
                number=ticket.number,
                priority=ticket.priority,
                assignee_id=ticket.assignee_id,
                team_id=ticket.team_id,
                customer_id=ticket.customer_id,
                row=ticket,
            )
        return subjects

    def audit_fields(self, subject: Subject) -> Mapping[str, Any]:
        return {"ticket_id": subject.object_id}

    def supervisors(self, subjects: Sequence[Subject]) -> dict[int, list[int]]:
        """The team's supervisors, or every supervisor when the team names none."""
        by_team = supervisors_by_team(s.team_id for s in subjects)
        return {s.object_id: by_team[s.team_id] for s in subjects}

    def raise_priority(self, subject: Subject) -> str | None:
        raised = RAISED.get(Priority(subject.priority))
        return str(raised) if raised is not None else None

    def save(self, subjects: Sequence[Subject]) -> None:
        moved = [s for s in subjects if s.reassign_to is not None or s.assignee_id is None]
        if moved:
            task_ids = selectors.current_task_ids([s.object_id for s in moved])
            for subject in moved:
                _move_work(subject, task_ids.get(subject.object_id))
        stay = [s for s in subjects if s not in moved]
        if not stay:
            return
        now = timezone.now()
        tickets: list[Ticket] = []
        for subject in stay:
            ticket: Ticket = subject.row
            ticket.priority = subject.priority
            ticket.version += 1
            ticket.updated_at = now
            tickets.append(ticket)
        update_columns(tickets, ["priority", "version", "updated_at"])
        announce_many(
            [(ticket, subject.events) for ticket, subject in zip(tickets, stay, strict=True)]
        )


def _move_work(subject: Subject, task_id: int | None) -> None:
    """The ladder moved the ticket to another team (or nobody has it): the work task is
    offered again within the team, through viewflow's activation API."""
    ticket: Ticket = subject.row
    previous_assignee, previous_team = subject.previous_assignee_id, subject.previous_team_id
    ticket.priority = subject.priority
    fields = ["priority"]
    task = Task.objects.filter(pk=task_id).first() if task_id else None
    if subject.reassign_to is not None:
        ticket.team_id = subject.reassign_to
        ticket.assignee = None
        fields += ["team", "assignee"]
        if task is not None and task.status == STATUS.ASSIGNED:
            task.flow_task.activation_class(task).unassign()
            task.refresh_from_db()
    agent = choose_agent(ticket) if ticket.assignee_id is None else None
    if agent is not None:
        hand_over(ticket, agent, task=task, actor=None, also=fields)
        subject.events.append("assigned")
    else:
        save_changed(ticket, fields)
    publish_ticket_event(
        most_significant(subject.events),  # type: ignore[arg-type]
        ticket,
        task_id=task_id,
        previous_assignee_id=previous_assignee,
        previous_team_id=previous_team,
    )


def auto_close_ticket(*, ticket: Ticket) -> None:
    """Closes a ticket whose customer stayed silent or confirmed by silence (a flow step)."""
    before = ticket.status
    mark_closed(ticket)
    audit(
        ticket,
        None,
        EventVerb.CLOSED,
        before={"status": before},
        after={"status": "closed", "auto": True},
    )
    publish_ticket_event("closed", ticket)


def archive_ticket(*, ticket: Ticket) -> None:
    """The reopen window is over: the process ends and the ticket is final (a flow step)."""
    audit(ticket, None, EventVerb.ARCHIVED, after={"status": ticket.status})
