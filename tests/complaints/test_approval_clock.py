"""An approval's own clock and its escalation (docs/complaints.md, "Overdue approvals"): a
proposal above the handler's limit starts a clock of kind ``complaint_approval`` due at the
proposal's ``due_at``; the platform's ladder warns the approver at the warning share and, at
the due moment, tells the approver's superior level and audits it (approver, amount, rule);
the approver's queue row shows it overdue; approving or rejecting stops it; the sweep is
set-wise and idempotent, and the dispatcher fires it."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import override

from audit.models import AuditEvent
from complaints import services
from complaints.models import APPROVAL_KIND, Complaint, Proposal
from notifications.models import Notification
from processes import dispatcher
from processes.models import WorkItem
from sla import clock as clocks
from sla import ladder
from sla.models import SlaClock
from tests.factories import AdministratorFactory, ContactFactory, CustomerFactory
from tests.factories.complaints import (
    ComplaintsDesk,
    ManagerFactory,
    build_complaints_desk,
    open_complaint,
)

pytestmark = pytest.mark.django_db

HOURS = {"supervisor": 24, "manager": 48}  # the shipped limits' approval hours


@pytest.fixture
def cdesk(db: Any) -> ComplaintsDesk:
    return build_complaints_desk()


def acknowledged(desk: ComplaintsDesk, **overrides: Any) -> Complaint:
    """Acknowledged and contacted: of the complaint's own clock only the final answer runs
    (15 working days; its first checkpoint at half of it), so the sweeps of these tests,
    at most five days ahead, see the approval's checkpoints alone."""
    complaint = open_complaint(desk, **overrides)
    services.acknowledge_complaint(complaint_id=complaint.pk, actor=complaint.assignee)
    services.log_contact(
        complaint_id=complaint.pk, actor=complaint.assignee, channel="phone", summary="Called"
    )
    return complaint


def propose(complaint: Complaint, amount: str, actor: Any = None) -> Proposal:
    return services.propose_resolution(
        complaint_id=complaint.pk,
        actor=actor or Complaint.objects.get(pk=complaint.pk).assignee,
        outcome="upheld",
        resolution="We refund the charge.",
        root_cause="system-defect",
        compensation_amount=amount,
        compensation_kind="refund",
    )


def approval_clock(complaint: Complaint) -> SlaClock:
    return SlaClock.objects.get(kind=APPROVAL_KIND, object_id=complaint.pk)


def at_share(proposal: Proposal, share: float) -> datetime:
    """The moment ``share`` of the approval's time has passed."""
    assert proposal.due_at is not None
    budget = timedelta(hours=HOURS[proposal.required_level])
    return proposal.due_at - budget + budget * share


def told(user: Any, kind: str, complaint: Complaint) -> int:
    return Notification.objects.filter(
        recipient=user, kind=kind, subject_kind=APPROVAL_KIND, object_id=complaint.pk
    ).count()


def ladder_rows(complaint: Complaint) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(complaint=complaint, subject_kind=APPROVAL_KIND).order_by("id")
    )


def work(complaint: Complaint) -> WorkItem:
    return WorkItem.objects.get(kind="complaint", object_id=complaint.pk)


def test_the_approval_clock_starts_due_at_the_approval_due_moment(cdesk: ComplaintsDesk) -> None:
    complaint = acknowledged(cdesk)
    proposal = propose(complaint, "500")

    assert (proposal.status, proposal.required_level) == ("pending", "supervisor")
    clock = approval_clock(complaint)
    assert clock.policy is None and clock.stopped_at is None
    assert clock.terms["proposal_id"] == proposal.pk
    assert clock.terms["required_level"] == "supervisor"
    assert clock.terms["targets"] == [["approval", 24 * 3600]]
    assert clock.terms["warning_percent"] == 80  # the complaint's policy's warning share
    assert clock.terms["calendar"] is None  # wall-clock hours, like ``due_at``
    assert clocks.target_due(clock, "approval") == proposal.due_at
    assert clock.due == proposal.due_at
    assert clock.next_at == at_share(proposal, 0.8)
    # the complaint's own clock is untouched by it
    own = Complaint.objects.select_related("sla_clock").get(pk=complaint.pk).sla_clock
    assert own is not None and own.kind == "complaint"
    # the approver's queue row: their name and the approval's due moment, not overdue yet
    row = work(complaint)
    assert (row.assignee_id, row.due, row.breached, row.warning) == (
        cdesk.supervisor.pk,
        proposal.due_at,
        False,
        False,
    )


def test_a_proposal_within_the_limit_starts_no_approval_clock(cdesk: ComplaintsDesk) -> None:
    complaint = acknowledged(cdesk)
    proposal = propose(complaint, "50")

    assert proposal.status == "decided"
    assert not SlaClock.objects.filter(kind=APPROVAL_KIND).exists()


def test_firing_before_the_warning_does_nothing(cdesk: ComplaintsDesk) -> None:
    complaint = acknowledged(cdesk)
    proposal = propose(complaint, "500")
    before = approval_clock(complaint)

    assert ladder.fire_batch(now=at_share(proposal, 0.79)) == (0, 0)
    assert ladder.fire_batch() == (0, 0)  # now: long before

    clock = approval_clock(complaint)
    assert (clock.done, clock.next_at, clock.warning, clock.breached) == (
        [],
        before.next_at,
        False,
        False,
    )
    assert ladder_rows(complaint) == []
    assert not Notification.objects.filter(subject_kind=APPROVAL_KIND).exists()


def test_at_the_warning_share_the_approver_is_warned(cdesk: ComplaintsDesk) -> None:
    complaint = acknowledged(cdesk)
    proposal = propose(complaint, "500")

    assert ladder.fire_batch(now=at_share(proposal, 0.81)) == (1, 1)

    clock = approval_clock(complaint)
    assert clock.done == ["approval:warning"] and clock.warning and not clock.breached
    assert clock.next_at == proposal.due_at  # the breach is next
    assert told(cdesk.supervisor, "sla_warning", complaint) == 1
    assert told(cdesk.manager, "sla_warning", complaint) == 0  # not yet their business
    assert told(complaint.assignee, "sla_warning", complaint) == 0  # the handler waits
    (row,) = ladder_rows(complaint)
    assert (row.verb, row.actor_id, row.customer_id) == ("sla_warning", None, cdesk.customer.pk)
    assert row.after["approver"] == cdesk.supervisor.pk
    assert row.after["amount"] == "500.00" and row.after["required_level"] == "supervisor"
    assert row.after["rule"] == proposal.rule
    assert row.after["target"] == "approval"
    note = Notification.objects.get(recipient=cdesk.supervisor, kind="sla_warning")
    with override("en"):
        assert note.title == f"The approval of complaint {complaint.number} is due soon"
    with override("zh-hans"):
        assert complaint.number in note.title and "审批" in note.title
    assert work(complaint).warning and not work(complaint).breached


def test_at_the_due_moment_the_managers_are_told_and_it_is_audited(cdesk: ComplaintsDesk) -> None:
    complaint = acknowledged(cdesk)
    proposal = propose(complaint, "500")
    version = Complaint.objects.get(pk=complaint.pk).version

    assert ladder.fire_batch(now=at_share(proposal, 1.01)) == (1, 2)  # warning and breach

    clock = approval_clock(complaint)
    assert clock.done == ["approval:warning", "approval:breach"]
    assert clock.breached and clock.targets["approval"]["breached"]
    assert clock.next_at is None  # nothing left armed
    # the supervisor's overdue approval goes to the managers
    assert told(cdesk.manager, "sla_breached", complaint) == 1
    assert told(cdesk.supervisor, "sla_breached", complaint) == 1  # the approver too
    assert told(complaint.assignee, "sla_breached", complaint) == 0
    breach = AuditEvent.objects.get(
        complaint=complaint, subject_kind=APPROVAL_KIND, verb="sla_breached"
    )
    assert breach.after["approver"] == cdesk.supervisor.pk
    assert breach.after["amount"] == "500.00" and breach.after["currency"] == "CNY"
    assert breach.after["rule"] == {
        "level": "supervisor",
        "max_amount": "2000.00",
        "approval_hours": 24,
    }
    assert breach.after["escalate_to"] == "manager"
    assert breach.after["due"] == proposal.due_at.isoformat()  # type: ignore[union-attr]
    with override("en"):
        title = Notification.objects.get(recipient=cdesk.manager, kind="sla_breached").title
    assert title == f"The approval of complaint {complaint.number} (500.00 CNY) is overdue"
    # the approver's queue row shows it overdue; the complaint's severity stays
    complaint = Complaint.objects.get(pk=complaint.pk)
    row = work(complaint)
    assert (row.assignee_id, row.due, row.breached) == (cdesk.supervisor.pk, proposal.due_at, True)
    assert row.version == complaint.version == version + 1
    assert complaint.severity == "S3" and complaint.status == "awaiting_approval"


def test_a_managers_overdue_approval_goes_to_the_administrators(cdesk: ComplaintsDesk) -> None:
    administrator: Any = AdministratorFactory(username="c-admin")
    other_manager: Any = ManagerFactory(username="c-manager-2")
    complaint = acknowledged(cdesk)
    proposal = propose(complaint, "2500")
    assert proposal.required_level == "manager"
    approver = proposal.approver
    assert approver is not None

    ladder.fire_batch(now=at_share(proposal, 1.01))

    assert told(administrator, "sla_breached", complaint) == 1
    assert told(approver, "sla_breached", complaint) == 1
    bystander = cdesk.manager if approver == other_manager else other_manager
    assert told(bystander, "sla_breached", complaint) == 0  # a manager, not the superior level
    breach = AuditEvent.objects.get(complaint=complaint, verb="sla_breached")
    assert breach.after["escalate_to"] == "administrator"
    assert breach.after["required_level"] == "manager" and breach.after["amount"] == "2500.00"


def test_without_administrators_a_managers_overdue_approval_goes_to_the_other_managers(
    cdesk: ComplaintsDesk,
) -> None:
    second: Any = ManagerFactory(username="c-manager-2")
    complaint = acknowledged(cdesk)
    proposal = propose(complaint, "2500")
    approver = proposal.approver
    other = cdesk.manager if approver == second else second

    ladder.fire_batch(now=at_share(proposal, 1.01))

    assert told(other, "sla_breached", complaint) == 1
    assert told(approver, "sla_breached", complaint) == 1  # once, as the approver
    breach = AuditEvent.objects.get(complaint=complaint, verb="sla_breached")
    assert breach.after["escalate_to"] == "manager"


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_deciding_stops_the_clock_and_nothing_fires_later(
    cdesk: ComplaintsDesk, decision: str
) -> None:
    complaint = acknowledged(cdesk)
    proposal = propose(complaint, "500")
    ladder.fire_batch(now=at_share(proposal, 0.85))  # warned first

    if decision == "approve":
        services.approve_proposal(complaint_id=complaint.pk, actor=cdesk.supervisor)
    else:
        services.reject_proposal(complaint_id=complaint.pk, actor=cdesk.supervisor, reason="No")

    clock = approval_clock(complaint)
    assert clock.stopped_at is not None and clock.next_at is None and clock.due is None
    assert clock.targets["approval"]["met_at"] and not clock.targets["approval"]["breached"]
    assert ladder.fire_batch(now=at_share(proposal, 3)) == (0, 0)
    assert [r.verb for r in ladder_rows(complaint)] == ["sla_warning"]
    assert not Notification.objects.filter(kind="sla_breached").exists()


def test_an_approval_decided_late_is_recorded_late_and_the_next_one_starts_afresh(
    cdesk: ComplaintsDesk,
) -> None:
    complaint = acknowledged(cdesk)
    first = propose(complaint, "500")
    ladder.fire_batch(now=at_share(first, 1.01))
    services.reject_proposal(complaint_id=complaint.pk, actor=cdesk.supervisor, reason="Less")
    # the queue row is the handler's again, the complaint's own clock its due moment
    complaint = Complaint.objects.select_related("sla_clock").get(pk=complaint.pk)
    row = work(complaint)
    assert (row.assignee_id, row.breached) == (complaint.assignee_id, False)
    assert complaint.sla_clock is not None and row.due == complaint.sla_clock.due

    second = propose(complaint, "300")
    clock = approval_clock(complaint)  # the same row, a new run
    assert clock.terms["proposal_id"] == second.pk and clock.done == []
    assert not clock.breached and clock.stopped_at is None
    assert clock.due == second.due_at
    assert ladder.fire_batch(now=at_share(second, 0.5)) == (0, 0)


def test_a_late_decision_meets_the_target_breached(cdesk: ComplaintsDesk) -> None:
    complaint = acknowledged(cdesk)
    proposal = propose(complaint, "500")
    # the approval's time ran out a minute ago (the clock and the proposal say so alike)
    late = timezone.now() - timedelta(minutes=1)
    assert proposal.due_at is not None
    shift = late - proposal.due_at
    Proposal.objects.filter(pk=proposal.pk).update(due_at=late)
    clock = approval_clock(complaint)
    assert clock.started_at is not None
    clock.started_at += shift
    clocks.save(clock)

    services.approve_proposal(complaint_id=complaint.pk, actor=cdesk.supervisor)

    clock = approval_clock(complaint)
    assert clock.targets["approval"]["met_at"] and clock.targets["approval"]["breached"]
    assert clock.next_at is None


def test_replaying_the_sweep_fires_each_checkpoint_once(cdesk: ComplaintsDesk) -> None:
    complaint = acknowledged(cdesk)
    proposal = propose(complaint, "500")
    warn, late = at_share(proposal, 0.9), at_share(proposal, 1.5)

    assert ladder.fire_batch(now=warn) == (1, 1)
    assert ladder.fire_batch(now=warn) == (0, 0)
    assert ladder.fire_batch(now=late) == (1, 1)
    assert ladder.fire_batch(now=late) == (0, 0)
    assert ladder.fire_batch(now=at_share(proposal, 5)) == (0, 0)

    assert [r.verb for r in ladder_rows(complaint)] == ["sla_warning", "sla_breached"]
    assert told(cdesk.supervisor, "sla_warning", complaint) == 1
    assert told(cdesk.supervisor, "sla_breached", complaint) == 1
    assert told(cdesk.manager, "sla_breached", complaint) == 1


def test_the_history_names_the_approvals_steps(cdesk: ComplaintsDesk) -> None:
    from complaints.selectors import history_label

    with override("en"):
        assert history_label(APPROVAL_KIND, "sla_breached") == "escalated the overdue approval"
        assert history_label("complaint", "sla_breached") == "SLA breached"


def _setwise(cdesk: ComplaintsDesk, count: int) -> tuple[int, list[Complaint]]:
    complaints = []
    for _ in range(count):
        contact: Any = ContactFactory(customer=CustomerFactory())
        complaint = acknowledged(cdesk, customer_id=contact.customer_id, contact_id=contact.pk)
        propose(complaint, "500")
        complaints.append(complaint)
    late = timezone.now() + timedelta(hours=25)
    with CaptureQueriesContext(connection) as queries:
        assert ladder.fire_batch(now=late) == (count, 2 * count)
    return len(queries), complaints


def test_a_sweep_of_many_approvals_costs_the_same_as_of_few(cdesk: ComplaintsDesk) -> None:
    """Set-wise: the statements do not grow with the approvals a sweep escalates."""
    few, _ = _setwise(cdesk, 3)
    many, complaints = _setwise(cdesk, 12)
    assert few == many
    assert (
        WorkItem.objects.filter(
            kind="complaint", object_id__in=[c.pk for c in complaints], breached=True
        ).count()
        == 12
    )
    assert (
        Notification.objects.filter(
            recipient=cdesk.manager, kind="sla_breached", subject_kind=APPROVAL_KIND
        ).count()
        == 15
    )
    # each complaint's rows name its own proposal and approver
    for complaint in complaints:
        proposal = Proposal.objects.get(complaint=complaint)
        breach = AuditEvent.objects.get(complaint=complaint, verb="sla_breached")
        assert (breach.after["proposal"], breach.after["approver"]) == (
            proposal.pk,
            proposal.approver_id,
        )


def _age(complaint: Complaint, proposal: Proposal, hours: float) -> None:
    """The approval was asked ``hours`` ago: the proposal's due moment and its clock's start
    move back together."""
    shift = timedelta(hours=hours)
    assert proposal.due_at is not None
    Proposal.objects.filter(pk=proposal.pk).update(due_at=proposal.due_at - shift)
    clock = approval_clock(complaint)
    assert clock.started_at is not None
    clock.started_at -= shift
    clocks.save(clock)


def test_the_dispatcher_fires_an_overdue_approval(cdesk: ComplaintsDesk) -> None:
    complaint = acknowledged(cdesk)
    proposal = propose(complaint, "500")
    _age(complaint, proposal, 25)

    assert dispatcher.due_timers_count() == 1
    assert dispatcher.drain() == 2  # the warning and the breach, in one sweep
    assert dispatcher.drain() == 0

    assert told(cdesk.manager, "sla_breached", complaint) == 1
    assert work(complaint).breached


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_approval_being_decided_is_left_for_the_next_sweep() -> None:
    """The sweep takes the complaint's flow lock without waiting: while someone holds it
    the approval is not escalated; the next sweep does it."""
    from processes import runtime

    desk = build_complaints_desk()
    complaint = acknowledged(desk)
    proposal = propose(complaint, "500")
    _age(complaint, proposal, 25)
    holding, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        try:
            from django.db import transaction

            with transaction.atomic(), runtime.locked_process("complaint", complaint.pk):
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    assert holding.wait(timeout=30)
    try:
        assert dispatcher.drain() == 0  # busy: skipped, not waited for
        assert approval_clock(complaint).done == []
    finally:
        release.set()
        holder.join()
    assert dispatcher.drain() == 2
    assert approval_clock(complaint).breached


def test_the_api_shows_the_approval_clock_and_lists_it_overdue(cdesk: ComplaintsDesk) -> None:
    from tests.conftest import client_for

    complaint = acknowledged(cdesk)
    proposal = propose(complaint, "500")
    client = client_for(cdesk.supervisor)

    def detail() -> dict[str, Any]:
        return client.get(f"/api/complaints/{complaint.pk}/").json()["clocks"]["approval"]

    def overdue_ids() -> list[int]:
        rows = client.get("/api/complaints/?overdue=1").json()["results"]
        return [row["id"] for row in rows]

    assert proposal.due_at is not None
    clock_state = detail()
    assert clock_state["breached"] is False and clock_state["met_at"] is None
    assert clock_state["due"].replace("Z", "+00:00") == proposal.due_at.isoformat()
    assert complaint.pk not in overdue_ids()

    ladder.fire_batch(now=at_share(proposal, 1.01))

    assert detail()["breached"] is True
    assert complaint.pk in overdue_ids()
    not_overdue = client.get("/api/complaints/?overdue=0").json()["results"]
    assert complaint.pk not in [row["id"] for row in not_overdue]

    services.approve_proposal(complaint_id=complaint.pk, actor=cdesk.supervisor, reason="Fine")
    clocks_now = client.get(f"/api/complaints/{complaint.pk}/").json()["clocks"]
    assert "approval" not in clocks_now
    assert complaint.pk not in overdue_ids()
