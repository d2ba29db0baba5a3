"""The regulator clocks as shipped (complaints/migrations/0002_defaults.py): each profile's
three targets, the warning at 80 %, the extensions and a dispute's fresh target, checked
against an independent reckoning of calendar days (24x7) and of working days (whole days
Monday to Friday in Asia/Shanghai)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaints import services
from complaints.models import Complaint, ComplaintPolicy
from core.errors import Conflict
from sla import clock as clocks
from sla.calendars import business_seconds_between
from tests.factories import ContactFactory, CustomerFactory
from tests.factories.complaints import ComplaintsDesk, build_complaints_desk, open_complaint

pytestmark = pytest.mark.django_db

HOUR, DAY = 3600, 86400
SHANGHAI = ZoneInfo("Asia/Shanghai")
TARGETS = ("acknowledge", "first_contact", "final_answer")
# What ships, as the regulators' rules say it (issue 11).
SHIPPED: dict[str, dict[str, Any]] = {
    "standard": {
        "working_days": True,
        "targets": {
            "S1": (4 * HOUR, 1 * DAY, 5 * DAY),
            "S2": (1 * DAY, 2 * DAY, 10 * DAY),
            "S3": (1 * DAY, 3 * DAY, 15 * DAY),
            "S4": (2 * DAY, 5 * DAY, 15 * DAY),
        },
        "extensions": [10 * DAY],
    },
    "cn-banking-insurance": {
        "working_days": False,
        "targets": dict.fromkeys(("S1", "S2", "S3", "S4"), (1 * DAY, 3 * DAY, 15 * DAY)),
        "extensions": [15 * DAY, 30 * DAY],
    },
    "cn-telecom": {
        "working_days": False,
        "targets": dict.fromkeys(("S1", "S2", "S3", "S4"), (1 * DAY, 3 * DAY, 15 * DAY)),
        "extensions": [],
    },
    "uk-fca": {
        "working_days": False,
        "targets": dict.fromkeys(("S1", "S2", "S3", "S4"), (5 * DAY, 10 * DAY, 56 * DAY)),
        "extensions": [],
    },
    "au-asic": {
        "working_days": False,
        "targets": dict.fromkeys(("S1", "S2", "S3", "S4"), (1 * DAY, 5 * DAY, 30 * DAY)),
        "extensions": [],
    },
}
# impact and urgency the shipped matrix turns into each severity
CELL = {
    "S1": ("critical", "high"),
    "S2": ("high", "medium"),
    "S3": ("medium", "medium"),
    "S4": ("low", "low"),
}


def later(start: datetime, seconds: int, *, working_days: bool) -> datetime:
    """The reckoning by hand: ``seconds`` of a calendar-day clock, or of a working-days
    clock (whole days Monday to Friday, Shanghai time; a budget spent exactly at midnight
    is due then, not at the next opening)."""
    if not working_days:
        return start + timedelta(seconds=seconds)
    local = start.astimezone(SHANGHAI)
    while local.weekday() >= 5:
        local = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    remaining = timedelta(seconds=seconds)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    if remaining <= midnight - local:
        return (local + remaining).astimezone(UTC)
    remaining -= midnight - local
    day = midnight
    while True:
        while day.weekday() >= 5:
            day += timedelta(days=1)
        if remaining <= timedelta(days=1):
            return (day + remaining).astimezone(UTC)
        remaining -= timedelta(days=1)
        day += timedelta(days=1)


@pytest.fixture
def cdesk(db: Any) -> ComplaintsDesk:
    return build_complaints_desk()


def received(
    desk: ComplaintsDesk,
    profile: str,
    *,
    at: datetime,
    severity: str = "S3",
    regulatory: bool = False,
) -> Any:
    """A complaint of a customer of its own (no repeat) whose clock started ``at``."""
    contact: Any = ContactFactory(customer=CustomerFactory())
    impact, urgency = CELL[severity]
    complaint: Any = open_complaint(
        desk,
        profile=profile,
        impact=impact,
        urgency=urgency,
        regulatory=regulatory,
        customer_id=contact.customer_id,
        contact_id=contact.pk,
    )
    clock = complaint.sla_clock
    clock.started_at = at
    clocks.save(clock)
    return Complaint.objects.select_related("sla_clock").get(pk=complaint.pk)


def fresh_row(pk: int) -> Any:
    return Complaint.objects.select_related("sla_clock").get(pk=pk)


def final_due(complaint: Any) -> datetime:
    due = clocks.target_due(complaint.sla_clock, "final_answer")
    assert due is not None
    return due


def extend(complaint: Complaint, desk: ComplaintsDesk) -> Any:
    return services.extend_deadline(
        complaint_id=complaint.pk, actor=desk.supervisor, reason="Waiting for a third party"
    )


# --- the shipped profiles --------------------------------------------------------------
# A Thursday afternoon in Shanghai: a working-days clock crosses a weekend within two days.
THURSDAY = datetime(2026, 11, 26, 15, 30, 12, tzinfo=SHANGHAI)


@pytest.mark.parametrize("profile", sorted(SHIPPED))
@pytest.mark.parametrize("severity", ["S1", "S2", "S3", "S4"])
@pytest.mark.parametrize("regulatory", [False, True])
def test_each_profiles_targets(
    cdesk: ComplaintsDesk, profile: str, severity: str, regulatory: bool
) -> None:
    spec = SHIPPED[profile]
    complaint = received(cdesk, profile, at=THURSDAY, severity=severity, regulatory=regulatory)
    clock = complaint.sla_clock

    assert complaint.severity == severity
    policy = ComplaintPolicy.objects.get(sla_policy_id=clock.policy_id)
    assert (policy.profile.code, policy.severity, policy.regulatory) == (
        profile,
        severity,
        regulatory,
    )
    assert policy.extensions == spec["extensions"]
    assert (clock.terms["calendar"] is not None) == spec["working_days"]
    for target, seconds in zip(TARGETS, spec["targets"][severity], strict=True):
        expected = later(THURSDAY, seconds, working_days=spec["working_days"])
        assert clocks.target_due(clock, target) == expected, target
    # the queue orders by the nearest target
    assert clock.due == clocks.target_due(clock, "acknowledge")


def test_ten_working_days_skip_two_weekends(cdesk: ComplaintsDesk) -> None:
    complaint = received(cdesk, "standard", at=THURSDAY, severity="S2")
    # Thursday 26 Nov 15:30 + 10 working days = Thursday 10 Dec 15:30 (Shanghai)
    assert final_due(complaint) == datetime(2026, 12, 10, 15, 30, 12, tzinfo=SHANGHAI)
    # and on a calendar-day profile the same 15 days are Friday 11 Dec 15:30
    banking = received(cdesk, "cn-banking-insurance", at=THURSDAY)
    assert final_due(banking) == datetime(2026, 12, 11, 15, 30, 12, tzinfo=SHANGHAI)


def test_received_at_the_weekend_starts_on_monday(cdesk: ComplaintsDesk) -> None:
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI)
    complaint = received(cdesk, "standard", at=saturday, severity="S1")
    clock = complaint.sla_clock
    # 4 working hours: Monday 04:00; one working day: Monday midnight (due at closing)
    assert clocks.target_due(clock, "acknowledge") == datetime(2026, 11, 30, 4, 0, tzinfo=SHANGHAI)
    assert clocks.target_due(clock, "first_contact") == datetime(2026, 12, 1, 0, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize("profile", ["standard", "uk-fca"])
def test_the_warning_falls_at_eighty_percent(cdesk: ComplaintsDesk, profile: str) -> None:
    working = SHIPPED[profile]["working_days"]
    complaint = received(cdesk, profile, at=THURSDAY)
    clock = complaint.sla_clock
    assert clock.terms["warning_percent"] == 80
    checkpoints = {c.key: c.at for c in clocks.pending_checkpoints(clock)}
    for target, seconds in zip(TARGETS, SHIPPED[profile]["targets"]["S3"], strict=True):
        assert checkpoints[f"{target}:warning"] == later(
            THURSDAY, seconds * 8 // 10, working_days=working
        )
        assert checkpoints[f"{target}:breach"] == later(THURSDAY, seconds, working_days=working)
    # the clock's next look is the earliest of them: the acknowledgement's warning
    assert clock.next_at == checkpoints["acknowledge:warning"]


# --- extensions --------------------------------------------------------------------------
def _recent(days: float) -> datetime:
    return timezone.now() - timedelta(days=days)


def test_banking_extends_twice_then_no_more(cdesk: ComplaintsDesk) -> None:
    start = _recent(3)
    complaint = received(cdesk, "cn-banking-insurance", at=start)
    assert final_due(complaint) == start + timedelta(days=15)

    first = extend(complaint, cdesk)
    second = extend(complaint, cdesk)

    complaint.refresh_from_db()
    complaint.sla_clock.refresh_from_db()
    assert (first.seconds, second.seconds) == (15 * DAY, 30 * DAY)
    assert first.due_after == start + timedelta(days=30)  # 15 days, extended to 30 …
    assert second.due_after == start + timedelta(days=60)  # … and once more by approval
    assert final_due(complaint) == second.due_after
    assert complaint.extensions_used == 2
    with pytest.raises(Conflict, match="2 used of 2"):
        extend(complaint, cdesk)


def test_a_working_days_extension_counts_working_days(cdesk: ComplaintsDesk) -> None:
    start = _recent(1)
    complaint = received(cdesk, "standard", at=start)
    before = final_due(complaint)

    extension = extend(complaint, cdesk)

    assert extension.due_before == before
    assert extension.due_after == later(start, 25 * DAY, working_days=True)
    assert extension.due_after - before == timedelta(days=14)  # 10 working days, two weekends
    complaint.sla_clock.refresh_from_db()
    clock = complaint.sla_clock
    # the warning and breach of the final answer run again from the new due moment
    checkpoints = {c.key: c.at for c in clocks.pending_checkpoints(clock)}
    assert checkpoints["final_answer:breach"] == extension.due_after
    assert checkpoints["final_answer:warning"] == later(start, 20 * DAY, working_days=True)
    with pytest.raises(Conflict):
        extend(complaint, cdesk)


@pytest.mark.parametrize("profile", ["cn-telecom", "uk-fca", "au-asic"])
def test_profiles_without_extensions_refuse_one(cdesk: ComplaintsDesk, profile: str) -> None:
    complaint = received(cdesk, profile, at=_recent(1))
    before = final_due(complaint)
    with pytest.raises(Conflict, match="0 used of 0"):
        extend(complaint, cdesk)
    complaint.sla_clock.refresh_from_db()
    assert final_due(complaint) == before


def test_an_extension_after_a_warning_fired_clears_it(cdesk: ComplaintsDesk) -> None:
    from sla import ladder

    start = _recent(13)  # past 80 % of 15 days
    complaint = received(cdesk, "cn-banking-insurance", at=start)
    ladder.fire_batch()
    complaint.sla_clock.refresh_from_db()
    assert "final_answer:warning" in complaint.sla_clock.done

    extend(complaint, cdesk)

    complaint.sla_clock.refresh_from_db()
    clock = complaint.sla_clock
    assert "final_answer:warning" not in clock.done
    assert final_due(complaint) == start + timedelta(days=30)
    assert clock.next_at is not None and clock.next_at <= start + timedelta(days=24)


# --- a dispute ---------------------------------------------------------------------------
@pytest.mark.parametrize("profile", ["standard", "au-asic"])
def test_a_dispute_gets_a_fresh_final_answer_target(cdesk: ComplaintsDesk, profile: str) -> None:
    working = SHIPPED[profile]["working_days"]
    budget = SHIPPED[profile]["targets"]["S3"][2]
    complaint = received(cdesk, profile, at=_recent(2))
    services.acknowledge_complaint(complaint_id=complaint.pk, actor=complaint.assignee)
    services.propose_resolution(
        complaint_id=complaint.pk,
        actor=complaint.assignee,
        outcome="not_upheld",
        resolution="The charge was right.",
        root_cause="customer-expectation",
    )
    earlier = timezone.now()
    services.respond_as_customer(
        complaint_id=complaint.pk,
        contact_id=complaint.contact_id,
        answer=0,
        accept=False,
        reason="It was not.",
    )
    after = timezone.now()

    complaint = fresh_row(complaint.pk)
    due = final_due(complaint)
    low = later(earlier, budget, working_days=working) - timedelta(seconds=1)
    high = later(after, budget, working_days=working) + timedelta(seconds=1)
    assert low <= due <= high
    assert complaint.sla_clock.due == due  # the other targets stay met


# --- property: any start, any extensions ---------------------------------------------------
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    profile=st.sampled_from(["standard", "cn-banking-insurance"]),
    # received within the last 4 days, to the microsecond: the final answer is still ahead
    ago=st.integers(min_value=0, max_value=4 * DAY * 10**6),
    extensions=st.lists(st.integers(min_value=1, max_value=20 * DAY), max_size=4),
    tries=st.integers(min_value=0, max_value=5),
)
def test_the_final_answer_is_start_plus_budget_in_the_calendar(
    cdesk: ComplaintsDesk, profile: str, ago: int, extensions: list[int], tries: int
) -> None:
    ComplaintPolicy.objects.filter(profile__code=profile).update(extensions=extensions)
    working = SHIPPED[profile]["working_days"]
    start = timezone.now() - timedelta(microseconds=ago)
    complaint = received(cdesk, profile, at=start)
    calendar = clocks.calendar_of(complaint.sla_clock.terms)
    budget = SHIPPED[profile]["targets"]["S3"][2]
    dues = [final_due(complaint)]
    granted = 0
    for _ in range(tries):
        if granted == len(extensions):
            with pytest.raises(Conflict):
                extend(complaint, cdesk)
            break
        extension = extend(complaint, cdesk)
        assert extension.seconds == extensions[granted]
        budget += extensions[granted]
        granted += 1
        complaint.sla_clock.refresh_from_db()
        dues.append(final_due(complaint))
        assert extension.due_after == dues[-1]
    assert dues == sorted(dues) and len(set(dues)) == len(dues)  # strictly later each time
    assert dues[-1] == later(start, budget, working_days=working)
    assert business_seconds_between(calendar, start, dues[-1]) == budget
    complaint.refresh_from_db()
    assert complaint.extensions_used == granted
