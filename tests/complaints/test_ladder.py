"""The escalation ladder on complaints (docs/complaints.md, "Escalation"): the shipped
ladder on the final-answer target — 50 % warns the handler, 75 % tells the team's
supervisors (level 2), 90 % the managers (level 3), 100 % breaches and raises the severity a
step — fired set-wise by ``sla.ladder``; a ``reassign`` level moves the handling task
through the flow, never to the person complained about; and the real Celery worker and
beat fire it on time."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit.models import AuditEvent
from complaints import services
from complaints.models import Complaint, ComplaintPolicy
from notifications.models import Notification
from processes.models import WorkItem
from sla import clock as clocks
from sla import ladder
from tests.e2e.conftest import celery_worker_process, worker_log  # noqa: F401 - a fixture
from tests.factories import AgentFactory, ContactFactory, CustomerFactory, TeamFactory
from tests.factories.complaints import ComplaintsDesk, build_complaints_desk, open_complaint

pytestmark = pytest.mark.django_db

PROFILE = "cn-banking-insurance"  # calendar days: 15 days to the final answer
FINAL = 15 * 86400


def make_due(complaint: Complaint, *, share: float) -> None:
    """Moves the clock's start back so that ``share`` of the final-answer budget has passed
    (as ``tests.factories.make_due`` does for tickets)."""
    clock = Complaint.objects.select_related("sla_clock").get(pk=complaint.pk).sla_clock
    assert clock is not None
    clock.started_at = timezone.now() - timedelta(seconds=FINAL * share)
    clocks.save(clock)


def fresh(complaint: Complaint) -> Any:
    return Complaint.objects.select_related("sla_clock").get(pk=complaint.pk)


def told(user: Any, kind: str, complaint: Complaint) -> int:
    return Notification.objects.filter(
        recipient=user, kind=kind, subject_kind="complaint", object_id=complaint.pk
    ).count()


def escalations(complaint: Complaint) -> list[tuple[int, str]]:
    return [
        (e.after["level"], e.after["action"])
        for e in AuditEvent.objects.filter(complaint=complaint, verb="escalated").order_by("id")
    ]


@pytest.fixture
def cdesk(db: Any) -> ComplaintsDesk:
    return build_complaints_desk(PROFILE)


def test_the_ladder_climbs_handler_supervisor_manager_then_breach(cdesk: ComplaintsDesk) -> None:
    complaint = open_complaint(cdesk)
    handler = complaint.assignee
    services.acknowledge_complaint(complaint_id=complaint.pk, actor=handler)
    services.log_contact(
        complaint_id=complaint.pk, actor=handler, channel="phone", summary="Called back"
    )

    # 55 %: the handler is warned (level 1)
    make_due(complaint, share=0.55)
    ladder.fire_batch()
    complaint = fresh(complaint)
    assert complaint.sla_clock.escalation_level == 1
    assert escalations(complaint) == [(1, "warn")]
    assert told(handler, "escalated", complaint) == 1
    assert told(cdesk.supervisor, "escalated", complaint) == 0
    work = WorkItem.objects.get(kind="complaint", object_id=complaint.pk)
    assert (work.escalation_level, work.breached, work.warning) == (1, False, False)

    # 80 %: the team's supervisors (level 2, at 75 %) and the final answer's warning
    make_due(complaint, share=0.8)
    ladder.fire_batch()
    complaint = fresh(complaint)
    assert complaint.sla_clock.escalation_level == 2
    assert escalations(complaint)[-1] == (2, "notify_supervisor")
    assert told(cdesk.supervisor, "escalated", complaint) == 1
    assert told(cdesk.manager, "escalated", complaint) == 0
    assert told(handler, "sla_warning", complaint) == 1
    work.refresh_from_db()
    assert (work.escalation_level, work.warning, work.breached) == (2, True, False)

    # 95 %: the managers (level 3)
    make_due(complaint, share=0.95)
    ladder.fire_batch()
    complaint = fresh(complaint)
    assert escalations(complaint)[-1] == (3, "notify_manager")
    assert told(cdesk.manager, "escalated", complaint) == 1
    assert complaint.severity == "S3"

    # 101 %: breached, the severity raised a step (level 4)
    make_due(complaint, share=1.01)
    ladder.fire_batch()
    complaint = fresh(complaint)
    clock = complaint.sla_clock
    assert clock.escalation_level == 4 and clock.breached
    assert clock.targets["final_answer"]["breached"]
    assert complaint.severity == "S2"
    assert escalations(complaint) == [
        (1, "warn"),
        (2, "notify_supervisor"),
        (3, "notify_manager"),
        (4, "raise_priority"),
    ]
    raised = AuditEvent.objects.get(complaint=complaint, after__action="raise_priority")
    assert (raised.before["priority"], raised.after["priority"]) == ("S3", "S2")
    assert AuditEvent.objects.filter(complaint=complaint, verb="sla_breached").count() == 1
    # every ladder row names the complaint (its timeline) and its customer (the 360 view)
    rows = AuditEvent.objects.filter(subject_kind="complaint", actor=None).exclude(
        verb__in=["assigned"]
    )
    assert rows.exists() and not rows.filter(complaint=None).exists()
    assert set(rows.values_list("customer_id", flat=True)) == {cdesk.customer.pk}
    assert told(cdesk.supervisor, "sla_breached", complaint) == 1
    work.refresh_from_db()
    assert (work.escalation_level, work.breached, work.priority) == (4, True, "S2")
    assert work.version == complaint.version
    assert clock.next_at is None  # nothing left armed
    # the handler still works it: the checkpoints never interrupted the task
    assert [
        t.flow_task.name
        for t in Task.objects.filter(
            process__complaintprocess__complaint=complaint, status=STATUS.ASSIGNED
        )
    ] == ["handle"]


def test_the_acknowledgement_breach_fires_before_the_ladder(cdesk: ComplaintsDesk) -> None:
    complaint = open_complaint(cdesk)
    make_due(complaint, share=0.1)  # 1.5 days: the 24 h acknowledgement is late

    ladder.fire_batch()

    complaint = fresh(complaint)
    clock = complaint.sla_clock
    assert clock.done == ["acknowledge:warning", "acknowledge:breach"]
    assert clock.breached and clock.escalation_level == 0
    work = WorkItem.objects.get(kind="complaint", object_id=complaint.pk)
    # still the nearest unmet target: the queue shows it overdue
    assert work.breached and work.due == clocks.target_due(clock, "acknowledge")
    # acknowledging late is recorded as met and breached
    services.acknowledge_complaint(complaint_id=complaint.pk, actor=complaint.assignee)
    clock.refresh_from_db()
    assert clock.targets["acknowledge"]["met_at"] and clock.targets["acknowledge"]["breached"]


def test_a_reassign_level_moves_the_task_and_never_to_the_person_complained_about(
    cdesk: ComplaintsDesk,
) -> None:
    seniors: Any = TeamFactory(name="Senior complaints")
    about: Any = AgentFactory(username="about-me")
    senior: Any = AgentFactory(username="senior-handler")
    seniors.members.add(about, senior)
    policy = ComplaintPolicy.objects.get(profile__code=PROFILE, severity="S3", regulatory=False)
    sla_policy = policy.sla_policy
    sla_policy.escalation = [
        *sla_policy.escalation,
        {"at_percent": 100, "target": "final_answer", "action": "reassign", "team": seniors.pk},
    ]
    sla_policy.save()
    # two customers (a repeat would be S2, under another policy)
    contacts: list[Any] = [cdesk.contact, ContactFactory(customer=CustomerFactory())]
    complaints = [
        open_complaint(cdesk, about_user_id=about.pk, customer_id=c.customer_id, contact_id=c.pk)
        for c in contacts
    ]
    first_handlers = {c.pk: c.assignee_id for c in complaints}

    for complaint in complaints:
        make_due(complaint, share=1.01)
    ladder.fire_batch()

    for complaint in complaints:
        complaint = fresh(complaint)
        assert complaint.team_id == seniors.pk
        assert complaint.assignee_id == senior.pk  # never ``about``
        task = Task.objects.get(
            process__complaintprocess__complaint=complaint,
            status__in=[STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED],
        )
        assert (task.flow_task.name, task.owner_id) == ("handle", senior.pk)
        work = WorkItem.objects.get(kind="complaint", object_id=complaint.pk)
        assert (work.assignee_id, work.team_id, work.escalation_level) == (
            senior.pk,
            seniors.pk,
            5,
        )
        moved = AuditEvent.objects.get(complaint=complaint, after__action="reassign")
        assert moved.before["assignee"] == first_handlers[complaint.pk]
        assert moved.before["team"] == cdesk.team.pk
        # the new handler carries on through the flow
        services.acknowledge_complaint(complaint_id=complaint.pk, actor=senior)
        assert fresh(complaint).status == "investigating"


def test_a_reassign_level_with_nobody_free_leaves_the_task_to_the_team(
    cdesk: ComplaintsDesk,
) -> None:
    seniors: Any = TeamFactory(name="Only the accused")
    about: Any = AgentFactory(username="about-me-too")
    seniors.members.add(about)
    policy = ComplaintPolicy.objects.get(profile__code=PROFILE, severity="S3", regulatory=False)
    policy.sla_policy.escalation = [
        {"at_percent": 100, "target": "final_answer", "action": "reassign", "team": seniors.pk}
    ]
    policy.sla_policy.save()
    complaint = open_complaint(cdesk, about_user_id=about.pk)

    make_due(complaint, share=1.01)
    ladder.fire_batch()

    complaint = fresh(complaint)
    assert complaint.team_id == seniors.pk and complaint.assignee_id is None
    work = WorkItem.objects.get(kind="complaint", object_id=complaint.pk)
    assert (work.assignee_id, work.team_id) == (None, seniors.pk)
    # the handling task waits unassigned for the team: the former handler no longer has it
    task = Task.objects.get(
        process__complaintprocess__complaint=complaint,
        status__in=[STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED],
    )
    assert (task.flow_task.name, task.status, task.owner_id) == ("handle", STATUS.NEW, None)
    # the person complained about cannot take it either
    from core.errors import Forbidden

    with pytest.raises(Forbidden):
        services.claim_complaint(complaint_id=complaint.pk, actor=about)
    # a member of the team takes it through the flow
    newcomer: Any = AgentFactory(username="newcomer")
    seniors.members.add(newcomer)
    services.claim_complaint(complaint_id=complaint.pk, actor=newcomer)
    task.refresh_from_db()
    assert (task.status, task.owner_id) == (STATUS.ASSIGNED, newcomer.pk)
    assert fresh(complaint).assignee_id == newcomer.pk


def test_a_complaint_answered_in_time_fires_nothing(cdesk: ComplaintsDesk) -> None:
    complaint = open_complaint(cdesk)
    services.acknowledge_complaint(complaint_id=complaint.pk, actor=complaint.assignee)
    services.propose_resolution(
        complaint_id=complaint.pk,
        actor=complaint.assignee,
        outcome="upheld",
        resolution="Refunded.",
        root_cause="staff-error",
    )
    make_due(complaint, share=2)

    assert ladder.fire_batch() == (0, 0)
    assert escalations(complaint) == []


# --- the real worker ---------------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_celery_worker_and_beat_fire_a_complaints_ladder(
    celery_worker_process: Any,  # noqa: F811 - the imported fixture
) -> None:
    desk = build_complaints_desk(PROFILE)
    complaint = open_complaint(desk)
    make_due(complaint, share=1.01)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        clock = fresh(complaint).sla_clock
        if clock is not None and clock.escalation_level == 4:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"the ladder did not fire\n{worker_log(celery_worker_process)}")

    complaint = fresh(complaint)
    assert complaint.severity == "S2" and complaint.sla_clock.breached
    assert [level for level, _action in escalations(complaint)] == [1, 2, 3, 4]
    assert told(desk.manager, "escalated", complaint) == 1
    assert told(desk.supervisor, "escalated", complaint) == 1
    work = WorkItem.objects.get(kind="complaint", object_id=complaint.pk)
    assert (work.escalation_level, work.breached, work.priority) == (4, True, "S2")
