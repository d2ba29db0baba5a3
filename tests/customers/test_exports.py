"""Exports of the customers and contacts lists: filters applied, formula injection
neutralised in CSV and .xlsx, personal data masked for analysts, audited."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
import pytest

from audit.models import AuditEvent
from core.errors import Forbidden, InvalidInput
from customers.models import ExportJob
from customers.services import exports
from tests.factories import (
    AdministratorFactory,
    AgentFactory,
    AnalystFactory,
    ContactFactory,
    CustomerFactory,
)

pytestmark = pytest.mark.django_db
FORMULA = "=cmd|' /C calc'!A0"


@pytest.fixture
def people() -> dict[str, Any]:
    gold = CustomerFactory(name="+Gold Co", tier="gold", external_id="G-1")
    plain = CustomerFactory(name="Plain", tier="standard")
    evil = ContactFactory(customer=gold, name=FORMULA, email="evil@example.com", title="@SUM(A1)")
    ContactFactory(
        customer=plain, name="Plain Person", email="p@example.com", phone="+8613800138000"
    )
    return {"gold": gold, "plain": plain, "evil": evil}


def streamed(user: Any, target: str, params: dict[str, str]) -> list[list[str]]:
    job, _count = exports.request_export(user, target, "csv", params)
    assert job is None
    text = b"".join(exports.stream_csv(user, target, params)).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_csv_export_applies_filters_and_neutralises_formulas(people: Any) -> None:
    admin = AdministratorFactory()
    table = streamed(admin, "contacts", {"tier": "gold"})
    header, *rows = table
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["name"] == "'" + FORMULA
    assert row["title"] == "'@SUM(A1)"
    assert row["customer"] == "'+Gold Co"
    assert row["email"] == "evil@example.com"
    requested = AuditEvent.objects.get(subject_kind="export", verb="requested")
    assert requested.after["filters"] == {"tier": "gold"} and requested.after["rows"] == 1
    assert AuditEvent.objects.filter(subject_kind="export", verb="downloaded").count() == 1


def test_xlsx_export_job_neutralises_formulas_read_back_with_openpyxl(people: Any) -> None:
    admin = AdministratorFactory()
    job, count = exports.request_export(admin, "contacts", "xlsx", {})
    assert job is not None and count == 2
    exports.run_export(job)
    job.refresh_from_db()
    assert job.status == "done" and job.rows == 2
    with job.file.open("rb") as stream:
        sheet = openpyxl.load_workbook(stream).active
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    header = values[0]
    names = {row[header.index("name")] for row in values[1:]}
    assert "'" + FORMULA in names
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"
    exports.download(admin, job.pk)
    assert AuditEvent.objects.filter(subject_kind="export", verb="downloaded").count() == 1
    assert AuditEvent.objects.filter(subject_kind="export", verb="finished").count() == 1


def test_analysts_get_personal_fields_masked(people: Any) -> None:
    header, *rows = streamed(AnalystFactory(), "contacts", {"tier": "standard"})
    row = dict(zip(header, rows[0], strict=True))
    assert (row["name"], row["email"], row["phone"]) == ("***", "***", "***")
    assert row["customer"] == "Plain"
    assert AuditEvent.objects.get(verb="requested").after["masked"] is True


def test_refusals_change_nothing(people: Any) -> None:
    with pytest.raises(Forbidden):
        exports.request_export(AgentFactory(), "contacts", "csv", {})
    with pytest.raises(InvalidInput):
        exports.request_export(AdministratorFactory(), "contacts", "pdf", {})
    with pytest.raises(InvalidInput):
        exports.request_export(AdministratorFactory(), "contacts", "csv", {"tier": "diamond"})
    assert ExportJob.objects.count() == 0
    assert not AuditEvent.objects.filter(subject_kind="export").exists()


def test_an_export_job_is_only_for_its_creator(people: Any) -> None:
    analyst = AnalystFactory()
    job, _count = exports.request_export(analyst, "customers", "xlsx", {})
    assert job is not None
    from core.errors import NotFound

    with pytest.raises(NotFound):
        exports.get_export(AnalystFactory(), job.pk)
    assert exports.get_export(AdministratorFactory(), job.pk) == job
