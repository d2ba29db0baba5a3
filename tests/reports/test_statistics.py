"""Every figure of the complaint report on a small known set (tests/reports/dataset.py),
read through the rollups after a refresh (docs/reports.md)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from complaints import services
from complaints.models import ComplaintCategory, ComplaintProfile, RootCause
from reports import selectors
from reports.choices import DAY
from reports.rollup import refresh_complaint_rollups

from .dataset import build_known_set

pytestmark = pytest.mark.django_db


def _stats(**params: Any) -> dict[str, Any]:
    today = timezone.localdate()
    query = {"from": (today - timedelta(days=40)).isoformat(), "to": today.isoformat()}
    query.update({k: str(v) for k, v in params.items()})
    return selectors.complaint_statistics(selectors.parse_filters(query))


def _by(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {row["code"]: row["count"] for row in rows}


def test_every_figure_of_a_known_set() -> None:
    known = build_known_set()
    assert known.repeat.repeat_of_id == known.late.pk
    assert known.repeat.extensions_used == 1
    assert known.late.status == "closed" and known.late.approved_level == "supervisor"
    assert known.repeat.approved_level == "handler"
    refreshed = refresh_complaint_rollups()
    assert refreshed.days >= 2

    stats = _stats()
    assert stats["as_of"] == refreshed.as_of.isoformat()
    assert stats["totals"] == {
        "complaints": 5,
        "answered": 3,
        "repeats": 1,
        "repeat_rate": 0.2,
        "extended": 1,
        "extended_share": 0.2,
        "extensions": 1,
    }
    assert _by(stats["by_category"]) == {"billing": 2, "product": 1, "service": 1, "privacy": 1}
    assert _by(stats["by_channel"]) == {"phone": 2, "letter": 1, "web": 1, "api": 1}
    assert _by(stats["by_severity"]) == dict(Counter(c.severity for c in known.all))
    assert known.repeat.severity == "S2"  # a repeat is raised one step
    assert _by(stats["by_root_cause"]) == {
        "system-defect": 1,
        "customer-expectation": 1,
        "staff-error": 1,
    }

    # handling times: ~0 (the repeat), 3 days (the letter), 30 days (the late one); the
    # median is halfway through the 3-4 day bucket, p90 70% into the 30-35 day one
    assert stats["handling"]["answered"] == 3
    assert stats["handling"]["median_seconds"] == round(3.5 * DAY)
    assert stats["handling"]["p90_seconds"] == round(33.5 * DAY)
    histogram = {
        b["below_seconds"]: b["count"] for b in stats["handling"]["histogram"] if b["count"]
    }
    assert histogram == {3600: 1, 4 * DAY: 1, 35 * DAY: 1}

    # targets: the late one missed all three; the letter and the repeat met theirs; the one
    # acknowledged met that; nothing was breached unmet (no dispatcher ran)
    targets = {t["target"]: t for t in stats["targets"]}
    assert targets["acknowledge"] | {"label": ""} == {
        "target": "acknowledge",
        "label": "",
        "decided": 4,
        "within": 3,
        "late": 1,
        "share_within": 0.75,
    }
    assert (targets["first_contact"]["decided"], targets["first_contact"]["within"]) == (3, 2)
    assert (targets["final_answer"]["decided"], targets["final_answer"]["within"]) == (3, 2)
    assert targets["final_answer"]["share_within"] == 0.6667

    paid = {level["level"]: level for level in stats["compensation"]}
    assert (paid["supervisor"]["count"], paid["supervisor"]["amount"]) == (1, "500.00")
    assert (paid["handler"]["count"], paid["handler"]["amount"]) == (1, "50.00")
    assert (paid["manager"]["count"], paid["manager"]["amount"]) == (0, "0.00")
    kinds = {k["kind"]: (k["count"], k["amount"]) for k in paid["supervisor"]["kinds"]}
    assert kinds == {
        "refund": (1, "500.00"),
        "credit": (0, "0.00"),
        "voucher": (0, "0.00"),
        "goodwill": (0, "0.00"),
    }


def test_the_filters_narrow_every_figure() -> None:
    known = build_known_set()
    refresh_complaint_rollups()
    banking = ComplaintProfile.objects.get(code="cn-banking-insurance")
    only = _stats(profile=banking.pk)
    assert only["totals"]["complaints"] == 1 and only["totals"]["answered"] == 0
    assert _by(only["by_category"]) == {"service": 1}

    phone = _stats(channel="phone")
    assert phone["totals"]["complaints"] == 2 and phone["totals"]["repeats"] == 1
    assert _by(phone["by_root_cause"]) == {"system-defect": 1, "staff-error": 1}

    billing = ComplaintCategory.objects.get(code="billing")
    assert _stats(category=billing.pk)["totals"]["answered"] == 2
    assert _stats(severity="S2", channel="phone")["totals"]["complaints"] == 1
    assert _stats(team=known.desk.team.pk)["totals"]["complaints"] == 5

    # a period that leaves out the complaint received 30 days ago
    today = timezone.localdate()
    recent = selectors.complaint_statistics(
        selectors.parse_filters({"from": (today - timedelta(days=10)).isoformat()})
    )
    assert recent["totals"]["complaints"] == 4
    assert _by(recent["by_root_cause"]) == {"customer-expectation": 1, "staff-error": 1}
    assert recent["compensation"][1]["count"] == 0  # the supervisor's refund was the old one


def test_by_agent_the_figures_are_each_handler_s_share_of_the_whole() -> None:
    """``agent`` counts the handler's complaints themselves (the read model is kept per
    team): every figure of the handlers' reports adds up to the whole report's, and each
    handler's count is the complaints they hold."""
    known = build_known_set()
    refresh_complaint_rollups()
    whole = _stats()
    holders = Counter(c.assignee_id for c in known.all)
    assert None not in holders and len(holders) >= 2
    parts = {agent: _stats(agent=agent) for agent in holders}
    for agent, part in parts.items():
        assert part["totals"]["complaints"] == holders[agent]
        assert part["filters"]["agent"] == str(agent)

    def summed(pick: Any) -> Counter[Any]:
        total: Counter[Any] = Counter()
        for part in parts.values():
            total.update(pick(part))
        return total

    for key in ("complaints", "answered", "repeats", "extended", "extensions"):
        assert sum(p["totals"][key] for p in parts.values()) == whole["totals"][key], key
    for key in ("by_category", "by_channel", "by_severity", "by_root_cause"):
        assert summed(lambda p, k=key: _by(p[k])) == Counter(_by(whole[key])), key
    assert summed(
        lambda p: {b["below_seconds"]: b["count"] for b in p["handling"]["histogram"]}
    ) == Counter({b["below_seconds"]: b["count"] for b in whole["handling"]["histogram"]})
    assert summed(
        lambda p: {(t["target"], f): t[f] for t in p["targets"] for f in ("decided", "within")}
    ) == Counter({(t["target"], f): t[f] for t in whole["targets"] for f in ("decided", "within")})
    assert summed(lambda p: {c["level"]: c["count"] for c in p["compensation"]}) == Counter(
        {c["level"]: c["count"] for c in whole["compensation"]}
    )
    # the other filters still narrow it
    agent = next(iter(holders))
    phone_held = [c for c in known.all if c.assignee_id == agent and c.channel == "phone"]
    assert _stats(agent=agent, channel="phone")["totals"]["complaints"] == len(phone_held)


@pytest.mark.postgres
def test_by_agent_the_sql_and_the_row_by_row_counts_agree() -> None:
    """PostgreSQL groups a handler's complaints in SQL; SQLite (the embedded mode) counts
    them row by row with the read model's code: both give every figure alike."""
    known = build_known_set()
    today = timezone.localdate()
    for agent in {c.assignee_id for c in known.all}:
        for extra in ({}, {"channel": "phone"}, {"from": (today - timedelta(days=10)).isoformat()}):
            query = {"from": (today - timedelta(days=40)).isoformat(), "to": today.isoformat()}
            query.update({"agent": str(agent), **extra})
            filters = selectors.parse_filters(query)
            assert selectors._agent_counts_sql(filters) == selectors._agent_counts_python(
                filters
            ), (agent, extra)


def test_a_refresh_recounts_only_the_days_touched_since_the_last() -> None:
    known = build_known_set()
    refresh_complaint_rollups()
    first = _stats()
    # the days of complaints changed within the overlap are recounted, to the same figures
    assert refresh_complaint_rollups().days == 3
    assert _stats() | {"as_of": None} == first | {"as_of": None}
    handler = known.untouched.assignee
    services.acknowledge_complaint(complaint_id=known.untouched.pk, actor=handler)
    services.propose_resolution(
        complaint_id=known.untouched.pk,
        actor=handler,
        outcome="upheld",
        resolution="We stop the marketing.",
        root_cause="process-gap",
        compensation_amount="20",
        compensation_kind="voucher",
    )
    before = _stats()
    assert before["totals"]["answered"] == 3  # not refreshed yet: the report is "as of"
    again = refresh_complaint_rollups()
    assert again.days >= 1
    after = _stats()
    assert after["totals"]["answered"] == 4
    assert _by(after["by_root_cause"])["process-gap"] == 1
    assert after["compensation"][0]["kinds"][2] == {
        "kind": "voucher",
        "label": "Voucher",
        "count": 1,
        "amount": "20.00",
    }
    assert after["as_of"] > before["as_of"]
    assert RootCause.objects.filter(code="process-gap").exists()


def test_periods_across_months_read_month_and_day_rows_exactly() -> None:
    """Complaints spread over three months: every period, whole months or not, counts
    what the complaints table counts."""
    from complaints.models import Complaint

    from .dataset import build_complaints_desk, open_complaint

    desk = build_complaints_desk()
    start = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=95)
    complaints = [open_complaint(desk, category="sales", subcategory="") for _ in range(12)]
    for n, complaint in enumerate(complaints):
        Complaint.objects.filter(pk=complaint.pk).update(received_at=start + timedelta(days=8 * n))
    refresh_complaint_rollups(full=True)
    first = start.date()
    for date_from, date_to in [
        (first, first + timedelta(days=95)),
        (first + timedelta(days=3), first + timedelta(days=60)),
        (first.replace(day=1), first + timedelta(days=40)),
        (first + timedelta(days=8), first + timedelta(days=8)),
        (first + timedelta(days=9), first + timedelta(days=15)),
    ]:
        stats = selectors.complaint_statistics(
            selectors.ReportFilters(date_from=date_from, date_to=date_to)
        )
        expected = sum(
            1 for n in range(12) if date_from <= (start + timedelta(days=8 * n)).date() <= date_to
        )
        assert stats["totals"]["complaints"] == expected, (date_from, date_to)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, "from"),
        ({"from": "2000-01-01", "to": "2026-05-01"}, "from"),
        ({"channel": "pigeon"}, "channel"),
        ({"severity": "S9"}, "severity"),
        ({"profile": "0"}, "profile"),
        ({"profile": "999999"}, "profile"),
        ({"team": "x"}, "team"),
    ],
)
def test_bad_filters_name_the_field(params: dict[str, str], field: str) -> None:
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput) as raised:
        selectors.parse_filters(params)
    assert field in raised.value.errors


def test_percentile_reads_the_histogram() -> None:
    from reports.choices import BUCKETS

    empty = [0] * BUCKETS
    assert selectors.percentile(empty, 0.5) is None
    one = list(empty)
    one[0] = 4  # four answers within the first hour
    assert selectors.percentile(one, 0.5) == 1800
    last = list(empty)
    last[-1] = 1
    assert selectors.percentile(last, 0.9) == 90 * DAY  # the open bucket: its lower edge
