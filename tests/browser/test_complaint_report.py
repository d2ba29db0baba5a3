"""The complaint report (/reports/complaints/) in Chromium: the charts drawn by the vendored
Chart.js under the Content-Security-Policy, a filter that changes the figures, the export
links that download, and an agent kept out."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from reports.rollup import refresh_complaint_rollups
from tests.browser.conftest import expect, login
from tests.browser.test_csp import refusals
from tests.reports.dataset import build_known_set

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]

CHARTS = ["category", "severity", "channel", "root-cause", "targets", "handling", "compensation"]


def test_charts_filters_and_exports(browser: Any, server: str, transactional_db: Any) -> None:
    known = build_known_set()
    refresh_complaint_rollups()
    today = timezone.localdate()
    start = (today - timedelta(days=40)).isoformat()

    page = login(browser, server, "c-manager", "pw")
    refused = refusals(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    page.wait_for_url("**/reports/complaints/")
    page.fill("#filter-from", start)
    page.dispatch_event("#filter-from", "change")
    expect(page.locator("#total-complaints")).to_have_text("5")

    # every chart is a canvas with a Chart.js instance drawn on it
    for name in CHARTS:
        expect(page.locator(f"#chart-{name}")).to_be_visible()
        assert page.evaluate(
            "id => { const c = window.Chart.getChart(id); return !!c && c.data.datasets.length }",
            f"chart-{name}",
        ), name
    bars = page.evaluate("() => window.Chart.getChart('chart-channel').data.datasets[0].data")
    assert sorted(bars, reverse=True) == [2, 1, 1, 1]
    expect(page.locator("#repeat-rate")).to_have_text("20.0%")
    expect(page.locator("#table-root-cause tbody tr")).to_have_count(3)

    # a filter changes the figures, the charts, the address and the export links
    page.select_option("#filter-channel", "phone")
    expect(page.locator("#total-complaints")).to_have_text("2")
    expect(page.locator("#table-channel tbody tr")).to_have_count(1)
    assert page.evaluate("() => window.Chart.getChart('chart-channel').data.datasets[0].data") == [
        2
    ]
    assert "channel=phone" in page.url
    expect(page.locator("#export-register-xlsx")).to_have_attribute(
        "href",
        f"/reports/complaints/register.xlsx?from={start}&to={today.isoformat()}&channel=phone",
    )

    # the exports download, with the filters
    with page.expect_download() as got:
        page.click("#export-register-csv")
    text = open(got.value.path(), encoding="utf-8-sig").read()  # noqa: SIM115
    assert known.late.number in text and known.repeat.number in text
    assert known.slow.number not in text
    with page.expect_download() as got:
        page.click("#export-register-xlsx")
    sheet = load_workbook(io.BytesIO(open(got.value.path(), "rb").read())).active  # noqa: SIM115
    assert sheet.max_row == 3  # header and the two phone complaints
    with page.expect_download() as got:
        page.click("#export-statistics")
    assert got.value.suggested_filename.startswith("complaint-statistics-")

    # by agent: the handler's complaints alone, counted from the complaints themselves
    page.select_option("#filter-channel", "")
    expect(page.locator("#total-complaints")).to_have_text("5")
    handler = known.desk.handler1
    held = [c for c in known.all if c.assignee_id == handler.pk]
    page.select_option("#filter-agent", str(handler.pk))
    expect(page.locator("#total-complaints")).to_have_text(str(len(held)))
    assert f"agent={handler.pk}" in page.url
    with page.expect_download() as got:
        page.click("#export-register-csv")
    text = open(got.value.path(), encoding="utf-8-sig").read()  # noqa: SIM115
    assert all(c.number in text for c in held)
    assert not any(c.number in text for c in known.all if c.assignee_id != handler.pk)
    assert refused == []

    agent = login(browser, server, "handler1", "pw")
    expect(
        agent.get_by_role("navigation", name="Main").get_by_role("link", name="Reports")
    ).to_have_count(0)
    response = agent.goto("/reports/complaints/")
    assert response is not None and response.status == 403
