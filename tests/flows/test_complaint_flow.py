"""ComplaintFlow transitions driven through the complaint services, without HTTP: after each
step the live tasks, the complaint's status, its work item and its audit verbs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from audit.models import AuditEvent
from complaints import services
from complaints.models import Complaint
from complaints.selectors import answer_number
from core.errors import Conflict, Forbidden
from flows.models import ComplaintProcess
from processes import dispatcher
from processes.models import WorkItem
from sla import clock as clocks
from sla.calendars import add_business_seconds
from surveys.models import Invitation
from tests.factories.complaints import ComplaintsDesk, build_complaints_desk, open_complaint

pytestmark = pytest.mark.django_db

LIVE = [STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED, STATUS.SCHEDULED]


@pytest.fixture
def cdesk(db: Any) -> ComplaintsDesk:
    return build_complaints_desk()


def live_nodes(complaint: Complaint) -> list[tuple[str, str]]:
    tasks = Task.objects.filter(
        process__complaintprocess__complaint=complaint, status__in=LIVE
    ).order_by("id")
    return [(t.flow_task.name, t.status) for t in tasks]


def owner_of(complaint: Complaint, node: str) -> int | None:
    task = (
        Task.objects.filter(
            process__complaintprocess__complaint=complaint, status__in=LIVE, flow_task__isnull=False
        )
        .order_by("-id")
        .first()
    )
    assert task is not None and task.flow_task.name == node, live_nodes(complaint)
    owner: int | None = task.owner_id
    return owner


def verbs(complaint: Complaint) -> list[str]:
    return list(
        AuditEvent.objects.filter(complaint=complaint).order_by("id").values_list("verb", flat=True)
    )


def item(complaint: Complaint) -> WorkItem | None:
    return WorkItem.objects.filter(kind="complaint", object_id=complaint.pk).first()


def fresh(complaint: Complaint) -> Any:
    return Complaint.objects.select_related("sla_clock").get(pk=complaint.pk)


def fire_timers(complaint: Complaint) -> int:
    """Makes the complaint's scheduled timers due and runs the platform's dispatcher."""
    moved = Task.objects.filter(
        process__complaintprocess__complaint=complaint,
        flow_task_type="TIMER",
        status=STATUS.SCHEDULED,
    ).update(scheduled=timezone.now() - timedelta(seconds=1))
    assert moved == 1
    return dispatcher.drain()


def acknowledged(desk: ComplaintsDesk, **overrides: Any) -> Any:
    complaint = open_complaint(desk, **overrides)
    services.acknowledge_complaint(complaint_id=complaint.pk, actor=complaint.assignee)
    return fresh(complaint)


def propose(complaint: Complaint, amount: str | None, actor: Any = None) -> Any:
    return services.propose_resolution(
        complaint_id=complaint.pk,
        actor=actor or complaint.assignee,
        outcome="upheld",
        resolution="We refund the second charge.",
        root_cause="system-defect",
        corrective_action="Fix the retry of card payments.",
        compensation_amount=amount,
        compensation_kind="refund" if amount else "",
    )


def answered(desk: ComplaintsDesk, **overrides: Any) -> Any:
    complaint = acknowledged(desk, **overrides)
    propose(complaint, "100.00")
    return fresh(complaint)


def respond(complaint: Any, *, accept: bool, reason: str = "") -> Any:
    services.respond_as_customer(
        complaint_id=complaint.pk,
        contact_id=complaint.contact_id,
        answer=answer_number(complaint),
        accept=accept,
        reason=reason,
    )
    return fresh(complaint)


# --- intake and handling ---------------------------------------------------------------
def test_intake_starts_the_process_with_the_handler_task(cdesk: ComplaintsDesk) -> None:
    complaint: Any = open_complaint(cdesk)

    assert complaint.status == "received"
    assert live_nodes(complaint) == [("handle", STATUS.ASSIGNED)]
    assert owner_of(complaint, "handle") == complaint.assignee_id
    assert complaint.assignee_id in (cdesk.handler1.pk, cdesk.handler2.pk)
    work = item(complaint)
    assert work is not None
    assert (work.assignee_id, work.status, work.priority, work.team_id) == (
        complaint.assignee_id,
        "received",
        "S3",
        cdesk.team.pk,
    )
    assert work.due == clocks.target_due(complaint.sla_clock, "acknowledge")
    assert verbs(complaint) == ["created", "assigned"]


def test_a_resolution_within_the_handlers_limit_is_decided_and_answered(
    cdesk: ComplaintsDesk,
) -> None:
    complaint = acknowledged(cdesk)
    assert complaint.status == "investigating"
    assert live_nodes(complaint) == [("handle", STATUS.ASSIGNED)]

    proposal = propose(complaint, "150.00")

    complaint = fresh(complaint)
    assert (proposal.status, proposal.required_level) == ("decided", "handler")
    assert proposal.decided_by_id == complaint.assignee_id
    assert complaint.status == "awaiting_customer"
    assert live_nodes(complaint) == [("answered", STATUS.NEW), ("answered__timeout", "SCHEDULED")]
    assert complaint.approved_level == "handler"
    assert complaint.answered_at is not None and complaint.response_due_at is not None
    assert complaint.sla_clock.due is None  # every target met
    assert item(complaint) is None  # nobody has work while the customer decides
    assert verbs(complaint) == [
        "created",
        "assigned",
        "acknowledged",
        "proposed",
        "decided",
        "answered",
    ]


def test_an_approval_above_the_handlers_limit_is_approved(cdesk: ComplaintsDesk) -> None:
    complaint = acknowledged(cdesk)
    handler = complaint.assignee_id

    proposal = propose(complaint, "500.00")

    complaint = fresh(complaint)
    assert (proposal.status, proposal.required_level) == ("pending", "supervisor")
    assert proposal.approver_id == cdesk.supervisor.pk
    assert complaint.status == "awaiting_approval"
    assert live_nodes(complaint) == [("approval", STATUS.ASSIGNED)]
    assert owner_of(complaint, "approval") == cdesk.supervisor.pk
    work = item(complaint)
    assert work is not None
    assert (work.assignee_id, work.status, work.due) == (
        cdesk.supervisor.pk,
        "awaiting_approval",
        proposal.due_at,
    )
    assert proposal.due_at == proposal.created_at + timedelta(hours=24) or abs(
        (proposal.due_at - proposal.created_at) - timedelta(hours=24)
    ) < timedelta(seconds=1)

    services.approve_proposal(complaint_id=complaint.pk, actor=cdesk.supervisor)

    complaint = fresh(complaint)
    assert complaint.status == "awaiting_customer"
    assert complaint.assignee_id == handler  # the handler stays the handler
    assert complaint.approved_level == "supervisor"
    assert [n for n, _ in live_nodes(complaint)] == ["answered", "answered__timeout"]
    assert item(complaint) is None
    assert verbs(complaint)[-4:] == ["proposed", "approval_requested", "approved", "answered"]


def test_a_rejected_proposal_goes_back_to_the_same_handler(cdesk: ComplaintsDesk) -> None:
    complaint = acknowledged(cdesk)
    handler = complaint.assignee_id
    propose(complaint, "900.00")

    services.reject_proposal(
        complaint_id=complaint.pk, actor=cdesk.supervisor, reason="Refund the charge only."
    )

    complaint = fresh(complaint)
    assert complaint.status == "investigating"
    assert live_nodes(complaint) == [("handle", STATUS.ASSIGNED)]
    assert owner_of(complaint, "handle") == handler
    work = item(complaint)
    assert work is not None and (work.assignee_id, work.status) == (handler, "investigating")
    proposal = complaint.proposals.get()
    assert (proposal.status, proposal.decision_reason) == ("rejected", "Refund the charge only.")
    assert verbs(complaint)[-2:] == ["approval_requested", "rejected"]
    assert (
        cdesk.handler1.notifications.filter(kind="proposal_rejected").count()
        + (cdesk.handler2.notifications.filter(kind="proposal_rejected").count())
        == 1
    )

    # the handler proposes again, within their limit this time
    propose(complaint, "80.00")
    assert fresh(complaint).status == "awaiting_customer"


# --- the customer's answer -------------------------------------------------------------
def test_accepted_closes_and_invites_to_one_survey(cdesk: ComplaintsDesk) -> None:
    complaint = answered(cdesk)

    complaint = respond(complaint, accept=True)

    assert complaint.status == "closed" and complaint.customer_response == "accepted"
    assert complaint.closed_at is not None
    assert live_nodes(complaint) == [("closed", STATUS.NEW), ("closed__timeout", "SCHEDULED")]
    assert complaint.sla_clock.stopped_at is not None and complaint.sla_clock.next_at is None
    assert item(complaint) is None
    assert verbs(complaint)[-2:] == ["accepted", "closed"]
    invitation = Invitation.objects.get(subject_kind="complaint", subject_id=complaint.pk)
    assert invitation.contact_id == cdesk.contact.pk
    assert invitation.subject_number == complaint.number


def test_silence_closes_when_the_response_window_ends(cdesk: ComplaintsDesk) -> None:
    complaint = answered(cdesk)
    timer = Task.objects.get(process__complaintprocess__complaint=complaint, flow_task_type="TIMER")
    assert timer.scheduled == complaint.response_due_at
    assert complaint.response_due_at - complaint.answered_at == timedelta(
        days=cdesk.profile.response_window_days
    )

    assert fire_timers(complaint) == 1

    complaint = fresh(complaint)
    assert complaint.status == "closed" and complaint.customer_response == "silent"
    assert [n for n, _ in live_nodes(complaint)] == ["closed", "closed__timeout"]
    assert verbs(complaint)[-2:] == ["silent", "closed"]
    assert Invitation.objects.filter(subject_kind="complaint", subject_id=complaint.pk).exists()
    # the link is of no use any more
    with pytest.raises(Conflict):
        respond(complaint, accept=False, reason="Too late")


def test_a_regulatory_complaint_gets_a_quality_review_by_a_supervisor(
    cdesk: ComplaintsDesk,
) -> None:
    complaint = answered(cdesk, regulatory=True)
    handler = complaint.assignee

    complaint = respond(complaint, accept=True)

    assert complaint.status == "quality_review"
    assert live_nodes(complaint) == [("review", STATUS.ASSIGNED)]
    assert owner_of(complaint, "review") == cdesk.supervisor.pk
    assert owner_of(complaint, "review") != handler.pk
    work = item(complaint)
    assert work is not None and work.status == "quality_review"
    # in the reviewer's queue, not offered to the team's agents, who may not review
    assert work.assignee_id == cdesk.supervisor.pk
    # the handler can never review their own complaint
    with pytest.raises(Forbidden):
        services.close_complaint(complaint_id=complaint.pk, actor=handler)
    assert fresh(complaint).reviewed_at is None

    services.close_complaint(complaint_id=complaint.pk, actor=cdesk.supervisor, note="Fine")

    complaint = fresh(complaint)
    assert complaint.status == "closed"
    assert complaint.reviewed_by_id == cdesk.supervisor.pk
    assert [n for n, _ in live_nodes(complaint)] == ["closed", "closed__timeout"]
    assert item(complaint) is None
    assert verbs(complaint)[-3:] == ["accepted", "reviewed", "closed"]


def test_a_dispute_goes_back_to_handling_at_level_two_with_a_fresh_target(
    cdesk: ComplaintsDesk,
) -> None:
    complaint = answered(cdesk)
    handler = complaint.assignee_id
    # received a week ago: the first target falls before the fresh one
    clock = complaint.sla_clock
    clock.started_at -= timedelta(days=7)
    clocks.save(clock)
    first_due = clocks.target_due(clock, "final_answer")
    before = timezone.now()

    complaint = respond(complaint, accept=False, reason="The refund is not enough.")
    after = timezone.now()

    assert complaint.status == "investigating"
    assert (complaint.disputes, complaint.customer_response) == (1, "disputed")
    assert live_nodes(complaint) == [("handle", STATUS.ASSIGNED)]
    assert owner_of(complaint, "handle") == handler
    clock = complaint.sla_clock
    assert clock.escalation_level >= 2
    assert complaint.severity == "S2"  # raised a step
    # a fresh final answer target: the policy's 15 working days from the dispute
    due: Any = clocks.target_due(clock, "final_answer")
    calendar = clocks.calendar_of(clock.terms)
    budget = 15 * 86400
    assert (
        add_business_seconds(calendar, before, budget) - timedelta(seconds=1)
        <= due
        <= add_business_seconds(calendar, after, budget) + timedelta(seconds=1)
    )
    assert due > first_due
    assert not clocks.is_met(clock, "final_answer")
    assert clock.due == due and clock.next_at is not None
    work = item(complaint)
    assert work is not None
    assert (work.status, work.escalation_level, work.priority, work.due) == (
        "investigating",
        clock.escalation_level,
        "S2",
        due,
    )
    assert verbs(complaint)[-2:] == ["disputed", "escalated"]


def test_a_closed_complaint_reopens_within_the_window(cdesk: ComplaintsDesk) -> None:
    complaint = respond(answered(cdesk), accept=True)
    handler = complaint.assignee

    services.reopen_complaint(
        complaint_id=complaint.pk, actor=handler, reason="The refund bounced."
    )

    complaint = fresh(complaint)
    assert complaint.status == "investigating" and complaint.closed_at is None
    assert live_nodes(complaint) == [("handle", STATUS.ASSIGNED)]
    assert owner_of(complaint, "handle") == handler.pk
    assert complaint.sla_clock.stopped_at is None
    assert complaint.sla_clock.escalation_level == 2
    assert not clocks.is_met(complaint.sla_clock, "final_answer")
    work = item(complaint)
    assert work is not None and work.assignee_id == handler.pk
    assert verbs(complaint)[-2:] == ["reopened", "escalated"]


def test_a_closed_complaint_is_archived_after_the_reopen_window(cdesk: ComplaintsDesk) -> None:
    complaint = respond(answered(cdesk), accept=True)
    timer = Task.objects.get(
        process__complaintprocess__complaint=complaint,
        flow_task_type="TIMER",
        status=STATUS.SCHEDULED,
    )
    expected = complaint.closed_at + timedelta(days=cdesk.profile.reopen_window_days)
    assert abs(timer.scheduled - expected) < timedelta(seconds=1)

    fire_timers(complaint)

    process = ComplaintProcess.objects.get(complaint=complaint)
    assert process.status == PROCESS.DONE
    assert live_nodes(complaint) == []
    assert verbs(complaint)[-1] == "archived"
    with pytest.raises(Conflict):
        services.reopen_complaint(
            complaint_id=complaint.pk, actor=complaint.assignee, reason="Too late"
        )
    assert fresh(complaint).status == "closed"


def test_silence_on_a_regulatory_complaint_goes_to_the_review(cdesk: ComplaintsDesk) -> None:
    complaint = answered(cdesk, regulatory=True)

    fire_timers(complaint)

    complaint = fresh(complaint)
    assert complaint.status == "quality_review" and complaint.customer_response == "silent"
    assert live_nodes(complaint) == [("review", STATUS.ASSIGNED)]
    assert owner_of(complaint, "review") == cdesk.supervisor.pk
    # the queue names the review task and its reviewer (the timer wrote it, not a person)
    review = Task.objects.get(
        process__complaintprocess__complaint=complaint, status=STATUS.ASSIGNED
    )
    work = item(complaint)
    assert work is not None
    assert (work.task_id, work.assignee_id, work.status) == (
        review.pk,
        cdesk.supervisor.pk,
        "quality_review",
    )
    services.close_complaint(complaint_id=complaint.pk, actor=cdesk.supervisor)
    assert fresh(complaint).status == "closed"


def test_a_second_dispute_goes_to_level_three_and_the_managers(cdesk: ComplaintsDesk) -> None:
    complaint = respond(answered(cdesk), accept=False, reason="Not enough")
    propose(complaint, "150")

    complaint = respond(fresh(complaint), accept=False, reason="Still not enough")

    assert complaint.disputes == 2 and complaint.status == "investigating"
    assert complaint.sla_clock.escalation_level == 3
    assert complaint.severity == "S1"  # S3, S2 at the first dispute, S1 now
    assert cdesk.manager.notifications.filter(kind="escalated", object_id=complaint.pk).exists()
    assert live_nodes(complaint) == [("handle", STATUS.ASSIGNED)]


def test_a_reopened_regulatory_complaint_is_reviewed_again(cdesk: ComplaintsDesk) -> None:
    complaint = respond(answered(cdesk, regulatory=True), accept=True)
    services.close_complaint(complaint_id=complaint.pk, actor=cdesk.supervisor)
    complaint = fresh(complaint)
    assert complaint.status == "closed" and complaint.reviewed_at is not None
    before = timezone.now()

    services.reopen_complaint(
        complaint_id=complaint.pk, actor=complaint.assignee, reason="New evidence"
    )

    complaint = fresh(complaint)
    assert complaint.reviewed_at is None and complaint.reviewed_by_id is None
    clock = complaint.sla_clock
    due: Any = clocks.target_due(clock, "final_answer")
    # fresh from the reopen (the clock counts whole seconds: its paused and budget seconds
    # are each rounded down)
    fresh_due = add_business_seconds(clocks.calendar_of(clock.terms), before, 15 * 86400)
    assert due >= fresh_due - timedelta(seconds=2)
    assert clock.due == due and clock.next_at is not None
    propose(complaint, "20")
    complaint = respond(fresh(complaint), accept=True)
    assert complaint.status == "quality_review"
    assert [n for n, _ in live_nodes(complaint)] == ["review"]
