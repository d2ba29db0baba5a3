"""12. An import of 100,000 contacts (``--quick``: 5,000): the dry run (``plan_import``) and
the commit (``commit_import``) of a CSV in which 80 % of the rows are new contacts, 15 %
update existing ones (found by email), 4 % change nothing and 1 % are in error; run
in-process, as the Celery worker runs them (docs/customers-import-export.md)."""

from __future__ import annotations

import csv
import io
import os
import time
from datetime import UTC, datetime

from . import env, report

FULL = int(os.environ.get("KEFU_BENCH_IMPORT_ROWS", "100000"))
QUICK = 5_000
GOAL = 1000.0  # rows per second


def _file(count: int, existing: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Email", "Name", "Phone", "Language", "Customer", "External ID"])
    for n in range(count):
        kind = n % 100
        if kind < 15 and n < existing:  # update: a new name for a seeded contact
            writer.writerow([f"seed{n}@example.com", f"Renamed {n}", "", "en", "BENCH", ""])
        elif kind < 19 and n < existing:  # nothing changes
            writer.writerow([f"seed{n}@example.com", f"Seed {n}", "", "en", "BENCH", ""])
        elif kind == 99:  # error
            writer.writerow([f"broken{n}", f"Broken {n}", "", "en", "BENCH", ""])
        else:
            phone = f"+86138{n:08d}"
            writer.writerow(
                [f"new{n}@example.com", f"新人 {n}", phone, "zh-hans", "BENCH", f"X-{n}"]
            )
    return out.getvalue().encode()


def run(quick: bool = False) -> report.Section:
    started = time.monotonic()
    count = QUICK if quick else FULL
    env.reset_database()
    env.setup_django()
    from django.core.files.uploadedfile import SimpleUploadedFile

    from customers.choices import ImportStatus
    from customers.models import Contact, Customer, ImportJob
    from customers.services import imports
    from tests.factories import AdministratorFactory

    admin = AdministratorFactory(username="bench-importer")
    customer = Customer.objects.create(kind="company", name="Bench", external_id="BENCH")
    existing = count // 2
    Contact.objects.bulk_create(
        [
            Contact(customer=customer, email=f"seed{n}@example.com", name=f"Seed {n}")
            for n in range(existing)
        ],
        batch_size=5000,
    )
    data = _file(count, existing)
    upload = SimpleUploadedFile("bench.csv", data, content_type="text/csv")
    t0 = time.monotonic()
    job = imports.upload_import(admin, "contacts", upload)
    upload_seconds = time.monotonic() - t0
    imports.request_plan(admin, job)
    job = ImportJob.objects.get(pk=job.pk)
    t0 = time.monotonic()
    imports.plan_import(job)
    plan_seconds = time.monotonic() - t0
    job = ImportJob.objects.get(pk=job.pk)
    counts = dict(job.counts)
    imports.request_commit(admin, job)
    job = ImportJob.objects.get(pk=job.pk)
    t0 = time.monotonic()
    imports.commit_import(job)
    commit_seconds = time.monotonic() - t0
    job = ImportJob.objects.get(pk=job.pk)
    assert job.status == ImportStatus.COMMITTED, job.error
    total = Contact.objects.count()
    plan_rate = count / plan_seconds
    commit_rate = count / commit_seconds
    rows = [
        ["upload (read, check headers, store)", f"{upload_seconds:.1f} s", ""],
        ["dry run (`plan_import`)", f"{plan_seconds:.1f} s", f"{plan_rate:,.0f} rows/s"],
        ["commit (`commit_import`)", f"{commit_seconds:.1f} s", f"{commit_rate:,.0f} rows/s"],
    ]
    body = f"""## Customer import ({count:,} rows)

`python -m tests.bench customer_import`. A CSV of {count:,} contacts ({len(data) / 1e6:.1f} MB)
against {existing:,} existing contacts: plan {counts}. In-process, as the Celery worker runs
it, on PostgreSQL; {total:,} contacts afterwards.

{report.table(["step", "time", "rate"], rows)}
"""
    summary = [
        (
            f"import dry run, {count:,} rows",
            f"{plan_rate:,.0f} rows/s",
            "≥ 1,000 rows/s",
            report.verdict(plan_rate >= GOAL),
        ),
        (
            f"import commit, {count:,} rows",
            f"{commit_rate:,.0f} rows/s",
            "≥ 1,000 rows/s",
            report.verdict(commit_rate >= GOAL),
        ),
    ]
    env.close_db_connections()
    return report.Section(
        "customer_import",
        "Customer import",
        body,
        summary,
        date=datetime.now(UTC).strftime("%Y-%m-%d"),
        seconds=time.monotonic() - started,
    )
