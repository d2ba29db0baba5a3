"""The complaints' configuration in the admin: a policy's clock edited in hours and days
writes its SLA policy, refuses what makes no sense, and every write is audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from complaints.models import Complaint, ComplaintPolicy, SeverityRule
from tests.factories.complaints import build_complaints_desk, open_complaint

pytestmark = pytest.mark.django_db


@pytest.fixture
def root() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def _form(policy: ComplaintPolicy, **changes: Any) -> dict[str, Any]:
    data = {
        "profile": policy.profile_id,
        "severity": policy.severity,
        "regulatory": "on" if policy.regulatory else "",
        "acknowledge_hours": "24",
        "first_contact_hours": "72",
        "final_answer_days": "15",
        "calendar": "",
        "warning_percent": "80",
        "escalation": '[{"at_percent": 50, "target": "final_answer", "action": "warn"}]',
        "extension_days": "15, 30",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_a_policy_edited_in_days_writes_its_sla_policy_and_is_audited(root: Client) -> None:
    policy = ComplaintPolicy.objects.get(
        profile__code="cn-telecom", severity="S2", regulatory=False
    )
    url = reverse("admin:complaints_complaintpolicy_change", args=[policy.pk])
    assert root.get(url).status_code == 200

    response = root.post(url, _form(policy, final_answer_days="10", extension_days="5, 10"))

    assert response.status_code == 302, response.content.decode()[-2000:]
    policy.refresh_from_db()
    assert policy.sla_policy.targets == {
        "acknowledge": 86400,
        "first_contact": 3 * 86400,
        "final_answer": 10 * 86400,
    }
    assert policy.extensions == [5 * 86400, 10 * 86400]
    assert AuditEvent.objects.filter(subject_kind="complaint_policy", object_id=policy.pk).exists()


def test_nonsense_is_refused_and_changes_nothing(root: Client) -> None:
    policy = ComplaintPolicy.objects.get(profile__code="uk-fca", severity="S1", regulatory=True)
    before = dict(policy.sla_policy.targets)
    url = reverse("admin:complaints_complaintpolicy_change", args=[policy.pk])
    for bad in (
        {"extension_days": "ten"},
        {"final_answer_days": "-1"},
        {"escalation": '[{"at_percent": 50, "target": "final_answer", "action": "explode"}]'},
        {"warning_percent": "150"},
    ):
        response = root.post(url, _form(policy, **bad))
        assert response.status_code == 200, bad  # the form again, with its errors
        assert b"errorlist" in response.content, bad
    policy.refresh_from_db()
    assert policy.sla_policy.targets == before


def test_the_matrix_drives_intake_once_edited(root: Client) -> None:
    desk = build_complaints_desk()
    rule = SeverityRule.objects.get(impact="low", urgency="low")
    url = reverse("admin:complaints_severityrule_change", args=[rule.pk])
    response = root.post(url, {"impact": "low", "urgency": "low", "severity": "S2"})
    assert response.status_code == 302
    complaint = open_complaint(desk, impact="low", urgency="low")
    assert complaint.severity == complaint.derived_severity == "S2"
    assert AuditEvent.objects.filter(subject_kind="severity_rule", verb="changed").count() == 1


def test_complaints_are_read_only_in_the_admin(root: Client) -> None:
    desk = build_complaints_desk()
    complaint = open_complaint(desk)
    assert root.get(reverse("admin:complaints_complaint_changelist")).status_code == 200
    page = root.get(reverse("admin:complaints_complaint_change", args=[complaint.pk]))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert Complaint.objects.count() == 1
