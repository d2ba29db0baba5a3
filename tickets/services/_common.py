"""Shared plumbing of ticket services: the flow lock, the current task, audit, versions."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit import services as audit_services
from audit.models import AuditEvent
from core.errors import Conflict, NotFound
from mail.attachments import store as store_attachment
from mail.inbound import IncomingAttachment
from notifications.services import notify_users
from org.assignment import note_assignment
from org.roles import Actor
from processes import runtime
from sla import clock as clocks
from surveys.services import invite_after_ticket_closed

from ..choices import EventVerb, TicketStatus
from ..models import Ticket, TicketCounter, TicketMessage


@dataclass
class LockedTicket:
    ticket: Ticket
    process_pk: int

    def current_task(self) -> Task | None:
        """The process's live wait: the human work task or a waiting/resolved/closed handle."""
        return runtime.current_task(self.process_pk)


@contextmanager
def locked_ticket(ticket_id: int) -> Iterator[LockedTicket]:
    """Holds the ticket's flow lock (one transaction) and yields the fresh ticket."""
    try:
        with runtime.locked_process("ticket", ticket_id) as process_pk:
            ticket = Ticket.objects.select_related("customer", "team", "category", "sla_clock").get(
                pk=ticket_id
            )
            yield LockedTicket(ticket, process_pk)
    except runtime.UnknownProcess as exc:
        raise NotFound(_("Ticket not found.")) from exc
    except FlowLockFailed as exc:
        raise Conflict(_("The ticket is being changed by someone else; retry.")) from exc


def audit(
    ticket: Ticket,
    actor: Actor,
    verb: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """The ticket's audit row (``audit``), with its customer for the 360 timeline."""
    return audit_services.record(
        kind="ticket",
        verb=verb,
        actor=actor,
        ticket=ticket,
        customer_id=ticket.customer_id,
        contact_id=ticket.contact_id,
        before=before,
        after=after,
    )


def save_changed(ticket: Ticket, fields: list[str]) -> None:
    """Saves the named fields and bumps the version that real-time clients order by."""
    ticket.version += 1
    ticket.save(update_fields=[*dict.fromkeys([*fields, "version", "updated_at"])])


def set_assignee(
    ticket: Ticket, user: Any, *, verb: str, actor: Actor, also: Sequence[str] = ()
) -> None:
    """Gives the ticket to ``user`` (a new ticket becomes open), noted for round-robin,
    audited; ``also``: fields the caller changed, saved with it."""
    before = ticket.assignee_id
    ticket.assignee = user
    fields = [*also, "assignee"]
    if ticket.status == TicketStatus.NEW:
        ticket.status = TicketStatus.OPEN
        fields.append("status")
    save_changed(ticket, fields)
    note_assignment(user.pk, timezone.now())
    audit(ticket, actor, verb, before={"assignee": before}, after={"assignee": user.pk})


def hand_over(
    ticket: Ticket,
    agent: Any,
    *,
    task: Task | None,
    actor: Actor,
    also: Sequence[str] = (),
) -> None:
    """Gives the ticket and its open work task (``task``, if any) to ``agent``: the task
    through viewflow's activation API, the ticket through ``set_assignee``; the agent is
    notified. ``also``: fields the caller changed, saved with it."""
    if task is not None:
        activation = task.flow_task.activation_class(task)
        if task.status == STATUS.NEW:
            activation.assign(agent)
        else:
            activation.reassign(agent)
    set_assignee(ticket, agent, verb=EventVerb.ASSIGNED, actor=actor, also=also)
    notify_users(
        recipient_ids=[agent.pk],
        kind="assigned",
        data={"number": ticket.number},
        subject_kind="ticket",
        object_id=ticket.pk,
    )


def restart_clock(ticket: Ticket, *, reopen: bool = False) -> list[str]:
    """Back to open: the clock runs again, the paused business time banked so every due
    moment moves by it; ``reopen`` opens the targets the ticket had met by resolving (the
    first response stays met once given). Returns the ticket's changed fields; the caller
    saves them with its own."""
    ticket.status = TicketStatus.OPEN
    clock = ticket.clock
    if clock is not None:
        if reopen:
            again = ["resolution"]
            if ticket.first_responded_at is None:
                again.append("first_response")
            clocks.reopen(clock, again)
        else:
            clocks.resume(clock)
    return ["status"]


def pause_clock(ticket: Ticket) -> None:
    """The clock stands still while the ticket waits on the customer."""
    if ticket.clock is not None:
        clocks.pause(ticket.clock)


def meet_targets(ticket: Ticket, targets: list[str], at: Any) -> None:
    """The ticket met ``targets`` at ``at`` (a late one counts as breached)."""
    if ticket.clock is not None:
        clocks.meet(ticket.clock, targets, at)


def stop_clock(ticket: Ticket) -> None:
    if ticket.clock is not None:
        clocks.stop(ticket.clock)


def mark_closed(ticket: Ticket) -> None:
    """Closed now; the SLA clock stops if it was still running; the customer is invited to
    a survey in the same transaction (surveys decide whether to ask, docs/surveys.md)."""
    now = timezone.now()
    ticket.status = TicketStatus.CLOSED
    ticket.closed_at = now
    stop_clock(ticket)
    save_changed(ticket, ["status", "closed_at"])
    invite_after_ticket_closed(ticket=ticket)


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def allocate_ticket_number() -> str:
    """Next ``T-YYYY-NNNNNN``, gap-tolerant (a rolled-back intake leaves its number unused).

    PostgreSQL: one statement, the year's sequence (``tickets 0008``), which no transaction
    holds, so concurrent intakes never queue on it. SQLite (the embedded mode, one writer at
    a time anyway): the year's ``TicketCounter`` row in its own short transaction."""
    year = timezone.now().year
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT kefu_next_ticket_number(%s)", [year])
            row = cursor.fetchone()
        assert row is not None
        return f"T-{year}-{row[0]:06d}"
    table = TicketCounter._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last = last + 1 WHERE year = %s RETURNING last",  # noqa: S608
            [year],
        )
        row = cursor.fetchone()
        if row is None:
            cursor.execute(
                f"INSERT INTO {table} (year, last) VALUES (%s, 1) "  # noqa: S608
                "ON CONFLICT (year) DO UPDATE SET last = {table}.last + 1 RETURNING last".replace(
                    "{table}", table
                ),
                [year],
            )
            row = cursor.fetchone()
    assert row is not None
    return f"T-{year}-{row[0]:06d}"


def add_customer_message(
    ticket: Ticket,
    *,
    contact_id: int | None,
    body: str,
    body_html: str,
    channel: str,
    email_message_id: str,
    attachments: Sequence[IncomingAttachment],
) -> TicketMessage:
    """Writes a customer's message and stores its files with it (the caller's transaction;
    a refused file raises ``InvalidInput`` and rolls the message back with it)."""
    message = TicketMessage.objects.create(
        ticket=ticket,
        contact_id=contact_id or ticket.contact_id,
        body=body,
        body_html=body_html,
        channel=channel,
        email_message_id=email_message_id[:255],
    )
    for attachment in attachments:
        store_attachment(
            subject_kind="ticket",
            object_id=ticket.pk,
            message_id=message.pk,
            name=attachment.name,
            content_type=attachment.content_type,
            data=attachment.data,
        )
    return message
