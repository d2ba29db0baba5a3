"""The complaints of the demo (``load_demo`` runs ``load_demo_complaints``): every state,
both languages, the ladder fired on the backdated clocks, and a second run changes nothing."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEvent
from complaints.models import Complaint, ComplaintNote, ComplaintProfile, Extension, Proposal
from notifications.models import Notification
from outbox.models import OutboxMessage
from processes.models import Link, WorkItem
from sla.models import SlaClock
from surveys.models import Invitation

EXPECTED_STATUSES = {
    "received": 3,
    "investigating": 12,
    "awaiting_approval": 2,
    "awaiting_customer": 2,
    "quality_review": 1,
    "closed": 5,
}


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def status_counts() -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in Complaint.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def row_counts() -> dict[str, int]:
    models: list[Any] = [
        Complaint, ComplaintNote, Proposal, Extension, AuditEvent, WorkItem, SlaClock, Link,
        Invitation, OutboxMessage,
    ]  # fmt: skip
    return {model.__name__: model.objects.count() for model in models}


@pytest.mark.django_db
def test_demo_complaints_cover_every_state_in_both_languages() -> None:
    output = load_demo()

    assert "Demo complaints / 演示投诉: 25" in output
    assert status_counts() == EXPECTED_STATUSES
    manager = authenticate(username="manager", password="manager")
    assert manager is not None
    assert list(manager.groups.values_list("name", flat=True)) == ["manager"]
    team = ComplaintProfile.objects.get(code="standard").team
    assert team is not None
    assert set(ComplaintProfile.objects.values_list("team", flat=True)) == {team.pk}
    assert set(team.members.values_list("username", flat=True)) == {"handler1", "handler2"}
    assert list(team.supervisors.values_list("username", flat=True)) == ["supervisor"]
    languages = set(Complaint.objects.values_list("contact__language", flat=True))
    assert languages == {"en", "zh-hans"}
    profiles = set(Complaint.objects.values_list("profile__code", flat=True))
    assert {"standard", "cn-banking-insurance", "uk-fca"} <= profiles
    # spread over the last weeks, each through the services: a clock and an audit trail
    now = timezone.now()
    ages = [(now - c.received_at).days for c in Complaint.objects.all()]
    assert min(ages) == 0 and max(ages) >= 50
    assert not Complaint.objects.filter(sla_clock__isnull=True).exists()
    assert AuditEvent.objects.filter(verb="created", complaint__isnull=False).count() == 25
    # the approvals wait on a supervisor and, above the supervisor's limit, on the manager
    pending = Proposal.objects.filter(status="pending").order_by("required_level")
    assert list(pending.values_list("required_level", "approver__username")) == [
        ("manager", "manager"),
        ("supervisor", "supervisor"),
    ]
    # the supervisor's has waited 36 hours of its 24: overdue, escalated to the manager
    manager_s, supervisor_s = pending
    assert manager_s.due_at is not None and manager_s.due_at > now
    assert supervisor_s.due_at is not None and supervisor_s.due_at < now
    overdue = AuditEvent.objects.get(
        complaint=supervisor_s.complaint, subject_kind="complaint_approval", verb="sla_breached"
    )
    assert Notification.objects.filter(
        recipient=manager, kind="sla_breached", subject_kind="complaint_approval",
        object_id=supervisor_s.complaint_id,
    ).exists()  # fmt: skip
    assert overdue.created_at > supervisor_s.due_at
    assert not AuditEvent.objects.filter(
        complaint=manager_s.complaint, subject_kind="complaint_approval", verb="sla_breached"
    ).exists()
    approvals = WorkItem.objects.filter(kind="complaint", status="awaiting_approval")
    assert set(approvals.values_list("assignee__username", flat=True)) == {"manager", "supervisor"}
    # a repeat, an override, an extension, a dispute, a conflict of interest, a ticket
    assert Complaint.objects.filter(repeat_of__isnull=False).count() == 1
    assert Complaint.objects.exclude(severity_reason="").count() == 1
    assert Extension.objects.count() == 1
    disputed: Any = Complaint.objects.select_related("sla_clock").get(disputes=1)
    assert disputed.status == "investigating" and disputed.sla_clock.escalation_level >= 2
    escalated = Complaint.objects.get(channel="ticket")
    assert Link.objects.filter(kind="complaint", object_id=escalated.pk, other_kind="ticket")
    assert escalated.about_user is not None and escalated.assignee != escalated.about_user
    assert Complaint.objects.filter(regulatory=True, status="quality_review").count() == 1
    kinds = set(Complaint.objects.exclude(compensation_kind="").values_list(
        "compensation_kind", flat=True
    ))  # fmt: skip
    assert kinds == {"refund", "credit", "voucher", "goodwill"}
    assert Complaint.objects.filter(root_cause__isnull=False).count() >= 8
    # the ladder fired on the overdue ones: the supervisor and the manager were told
    assert AuditEvent.objects.filter(complaint__isnull=False, verb="sla_breached").exists()
    levels = SlaClock.objects.filter(kind="complaint").values_list("escalation_level", flat=True)
    assert max(levels) >= 3
    # closed: one survey invitation each, emailed with the outcome before
    assert Invitation.objects.filter(subject_kind="complaint").count() == 5
    assert OutboxMessage.objects.filter(kind="complaint.outcome").count() >= 5


@pytest.mark.django_db
def test_loading_the_demo_complaints_twice_changes_nothing() -> None:
    load_demo()
    before = row_counts()

    output = load_demo()

    assert output.split() == [
        "demo",
        "data",
        "already",
        "loaded",
        "demo",
        "complaints",
        "already",
        "loaded",
        "demo",
        "customers",
        "already",
        "loaded",
    ]
    assert row_counts() == before
