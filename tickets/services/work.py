"""What agents and supervisors do to a ticket; each action completes flow tasks
through viewflow's activation API under the ticket's flow lock."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from mail.inbound import IncomingAttachment
from notifications.services import notify_users
from org import roles
from org.models import Team
from org.roles import Actor, Person
from org.selectors import assignable_agents, person_name

from .. import emails, permissions
from ..choices import EventVerb, TicketStatus
from ..events import publish_ticket_event
from ..models import Ticket, TicketMessage
from ._common import (
    LockedTicket,
    add_customer_message,
    audit,
    hand_over,
    iso,
    locked_ticket,
    mark_closed,
    meet_targets,
    pause_clock,
    restart_clock,
    save_changed,
    set_assignee,
)


def _visible(locked: LockedTicket, actor: Actor) -> Ticket:
    if not permissions.can_see(actor, locked.ticket):
        raise NotFound(_("Ticket not found."))
    return locked.ticket


def _may_work(ticket: Ticket, actor: Actor) -> None:
    # An unassigned ticket of my team: acting on it takes it.
    if permissions.may_act_on(actor, ticket):
        return
    raise Forbidden(_("Only the assignee or a supervisor may do this."))


def _node_name(task: Task | None) -> str | None:
    return task.flow_task.name if task is not None else None


def _work_task(locked: LockedTicket) -> Task:
    task = locked.current_task()
    if _node_name(task) != "work":
        raise Conflict(
            _("The ticket is %(status)s; this action needs it open.")
            % {"status": locked.ticket.get_status_display()}
        )
    assert task is not None
    return task


def _take(locked: LockedTicket, task: Task, actor: Actor) -> Any:
    """The work task's activation, assigned to ``actor`` first if nobody has it."""
    activation = task.flow_task.activation_class(task)
    if task.status == STATUS.NEW:
        activation.assign(actor)
        set_assignee(locked.ticket, actor, verb=EventVerb.CLAIMED, actor=actor)
    return activation


def _complete(activation: Any) -> None:
    activation.start(None)
    activation.execute()


def _run_handle(task: Task) -> None:
    activation = task.flow_task.activation_class(task)
    activation.run(None)
    activation.execute()


def claim_ticket(*, ticket_id: int, actor: Actor) -> Ticket:
    """An agent takes an unassigned ticket of their team; exactly one concurrent claim wins."""
    with locked_ticket(ticket_id) as locked:
        ticket = _visible(locked, actor)
        if not roles.is_supervisor(actor) and ticket.team_id not in roles.team_ids_of(actor):
            raise Forbidden(_("Only members of the ticket's team may claim it."))
        task = _work_task(locked)
        activation = task.flow_task.activation_class(task)
        if not activation.assign.can_proceed():
            raise Conflict(_("The ticket is already assigned."))
        activation.assign(actor)
        set_assignee(ticket, actor, verb=EventVerb.CLAIMED, actor=actor)
        publish_ticket_event("assigned", ticket, task_id=task.pk)
        return ticket


def assign_ticket(*, ticket_id: int, actor: Actor, assignee_id: int) -> Ticket:
    """A supervisor gives the ticket to a member of its team."""
    with locked_ticket(ticket_id) as locked:
        ticket = _visible(locked, actor)
        if not roles.is_supervisor(actor):
            raise Forbidden(_("Only supervisors may assign tickets."))
        if ticket.status == TicketStatus.CLOSED:
            raise Conflict(_("A closed ticket cannot be assigned."))
        assignee = get_user_model().objects.filter(pk=assignee_id, is_active=True).first()
        if assignee is None:
            raise InvalidInput(_("Unknown assignee."), {"assignee": [_("No such active user.")]})
        if (
            ticket.team_id
            and not Team.members.through.objects.filter(
                team_id=ticket.team_id, user_id=assignee.pk
            ).exists()
        ):
            raise InvalidInput(
                _("The assignee is not a member of the ticket's team."),
                {"assignee": [_("Not a member of the ticket's team.")]},
            )
        if not assignable_agents().filter(pk=assignee.pk).exists():
            raise InvalidInput(
                _("The assignee does not take work: give them the agent role first."),
                {"assignee": [_("Not an agent.")]},
            )
        if ticket.assignee_id == assignee.pk:
            return ticket
        previous = ticket.assignee_id
        task = locked.current_task()
        work = task if _node_name(task) == "work" else None
        task_id = work.pk if work is not None else None
        hand_over(ticket, assignee, task=work, actor=actor)
        publish_ticket_event("assigned", ticket, task_id=task_id, previous_assignee_id=previous)
        return ticket


def reply_to_ticket(
    *, ticket_id: int, actor: Person, body: str, internal: bool, attachment_ids: Sequence[int] = ()
) -> TicketMessage:
    """A public reply (the first one meets the first-response target) or an internal note."""
    if not body.strip():
        raise InvalidInput(_("The reply is empty."), {"body": [_("This field may not be blank.")]})
    with locked_ticket(ticket_id) as locked:
        ticket = _visible(locked, actor)
        if ticket.status == TicketStatus.CLOSED:
            raise Conflict(_("A closed ticket takes no more messages; reopen it first."))
        message = TicketMessage.objects.create(
            ticket=ticket, author=actor, body=body, internal=internal
        )
        if not internal:  # carried by email (docs/email.md); its delivery state on message.outbox
            emails.reply(ticket, message, actor, attachment_ids=attachment_ids)
        fields: list[str] = []
        if not internal and ticket.first_responded_at is None:
            ticket.first_responded_at = message.created_at
            fields.append("first_responded_at")
            meet_targets(ticket, ["first_response"], message.created_at)
        save_changed(ticket, fields)
        audit(
            ticket,
            actor,
            EventVerb.NOTED if internal else EventVerb.REPLIED,
            after={"message": message.pk},
        )
        mentioned = _mentioned_staff(ticket, body, exclude=actor.pk)
        if mentioned:
            notify_users(
                recipient_ids=mentioned,
                kind="mentioned",
                data={"number": ticket.number, "by": person_name(actor)},
                subject_kind="ticket",
                object_id=ticket.pk,
            )
        publish_ticket_event("updated", ticket)
        return message


MENTION = re.compile(r"(?<![\w@.])@([\w.+-]{1,150})")


def _mentioned_staff(ticket: Ticket, body: str, *, exclude: int) -> list[int]:
    """Users named as ``@username`` in a message who may see the ticket (never the author)."""
    names = {m.rstrip(".") for m in MENTION.findall(body)}
    if not names:
        return []
    users = get_user_model().objects.filter(username__in=names, is_active=True).exclude(pk=exclude)
    return [u.pk for u in users if permissions.can_see(u, ticket)]


def put_on_hold(*, ticket_id: int, actor: Actor, reason: str = "") -> Ticket:
    """Waiting on the customer: the SLA clock stops until the ticket resumes."""
    with locked_ticket(ticket_id) as locked:
        ticket = _visible(locked, actor)
        _may_work(ticket, actor)
        task = _work_task(locked)
        activation = _take(locked, task, actor)
        ticket.status = TicketStatus.PENDING_CUSTOMER
        pause_clock(ticket)
        save_changed(ticket, ["status"])
        emails.on_hold(ticket)
        audit(
            ticket,
            actor,
            EventVerb.HELD,
            before={"status": TicketStatus.OPEN},
            after={"status": ticket.status, "reason": reason},
        )
        _complete(activation)
        publish_ticket_event("updated", ticket)
        return ticket


def resume_ticket(*, ticket_id: int, actor: Actor) -> Ticket:
    """Back to work: due times move by the business time the clock stood still."""
    with locked_ticket(ticket_id) as locked:
        ticket = _visible(locked, actor)
        _may_work(ticket, actor)
        return _resume(locked, actor)


def _resume(locked: LockedTicket, actor: Actor) -> Ticket:
    ticket = locked.ticket
    task = locked.current_task()
    if ticket.status != TicketStatus.PENDING_CUSTOMER or _node_name(task) != "waiting":
        raise Conflict(_("Only a ticket waiting on the customer can resume."))
    assert task is not None
    before = {"resolution_due": iso(ticket.resolution_due)}
    save_changed(ticket, restart_clock(ticket))
    audit(
        ticket,
        actor,
        EventVerb.RESUMED,
        before=before,
        after={"resolution_due": iso(ticket.resolution_due), "status": ticket.status},
    )
    _run_handle(task)
    publish_ticket_event("updated", ticket)
    return ticket


def record_customer_reply(
    *,
    ticket_id: int,
    body: str,
    channel: str = "api",
    body_html: str = "",
    email_message_id: str = "",
    attachments: Sequence[IncomingAttachment] = (),
    contact_id: int | None = None,
    automatic: bool = False,
) -> TicketMessage:
    """A message from the customer (an email, the request page, the API). It resumes a
    ticket that was waiting on them and reopens a resolved one, or a closed one within its
    reopen window (docs/email.md, "Threading"); a ticket past that window refuses it
    (``Conflict``: the caller opens a new ticket). Attachments are stored with the message.
    An ``automatic`` message (RFC 3834: a vacation responder's) is recorded and changes no
    state, so a storm of them cannot flip the ticket back and forth."""
    if not body.strip() and not attachments:
        raise InvalidInput(
            _("The message is empty."), {"body": [_("This field may not be blank.")]}
        )
    with locked_ticket(ticket_id) as locked:
        ticket = locked.ticket
        node = _node_name(locked.current_task())
        if ticket.status == TicketStatus.CLOSED and node != "closed":
            raise Conflict(_("The reopen window of this ticket is over; open a new ticket."))
        message = add_customer_message(
            ticket,
            contact_id=contact_id,
            body=body,
            body_html=body_html,
            channel=channel,
            email_message_id=email_message_id,
            attachments=attachments,
        )
        audit(
            ticket,
            None,
            EventVerb.CUSTOMER_REPLIED,
            after={"message": message.pk, "channel": channel, "automatic": automatic},
        )
        if automatic:
            save_changed(ticket, [])
            publish_ticket_event("updated", ticket)
        elif ticket.status == TicketStatus.PENDING_CUSTOMER:
            _resume(locked, None)
        elif node in ("resolved", "closed"):
            _reopen(locked, None, reason=_("The customer wrote again."))
        else:
            save_changed(ticket, [])
            publish_ticket_event("updated", ticket)
        return message


def urge_ticket(*, ticket_id: int, actor: Actor, note: str = "") -> Ticket:
    """Expedite (催办): the assignee (or the team's supervisors) are told to hurry."""
    with locked_ticket(ticket_id) as locked:
        ticket = _visible(locked, actor)
        if ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            raise Conflict(
                _("The ticket is %(status)s; it cannot be urged.")
                % {"status": ticket.get_status_display()}
            )
        ticket.urge_count += 1
        save_changed(ticket, ["urge_count"])
        audit(ticket, actor, EventVerb.URGED, after={"note": note, "count": ticket.urge_count})
        recipients = (
            [ticket.assignee_id]
            if ticket.assignee_id
            else list(ticket.team.supervisors.values_list("id", flat=True))
            if ticket.team
            else []
        )
        notify_users(
            recipient_ids=recipients,
            kind="urged",
            data={"number": ticket.number, "note": note},
            subject_kind="ticket",
            object_id=ticket.pk,
        )
        publish_ticket_event("updated", ticket)
        return ticket


def resolve_ticket(*, ticket_id: int, actor: Actor, resolution: str) -> Ticket:
    """Resolved: the clock stops; the customer may reopen until it auto-closes."""
    if not resolution.strip():
        raise InvalidInput(
            _("A resolution is required."), {"resolution": [_("This field may not be blank.")]}
        )
    with locked_ticket(ticket_id) as locked:
        ticket = _visible(locked, actor)
        _may_work(ticket, actor)
        task = _work_task(locked)
        activation = _take(locked, task, actor)
        now = timezone.now()
        ticket.status = TicketStatus.RESOLVED
        ticket.resolution = resolution
        ticket.resolved_at = now
        meet_targets(ticket, ["first_response", "resolution"], now)
        pause_clock(ticket)
        save_changed(ticket, ["status", "resolution", "resolved_at"])
        emails.resolved(ticket)
        audit(
            ticket,
            actor,
            EventVerb.RESOLVED,
            before={"status": TicketStatus.OPEN},
            after={"status": ticket.status, "resolution": resolution},
        )
        _complete(activation)
        publish_ticket_event("updated", ticket)
        return ticket


def close_ticket(*, ticket_id: int, actor: Actor) -> Ticket:
    """Closed from any live state; the process waits out the reopen window."""
    with locked_ticket(ticket_id) as locked:
        ticket = _visible(locked, actor)
        _may_work(ticket, actor)
        task = locked.current_task()
        node = _node_name(task)
        if ticket.status == TicketStatus.CLOSED or node not in ("work", "waiting", "resolved"):
            raise Conflict(
                _("The ticket is %(status)s; it cannot be closed.")
                % {"status": ticket.get_status_display()}
            )
        assert task is not None
        before = ticket.status
        mark_closed(ticket)
        emails.closed(ticket)  # an auto-close sends none (tickets/emails.py)
        audit(
            ticket, actor, EventVerb.CLOSED, before={"status": before}, after={"status": "closed"}
        )
        if node == "work":
            _complete(_take(locked, task, actor))
        else:
            _run_handle(task)
        publish_ticket_event("closed", ticket)
        return ticket


def reopen_ticket(*, ticket_id: int, actor: Actor, reason: str = "") -> Ticket:
    """Back to work from resolved or closed; the resolution clock runs on from where it stopped."""
    with locked_ticket(ticket_id) as locked:
        ticket = _visible(locked, actor)
        task = locked.current_task()
        node = _node_name(task)
        if node not in ("resolved", "closed"):
            if ticket.status == TicketStatus.CLOSED:
                raise Conflict(_("The reopen window of this ticket is over; open a new ticket."))
            raise Conflict(
                _("The ticket is %(status)s; it cannot be reopened.")
                % {"status": ticket.get_status_display()}
            )
        return _reopen(locked, actor, reason=reason)


def _reopen(locked: LockedTicket, actor: Actor, *, reason: str) -> Ticket:
    ticket = locked.ticket
    task = locked.current_task()
    assert task is not None
    before = ticket.status
    ticket.resolved_at = None
    ticket.closed_at = None
    save_changed(ticket, ["resolved_at", "closed_at", *restart_clock(ticket, reopen=True)])
    emails.reopened(ticket, actor)
    audit(
        ticket,
        actor,
        EventVerb.REOPENED,
        before={"status": before},
        after={"status": ticket.status, "reason": reason},
    )
    _run_handle(task)
    publish_ticket_event("updated", ticket)
    return ticket
