"""Imports of customers and contacts: upload limits, mapping, the dry run row by row, the
commit of exactly that plan, the revert, refusals (docs/customers-import-export.md)."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from core.errors import Conflict, Forbidden, InvalidInput
from customers import spreadsheets
from customers.choices import ImportStatus
from customers.models import Contact, ContactPoint, Customer, CustomField, ImportJob, ImportRow
from customers.services import imports
from tests.factories import (
    AdministratorFactory,
    AgentFactory,
    AnalystFactory,
    ContactFactory,
    CustomerFactory,
    MarketingFactory,
)

pytestmark = pytest.mark.django_db


def csv_file(text: str, name: str = "people.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def xlsx_file(rows: list[list[Any]], name: str = "people.xlsx") -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def planned(job: ImportJob) -> ImportJob:
    imports.request_plan(job.created_by, job)
    job.refresh_from_db()
    return imports.plan_import(job)


def committed(job: ImportJob) -> ImportJob:
    imports.request_commit(job.created_by, job)
    job.refresh_from_db()
    return imports.commit_import(job)


def rows(job: ImportJob) -> dict[int, ImportRow]:
    return {r.line: r for r in ImportRow.objects.filter(job=job)}


# The file with every kind of bad row (docs/customers-import-export.md, "Tests").
BAD_ROWS = (
    "邮箱,姓名,Phone,Language,Customer,External ID,Title\n"
    "new@example.com,新人,,zh-hans,ACME-1,C-1,=cmd|' /C calc'!A0\n"  # 2 create (formula kept)
    "not-an-email,Bad Email,,en,ACME-1,C-2,\n"  # 3 error: email
    "new@example.com,Again,,en,ACME-1,C-3,\n"  # 4 skip: duplicate of line 2
    "x@example.com,Bad Phone,12,en,ACME-1,C-4,\n"  # 5 error: phone
    "y@example.com,Bad Lang,,klingon,ACME-1,C-5,\n"  # 6 error: language
    "z@example.com,No Customer,,en,NOPE,C-6,\n"  # 7 error: customer
    "old@example.com,Old Name Changed,,en,ACME-1,,\n"  # 8 update: name
    "same@example.com,Same,,en,ACME-1,,\n"  # 9 skip: nothing changes
    "alias@example.com,Via Point,,en,ACME-1,,\n"  # 10 update by ContactPoint
)


@pytest.fixture
def world() -> dict[str, Any]:
    admin = AdministratorFactory()
    acme = CustomerFactory(name="ACME", external_id="ACME-1")
    old = ContactFactory(customer=acme, email="old@example.com", name="Old Name")
    same = ContactFactory(customer=acme, email="same@example.com", name="Same", language="en")
    pointed: Any = ContactFactory(customer=acme, email="primary@example.com", name="Pointed")
    ContactPoint.objects.create(contact=pointed, kind="email", value="alias@example.com")
    return {"admin": admin, "acme": acme, "old": old, "same": same, "pointed": pointed}


def test_upload_reads_headers_and_suggests_a_mapping_in_both_languages(world: Any) -> None:
    job = imports.upload_import(world["admin"], "contacts", csv_file(BAD_ROWS))
    assert job.headers[:3] == ["邮箱", "姓名", "Phone"]
    assert job.mapping == {
        "邮箱": "email",
        "姓名": "name",
        "Phone": "phone",
        "Language": "language",
        "Customer": "customer",
        "External ID": "external_id",
        "Title": "title",
    }
    assert job.total_rows == 9
    assert AuditEvent.objects.filter(subject_kind="import", verb="uploaded").count() == 1


def test_a_file_of_10000_columns_is_refused_and_nothing_is_stored(world: Any) -> None:
    header = ",".join(f"c{i}" for i in range(10_000))
    with pytest.raises(InvalidInput) as caught:
        imports.upload_import(
            world["admin"], "contacts", csv_file(header + "\n" + "x," * 9999 + "x\n")
        )
    assert "10000 columns" in caught.value.errors["file"][0]
    assert ImportJob.objects.count() == 0


def test_other_limits_and_formats_are_refused(world: Any) -> None:
    admin = world["admin"]
    with pytest.raises(InvalidInput):
        imports.upload_import(admin, "contacts", csv_file("a,b\n", name="x.pdf"))
    with pytest.raises(InvalidInput):
        imports.upload_import(admin, "contacts", csv_file("a,a\n1,2\n"))
    with pytest.raises(InvalidInput):
        imports.upload_import(admin, "nothing", csv_file("a\n1\n"))
    assert ImportJob.objects.count() == 0


@pytest.mark.parametrize("factory", [AgentFactory, AnalystFactory, MarketingFactory])
def test_only_administrators_import(world: Any, factory: Any) -> None:
    with pytest.raises(Forbidden):
        imports.upload_import(factory(), "contacts", csv_file(BAD_ROWS))
    job = imports.upload_import(world["admin"], "contacts", csv_file(BAD_ROWS))
    job = planned(job)
    for action in (imports.request_commit, imports.request_revert, imports.request_plan):
        with pytest.raises(Forbidden):
            action(factory(), job)
    job.refresh_from_db()
    assert job.status == ImportStatus.PLANNED
    assert Contact.objects.count() == 3


def test_mapping_is_validated(world: Any) -> None:
    job = imports.upload_import(world["admin"], "contacts", csv_file(BAD_ROWS))
    with pytest.raises(InvalidInput) as caught:
        imports.set_mapping(world["admin"], job, {"邮箱": "password"}, ["email"])
    assert "mapping" in caught.value.errors
    with pytest.raises(InvalidInput):
        imports.set_mapping(world["admin"], job, {"邮箱": "email"}, ["tier"])
    with pytest.raises(InvalidInput):
        imports.set_mapping(world["admin"], job, {"邮箱": "email", "姓名": "email"}, ["email"])
    job.refresh_from_db()
    assert job.mapping["邮箱"] == "email"


def test_the_dry_run_reports_exactly_per_row_and_the_commit_matches_it(world: Any) -> None:
    admin = world["admin"]
    job = imports.upload_import(admin, "contacts", csv_file(BAD_ROWS))
    job = planned(job)
    plan = rows(job)
    actions = {line: r.action for line, r in plan.items()}
    assert actions == {
        2: "create",
        3: "error",
        4: "skip",
        5: "error",
        6: "error",
        7: "error",
        8: "update",
        9: "skip",
        10: "update",
    }
    assert plan[3].reasons[0]["field"] == "email"
    assert plan[4].reasons[0]["message"] == "Duplicate of line 2."
    assert plan[5].reasons[0]["field"] == "phone"
    assert plan[6].reasons[0]["field"] == "language"
    assert plan[7].reasons[0]["field"] == "customer"
    assert plan[8].data["changes"] == {"name": {"from": "Old Name", "to": "Old Name Changed"}}
    assert plan[9].reasons[0]["message"] == "Nothing changes."
    assert plan[10].record_id == world["pointed"].pk
    assert job.counts == {"create": 1, "update": 2, "skip": 2, "error": 4}
    assert job.done_rows == job.total_rows == 9
    assert Contact.objects.count() == 3  # the dry run wrote nothing

    errors = list(imports.error_rows(job))
    assert [e[0] for e in errors] == [3, 5, 6, 7]

    job = committed(job)
    assert job.status == ImportStatus.COMMITTED
    created = Contact.objects.get(email="new@example.com")
    assert (created.name, created.language, created.customer_id) == (
        "新人",
        "zh-hans",
        world["acme"].pk,
    )
    assert created.title == "=cmd|' /C calc'!A0"  # stored as given; exports neutralise it
    world["old"].refresh_from_db()
    world["pointed"].refresh_from_db()
    assert world["old"].name == "Old Name Changed"
    assert world["pointed"].name == "Via Point"
    assert rows(job)[8].before == {"name": "Old Name"}
    assert Contact.objects.count() == 4
    assert AuditEvent.objects.filter(subject_kind="contact", verb="created").count() == 1
    assert AuditEvent.objects.filter(subject_kind="contact", verb="changed").count() == 2
    assert AuditEvent.objects.filter(subject_kind="import", verb="committed").count() == 1

    # Commit is refused twice; the revert puts everything back.
    with pytest.raises(Conflict):
        imports.request_commit(admin, job)
    imports.request_revert(admin, job)
    job.refresh_from_db()
    result = imports.revert_import(admin, job)
    assert result["deleted"] == 1 and result["restored"] == 2 and result["kept"] == []
    assert not Contact.objects.filter(email="new@example.com").exists()
    world["old"].refresh_from_db()
    assert world["old"].name == "Old Name"
    job.refresh_from_db()
    assert job.status == ImportStatus.REVERTED


def test_commit_refused_before_a_plan_and_nothing_changes(world: Any) -> None:
    job = imports.upload_import(world["admin"], "contacts", csv_file(BAD_ROWS))
    with pytest.raises(Conflict):
        imports.request_commit(world["admin"], job)
    job.refresh_from_db()
    assert job.status == ImportStatus.UPLOADED
    assert Contact.objects.count() == 3


def test_a_row_whose_record_changed_since_the_plan_becomes_an_error(world: Any) -> None:
    job = planned(imports.upload_import(world["admin"], "contacts", csv_file(BAD_ROWS)))
    Contact.objects.filter(pk=world["old"].pk).update(name="Changed Meanwhile")
    job = committed(job)
    row = rows(job)[8]
    assert row.action == "error" and "changed since the dry run" in row.reasons[-1]["message"]
    world["old"].refresh_from_db()
    assert world["old"].name == "Changed Meanwhile"
    assert Contact.objects.filter(email="new@example.com").exists()  # the rest went on
    assert job.counts["error"] == 5


def test_revert_keeps_created_records_that_work_refers_to(world: Any) -> None:
    admin = world["admin"]
    text = "Name,External ID,Tier,Parent External ID\nGroup,G-1,gold,\nSub,S-1,金牌,G-1\n"
    job = committed(planned(imports.upload_import(admin, "customers", csv_file(text))))
    group = Customer.objects.get(external_id="G-1")
    sub = Customer.objects.get(external_id="S-1")
    assert (group.tier, sub.tier, sub.parent_id) == ("gold", "gold", group.pk)
    ContactFactory(customer=sub, email="worker@example.com")  # referenced since the import
    imports.request_revert(admin, job)
    job.refresh_from_db()
    result = imports.revert_import(admin, job)
    # The subsidiary is kept (a contact refers to it), and so its group.
    assert result["kept"] == sorted([group.pk, sub.pk]) and result["deleted"] == 0
    assert Customer.objects.filter(pk__in=[group.pk, sub.pk]).count() == 2
    job.refresh_from_db()
    assert "2 created records are kept" in job.error


def test_revert_deletes_a_group_and_its_subsidiaries(world: Any) -> None:
    admin = world["admin"]
    text = "Name,External ID,Parent External ID\nGroup,G-1,\nSub,S-1,G-1\n"
    job = committed(planned(imports.upload_import(admin, "customers", csv_file(text))))
    imports.request_revert(admin, job)
    job.refresh_from_db()
    assert imports.revert_import(admin, job)["deleted"] == 2
    assert not Customer.objects.filter(external_id__in=["G-1", "S-1"]).exists()


def test_customers_import_with_unknown_tier_custom_fields_and_xlsx(world: Any) -> None:
    CustomField.objects.create(
        target="customer", key="seats", label="Seats", label_zh="席位", type="number"
    )
    upload = xlsx_file(
        [
            ["名称", "等级", "外部编号", "席位"],
            ["Alpha", "gold", "A-1", 12],
            ["Beta", "diamond", "B-1", 3],
            ["Gamma", "standard", "G-9", "many"],
            ["", "gold", "N-1", 1],
        ]
    )
    job = imports.upload_import(world["admin"], "customers", upload)
    assert job.mapping == {
        "名称": "name",
        "等级": "tier",
        "外部编号": "external_id",
        "席位": "custom.seats",
    }
    job = planned(job)
    plan = rows(job)
    assert plan[2].action == "create"
    assert plan[3].action == "error" and plan[3].reasons[0]["field"] == "tier"
    assert plan[4].action == "error" and plan[4].reasons[0]["field"] == "custom.seats"
    assert plan[5].action == "error" and plan[5].reasons[0]["field"] == "name"
    committed(job)
    assert Customer.objects.get(external_id="A-1").custom == {"seats": 12}


def test_errors_file_in_csv_and_xlsx_neutralises_formulas(world: Any) -> None:
    text = 'Email,Name\nbad,=HYPERLINK("http://evil")\n'
    job = planned(imports.upload_import(world["admin"], "contacts", csv_file(text)))
    data = spreadsheets.export_bytes(imports.error_headers(job), imports.error_rows(job), "csv")
    assert "'=HYPERLINK" in data.decode("utf-8-sig")
    data = spreadsheets.export_bytes(imports.error_headers(job), imports.error_rows(job), "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    values = [c.value for c in sheet[2]]
    assert values[0] == 2 and values[2].startswith("'=")
    assert sheet.cell(2, 3).data_type == "s"
