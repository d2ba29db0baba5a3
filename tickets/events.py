"""Builds the real-time payloads of ticket changes and hands them to the one funnel."""

from __future__ import annotations

from typing import cast

from django.utils import timezone

from notifications.realtime import (
    SUPERVISORS_GROUP,
    agent_group,
    send_event_on_commit,
    team_group,
)
from notifications.schema import EventName, QueueEvent, QueueRow

from . import selectors
from .models import Ticket
from .selectors import QUEUE_FIELDS


def queue_row(ticket: Ticket, task_id: int | None) -> QueueRow:
    """The queue row of ``ticket`` with its times as ISO 8601 text, fit for the channel layer."""
    tier = ticket.customer.tier if ticket.customer_id and ticket.customer else None
    values = {field: getattr(ticket, field) for field in QUEUE_FIELDS}
    row = selectors.queue_row(values, task_id=task_id, customer_tier=tier)
    row["due"] = ticket.sla_due.isoformat() if ticket.sla_due else None
    row["created"] = ticket.created_at.isoformat()
    return cast(QueueRow, row)


def publish_ticket_event(
    event: EventName,
    ticket: Ticket,
    *,
    task_id: int | None = None,
    previous_assignee_id: int | None = None,
    previous_team_id: int | None = None,
) -> QueueEvent:
    """Sends ``event`` after commit to everyone whose screen shows this ticket."""
    payload: QueueEvent = {
        "type": "queue.event",
        "event": event,
        "object": queue_row(ticket, task_id),
        "version": ticket.version,
        "at": timezone.now().isoformat(),
    }
    groups = {SUPERVISORS_GROUP}
    for user_id in (ticket.assignee_id, previous_assignee_id):
        if user_id:
            groups.add(agent_group(user_id))
    for team_id in (ticket.team_id, previous_team_id):
        if team_id:
            groups.add(team_group(team_id))
    send_event_on_commit(groups, payload)
    return payload
