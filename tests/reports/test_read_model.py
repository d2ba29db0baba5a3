# ruff: noqa: RUF001
"""The read model's corners: a target breached unmet, root causes beyond the counter
columns, the beat task, and the page in Chinese (docs/reports.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation

from complaints.models import RootCause
from reports import selectors
from reports.models import ROOT_CAUSE_SLOTS, RootCauseSlot
from reports.rollup import DayCounts, Slots, refresh_complaint_rollups
from reports.tasks import refresh_complaint_report
from sla.models import SlaClock

from .dataset import build_known_set

pytestmark = pytest.mark.django_db


def _stats() -> dict[str, Any]:
    today = timezone.localdate()
    return selectors.complaint_statistics(
        selectors.parse_filters({"from": (today - timedelta(days=40)).isoformat()})
    )


def test_a_target_breached_unmet_counts_as_decided_and_late() -> None:
    known = build_known_set()
    clock = SlaClock.objects.get(kind="complaint", object_id=known.untouched.pk)
    # what the dispatcher does when the acknowledgement falls due unmet
    clock.targets["acknowledge"]["breached"] = True
    SlaClock.objects.filter(pk=clock.pk).update(targets=clock.targets)
    refresh_complaint_rollups()
    acknowledge = _stats()["targets"][0]
    assert (acknowledge["decided"], acknowledge["within"], acknowledge["late"]) == (5, 3, 2)
    assert acknowledge["share_within"] == 0.6


def test_root_causes_beyond_the_counter_columns_are_counted_as_others() -> None:
    known = build_known_set()
    taken = RootCause.objects.exclude(code="staff-error").values_list("pk", flat=True)
    # every column but the last given away already (to causes that no complaint has)
    RootCauseSlot.objects.all().delete()
    RootCauseSlot.objects.bulk_create(
        [RootCauseSlot(slot=n, root_cause_id=10_000 + n) for n in range(ROOT_CAUSE_SLOTS - 1)]
    )
    assert len(list(taken)) > 1
    refresh_complaint_rollups(full=True)
    causes = {row["code"]: row["count"] for row in _stats()["by_root_cause"]}
    assert causes == {"other": 3}
    assert known.late.root_cause_id is not None


def test_the_slots_are_kept_per_root_cause() -> None:
    slots = Slots()
    first, second = slots.slot(901), slots.slot(902)
    assert first != second and Slots().slot(901) == first


def test_day_counts_read_a_clock_without_targets() -> None:
    counts = DayCounts(Slots())
    now = timezone.now()
    counts.add((now, 1, 2, None, "api", "S3", None, None, None, 0, None, "", "", None))
    (row,) = counts.rows(now.date())
    assert row[2] == 31 and row[5] == 0  # the finest cell; no team is team 0
    assert row[8] == 1  # one complaint


def test_the_beat_task_refreshes_the_read_model() -> None:
    assert (
        settings.CELERY_BEAT_SCHEDULE["refresh-complaint-report"]["task"]
        == "reports.tasks.refresh_complaint_report"
    )
    build_known_set()
    assert selectors.complaint_statistics(selectors.parse_filters({}))["as_of"] is None
    assert refresh_complaint_report() >= 1
    assert _stats()["totals"]["complaints"] == 5
    assert refresh_complaint_report.apply().get() >= 0  # safe to run twice


@pytest.fixture
def _english_afterwards() -> Any:
    """A request activates its language in this thread; later tests expect the default."""
    yield
    translation.deactivate()


@pytest.mark.usefixtures("_english_afterwards")
def test_the_page_speaks_chinese() -> None:
    known = build_known_set()
    refresh_complaint_rollups()
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(known.desk.supervisor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get("/reports/complaints/").content.decode()
    assert "投诉统计" in html and "监管登记簿（Excel）" in html and ">报表<" in html
