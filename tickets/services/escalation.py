"""What the process does on its own: SLA warnings, breaches, escalation levels, auto-close."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from notifications.services import notify_users
from org.models import Team
from org.roles import ROLE_SUPERVISOR

from .. import sla
from ..choices import EscalationAction, EventVerb, Priority
from ..events import publish_ticket_event
from ..models import Ticket
from ._common import audit, mark_closed, save_changed
from .intake import auto_assign_ticket

RAISED = {Priority.P4: Priority.P3, Priority.P3: Priority.P2, Priority.P2: Priority.P1}


def _supervisor_ids(ticket: Ticket) -> list[int]:
    """The team's supervisors, or every supervisor when the team names none."""
    if ticket.team_id:
        ids = list(ticket.team.supervisors.values_list("id", flat=True)) if ticket.team else []
        if ids:
            return ids
    return list(
        get_user_model()
        .objects.filter(groups__name=ROLE_SUPERVISOR, is_active=True)
        .values_list("id", flat=True)
    )


def _assignee_or_supervisors(ticket: Ticket) -> list[int]:
    return [ticket.assignee_id] if ticket.assignee_id else _supervisor_ids(ticket)


def run_sla_checkpoint(*, ticket: Ticket) -> None:
    """Handles every SLA checkpoint that is due (a flow step after the checkpoint timer)."""
    now = timezone.now()
    due = sla.due_checkpoints(ticket, now)
    if due:
        _handle_checkpoints(ticket, due)
    if ticket.assignee_id is None:
        # nobody had it, or a reassign level moved it to another team: offer it again
        auto_assign_ticket(ticket=ticket)


def _handle_checkpoints(ticket: Ticket, due: list[sla.Checkpoint]) -> None:
    fields: set[str] = set()
    done = list(ticket.sla_done)
    announcements: list[str] = []
    previous_assignee, previous_team = ticket.assignee_id, ticket.team_id
    for checkpoint in due:
        done.append(checkpoint.key)
        info = {"target": checkpoint.target, "due": checkpoint.at.isoformat()}
        if checkpoint.kind == "warning":
            audit(ticket, None, EventVerb.SLA_WARNING, after=info)
            notify_users(
                recipient_ids=_assignee_or_supervisors(ticket),
                kind="sla_warning",
                data={"number": ticket.number, **info},
                subject_kind="ticket",
                object_id=ticket.pk,
            )
            announcements.append("sla_warning")
        elif checkpoint.kind == "breach":
            flag = f"{checkpoint.target}_breached"
            setattr(ticket, flag, True)
            fields.add(flag)
            audit(ticket, None, EventVerb.SLA_BREACHED, after=info)
            notify_users(
                recipient_ids=[*_assignee_or_supervisors(ticket), *_supervisor_ids(ticket)],
                kind="sla_breached",
                data={"number": ticket.number, **info},
                subject_kind="ticket",
                object_id=ticket.pk,
            )
            announcements.append("sla_breached")
        else:
            assert checkpoint.level is not None
            level = ticket.sla_terms["escalation"][checkpoint.level]
            fields |= _escalate(ticket, checkpoint.level, level, info)
            announcements.append("escalated")
    ticket.sla_done = done
    fields.add("sla_done")
    save_changed(ticket, sorted(fields))
    for event in dict.fromkeys(announcements):
        publish_ticket_event(
            event,  # type: ignore[arg-type]
            ticket,
            previous_assignee_id=previous_assignee,
            previous_team_id=previous_team,
        )


def _escalate(ticket: Ticket, index: int, level: dict[str, Any], info: dict[str, Any]) -> set[str]:
    action = level.get("action")
    number = index + 1
    before: dict[str, Any] = {"escalation_level": ticket.escalation_level}
    fields = {"escalation_level"}
    ticket.escalation_level = max(ticket.escalation_level, number)
    recipients: list[int] = []
    if action == EscalationAction.WARN:
        recipients = _assignee_or_supervisors(ticket)
    elif action == EscalationAction.NOTIFY_SUPERVISOR:
        recipients = _supervisor_ids(ticket)
    elif action == EscalationAction.RAISE_PRIORITY:
        before["priority"] = ticket.priority
        ticket.priority = RAISED.get(Priority(ticket.priority), ticket.priority)
        fields.add("priority")
        recipients = _assignee_or_supervisors(ticket)
    elif action == EscalationAction.REASSIGN:
        team_id = level.get("team")
        team = Team.objects.filter(pk=int(team_id)).first() if team_id else None
        if team is not None:
            before.update(team=ticket.team_id, assignee=ticket.assignee_id)
            ticket.team = team
            ticket.assignee = None
            fields |= {"team", "assignee"}
            recipients = list(team.supervisors.values_list("id", flat=True))
    audit(
        ticket,
        None,
        EventVerb.ESCALATED,
        before=before,
        after={
            **info,
            "level": number,
            "action": action,
            "priority": ticket.priority,
            "team": ticket.team_id,
            "assignee": ticket.assignee_id,
        },
    )
    notify_users(
        recipient_ids=recipients,
        kind="escalated",
        data={"number": ticket.number, "level": number, "action": action},
        subject_kind="ticket",
        object_id=ticket.pk,
    )
    return fields


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
