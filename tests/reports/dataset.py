"""A small known set of complaints, built and walked through ``complaints.services``, for
checking every figure of the complaint report by hand (docs/reports.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from complaints import services
from complaints.models import Complaint
from sla.models import SlaClock
from tests.factories.complaints import ComplaintsDesk, build_complaints_desk, open_complaint

DAY = 86400


@dataclass
class KnownSet:
    desk: ComplaintsDesk
    late: Complaint  # received 30 days ago, every target met late, refund 500 approved
    slow: Complaint  # received 3 days ago (by letter), answered now, no compensation
    repeat: Complaint  # a repeat of ``late``, extended once, credit 50 decided by the handler
    acknowledged: Complaint  # another profile, acknowledged only
    untouched: Complaint  # nothing done yet

    @property
    def all(self) -> list[Complaint]:
        return [self.late, self.slow, self.repeat, self.acknowledged, self.untouched]


def received_earlier(complaint: Complaint, days: int, *, clock: bool) -> None:
    """The complaint came in ``days`` ago (and, with ``clock``, its clock started then)."""
    moment = timezone.now() - timedelta(days=days)
    Complaint.objects.filter(id=complaint.id).update(received_at=moment)
    if clock:
        SlaClock.objects.filter(kind="complaint", object_id=complaint.id).update(started_at=moment)
    complaint.refresh_from_db()


def _handler(complaint: Complaint) -> Any:
    complaint.refresh_from_db()
    return complaint.assignee


def build_known_set() -> KnownSet:
    desk = build_complaints_desk()
    late = open_complaint(desk, channel="phone")
    received_earlier(late, 30, clock=True)
    handler = _handler(late)
    services.acknowledge_complaint(complaint_id=late.pk, actor=handler)
    services.log_contact(complaint_id=late.pk, actor=handler, channel="phone", summary="Called")
    services.propose_resolution(
        complaint_id=late.pk,
        actor=handler,
        outcome="upheld",
        resolution="We refund the second charge.",
        root_cause="system-defect",
        compensation_amount="500.00",
        compensation_kind="refund",
    )
    services.approve_proposal(complaint_id=late.pk, actor=desk.supervisor)
    services.close_complaint(complaint_id=late.pk, actor=handler, note="Accepted by phone")

    slow = open_complaint(
        desk, category="product", subcategory="", channel="letter", impact="high", urgency="high"
    )
    received_earlier(slow, 3, clock=False)
    handler = _handler(slow)
    services.acknowledge_complaint(complaint_id=slow.pk, actor=handler)
    services.propose_resolution(
        complaint_id=slow.pk,
        actor=handler,
        outcome="not_upheld",
        resolution="The delivery was on time.",
        root_cause="customer-expectation",
    )

    repeat = open_complaint(desk, channel="phone")
    handler = _handler(repeat)
    services.acknowledge_complaint(complaint_id=repeat.pk, actor=handler)
    services.extend_deadline(
        complaint_id=repeat.pk, actor=desk.supervisor, reason="Waiting on the bank"
    )
    services.propose_resolution(
        complaint_id=repeat.pk,
        actor=handler,
        outcome="partially_upheld",
        resolution="A credit for the trouble.",
        root_cause="staff-error",
        compensation_amount="50",
        compensation_kind="credit",
    )

    acknowledged = open_complaint(
        desk,
        category="service",
        subcategory="",
        channel="web",
        profile="cn-banking-insurance",
        impact="low",
        urgency="low",
    )
    services.acknowledge_complaint(complaint_id=acknowledged.pk, actor=_handler(acknowledged))
    untouched = open_complaint(desk, category="privacy", subcategory="", channel="api")
    found = KnownSet(desk, late, slow, repeat, acknowledged, untouched)
    for complaint in found.all:
        complaint.refresh_from_db()
    return found
