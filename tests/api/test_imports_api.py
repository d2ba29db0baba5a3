"""The imports and exports API: upload, mapping, dry run, rows, commit, revert, errors
file, exports; the job path with a real Celery worker."""

from __future__ import annotations

import csv
import io
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from customers.models import Contact, ImportJob
from customers.services import imports
from tests.conftest import client_for
from tests.e2e.conftest import private_redis  # noqa: F401 - a fixture
from tests.factories import (
    AdministratorFactory,
    AnalystFactory,
    ContactFactory,
    CustomerFactory,
    SupervisorFactory,
)

pytestmark = pytest.mark.django_db
CSV = (
    "Email,Name,Customer\n"
    "a@example.com,A,ACME\n"
    "bad,B,ACME\n"
    "a@example.com,A again,ACME\n"
    "=cmd|' /C calc'!A0,C,ACME\n"
)


def upload(client: Any, text: str = CSV, target: str = "contacts") -> Any:
    return client.post(
        "/api/imports/",
        {"file": SimpleUploadedFile("c.csv", text.encode()), "target": target},
        format="multipart",
    )


def test_upload_mapping_plan_rows_errors_commit_revert() -> None:
    CustomerFactory(name="ACME")
    admin = AdministratorFactory()
    client = client_for(admin)
    created = upload(client)
    assert created.status_code == 201, created.content
    job = created.json()
    assert job["mapping"] == {"Email": "email", "Name": "name", "Customer": "customer"}
    pk = job["id"]

    # Commit before a plan: 409, nothing changes.
    assert client.post(f"/api/imports/{pk}/commit/").status_code == 409
    assert ImportJob.objects.get(pk=pk).status == "uploaded"

    bad = client.post(
        f"/api/imports/{pk}/mapping/",
        {"mapping": {"Email": "secret"}, "match_on": ["email"]},
        format="json",
    )
    assert bad.status_code == 400 and "mapping" in bad.json()["errors"]
    ok = client.post(
        f"/api/imports/{pk}/mapping/",
        {"mapping": {"Email": "email", "Name": "name", "Customer": ""}, "match_on": ["email"]},
        format="json",
    )
    assert ok.status_code == 200 and ok.json()["mapping"]["Customer"] == ""

    started = client.post(f"/api/imports/{pk}/plan/")
    assert started.status_code == 202 and started.json()["status"] == "planning"
    imports.plan_import(ImportJob.objects.get(pk=pk))  # what the worker does
    detail = client.get(f"/api/imports/{pk}/").json()
    assert detail["status"] == "planned" and detail["progress"] == 100
    assert detail["counts"] == {"create": 1, "update": 0, "skip": 1, "error": 2}

    errors = client.get(f"/api/imports/{pk}/rows/?action=error").json()["results"]
    assert [r["line"] for r in errors] == [3, 5]
    assert errors[0]["reasons"][0]["field"] == "email"
    skip = client.get(f"/api/imports/{pk}/rows/?action=skip").json()["results"]
    assert skip[0]["reasons"][0]["message"] == "Duplicate of line 2."

    file = client.get(f"/api/imports/{pk}/errors/?format=csv")
    assert file.status_code == 200 and file["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(file.content.decode("utf-8-sig"))))
    assert table[0] == ["line", "Email", "Name", "reasons"]
    assert table[2][1] == "'=cmd|' /C calc'!A0"
    xlsx = client.get(f"/api/imports/{pk}/errors/?format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.cell(3, 2).value == "'=cmd|' /C calc'!A0"

    assert client.post(f"/api/imports/{pk}/commit/").status_code == 202
    imports.commit_import(ImportJob.objects.get(pk=pk))
    assert Contact.objects.filter(email="a@example.com", customer=None).exists()
    assert client.post(f"/api/imports/{pk}/revert/").status_code == 202
    imports.revert_import(admin, ImportJob.objects.get(pk=pk))
    assert not Contact.objects.filter(email="a@example.com").exists()
    listed = client.get("/api/imports/").json()["results"]
    assert [j["status"] for j in listed] == ["reverted"]


def test_a_file_of_10000_columns_is_a_clear_400() -> None:
    client = client_for(AdministratorFactory())
    header = ",".join(f"c{i}" for i in range(10_000))
    answer = upload(client, header + "\n")
    assert answer.status_code == 400
    assert "10000 columns; at most 200." in answer.json()["errors"]["file"]
    assert ImportJob.objects.count() == 0


@pytest.mark.parametrize("factory", [SupervisorFactory, AnalystFactory])
def test_non_administrators_are_refused_and_nothing_changes(factory: Any) -> None:
    admin = client_for(AdministratorFactory())
    pk = upload(admin).json()["id"]
    client = client_for(factory())
    assert upload(client).status_code == 403
    assert client.get("/api/imports/").status_code == 403
    assert client.get(f"/api/imports/{pk}/").status_code == 403
    assert client.post(f"/api/imports/{pk}/plan/").status_code == 403
    assert ImportJob.objects.count() == 1
    assert ImportJob.objects.get().status == "uploaded"


def test_exports_stream_csv_or_queue_a_job() -> None:
    ContactFactory(name="=1+1", email="x@example.com")
    analyst = client_for(AnalystFactory())
    streamed = analyst.get("/api/contacts/export/?format=csv")
    assert streamed.status_code == 200
    text = b"".join(streamed.streaming_content).decode("utf-8-sig")
    assert "***" in text and "x@example.com" not in text
    admin = client_for(AdministratorFactory())
    text = b"".join(admin.get("/api/contacts/export/?format=csv").streaming_content).decode()
    assert "'=1+1" in text
    queued = admin.get("/api/customers/export/?format=xlsx&tier=gold")
    assert queued.status_code == 202 and queued.json()["status"] == "queued"
    pk = queued.json()["id"]
    assert admin.get(f"/api/exports/{pk}/download/").status_code == 409
    assert admin.get(f"/api/exports/{pk}/").json()["filters"] == {"tier": "gold"}
    assert admin.get("/api/contacts/export/?format=csv&language=xx").status_code == 400


# --- the job path with a real Celery worker ---------------------------------------------
@pytest.fixture
def worker(
    private_redis: Any,  # noqa: F811 - the imported fixture
    transactional_db: Any,
) -> Iterator[Any]:
    from tests.e2e.conftest import WorkerProcess, point_celery_at, worker_env

    previous = point_celery_at(private_redis.url)
    process = WorkerProcess(
        worker_env(broker=private_redis.url), Path(tempfile.mkdtemp(prefix="kefu-imports-"))
    )
    try:
        yield process
    finally:
        process.stop()
        point_celery_at(previous)


def wait_for(client: Any, url: str, status: str, worker: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        data: dict[str, Any] = client.get(url).json()
        if data["status"] == status:
            return data
        time.sleep(0.2)
    pytest.fail(f"{url} never reached {status}\n{worker.log()}")


@pytest.mark.postgres
@pytest.mark.redis
def test_plan_commit_revert_and_export_run_on_a_real_worker(worker: Any) -> None:
    CustomerFactory(name="ACME")
    client = client_for(AdministratorFactory())
    pk = upload(client).json()["id"]
    assert client.post(f"/api/imports/{pk}/plan/").status_code == 202
    planned = wait_for(client, f"/api/imports/{pk}/", "planned", worker)
    assert planned["counts"]["create"] == 1 and planned["done_rows"] == 4
    assert client.post(f"/api/imports/{pk}/commit/").status_code == 202
    wait_for(client, f"/api/imports/{pk}/", "committed", worker)
    assert Contact.objects.filter(email="a@example.com").count() == 1
    assert client.post(f"/api/imports/{pk}/revert/").status_code == 202
    wait_for(client, f"/api/imports/{pk}/", "reverted", worker)
    assert not Contact.objects.filter(email="a@example.com").exists()

    queued = client.get("/api/customers/export/?format=xlsx").json()
    done = wait_for(client, f"/api/exports/{queued['id']}/", "done", worker)
    download = client.get(done["download"])
    assert download.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    assert [c.value for c in sheet[2]][1] == "ACME"
