"""A notification names its subject's kind: a complaint's reads "Complaint C-…", in English
and in Simplified Chinese, whether the kind comes from the row (the SLA ladder) or from the
data (the complaint services)."""

# ruff: noqa: RUF001

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from notifications.messages import render_title
from notifications.models import Notification
from notifications.selectors import as_row
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_afterwards() -> Any:
    yield
    translation.deactivate()


@pytest.mark.parametrize(
    ("kind", "english", "chinese"),
    [
        (
            "assigned",
            "Complaint C-2026-000001 was assigned to you",
            "投诉 C-2026-000001 已分配给您",
        ),
        (
            "sla_warning",
            "Complaint C-2026-000001 is close to its deadline",
            "投诉 C-2026-000001 即将到期",
        ),
        (
            "sla_breached",
            "Complaint C-2026-000001 missed its deadline",
            "投诉 C-2026-000001 已超过期限",
        ),
        (
            "escalated",
            "Complaint C-2026-000001 was escalated (level 2)",
            "投诉 C-2026-000001 已升级（第 2 级）",
        ),
        (
            "approval_requested",
            "Complaint C-2026-000001 awaits your approval",
            "投诉 C-2026-000001 等待您审批",
        ),
        (
            "proposal_rejected",
            "The resolution of complaint C-2026-000001 was rejected",
            "投诉 C-2026-000001 的处理方案被驳回",
        ),
    ],
)
def test_complaint_titles_in_both_languages(kind: str, english: str, chinese: str) -> None:
    data = {"number": "C-2026-000001", "level": 2}
    with translation.override("en"):
        assert render_title(kind, data, "complaint") == english
        assert render_title(kind, {**data, "subject": "complaint"}) == english
    with translation.override("zh-hans"):
        assert render_title(kind, data, "complaint") == chinese


def test_a_ticket_stays_a_ticket() -> None:
    with translation.override("en"):
        assert render_title("sla_breached", {"number": "T-1"}) == "Ticket T-1 breached its SLA"
        assert (
            render_title("sla_breached", {"number": "T-1"}, "ticket")
            == "Ticket T-1 breached its SLA"
        )


def test_a_ladder_notification_of_a_complaint_names_it_from_its_row() -> None:
    """The SLA ladder writes the kind on the row, not in the data."""
    user: Any = UserFactory()
    note = Notification.objects.create(
        recipient=user,
        kind="sla_breached",
        data={"number": "C-2026-000007"},
        subject_kind="complaint",
        object_id=7,
    )
    with translation.override("en"):
        row = as_row(note)
    assert row["title"] == "Complaint C-2026-000007 missed its deadline"
    assert row["subject_kind"] == "complaint" and row["object_id"] == 7 and row["ticket"] is None


def test_the_handler_of_a_new_complaint_is_told_by_its_number() -> None:
    from tests.factories.complaints import build_complaints_desk, open_complaint

    desk = build_complaints_desk()
    complaint = open_complaint(desk)
    note = Notification.objects.get(recipient=complaint.assignee, kind="assigned")
    with translation.override("en"):
        assert as_row(note)["title"] == f"Complaint {complaint.number} was assigned to you"
