"""The complaint process end to end through its services, without HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from viewflow.workflow.models import Task

from complaints import services
from complaints.links import read_respond_token
from complaints.models import Complaint
from outbox.models import OutboxMessage
from processes.models import WorkItem
from tests.factories.complaints import build_complaints_desk, open_complaint

pytestmark = pytest.mark.django_db(transaction=False)


def _node(complaint: Complaint) -> str | None:
    task = (
        Task.objects.filter(
            process__complaintprocess__complaint=complaint,
            status__in=["NEW", "ASSIGNED", "STARTED"],
        )
        .order_by("-id")
        .first()
    )
    return task.flow_task.name if task else None


def test_a_complaint_walks_from_intake_through_approval_dispute_and_close() -> None:
    desk = build_complaints_desk()
    complaint = open_complaint(desk, about_user_id=desk.handler1.pk)
    assert complaint.number.startswith("C-")
    assert complaint.severity == "S3"
    # never the person complained about
    assert complaint.assignee_id == desk.handler2.pk
    assert _node(complaint) == "handle"
    item = WorkItem.objects.get(kind="complaint", object_id=complaint.pk)
    assert item.assignee_id == desk.handler2.pk and item.priority == "S3"

    services.acknowledge_complaint(complaint_id=complaint.pk, actor=desk.handler2)
    assert OutboxMessage.objects.filter(kind="complaint.acknowledged").count() == 1
    services.log_contact(
        complaint_id=complaint.pk, actor=desk.handler2, channel="phone", summary="Called back"
    )
    proposal = services.propose_resolution(
        complaint_id=complaint.pk,
        actor=desk.handler2,
        outcome="upheld",
        resolution="We refund the second charge.",
        root_cause="system-defect",
        compensation_amount="500.00",
        compensation_kind="refund",
    )
    assert proposal.status == "pending" and proposal.required_level == "supervisor"
    assert proposal.approver_id == desk.supervisor.pk
    complaint.refresh_from_db()
    assert _node(complaint) == "approval"
    item.refresh_from_db()
    assert item.assignee_id == desk.supervisor.pk and item.status == "awaiting_approval"

    services.approve_proposal(complaint_id=complaint.pk, actor=desk.supervisor)
    complaint.refresh_from_db()
    assert complaint.status == "awaiting_customer" and _node(complaint) == "answered"
    outcome = OutboxMessage.objects.get(kind="complaint.outcome")
    token = outcome.body_text.split("/help/complaints/")[1].split("/")[0]
    access = read_respond_token(token)
    assert access.complaint_id == complaint.pk
    assert not WorkItem.objects.filter(kind="complaint", object_id=complaint.pk).exists()

    services.respond_as_customer(
        complaint_id=complaint.pk,
        contact_id=access.contact_id,
        answer=access.answer,
        accept=False,
        reason="The refund is not enough.",
    )
    complaint.refresh_from_db()
    assert complaint.status == "investigating" and _node(complaint) == "handle"
    assert complaint.sla_clock is not None and complaint.sla_clock.escalation_level == 2
    assert complaint.severity == "S2"

    services.propose_resolution(
        complaint_id=complaint.pk,
        actor=desk.handler2,
        outcome="upheld",
        resolution="We refund both charges.",
        root_cause="system-defect",
        compensation_amount="50",
        compensation_kind="credit",
    )
    complaint.refresh_from_db()
    assert complaint.status == "awaiting_customer"
    services.close_complaint(complaint_id=complaint.pk, actor=desk.handler2, note="Accepted")
    complaint.refresh_from_db()
    assert complaint.status == "closed" and _node(complaint) == "closed"


def test_refusals_change_nothing(django_assert_num_queries: Any) -> None:
    from core.errors import Conflict, Forbidden

    desk = build_complaints_desk("cn-telecom")
    complaint = open_complaint(desk, about_user_id=desk.handler1.pk)
    with pytest.raises(Forbidden):
        services.acknowledge_complaint(complaint_id=complaint.pk, actor=desk.handler1)
    with pytest.raises(Conflict):
        services.extend_deadline(complaint_id=complaint.pk, actor=desk.supervisor, reason="x")
    complaint.refresh_from_db()
    assert complaint.acknowledged_at is None and complaint.extensions_used == 0
