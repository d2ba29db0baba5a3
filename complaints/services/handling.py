"""What handlers, approvers, supervisors and the customer do to a complaint; each action
completes or runs flow tasks through viewflow's activation API under the complaint's flow
lock, in one transaction (docs/complaints.md)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, Forbidden, Gone, InvalidInput, NotFound
from notifications.services import notify_users
from org import roles
from org.assignment import choose_agent, note_assignment
from org.roles import Actor
from processes.models import WorkItem
from sla import clock as clocks
from sla.calendars import add_business_seconds, business_seconds_between
from surveys.services import SurveySubject, invite_after_close

from .. import emails, selectors
from ..choices import (
    AUTHORITY_ORDER,
    AuthorityLevel,
    CompensationKind,
    ComplaintStatus,
    ComplaintVerb,
    ContactChannel,
    CustomerResponse,
    NoteKind,
    Outcome,
    ProposalStatus,
    raised,
)
from ..models import (
    AuthorityLimit,
    Complaint,
    ComplaintNote,
    ComplaintPolicy,
    Extension,
    Proposal,
    RootCause,
)
from ._common import (
    KIND,
    LockedComplaint,
    audit,
    complete,
    iso,
    locked_complaint,
    not_about,
    publish,
    require_node,
    run_handle,
    save_changed,
    take,
)
from .approval import start_approval_clock, stop_approval_clock

FINAL = "final_answer"


# --- who may do what ---------------------------------------------------------------------
def authority_of(actor: Actor) -> str:
    """The highest limit of authority ``actor`` holds."""
    if roles.is_manager(actor):
        return AuthorityLevel.MANAGER
    if roles.is_supervisor(actor):
        return AuthorityLevel.SUPERVISOR
    return AuthorityLevel.HANDLER


def _person(actor: Actor) -> Any:
    """The signed-in person behind ``actor`` (None for Kefu itself or an anonymous caller)."""
    return actor if actor is not None and actor.is_authenticated else None


def _rank(level: str) -> int:
    return AUTHORITY_ORDER.index(level)


def _may_handle(complaint: Complaint, actor: Actor) -> None:
    """The handler, a member of the complaint's team when nobody has it, or a supervisor."""
    not_about(complaint, actor)
    if actor is None or roles.is_supervisor(actor) or roles.is_manager(actor):
        return
    if complaint.assignee_id == actor.pk:
        return
    if complaint.assignee_id is None and complaint.team_id in roles.team_ids_of(actor):
        return
    raise Forbidden(_("Only the complaint's handler or a supervisor may do this."))


def _supervise(actor: Actor) -> None:
    if not (roles.is_supervisor(actor) or roles.is_manager(actor)):
        raise Forbidden(_("Only supervisors and managers may do this."))


def _handler_took(complaint: Complaint, actor: Actor) -> list[str]:
    """Acting on an unassigned complaint takes it; returns the changed fields."""
    person = _person(actor)
    if complaint.assignee_id is None and person is not None and roles.roles_of(person):
        complaint.assignee = person
        note_assignment(person.pk, timezone.now())
        audit(complaint, actor, ComplaintVerb.CLAIMED, after={"assignee": person.pk})
        return ["assignee"]
    return []


# --- the flow's callbacks ----------------------------------------------------------------
def auto_assign_complaint(*, complaint: Complaint) -> None:
    """Back to handling (a rejection, a dispute, a reopen): the handler keeps it while they
    are active; otherwise the team's next agent who is not the person complained about."""
    handler = complaint.assignee
    if handler is not None and handler.is_active:
        return
    exclude = {complaint.about_user_id} if complaint.about_user_id else set()
    agent = choose_agent(complaint.team, exclude=exclude)
    if agent is not None:
        complaint.assignee = agent
        save_changed(complaint, ["assignee"])
        note_assignment(agent.pk, timezone.now())
        audit(complaint, None, ComplaintVerb.ASSIGNED, after={"assignee": agent.pk})


def pending_approver(complaint: Complaint) -> Any:
    proposal = selectors.pending_proposal(complaint)
    return proposal.approver if proposal is not None else None


def choose_reviewer(complaint: Complaint) -> Any:
    """A supervisor of the team (least open work first) who neither handled the complaint
    nor is its subject; None offers the review to every supervisor."""
    exclude = [pk for pk in (complaint.assignee_id, complaint.about_user_id) if pk is not None]
    people = get_user_model().objects.filter(is_active=True).exclude(pk__in=exclude)
    if complaint.team_id is not None:
        people = people.filter(supervised_teams=complaint.team_id)
    else:
        people = people.filter(groups__name=roles.ROLE_SUPERVISOR)
    return _least_loaded(people)


def _least_loaded(people: Any) -> Any:
    return (
        people.annotate(
            load=Count(
                "id",
                filter=Q(id__in=WorkItem.objects.values("assignee_id")),
            )
        )
        .order_by("load", "id")
        .first()
    )


def response_window_end(complaint: Complaint) -> datetime:
    return complaint.response_due_at or timezone.now()


def reopen_window_end(complaint: Complaint) -> datetime:
    since = complaint.closed_at or timezone.now()
    return since + timedelta(days=complaint.profile.reopen_window_days)


def record_silence(*, complaint: Complaint) -> None:
    """The customer said nothing within the window: accepted by silence."""
    complaint.customer_response = CustomerResponse.SILENT
    complaint.responded_at = timezone.now()
    fields = ["customer_response", "responded_at"]
    if complaint.needs_review:
        complaint.status = ComplaintStatus.QUALITY_REVIEW
        fields.append("status")
    save_changed(complaint, fields)
    audit(complaint, None, ComplaintVerb.SILENT)
    # the queue hears of it from what follows: the review task (``review_ready``) or the
    # close (``finish_close``)


def review_ready(*, complaint: Complaint) -> None:
    """The quality review's task exists (whoever made it: a person's answer or the
    dispatcher's timer): the work item names it and its reviewer."""
    publish("updated", complaint)


def finish_close(*, complaint: Complaint) -> None:
    """Closed: the clock stops, the work leaves the queue, one satisfaction survey."""
    complaint.status = ComplaintStatus.CLOSED
    complaint.closed_at = timezone.now()
    if complaint.sla_clock is not None:
        clocks.stop(complaint.sla_clock)
    save_changed(complaint, ["status", "closed_at"])
    audit(complaint, None, ComplaintVerb.CLOSED)
    publish("updated", complaint)
    if complaint.contact_id is not None:
        invite_after_close(
            subject=SurveySubject(
                kind=KIND,
                object_id=complaint.pk,
                number=complaint.number,
                title=complaint.title,
                contact_id=complaint.contact_id,
                team_id=complaint.team_id,
                agent_id=complaint.assignee_id,
            )
        )


def archive_complaint(*, complaint: Complaint) -> None:
    audit(complaint, None, ComplaintVerb.ARCHIVED)


# --- handling ----------------------------------------------------------------------------
def claim_complaint(*, complaint_id: int, actor: Actor) -> Complaint:
    """A member of the complaint's team takes it when nobody has it."""
    with locked_complaint(complaint_id, actor) as locked:
        complaint = locked.complaint
        not_about(complaint, actor)
        if complaint.assignee_id is not None:
            raise Conflict(_("The complaint already has a handler."))
        if not roles.is_supervisor(actor) and complaint.team_id not in roles.team_ids_of(actor):
            raise Forbidden(_("Only members of the complaint's team may take it."))
        task = require_node(locked, "handle")
        take(task, actor)
        fields = _handler_took(complaint, actor)
        save_changed(complaint, fields)
        publish("assigned", complaint)
        return complaint


def assign_complaint(*, complaint_id: int, actor: Actor, assignee_id: int) -> Complaint:
    """A supervisor gives the complaint to a handler (never the person it is about)."""
    with locked_complaint(complaint_id, actor) as locked:
        complaint = locked.complaint
        _supervise(actor)
        user = get_user_model().objects.filter(pk=assignee_id, is_active=True).first()
        if user is None:
            raise InvalidInput(_("Unknown assignee."), {"assignee": [_("No such active user.")]})
        if user.pk == complaint.about_user_id:
            raise Forbidden(_("The complaint is about this person; choose someone else."))
        task = require_node(locked, "handle")
        previous = complaint.assignee_id
        take(task, user)
        complaint.assignee = user
        save_changed(complaint, ["assignee"])
        note_assignment(user.pk, timezone.now())
        audit(
            complaint,
            actor,
            ComplaintVerb.ASSIGNED,
            before={"assignee": previous},
            after={"assignee": user.pk},
        )
        notify_users(
            recipient_ids=[user.pk],
            kind="assigned",
            data={"number": complaint.number, "subject": KIND},
            subject_kind=KIND,
            object_id=complaint.pk,
        )
        publish("assigned", complaint, previous_assignee_id=previous)
        return complaint


def acknowledge_complaint(*, complaint_id: int, actor: Actor) -> Complaint:
    """The handler acknowledges: the customer is told by email, the clock's first target
    is met."""
    with locked_complaint(complaint_id, actor) as locked:
        complaint = locked.complaint
        _may_handle(complaint, actor)
        require_node(locked, "handle")
        if complaint.acknowledged_at is not None:
            raise Conflict(_("The complaint is already acknowledged."))
        fields = _handler_took(complaint, actor)
        now = timezone.now()
        complaint.acknowledged_at = now
        complaint.status = ComplaintStatus.INVESTIGATING
        if complaint.sla_clock is not None:
            clocks.meet(complaint.sla_clock, ["acknowledge"], now)
        save_changed(complaint, [*fields, "acknowledged_at", "status"])
        audit(complaint, actor, ComplaintVerb.ACKNOWLEDGED, after={"at": iso(now)})
        emails.acknowledged(complaint)
        publish("updated", complaint)
        return complaint


def log_contact(*, complaint_id: int, actor: Actor, channel: str, summary: str) -> ComplaintNote:
    """A contact with the customer, logged; the first one meets the first-contact target."""
    if channel not in ContactChannel.values:
        raise InvalidInput(
            _("The contact is not valid."),
            {
                "channel": [
                    _("Choose one of: %(values)s.") % {"values": ", ".join(ContactChannel.values)}
                ]
            },
        )
    if not summary.strip():
        raise InvalidInput(
            _("The contact is not valid."), {"summary": [_("This field may not be blank.")]}
        )
    with locked_complaint(complaint_id, actor) as locked:
        complaint = locked.complaint
        _may_handle(complaint, actor)
        require_node(locked, "handle")
        fields = _handler_took(complaint, actor)
        now = timezone.now()
        note = ComplaintNote.objects.create(
            complaint=complaint,
            kind=NoteKind.CONTACT,
            channel=channel,
            body=summary.strip(),
            author=_person(actor),
        )
        if complaint.first_contact_at is None:
            complaint.first_contact_at = now
            fields.append("first_contact_at")
            if complaint.sla_clock is not None:
                clocks.meet(complaint.sla_clock, ["first_contact"], now)
        save_changed(complaint, fields)
        audit(
            complaint, actor, ComplaintVerb.CONTACTED, after={"channel": channel, "note": note.pk}
        )
        publish("updated", complaint)
        return note


def add_note(*, complaint_id: int, actor: Actor, body: str) -> ComplaintNote:
    """An internal note; anyone who sees the complaint may write one."""
    if not body.strip():
        raise InvalidInput(_("The note is empty."), {"body": [_("This field may not be blank.")]})
    with locked_complaint(complaint_id, actor) as locked:
        complaint = locked.complaint
        note = ComplaintNote.objects.create(
            complaint=complaint, kind=NoteKind.NOTE, body=body.strip(), author=_person(actor)
        )
        save_changed(complaint, [])
        audit(complaint, actor, ComplaintVerb.NOTED, after={"note": note.pk})
        publish("updated", complaint)
        return note


def required_level(amount: Decimal | None) -> tuple[str, dict[str, Any]]:
    """The lowest level whose limit covers ``amount``, and that limit as it is now."""
    limits = {row.level: row for row in AuthorityLimit.objects.all()}
    for level in AUTHORITY_ORDER:
        row = limits.get(level)
        if row is None:
            continue
        if row.max_amount is None or (amount or Decimal(0)) <= row.max_amount:
            return level, {
                "level": level,
                "max_amount": str(row.max_amount) if row.max_amount is not None else None,
                "approval_hours": row.approval_hours,
            }
    return AuthorityLevel.MANAGER, {"level": AuthorityLevel.MANAGER, "max_amount": None}


def _parse_amount(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidInput(
            _("The proposal is not valid."), {"compensation_amount": [_("Not an amount.")]}
        ) from exc
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e10"):
        raise InvalidInput(
            _("The proposal is not valid."),
            {"compensation_amount": [_("An amount from 0 to 9,999,999,999.99.")]},
        )
    return amount.quantize(Decimal("0.01"))


def _choose_approver(complaint: Complaint, level: str, proposer: Actor) -> Any:
    exclude = [
        pk for pk in (complaint.about_user_id, getattr(proposer, "pk", None)) if pk is not None
    ]
    people = get_user_model().objects.filter(is_active=True).exclude(pk__in=exclude)
    if level == AuthorityLevel.MANAGER:
        people = people.filter(groups__name=roles.ROLE_MANAGER)
    else:
        scoped = people.filter(supervised_teams=complaint.team_id) if complaint.team_id else None
        if scoped is not None and scoped.exists():
            people = scoped
        else:
            people = people.filter(groups__name=roles.ROLE_SUPERVISOR)
    return _least_loaded(people.distinct())


def propose_resolution(
    *,
    complaint_id: int,
    actor: Actor,
    outcome: str,
    resolution: str,
    root_cause: str,
    corrective_action: str = "",
    compensation_amount: Any = None,
    compensation_kind: str = "",
) -> Proposal:
    """The handler proposes the resolution. Within their limit of authority it is decided
    and the customer gets the final answer at once; above it, it waits for a supervisor's
    or a manager's approval (a human task in their queue with its own due time)."""
    errors: dict[str, list[str]] = {}
    if outcome not in Outcome.values:
        errors["outcome"] = [
            _("Choose one of: %(values)s.") % {"values": ", ".join(Outcome.values)}
        ]
    if not resolution.strip():
        errors["resolution"] = [_("Say what you tell the customer.")]
    cause = RootCause.objects.filter(code=root_cause, is_active=True).first()
    if cause is None:
        errors["root_cause"] = [_("Unknown root cause.")]
    amount = _parse_amount(compensation_amount)
    if amount and compensation_kind not in CompensationKind.values:
        errors["compensation_kind"] = [
            _("Choose one of: %(values)s.") % {"values": ", ".join(CompensationKind.values)}
        ]
    if compensation_kind and compensation_kind not in CompensationKind.values:
        errors["compensation_kind"] = [
            _("Choose one of: %(values)s.") % {"values": ", ".join(CompensationKind.values)}
        ]
    if errors:
        raise InvalidInput(_("The proposal is not valid."), errors)
    with locked_complaint(complaint_id, actor) as locked:
        complaint = locked.complaint
        _may_handle(complaint, actor)
        task = require_node(locked, "handle")
        if complaint.acknowledged_at is None:
            raise Conflict(_("Acknowledge the complaint before proposing a resolution."))
        fields = _handler_took(complaint, actor)
        level, rule = required_level(amount if amount else None)
        mine = authority_of(actor)
        now = timezone.now()
        proposal = Proposal(
            complaint=complaint,
            outcome=outcome,
            resolution=resolution.strip(),
            root_cause=cause,
            corrective_action=corrective_action.strip(),
            compensation_amount=amount if amount else None,
            compensation_kind=compensation_kind if amount else "",
            required_level=level,
            rule=rule,
            proposed_by=_person(actor),
        )
        audit(
            complaint,
            actor,
            ComplaintVerb.PROPOSED,
            after={
                "outcome": outcome,
                "root_cause": root_cause,
                "amount": str(amount) if amount else None,
                "kind": proposal.compensation_kind,
                "required_level": level,
                "rule": rule,
            },
        )
        if _rank(level) <= _rank(mine):
            proposal.status = ProposalStatus.DECIDED
            proposal.decided_by = _person(actor)
            proposal.decided_at = now
            proposal.save()
            audit(
                complaint,
                actor,
                ComplaintVerb.DECIDED,
                after={"amount": str(amount) if amount else None, "level": mine, "rule": rule},
            )
            _answer(complaint, proposal, actor, fields)
            complete(task, actor)
        else:
            approver = _choose_approver(complaint, level, actor)
            proposal.status = ProposalStatus.PENDING
            proposal.approver = approver
            proposal.due_at = now + timedelta(hours=int(rule.get("approval_hours") or 24))
            proposal.save()
            start_approval_clock(complaint, proposal, now)
            complaint.status = ComplaintStatus.AWAITING_APPROVAL
            save_changed(complaint, [*fields, "status"])
            audit(
                complaint,
                actor,
                ComplaintVerb.APPROVAL_REQUESTED,
                after={
                    "level": level,
                    "approver": approver.pk if approver else None,
                    "due": iso(proposal.due_at),
                    "amount": str(amount) if amount else None,
                },
            )
            complete(task, actor)
            if approver is not None:
                notify_users(
                    recipient_ids=[approver.pk],
                    kind="approval_requested",
                    data={"number": complaint.number, "subject": KIND, "level": level},
                    subject_kind=KIND,
                    object_id=complaint.pk,
                )
        publish("updated", complaint, previous_assignee_id=complaint.assignee_id)
        return proposal


def _answer(complaint: Complaint, proposal: Proposal, actor: Actor, fields: list[str]) -> None:
    """The decided resolution becomes the final answer: the customer is told by email with
    the link to accept or dispute; the clock's targets are met."""
    now = timezone.now()
    complaint.outcome = proposal.outcome
    complaint.resolution = proposal.resolution
    complaint.root_cause = proposal.root_cause
    complaint.corrective_action = proposal.corrective_action
    complaint.compensation_amount = proposal.compensation_amount
    complaint.compensation_kind = proposal.compensation_kind
    complaint.approved_level = proposal.required_level if proposal.compensation_amount else ""
    complaint.answered_at = now
    complaint.response_due_at = now + timedelta(days=complaint.profile.response_window_days)
    complaint.customer_response = ""
    complaint.status = ComplaintStatus.AWAITING_CUSTOMER
    if complaint.first_contact_at is None:
        complaint.first_contact_at = now
        fields.append("first_contact_at")
    if complaint.sla_clock is not None:
        clocks.meet(complaint.sla_clock, ["acknowledge", "first_contact", FINAL], now)
    save_changed(
        complaint,
        [
            *fields,
            "outcome",
            "resolution",
            "root_cause",
            "corrective_action",
            "compensation_amount",
            "compensation_kind",
            "approved_level",
            "answered_at",
            "response_due_at",
            "customer_response",
            "status",
        ],
    )
    audit(
        complaint,
        actor,
        ComplaintVerb.ANSWERED,
        after={
            "outcome": complaint.outcome,
            "amount": str(complaint.compensation_amount) if complaint.compensation_amount else None,
            "respond_until": iso(complaint.response_due_at),
        },
    )
    emails.outcome(complaint)


def _decide(locked: LockedComplaint, actor: Actor) -> tuple[Complaint, Proposal, Any]:
    complaint = locked.complaint
    task = require_node(locked, "approval")
    proposal = selectors.pending_proposal(complaint)
    if proposal is None:
        raise Conflict(_("No proposal awaits approval."))
    not_about(complaint, actor)
    if actor is not None and proposal.proposed_by_id == actor.pk:
        raise Forbidden(_("Someone other than the proposer must approve."))
    if _rank(authority_of(actor)) < _rank(proposal.required_level):
        raise Forbidden(
            _("This compensation needs the approval of a %(level)s; it is above your limit.")
            % {"level": AuthorityLevel(proposal.required_level).label}
        )
    return complaint, proposal, task


def approve_proposal(*, complaint_id: int, actor: Actor, reason: str = "") -> Complaint:
    """An approver within whose limit the compensation falls approves: the final answer
    goes to the customer."""
    with locked_complaint(complaint_id, actor) as locked:
        complaint, proposal, task = _decide(locked, actor)
        previous = proposal.approver_id
        proposal.status = ProposalStatus.APPROVED
        proposal.decided_by = _person(actor)
        proposal.decided_at = timezone.now()
        proposal.decision_reason = reason.strip()
        proposal.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        stop_approval_clock(complaint, proposal.decided_at)
        audit(
            complaint,
            actor,
            ComplaintVerb.APPROVED,
            after={
                "amount": str(proposal.compensation_amount)
                if proposal.compensation_amount
                else None,
                "level": proposal.required_level,
                "approver_level": authority_of(actor),
                "rule": proposal.rule,
                "reason": proposal.decision_reason,
            },
        )
        _answer(complaint, proposal, actor, [])
        complete(task, actor)
        publish("updated", complaint, previous_assignee_id=previous)
        return complaint


def reject_proposal(*, complaint_id: int, actor: Actor, reason: str) -> Complaint:
    """The approver sends the proposal back to the handler with the reason."""
    if not reason.strip():
        raise InvalidInput(
            _("Say why the proposal is rejected."), {"reason": [_("This field may not be blank.")]}
        )
    with locked_complaint(complaint_id, actor) as locked:
        complaint, proposal, task = _decide(locked, actor)
        previous = proposal.approver_id
        proposal.status = ProposalStatus.REJECTED
        proposal.decided_by = _person(actor)
        proposal.decided_at = timezone.now()
        proposal.decision_reason = reason.strip()
        proposal.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        stop_approval_clock(complaint, proposal.decided_at)
        complaint.status = ComplaintStatus.INVESTIGATING
        save_changed(complaint, ["status"])
        audit(
            complaint,
            actor,
            ComplaintVerb.REJECTED,
            after={
                "amount": str(proposal.compensation_amount)
                if proposal.compensation_amount
                else None,
                "level": proposal.required_level,
                "rule": proposal.rule,
                "reason": proposal.decision_reason,
            },
        )
        complete(task, actor)
        if complaint.assignee_id:
            notify_users(
                recipient_ids=[complaint.assignee_id],
                kind="proposal_rejected",
                data={"number": complaint.number, "subject": KIND},
                subject_kind=KIND,
                object_id=complaint.pk,
            )
        publish("updated", complaint, previous_assignee_id=previous)
        return complaint


# --- the clock ---------------------------------------------------------------------------
def _move_final_answer(complaint: Complaint, due: datetime) -> None:
    """The final-answer target falls due at ``due`` (its budget in the clock's terms
    becomes the business time from the start, pauses included, to ``due``); its warning,
    breach and ladder levels run again from there."""
    clock = complaint.sla_clock
    if clock is None or clock.started_at is None or not clock.terms:
        return
    calendar = clocks.calendar_of(clock.terms)
    budget = business_seconds_between(calendar, clock.started_at, due) - clock.paused_seconds
    clock.terms["targets"] = [
        [name, max(int(budget), 1) if name == FINAL else seconds]
        for name, seconds in clock.terms["targets"]
    ]
    ladder_keys = {
        f"level:{i}"
        for i, level in enumerate(clock.terms.get("escalation", []))
        if level.get("target") == FINAL
    }
    clock.done = [
        key
        for key in clock.done
        if key not in {f"{FINAL}:warning", f"{FINAL}:breach"} and key not in ladder_keys
    ]
    state = clock.targets.get(FINAL)
    if state is not None:
        state["met_at"] = None
        state["breached"] = False
    clock.stopped_at = None
    clocks.save(clock)


def extend_deadline(*, complaint_id: int, actor: Actor, reason: str) -> Extension:
    """A supervisor approves more time for the final answer: the target moves by the
    profile's next extension, the customer is told why and until when."""
    if not reason.strip():
        raise InvalidInput(
            _("Say why more time is needed."), {"reason": [_("This field may not be blank.")]}
        )
    with locked_complaint(complaint_id, actor) as locked:
        complaint = locked.complaint
        _supervise(actor)
        not_about(complaint, actor)
        if complaint.status not in (
            ComplaintStatus.RECEIVED,
            ComplaintStatus.INVESTIGATING,
            ComplaintStatus.AWAITING_APPROVAL,
        ):
            raise Conflict(_("Only a complaint still awaiting its final answer can be extended."))
        policy = ComplaintPolicy.objects.filter(
            sla_policy_id=complaint.sla_clock.policy_id if complaint.sla_clock else None
        ).first()
        allowed = list(policy.extensions) if policy is not None else []
        if complaint.extensions_used >= len(allowed):
            raise Conflict(
                _("No more extensions are allowed (%(count)s used of %(allowed)s).")
                % {"count": complaint.extensions_used, "allowed": len(allowed)}
            )
        clock = complaint.sla_clock
        assert clock is not None
        before = clocks.target_due(clock, FINAL)
        now = timezone.now()
        if before is None or before <= now:
            raise Conflict(_("The final-answer deadline has passed; it can no longer be extended."))
        seconds = int(allowed[complaint.extensions_used])
        after = add_business_seconds(clocks.calendar_of(clock.terms), before, seconds)
        _move_final_answer(complaint, after)
        extension = Extension.objects.create(
            complaint=complaint,
            seconds=seconds,
            reason=reason.strip(),
            approved_by=_person(actor),
            due_before=before,
            due_after=clocks.target_due(clock, FINAL),
        )
        complaint.extensions_used += 1
        save_changed(complaint, ["extensions_used"])
        audit(
            complaint,
            actor,
            ComplaintVerb.EXTENDED,
            before={"due": iso(before)},
            after={
                "due": iso(extension.due_after),
                "seconds": seconds,
                "reason": extension.reason,
                "used": complaint.extensions_used,
                "allowed": len(allowed),
            },
        )
        emails.extended(complaint, extension)
        publish("updated", complaint)
        return extension


def escalate_complaint(
    *, complaint_id: int, actor: Actor, reason: str, assignee_id: int | None = None
) -> Complaint:
    """One level up by hand: the severity rises a step, the supervisors (level 2) or the
    managers (level 3 and above) are told; a supervisor may hand it to someone else."""
    if not reason.strip():
        raise InvalidInput(
            _("Say why the complaint is escalated."),
            {"reason": [_("This field may not be blank.")]},
        )
    with locked_complaint(complaint_id, actor) as locked:
        complaint = locked.complaint
        _may_handle(complaint, actor)
        if complaint.status == ComplaintStatus.CLOSED:
            raise Conflict(_("A closed complaint is reopened, not escalated."))
        previous = complaint.assignee_id
        level = _raise_level(complaint, reason=reason.strip(), actor=actor)
        if assignee_id is not None:
            _supervise(actor)
            user = get_user_model().objects.filter(pk=assignee_id, is_active=True).first()
            if user is None or user.pk == complaint.about_user_id:
                raise InvalidInput(
                    _("Unknown assignee."), {"assignee": [_("Choose another active person.")]}
                )
            task = require_node(locked, "handle")
            take(task, user)
            complaint.assignee = user
            save_changed(complaint, ["assignee"])
            audit(
                complaint,
                actor,
                ComplaintVerb.ASSIGNED,
                before={"assignee": previous},
                after={"assignee": user.pk},
            )
        publish("escalated", complaint, previous_assignee_id=previous)
        del level
        return complaint


def _raise_level(complaint: Complaint, *, reason: str, actor: Actor, at_least: int = 0) -> int:
    clock = complaint.sla_clock
    current = clock.escalation_level if clock is not None else 0
    level = max(current + 1, at_least)
    before = {"escalation_level": current, "severity": complaint.severity}
    complaint.severity = raised(complaint.severity)
    if clock is not None:
        clocks.raise_level(clock, level)
        clocks.save(clock)
    save_changed(complaint, ["severity"])
    audit(
        complaint,
        actor,
        ComplaintVerb.ESCALATED,
        before=before,
        after={"level": level, "severity": complaint.severity, "reason": reason},
    )
    recipients = _supervisors(complaint) if level <= 2 else _managers()
    notify_users(
        recipient_ids=recipients,
        kind="escalated",
        data={"number": complaint.number, "subject": KIND, "level": level},
        subject_kind=KIND,
        object_id=complaint.pk,
    )
    return level


def _supervisors(complaint: Complaint) -> list[int]:
    if complaint.team_id is None:
        return []
    return list(complaint.team.supervisors.values_list("id", flat=True)) if complaint.team else []


def _managers() -> list[int]:
    return list(
        get_user_model()
        .objects.filter(is_active=True, groups__name=roles.ROLE_MANAGER)
        .values_list("id", flat=True)
        .distinct()
    )


# --- the customer's answer, review, close, reopen --------------------------------------
def respond_as_customer(
    *, complaint_id: int, contact_id: int, answer: int, accept: bool, reason: str = ""
) -> Complaint:
    """Through the signed link: accept (quality review or close follows) or dispute (back to
    handling one escalation level up, at least level 2, with a new final-answer target)."""
    if not accept and not reason.strip():
        raise InvalidInput(
            _("Tell us what you disagree with."), {"reason": [_("This field may not be blank.")]}
        )
    with locked_complaint(complaint_id) as locked:
        complaint = locked.complaint
        if complaint.contact_id != contact_id:
            raise NotFound(_("Complaint not found."))
        if (
            complaint.status != ComplaintStatus.AWAITING_CUSTOMER
            or selectors.answer_number(complaint) != answer
        ):
            raise Conflict(_("This answer has already been responded to."))
        now = timezone.now()
        if complaint.response_due_at is not None and now > complaint.response_due_at:
            raise Gone(_("The time to respond to this answer is over."))
        task = require_node(locked, "answered")
        complaint.responded_at = now
        if accept:
            complaint.customer_response = CustomerResponse.ACCEPTED
            fields = ["customer_response", "responded_at"]
            if complaint.needs_review:
                complaint.status = ComplaintStatus.QUALITY_REVIEW
                fields.append("status")
            save_changed(complaint, fields)
            audit(complaint, None, ComplaintVerb.ACCEPTED)
        else:
            _dispute(complaint, reason.strip(), actor=None)
        run_handle(task)
        publish("updated", complaint)
        return complaint


def _dispute(complaint: Complaint, reason: str, *, actor: Actor) -> None:
    complaint.customer_response = CustomerResponse.DISPUTED
    complaint.dispute_reason = reason
    complaint.disputes += 1
    complaint.status = ComplaintStatus.INVESTIGATING
    save_changed(
        complaint, ["customer_response", "responded_at", "dispute_reason", "disputes", "status"]
    )
    audit(complaint, actor, ComplaintVerb.DISPUTED, after={"reason": reason})
    _reopen_clock(complaint)
    _raise_level(complaint, reason=reason, actor=actor, at_least=2)


def _reopen_clock(complaint: Complaint) -> None:
    """A fresh final-answer target from now, as long as the profile's first one."""
    clock = complaint.sla_clock
    if clock is None or not clock.terms:
        return
    policy_seconds = dict(clock.terms.get("targets", [])).get(FINAL)
    if clock.policy is not None:
        policy_seconds = int(clock.policy.targets.get(FINAL, policy_seconds or 0))
    if not policy_seconds:
        return
    if clock.paused_at is not None:
        clocks.resume(clock)
    due = add_business_seconds(clocks.calendar_of(clock.terms), timezone.now(), int(policy_seconds))
    _move_final_answer(complaint, due)


def close_complaint(*, complaint_id: int, actor: Actor, note: str = "") -> Complaint:
    """A handler records the customer's acceptance given another way, or a supervisor
    completes the quality review; either way the complaint closes."""
    with locked_complaint(complaint_id, actor) as locked:
        complaint = locked.complaint
        node = locked.node()
        if node == "answered":
            _may_handle(complaint, actor)
            task = require_node(locked, "answered")
            complaint.customer_response = CustomerResponse.ACCEPTED
            complaint.responded_at = timezone.now()
            fields = ["customer_response", "responded_at"]
            if complaint.needs_review:
                complaint.status = ComplaintStatus.QUALITY_REVIEW
                fields.append("status")
            save_changed(complaint, fields)
            audit(complaint, actor, ComplaintVerb.ACCEPTED, after={"note": note.strip()})
            run_handle(task)
        elif node == "review":
            _supervise(actor)
            not_about(complaint, actor)
            if actor is not None and actor.pk == complaint.assignee_id:
                raise Forbidden(_("The handler cannot review their own complaint."))
            task = require_node(locked, "review")
            complaint.reviewed_at = timezone.now()
            complaint.reviewed_by = _person(actor)
            save_changed(complaint, ["reviewed_at", "reviewed_by"])
            audit(complaint, actor, ComplaintVerb.REVIEWED, after={"note": note.strip()})
            complete(task, actor)
        else:
            raise Conflict(
                _("The complaint is %(status)s; it closes once answered and accepted.")
                % {"status": complaint.get_status_display()}
            )
        complaint.refresh_from_db()
        return complaint


def reopen_complaint(*, complaint_id: int, actor: Actor, reason: str) -> Complaint:
    """A closed complaint comes back within the profile's reopen window, one level up."""
    if not reason.strip():
        raise InvalidInput(
            _("Say why the complaint is reopened."), {"reason": [_("This field may not be blank.")]}
        )
    with locked_complaint(complaint_id, actor) as locked:
        complaint = locked.complaint
        _may_handle(complaint, actor)
        if locked.node() != "closed":
            raise Conflict(_("Only a closed complaint within its reopen window can be reopened."))
        task = require_node(locked, "closed")
        complaint.status = ComplaintStatus.INVESTIGATING
        complaint.closed_at = None
        complaint.reviewed_at = None
        complaint.reviewed_by = None
        save_changed(complaint, ["status", "closed_at", "reviewed_at", "reviewed_by"])
        audit(complaint, actor, ComplaintVerb.REOPENED, after={"reason": reason.strip()})
        _reopen_clock(complaint)
        _raise_level(complaint, reason=reason.strip(), actor=actor, at_least=2)
        run_handle(task)
        publish("updated", complaint)
        return complaint


def handling_seconds(complaint: Complaint) -> int | None:
    """Received to final answer, in seconds (None while unanswered)."""
    if complaint.answered_at is None:
        return None
    return math.floor((complaint.answered_at - complaint.received_at).total_seconds())
