"""The report API, the page's permissions, and the exports: the statistics CSV, the
regulator register as CSV and .xlsx (opened with openpyxl), formulas neutralised, each
export audited (docs/reports.md)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from audit.models import AuditEvent
from complaints.models import Complaint
from reports.exports import neutralise
from reports.rollup import refresh_complaint_rollups
from tests.conftest import client_for

from .dataset import build_known_set

pytestmark = pytest.mark.django_db

API = "/api/reports/complaints/"


def _period() -> dict[str, str]:
    today = timezone.localdate()
    return {"from": (today - timedelta(days=40)).isoformat(), "to": today.isoformat()}


@pytest.fixture
def known() -> Any:
    found = build_known_set()
    refresh_complaint_rollups()
    return found


def _browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_api_answers_supervisors_managers_and_administrators(known: Any) -> None:
    from tests.factories import UserFactory

    for user in (known.desk.supervisor, known.desk.manager):
        response = client_for(user).get(API, _period())
        assert response.status_code == 200, response.content
        assert response.json()["totals"]["complaints"] == 5
    admin: Any = UserFactory(username="root-admin", is_superuser=True, is_staff=True)
    assert client_for(admin).get(API, _period()).status_code == 200


def test_agents_and_strangers_are_refused(known: Any) -> None:
    response = client_for(known.desk.handler1).get(API, _period())
    assert response.status_code == 403
    assert set(response.json()) == {"detail", "errors"}
    assert Client().get(API).status_code in (401, 403)
    page = _browser(known.desk.handler1)
    assert page.get("/reports/complaints/").status_code == 403
    for url in (
        "/reports/complaints/statistics.csv",
        "/reports/complaints/register.csv",
        "/reports/complaints/register.xlsx",
    ):
        assert page.get(url).status_code == 403
    assert not AuditEvent.objects.filter(subject_kind="report").exists()


def test_bad_filters_are_a_400_naming_the_field(known: Any) -> None:
    response = client_for(known.desk.supervisor).get(API, {"from": "2026-02-30"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"from": ["Enter a date as YYYY-MM-DD."]}
    response = client_for(known.desk.supervisor).get(API, {"severity": "S9", "channel": "x"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"channel"}  # the first bad one named


def test_the_page_shows_the_figures_and_links_to_the_exports(known: Any) -> None:
    response = _browser(known.desk.manager).get("/reports/complaints/", _period())
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="total-complaints">5<' in html
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert "/reports/complaints/register.xlsx?from=" in html
    # the nav shows Reports to those who may read them, not to agents
    assert 'href="/reports/complaints/"' in html
    agent_home = _browser(known.desk.handler1).get("/queue/").content.decode()
    assert 'href="/reports/complaints/"' not in agent_home


def test_the_statistics_csv_holds_the_figures_and_is_audited(known: Any) -> None:
    response = _browser(known.desk.supervisor).get("/reports/complaints/statistics.csv", _period())
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Section", "Item", "Figure", "Value"]
    assert ["Totals", "complaints", "", "5"] in rows
    assert ["Totals", "repeat_rate", "", "0.2"] in rows
    assert ["Compensation", "Supervisor / Refund", "amount", "500.00"] in rows
    event = AuditEvent.objects.get(subject_kind="report", verb="statistics_exported")
    assert event.actor_id == known.desk.supervisor.pk
    assert event.after["format"] == "csv" and event.after["date_from"] == _period()["from"]


def _register_csv(user: Any, params: dict[str, str]) -> list[list[str]]:
    response = _browser(user).get("/reports/complaints/register.csv", params)
    assert response.status_code == 200
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    return list(csv.reader(io.StringIO(body)))


def test_the_register_has_one_row_per_complaint_as_csv(known: Any) -> None:
    rows = _register_csv(known.desk.supervisor, _period())
    header, body = rows[0], rows[1:]
    assert header[:4] == ["Number", "Profile", "Regulator", "Received"]
    assert len(body) == 5
    by_number = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    late = by_number[known.late.number]
    assert late["Outcome"] == "Upheld"
    assert late["Root cause"] == "System defect"
    assert late["Compensation"] == "500.00" and late["Compensation kind"] == "Refund"
    assert late["Approved at level"] == "Supervisor"
    assert late["Customer response"] == "Accepted"
    assert late["Closed"] and late["Acknowledged"] and late["Final answer"]
    repeat = by_number[known.repeat.number]
    assert repeat["Extensions"] == "1" and repeat["Extended due"]
    untouched = by_number[known.untouched.number]
    assert untouched["Acknowledged"] == "" and untouched["Outcome"] == ""
    assert by_number[known.acknowledged.number]["Regulator"].startswith("银行保险机构")
    events = AuditEvent.objects.filter(subject_kind="report", verb="register_exported")
    assert [(e.after["format"], e.after["rows"]) for e in events] == [("csv", 5)]


def test_the_register_as_xlsx_opens_in_openpyxl(known: Any) -> None:
    response = _browser(known.desk.manager).get("/reports/complaints/register.xlsx", _period())
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    data = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "Number" and len(rows) == 6
    numbers = {r[0] for r in rows[1:]}
    assert numbers == {c.number for c in known.all}
    late = next(r for r in rows if r[0] == known.late.number)
    assert late[11] == 500 and late[12] == "Refund"
    assert AuditEvent.objects.filter(verb="register_exported", after__format="xlsx").count() == 1


def test_formulas_in_cells_are_neutralised(known: Any) -> None:
    # a root cause an administrator named like a formula reaches the register as text
    from complaints.models import RootCause

    RootCause.objects.filter(code="system-defect").update(name='=HYPERLINK("http://evil","x")')
    rows = _register_csv(known.desk.supervisor, _period())
    late = next(r for r in rows if r[0] == known.late.number)
    assert late[10] == '\'=HYPERLINK("http://evil","x")'
    response = _browser(known.desk.supervisor).get("/reports/complaints/register.xlsx", _period())
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))  # type: ignore[attr-defined]
    cells = [c for row in book.active.iter_rows() for c in row if str(c.value).startswith("'=")]
    assert cells and all(c.data_type == "s" for c in cells)
    for raw in ("=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1"):
        assert neutralise(raw) == "'" + raw
    assert neutralise(-5) == -5 and neutralise("plain") == "plain" and neutralise(None) == ""


def test_the_register_keeps_the_filters(known: Any) -> None:
    params = _period() | {"channel": "phone"}
    rows = _register_csv(known.desk.supervisor, params)
    assert {r[0] for r in rows[1:]} == {known.late.number, known.repeat.number}
    assert Complaint.objects.filter(channel="phone").count() == 2
    response = _browser(known.desk.supervisor).get(
        "/reports/complaints/register.csv", {"from": "nope"}
    )
    assert response.status_code == 400


def test_api_md_s_filters_and_export_formats(known: Any) -> None:
    """``since``/``until`` name the period, ``kind`` is complaint, ``agent`` narrows to a
    handler's complaints, ``?format=csv|xlsx`` exports the statistics (audited)."""
    client = client_for(known.desk.supervisor)
    period = _period()
    plain = client.get(API, period).json()
    aliased = client.get(API, {"since": period["from"], "until": period["to"]}).json()
    assert aliased["totals"] == plain["totals"] and aliased["filters"] == plain["filters"]
    assert client.get(API, {**period, "kind": "complaint"}).status_code == 200
    handler = known.desk.handler1
    mine = client.get(API, {**period, "agent": str(handler.pk)})
    assert mine.status_code == 200, mine.json()
    assert mine.json()["filters"]["agent"] == str(handler.pk)
    held = [c for c in known.all if c.assignee_id == handler.pk]
    assert mine.json()["totals"]["complaints"] == len(held)
    for bad in ({"kind": "ticket"}, {"agent": "987654321"}, {"agent": "x"}, {"format": "pdf"}):
        response = client.get(API, {**period, **bad})
        assert response.status_code == 400, bad
        assert set(response.json()["errors"]) == set(bad), bad

    exported = AuditEvent.objects.filter(subject_kind="report").count()
    as_csv = client.get(API, {**period, "format": "csv"})
    assert as_csv.status_code == 200 and as_csv["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(as_csv.content.decode())))
    assert len(rows) > 5
    as_xlsx = client.get(API, {**period, "format": "xlsx"})
    assert as_xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(as_xlsx.streaming_content))).active
    assert sheet is not None and sheet.max_row == len(rows)
    assert AuditEvent.objects.filter(subject_kind="report").count() == exported + 2
