"""12. A customer's timeline at 2,200,000 audit rows (``--quick``: 22,000): one customer
with 200,000 rows among 2,000,000 of 20,000 other customers;
``GET /api/customers/{id}/timeline/`` over gunicorn at c=1, the first page and deep pages
(cursors 50,000 to 190,000 rows in), p50 / p95 (docs/customers-360.md).

The rows are written by ``INSERT … SELECT`` one a second back from now (several share a
second, so pages cross equal times), as tickets' and customers' services write them.
"""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, datetime

from . import cpu, env, report
from .load import run_load
from .seed import seed_desk
from .server import GUNICORN_2, RunningServer
from .stats import Summary, ms

# KEFU_BENCH_TIMELINE_ROWS: the other customers' rows for a full run (the customer has a tenth).
FULL = int(os.environ.get("KEFU_BENCH_TIMELINE_ROWS", "2000000"))
QUICK = 20_000
OTHER_CUSTOMERS = 20_000
QUICK_OTHER_CUSTOMERS = 500
GOAL_P95 = 0.100
REQUESTS = 300
QUICK_REQUESTS = 30


def seed(customer_id: int, mine: int, others: int, other_customers: int) -> dict[str, float]:
    from django.db import connection

    seconds: dict[str, float] = {}
    with connection.cursor() as cursor:
        started = time.monotonic()
        cursor.execute(
            f"""INSERT INTO customers_customer (kind, name, tier, region, industry, tags, custom,
                    external_id, created_at, updated_at)
            SELECT 'company', 'Bench customer ' || n, 'standard', '', '', '[]', '{{}}', '',
                   now(), now()
            FROM generate_series(1, {other_customers}) AS n"""
        )
        cursor.execute("SELECT min(id) FROM customers_customer WHERE name LIKE 'Bench %%'")
        first = cursor.fetchone()[0]
        seconds["customers"] = time.monotonic() - started
        started = time.monotonic()
        # the others: spread over the last year; the customer's: one every 3 s, in runs
        cursor.execute(
            f"""INSERT INTO tickets_ticketevent
                (subject_kind, verb, before, after, created_at, updated_at, customer_id)
            SELECT 'customer', 'changed', '{{}}', '{{}}',
                   now() - (n / 4) * interval '1 second', now(),
                   {first} + n % {other_customers}
            FROM generate_series(1, {others}) AS n"""
        )
        seconds["other customers' rows"] = time.monotonic() - started
        started = time.monotonic()
        cursor.execute(
            f"""INSERT INTO tickets_ticketevent
                (subject_kind, verb, before, after, created_at, updated_at, customer_id)
            SELECT 'customer', 'changed', '{{}}', '{{}}',
                   now() - (n / 3) * interval '3 seconds', now(), {customer_id}
            FROM generate_series(1, {mine}) AS n"""
        )
        seconds["the customer's rows"] = time.monotonic() - started
        started = time.monotonic()
        cursor.execute("VACUUM ANALYZE tickets_ticketevent")
        seconds["vacuum analyze"] = time.monotonic() - started
    return seconds


def deep_cursors(customer_id: int, mine: int, n: int) -> list[str]:
    """Cursors ``mine / 4`` to ``mine - 10,000`` rows into the timeline."""
    from core.pagination import Position, encode

    rng = random.Random(12)
    out = []
    for _ in range(n):
        offset = rng.randint(mine // 4, mine - min(mine // 20, 10_000))
        at, pk = env.sql(
            "SELECT created_at, id FROM tickets_ticketevent WHERE customer_id = %s"
            " ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
            [customer_id, offset],
        )[0]
        out.append(encode(Position(at, pk)))
    return out


def selector_times(user: object, customer_id: int, cursors: list[str]) -> dict[str, Summary]:
    """``timeline_for`` in-process (no HTTP): what the database and the selector cost."""
    from customers.selectors.timeline import timeline_for

    found: dict[str, Summary] = {}
    for label, picks in (("first page", [None] * len(cursors)), ("deep page", cursors)):
        samples = []
        for cursor in [*picks, *picks]:
            t0 = time.perf_counter()
            timeline_for(user, customer_id, cursor)
            samples.append(time.perf_counter() - t0)
        found[label] = Summary.of(samples[len(picks) :])
    return found


def run(*, quick: bool = False) -> report.Section:
    started = time.monotonic()
    others = QUICK if quick else FULL
    mine = others // 10
    other_customers = QUICK_OTHER_CUSTOMERS if quick else OTHER_CUSTOMERS
    requests = QUICK_REQUESTS if quick else REQUESTS
    env.reset_database()
    env.setup_django()
    desk = seed_desk()
    from customers.models import Customer

    customer = Customer.objects.create(kind="company", name="王芳贸易有限公司")
    print(f"[customer_timeline] seeding {mine:,} + {others:,} audit rows")
    with cpu.Window(label="seed") as window:
        seeded = seed(customer.pk, mine, others, other_customers)
    seed_load = cpu.describe(window.shares)
    for what, secs in seeded.items():
        print(f"[customer_timeline]   {what}: {secs:.1f} s")
    cursors = deep_cursors(customer.pk, mine, 20 if quick else 50)

    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    admin = User.objects.get(pk=desk.admin_id)
    in_process = selector_times(admin, customer.pk, cursors)
    for label, found in in_process.items():
        print(f"[customer_timeline] selector {label}: p50 {ms(found.p50)} p95 {ms(found.p95)}")
    token = Token.objects.get_or_create(user=admin)[0].key
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    path = f"/api/customers/{customer.pk}/timeline/"
    env.close_db_connections()
    server = RunningServer(GUNICORN_2)
    results: list[tuple[str, Summary, dict[int, int], str]] = []
    try:
        server.wait_ready(token)
        cases = {
            "first page": lambda i: ("GET", path, None),
            "deep page": lambda i: ("GET", f"{path}?cursor={cursors[i % len(cursors)]}", None),
        }
        for label, request_for in cases.items():
            run_load(server.port, request_for, total=10, concurrency=1, headers=headers)
            with cpu.Window([server.service.pid], label="web server") as window:
                load = run_load(
                    server.port, request_for, total=requests, concurrency=1, headers=headers
                )
            s = load.summary
            print(
                f"[customer_timeline] {label}: p50 {ms(s.p50)} p95 {ms(s.p95)}"
                f" statuses {dict(load.statuses)}"
            )
            results.append((label, s, dict(load.statuses), cpu.describe(window.shares)))
    finally:
        server.stop()
    env.close_db_connections()
    rows = [
        [f"`GET {path.replace(str(customer.pk), '{id}')}`, {label}", str(s.count), ms(s.p50),
         ms(s.p95), ms(s.p99), ms(s.max), str(st), load]
        for label, s, st, load in results
    ]  # fmt: skip
    rows += [
        [f"selector `timeline_for`, in-process, {label}", str(s.count), ms(s.p50), ms(s.p95),
         ms(s.p99), ms(s.max), "", ""]
        for label, s in in_process.items()
    ]  # fmt: skip
    body = f"""## Customer timeline ({mine:,} rows of one customer among {mine + others:,})

`python -m tests.bench customer_timeline`. The design (one index scan of `audit_customer_idx`
from the cursor, newest first): docs/customers-360.md.

**Data.** {other_customers:,} other customers with {others:,} audit rows, the customer with
{mine:,} (three a second, so pages cross equal times), written with `INSERT … SELECT`
({", ".join(f"{k} {v:.1f} s" for k, v in seeded.items())}; {seed_load}).

**Requests.** c=1 over gunicorn (2 sync workers), as the administrator (every entry's
title asked for): the first page, and deep pages from {len(cursors)} cursors between
{mine // 4:,} and {mine - min(mine // 20, 10_000):,} rows in.

{report.table(["request", "n", "p50", "p95", "p99", "max", "statuses", "load"], rows)}
"""
    ok = all(set(st) == {200} for _l, _s, st, _load in results)
    summary = [
        (
            f"customer timeline, {mine:,} of {mine + others:,} rows: {label} p95, c=1",
            ms(s.p95),
            "p95 ≤ 100 ms",
            report.verdict(ok and s.p95 <= GOAL_P95),
        )
        for label, s, _st, _load in results
    ]
    return report.Section(
        "customer_timeline",
        "Customer timeline",
        body,
        summary,
        date=datetime.now(UTC).strftime("%Y-%m-%d"),
        seconds=time.monotonic() - started,
    )
