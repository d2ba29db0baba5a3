"""A ticket's place in the work queue and its real-time event, through the platform's one
funnel (``processes.queue.publish_work_item``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from notifications.schema import EventName, QueueEvent
from processes.queue import (
    keep_work_item,
    most_significant,
    publish_work_item,
    publish_work_items,
    send_work_item_event,
)

from . import selectors
from .choices import QUEUE_STATUSES
from .models import Ticket

# The ticket whose process is starting in this context (``opening``), if any.
_opening: ContextVar[int | None] = ContextVar("kefu_ticket_opening", default=None)


@contextmanager
def opening(ticket: Ticket) -> Iterator[None]:
    """While intake starts the ticket's process: the events of its flow steps (``assigned``)
    are sent as ever, but its work item is written once, by intake's ``created`` publish
    that follows in the same transaction. No human task exists yet at those steps, so their
    rows carried no task and were overwritten before commit: two statements saved each."""
    token = _opening.set(ticket.pk)
    try:
        yield
    finally:
        _opening.reset(token)


def work_row(ticket: Ticket, task_id: int | None) -> dict[str, Any]:
    """The queue row of ``ticket`` (API.md), times as datetimes."""
    tier = ticket.customer.tier if ticket.customer_id and ticket.customer else None
    return selectors.queue_row(selectors.queue_values(ticket), task_id=task_id, customer_tier=tier)


def _current(ticket: Ticket, task_id: int | None) -> tuple[dict[str, Any], bool]:
    """The ticket's queue row (its open human task looked up unless given) and whether it
    waits on a person, i.e. belongs in the queue."""
    waiting = ticket.status in QUEUE_STATUSES
    if task_id is None and waiting:
        task_id = selectors.current_task_ids([ticket.pk]).get(ticket.pk)
    return work_row(ticket, task_id), waiting


def publish_ticket_event(
    event: EventName,
    ticket: Ticket,
    *,
    task_id: int | None = None,
    previous_assignee_id: int | None = None,
    previous_team_id: int | None = None,
) -> QueueEvent:
    """Keeps the ticket's work item and sends ``event`` after commit to everyone whose
    screen shows this ticket. Without ``task_id`` the ticket's open human task is looked up."""
    if ticket.pk is not None and _opening.get() == ticket.pk:
        return send_work_item_event(
            event,
            work_row(ticket, task_id),
            previous_assignee_id=previous_assignee_id,
            previous_team_id=previous_team_id,
        )
    row, waiting = _current(ticket, task_id)
    return publish_work_item(
        event,
        row,
        waiting=waiting,
        previous_assignee_id=previous_assignee_id,
        previous_team_id=previous_team_id,
    )


def refresh_work_item(ticket: Ticket) -> None:
    """Rewrites the ticket's work item from the ticket as it stands, without an event."""
    row, waiting = _current(ticket, None)
    keep_work_item(row, waiting=waiting)


def announce_many(changes: Sequence[tuple[Ticket, Sequence[str]]]) -> None:
    """``publish_ticket_event`` for many tickets at once (the SLA ladder's sweep): their
    open tasks in one query, their work items in one statement, one event per ticket (the
    most significant of its ``events``; its row carries every change)."""
    if not changes:
        return
    task_ids = selectors.current_task_ids([ticket.pk for ticket, _events in changes])
    batch = []
    for ticket, events in changes:
        row = work_row(ticket, task_ids.get(ticket.pk))
        event = most_significant(events)
        batch.append((event, row, ticket.status in QUEUE_STATUSES))
    publish_work_items(batch)  # type: ignore[arg-type]
