"""13. A streamed CSV export of 1,000,000 contacts (``--quick``: 50,000) over gunicorn (one
sync worker): ``GET /api/contacts/export/?format=csv``, first of a tenth of them (a filter
on their customer), then of all; rows per second and the peak resident memory (VmHWM) of
the serving worker after each, which stays flat: the rows come from a server-side cursor in
chunks and leave as they are written (docs/customers-import-export.md)."""

from __future__ import annotations

import http.client
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import env, report
from .server import RunningServer, ServerConfig
from .sqlseed import insert_select

FULL = int(os.environ.get("KEFU_BENCH_EXPORT_CONTACTS", "1000000"))
QUICK = 50_000
ONE_WORKER = ServerConfig("gunicorn-sync-1", "gunicorn, 1 sync worker", "gunicorn", 1)


def _peak_kib(pid: int) -> int:
    """The largest VmHWM among ``pid`` and its children (the gunicorn worker)."""
    peaks = []
    for task in Path("/proc").iterdir():
        if not task.name.isdigit():
            continue
        try:
            status = (task / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if task.name == str(pid) or fields.get("PPid", "").strip() == str(pid):
            peaks.append(int(fields.get("VmHWM", "0 kB").split()[0]))
    return max(peaks or [0])


def _fetch(port: int, token: str, query: str) -> tuple[int, int, float]:
    """(rows, bytes, seconds) of one streamed export, read in 64 KiB pieces."""
    conn = http.client.HTTPConnection(env.HOST, port, timeout=600)
    t0 = time.monotonic()
    conn.request(
        "GET",
        f"/api/contacts/export/?format=csv{query}",
        headers={"Authorization": f"Token {token}"},
    )
    response = conn.getresponse()
    assert response.status == 200, (response.status, response.read()[:300])
    size = lines = 0
    while piece := response.read(65536):
        size += len(piece)
        lines += piece.count(b"\n")
    seconds = time.monotonic() - t0
    conn.close()
    return lines - 1, size, seconds


def run(quick: bool = False) -> report.Section:
    started = time.monotonic()
    count = QUICK if quick else FULL
    env.reset_database()
    env.setup_django()
    from rest_framework.authtoken.models import Token

    from customers.models import Customer
    from tests.factories import AdministratorFactory

    admin: Any = AdministratorFactory(username="bench-exporter")
    token = Token.objects.create(user=admin).key
    small = Customer.objects.create(kind="company", name="Tenth", external_id="T")
    big = Customer.objects.create(kind="company", name="Rest", external_id="R")
    tenth = count // 10
    t0 = time.monotonic()
    env.sql(
        insert_select(
            "customers_contact",
            {
                "customer_id": f"CASE WHEN n <= {tenth} THEN {small.pk} ELSE {big.pk} END",
                "name": "'联系人 ' || n",
                "email": "'c' || n || '@example.com'",
                "phone": "'+86138' || lpad(n::text, 8, '0')",
                "title": "CASE WHEN n % 1000 = 0 THEN '=cmd|'' /C calc''!A0' ELSE 'Buyer' END",
                "language": "'zh-hans'",
                "preferred_channel": "''",
                "external_id": "'E-' || n",
                "custom": "'{}'::jsonb",
                "created_at": "now()",
                "updated_at": "now()",
            },
            f"FROM generate_series(1, {count}) AS n",
        )
    )
    env.sql("ANALYZE customers_contact")
    seed_seconds = time.monotonic() - t0
    env.close_db_connections()
    server = RunningServer.__new__(RunningServer)  # started with the raised limit
    server.config = ONE_WORKER
    server.port = env.free_port()
    # A million rows stream for longer than the sync worker's 60 s timeout: raised here.
    argv = ONE_WORKER.argv(server.port)
    argv[argv.index("--timeout") + 1] = "1800"
    server.service = env.Service(
        ONE_WORKER.key,
        argv,
        env.child_env(KEFU_EXPORT_STREAM_LIMIT=str(count * 2)),
    )
    try:
        server.wait_ready(token)
        base = _peak_kib(server.service.pid)
        part = _fetch(server.port, token, f"&customer={small.pk}")
        part_peak = _peak_kib(server.service.pid)
        whole = _fetch(server.port, token, "")
        whole_peak = _peak_kib(server.service.pid)
    finally:
        server.service.stop()
    assert part[0] == tenth and whole[0] == count, (part, whole)
    rows = [
        [
            f"{n:,} contacts",
            f"{s:.1f} s",
            f"{n / s:,.0f} rows/s",
            f"{b / 1e6:.0f} MB",
            f"{p / 1024:.0f} MiB",
        ]
        for (n, b, s), p in ((part, part_peak), (whole, whole_peak))
    ]
    growth = (whole_peak - part_peak) / 1024
    body = f"""## Contact export ({count:,} contacts, streamed CSV)

`python -m tests.bench contact_export`. {count:,} contacts seeded by `INSERT … SELECT`
({seed_seconds:.1f} s); `GET /api/contacts/export/?format=csv` over gunicorn with one sync
worker (`KEFU_EXPORT_STREAM_LIMIT` raised so that the whole list streams rather than
becoming a job). Peak resident memory (VmHWM) of the worker: {base / 1024:.0f} MiB after
start-up.

{report.table(["export", "time", "rate", "size", "worker peak RSS after"], rows)}

Peak RSS grew by {growth:.1f} MiB from {tenth:,} to {count:,} rows.
"""
    summary = [
        (
            f"contact export, {count:,} rows streamed",
            f"{whole[0] / whole[2]:,.0f} rows/s",
            "streams",
            report.verdict(True),
        ),
        (
            f"export peak RSS, {tenth:,} → {count:,} rows",
            f"{part_peak / 1024:.0f} → {whole_peak / 1024:.0f} MiB",
            "constant (< 20 MiB growth)",
            report.verdict(growth < 20),
        ),
    ]
    return report.Section(
        "contact_export",
        "Contact export",
        body,
        summary,
        date=datetime.now(UTC).strftime("%Y-%m-%d"),
        seconds=time.monotonic() - started,
    )
