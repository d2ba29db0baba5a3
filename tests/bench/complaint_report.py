"""11. The complaint report at 1,000,000 complaints (``--quick``: 20,000):
``GET /api/reports/complaints/`` over gunicorn at c=1 and c=4, with periods from a month to
a year and every filter, after the read model (docs/reports.md) is rebuilt; and the time an
incremental refresh takes after a minute's worth of changes.

The complaints and their SLA clocks are written by ``INSERT … SELECT`` (``sqlseed``):
received over the last 365 days, most answered (handling times from an hour to two months,
skewed short), a third of those with compensation at the level its amount needs, some
extended, some repeats, the targets met on time or late and the unmet ones past due marked
breached, as the SLA dispatcher would.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from . import cpu, env, report
from .load import run_load
from .seed import seed_desk
from .server import GUNICORN_2, RunningServer
from .sqlseed import insert_select
from .stats import Summary, ms

# KEFU_BENCH_COMPLAINTS: another size for a full run (a shorter one on a busy machine).
FULL = int(os.environ.get("KEFU_BENCH_COMPLAINTS", "1000000"))
QUICK = 20_000
GOAL_P95 = 0.200
REQUESTS = 400
# The handlers the complaints are spread over (a year's complaints: 2,500 each on average,
# the busiest about 2.7 times that): the report by agent counts one handler's complaints.
HANDLERS = 400
QUICK_HANDLERS = 20
AGENT_QUERIES = 60
QUICK_REQUESTS = 40
# A minute's changes for the incremental refresh: complaints updated since the last one.
TOUCHED = 2_000
QUICK_TOUCHED = 100


def _ids(sql: str) -> list[int]:
    return [r[0] for r in env.sql(sql)]


def seed_handlers(count: int) -> list[int]:
    """``count`` complaint handlers (users), written with one ``INSERT … SELECT``."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,"
            " email, is_staff, is_active, date_joined) SELECT '!', false,"
            " 'bench-handler' || g, '', '', '', false, true, now()"
            " FROM generate_series(1, %s) AS g RETURNING id",
            [count],
        )
        return sorted(row[0] for row in cursor.fetchall())


def seed(count: int, team_ids: list[int], handler_ids: list[int]) -> dict[str, float]:
    """``count`` complaints with their clocks, each held by one of ``handler_ids`` (some
    busier than others); returns the seconds each step took."""
    from django.db import connection

    seconds: dict[str, float] = {}
    profiles = _ids("SELECT id FROM complaints_complaintprofile ORDER BY is_default DESC, code")
    categories = _ids(
        "SELECT id FROM complaints_complaintcategory WHERE parent_id IS NULL ORDER BY position"
    )
    causes = _ids("SELECT id FROM complaints_rootcause ORDER BY code")
    arr = lambda ids: "ARRAY[" + ",".join(str(i) for i in ids) + "]"  # noqa: E731
    # the default profile takes most; the others a little each
    profile_pick = (
        f"({arr(profiles)})[CASE WHEN r1 < 0.7 THEN 1 ELSE 2 + floor((r1 - 0.7) / 0.3 * "
        f"{len(profiles) - 1})::int END]"
    )
    answered = "(r7 < 0.93 AND s.received + s.handling < now())"
    values = {
        "id": "s.n",
        "number": "'C-B-' || lpad(s.n::text, 8, '0')",
        "profile_id": profile_pick,
        "channel": "(ARRAY['phone','email','web','api','letter','ticket','regulator'])"
        "[1 + floor(r2 * r2 * 7)::int]",
        "category_id": f"({arr(categories)})[1 + floor(r3 * {len(categories)})::int]",
        "title": "'Bench complaint'",
        "description": "'Seeded for the complaint report benchmark.'",
        "desired_outcome": "''",
        "product_ref": "''",
        "impact": "'medium'",
        "urgency": "'medium'",
        "derived_severity": "(ARRAY['S1','S2','S3','S4'])[1 + floor(sqrt(r4) * 4)::int]",
        "severity": "(ARRAY['S1','S2','S3','S4'])[1 + floor(sqrt(r4) * 4)::int]",
        "severity_reason": "''",
        "regulatory": "r5 < 0.1",
        "repeat_of_id": "CASE WHEN r5 > 0.92 AND s.n > 1000"
        " THEN s.n - 1 - floor(r6 * 900)::int END",
        "status": f"CASE WHEN {answered} THEN (CASE WHEN r9 < 0.8 THEN 'closed'"
        " ELSE 'awaiting_customer' END) ELSE 'investigating' END",
        "team_id": f"({arr(team_ids)})[CASE WHEN r6 < 0.8 THEN 1 ELSE 2 END]",
        "assignee_id": f"({arr(handler_ids)})"
        f"[1 + floor(power(r15, 1.2) * {len(handler_ids)})::int]",
        "received_at": "s.received",
        "acknowledged_at": "CASE WHEN s.received + s.handling * 0.05 < now()"
        " THEN s.received + s.handling * 0.05 END",
        "first_contact_at": "CASE WHEN s.received + s.handling * 0.3 < now()"
        " THEN s.received + s.handling * 0.3 END",
        "answered_at": f"CASE WHEN {answered} THEN s.received + s.handling END",
        "response_due_at": f"CASE WHEN {answered}"
        " THEN s.received + s.handling + interval '14 days' END",
        "customer_response": f"CASE WHEN {answered} AND r9 < 0.8 THEN"
        " (CASE WHEN r10 < 0.7 THEN 'accepted' ELSE 'silent' END) ELSE '' END",
        "dispute_reason": "''",
        "closed_at": f"CASE WHEN {answered} AND r9 < 0.8 THEN s.received + s.handling"
        " + interval '7 days' END",
        "outcome": f"CASE WHEN {answered} THEN (ARRAY['upheld','partially_upheld','not_upheld'])"
        "[1 + floor(r10 * 3)::int] ELSE '' END",
        "resolution": "''",
        "corrective_action": "''",
        "root_cause_id": f"CASE WHEN {answered} THEN ({arr(causes)})"
        f"[1 + floor(r11 * {len(causes)})::int] END",
        "compensation_amount": f"CASE WHEN {answered} AND r12 < 0.35 THEN s.amount END",
        "compensation_kind": f"CASE WHEN {answered} AND r12 < 0.35 THEN"
        " (ARRAY['refund','credit','voucher','goodwill'])[1 + floor(r13 * 4)::int] ELSE '' END",
        "approved_level": f"CASE WHEN {answered} AND r12 < 0.35 THEN (CASE WHEN s.amount <= 200"
        " THEN 'handler' WHEN s.amount <= 2000 THEN 'supervisor' ELSE 'manager' END) ELSE '' END",
        "extensions_used": "CASE WHEN r14 < 0.01 THEN 2 WHEN r14 < 0.06 THEN 1 ELSE 0 END",
        "disputes": "0",
        "sla_clock_id": "NULL",
        "version": "1",
        "created_at": "s.received",
        "updated_at": "now() - interval '1 hour'",
    }
    randoms = ", ".join(f"random() AS r{i}" for i in range(1, 16))
    tail = f"""FROM (
    SELECT n, {randoms},
        now() - interval '365 days' + (n::float8 / {count}) * interval '365 days' AS received,
        interval '1 hour' * (1 + 1440 * power(random(), 3)) AS handling,
        round((power(random(), 3) * 3000)::numeric, 2) + 1 AS amount
    FROM generate_series(1, {count}) AS n
) s"""
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.11)")
        started = time.monotonic()
        cursor.execute(insert_select("complaints_complaint", values, tail))
        seconds["complaints"] = time.monotonic() - started

        started = time.monotonic()
        target = (
            "jsonb_build_object('due', {due}, 'met_at', {met},"
            " 'breached', ({met} IS NULL AND {due} < now()) OR {met} > {due})"
        )
        final_due = "c.received_at + interval '15 days' + interval '10 days' * c.extensions_used"
        ack = target.format(due="c.received_at + interval '1 day'", met="c.acknowledged_at")
        contact = target.format(due="c.received_at + interval '3 days'", met="c.first_contact_at")
        final = target.format(due=final_due, met="c.answered_at")
        targets = (
            f"jsonb_build_object('acknowledge', {ack}, 'first_contact', {contact},"
            f" 'final_answer', {final})"
        )
        clock = {
            "id": "c.id",
            "kind": "'complaint'",
            "object_id": "c.id",
            "terms": '\'{"targets": [["acknowledge", 86400], ["first_contact", 259200],'
            ' ["final_answer", 1296000]]}\'::jsonb',
            "started_at": "c.received_at",
            "paused_seconds": "0",
            "targets": targets,
            "done": "'[]'::jsonb",
            "due": "CASE WHEN c.answered_at IS NULL THEN " + final_due + " END",
            "warning": "false",
            "breached": "c.answered_at IS NULL AND " + final_due + " < now()",
            "escalation_level": "0",
            "acknowledged_level": "0",
            "stopped_at": "c.answered_at",
        }
        cursor.execute(insert_select("sla_slaclock", clock, "FROM complaints_complaint c"))
        cursor.execute("UPDATE complaints_complaint SET sla_clock_id = id")
        seconds["SLA clocks"] = time.monotonic() - started
        started = time.monotonic()
        for table in ("complaints_complaint", "sla_slaclock"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
        cursor.execute("ANALYZE complaints_complaint")
        cursor.execute("ANALYZE sla_slaclock")
        seconds["analyze"] = time.monotonic() - started
    return seconds


@dataclass
class Http:
    label: str
    concurrency: int
    summary: Summary
    statuses: dict[int, int]
    load: str


def queries(quick: bool) -> list[tuple[str, dict[str, str]]]:
    """Periods of a month, a quarter, half a year and a year, ending on any day of the
    last months, with no filter, one or two."""
    from complaints.models import ComplaintCategory, ComplaintProfile
    from org.models import Team

    rng = random.Random(11)
    today = datetime.now(UTC).date()
    profiles = list(ComplaintProfile.objects.values_list("id", flat=True))
    categories = list(ComplaintCategory.objects.filter(parent=None).values_list("id", flat=True))
    teams = list(Team.objects.values_list("id", flat=True))
    out = []
    for n in range(20 if quick else 120):
        days = rng.choice([30, 91, 182, 365])
        end = today - timedelta(days=rng.randint(0, 60 if days < 365 else 0))
        params = {"from": (end - timedelta(days=days - 1)).isoformat(), "to": end.isoformat()}
        extra = n % 6
        if extra == 1:
            params["profile"] = str(rng.choice(profiles))
        elif extra == 2:
            params["category"] = str(rng.choice(categories))
        elif extra == 3:
            params["channel"] = rng.choice(["phone", "email", "web"])
        elif extra == 4:
            params["severity"] = rng.choice(["S1", "S2", "S3", "S4"])
            params["team"] = str(rng.choice(teams))
        elif extra == 5:
            params["profile"] = str(profiles[0])
            params["channel"] = "phone"
        out.append(
            (f"{days} days" + (f", {len(params) - 2} filter(s)" if len(params) > 2 else ""), params)
        )
    return out


def agent_queries(
    items: list[tuple[str, dict[str, str]]], handlers: list[int], quick: bool
) -> list[tuple[str, dict[str, str]]]:
    """The report's periods again, each for a handler picked at random (``agent``)."""
    rng = random.Random(17)
    out = []
    for _label, params in items[: 20 if quick else AGENT_QUERIES]:
        agent = rng.choice(handlers)
        period = {"from": params["from"], "to": params["to"]}
        out.append((f"{params['from']}..{params['to']}, agent", {**period, "agent": str(agent)}))
    return out


def run(*, quick: bool = False) -> report.Section:
    started = time.monotonic()
    count = QUICK if quick else FULL
    requests = QUICK_REQUESTS if quick else REQUESTS
    env.reset_database()
    env.setup_django()
    desk = seed_desk()
    print(f"[complaint_report] seeding {count:,} complaints")
    with cpu.Window(label="seed") as window:
        handlers = seed_handlers(QUICK_HANDLERS if quick else HANDLERS)
        seeded = seed(count, [desk.team_id, desk.other_team_id], handlers)
    seed_load = cpu.describe(window.shares)
    for what, secs in seeded.items():
        print(f"[complaint_report]   {what}: {secs:.1f} s")

    from complaints.models import Complaint
    from reports import selectors
    from reports.models import ALL_DIMS, ComplaintRollup
    from reports.rollup import refresh_complaint_rollups

    mark = time.monotonic()
    full = refresh_complaint_rollups(full=True)
    full_seconds = time.monotonic() - mark
    sizes = {
        "day cells": ComplaintRollup.objects.filter(grain="d").count(),
        "of which finest": ComplaintRollup.objects.filter(grain="d", dims=ALL_DIMS).count(),
        "month cells": ComplaintRollup.objects.filter(grain="m").count(),
    }
    sizes["table MB"] = (
        env.sql("SELECT pg_total_relation_size('reports_complaintrollup')")[0][0] // 2**20
    )
    print(f"[complaint_report] full refresh: {full.days} days in {full_seconds:.1f} s; {sizes}")

    # a minute's changes: recent complaints touched, then the incremental refresh
    touched = QUICK_TOUCHED if quick else TOUCHED
    recent = list(
        Complaint.objects.order_by("-received_at").values_list("id", flat=True)[: touched * 10]
    )
    picked = random.Random(5).sample(recent, min(touched, len(recent)))
    Complaint.objects.filter(pk__in=picked).update(updated_at=datetime.now(UTC))
    mark = time.monotonic()
    incremental = refresh_complaint_rollups()
    incremental_seconds = time.monotonic() - mark
    print(
        f"[complaint_report] incremental refresh after {len(picked):,} changes:"
        f" {incremental.days} days in {incremental_seconds:.2f} s"
    )

    items = queries(quick)
    # the figures are those of the complaints table: one year, no filter, checked
    year = selectors.parse_filters({"from": items[0][1]["from"], "to": items[0][1]["to"]})
    stats = selectors.complaint_statistics(year)
    direct = selectors.register_queryset(year).count()
    assert stats["totals"]["complaints"] == direct, (stats["totals"], direct)

    def timed(queries: list[tuple[str, dict[str, str]]]) -> Summary:
        """The selector in-process, once per query."""
        samples = []
        for _label, params in queries:
            filters = selectors.parse_filters(params)
            t0 = time.perf_counter()
            selectors.complaint_statistics(filters)
            samples.append(time.perf_counter() - t0)
        return Summary.of(samples)

    in_process = timed(items)
    print(
        f"[complaint_report] selector in-process: p50 {ms(in_process.p50)} p95 {ms(in_process.p95)}"
    )
    agent_items = agent_queries(items, handlers, quick)
    # the figures by agent are those of the complaints table too
    first = selectors.parse_filters(agent_items[0][1])
    by_agent = selectors.complaint_statistics(first)["totals"]["complaints"]
    assert by_agent == selectors.register_queryset(first).count(), by_agent
    agent_in_process = timed(agent_items)
    print(
        f"[complaint_report] by agent, selector in-process: p50 {ms(agent_in_process.p50)}"
        f" p95 {ms(agent_in_process.p95)}"
    )

    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    admin = User.objects.get(pk=desk.admin_id)
    token = Token.objects.get_or_create(user=admin)[0].key
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    env.close_db_connections()
    server = RunningServer(GUNICORN_2)
    http: list[Http] = []
    try:
        server.wait_ready(token)

        def requests_of(queries: list[tuple[str, dict[str, str]]]) -> Any:
            def request_for(i: int) -> tuple[str, str, bytes | None]:
                query = urlencode(queries[i % len(queries)][1])
                return "GET", "/api/reports/complaints/?" + query, None

            return request_for

        request_for = requests_of(items)
        run_load(server.port, request_for, total=len(items), concurrency=1, headers=headers)
        runs = [(c, "", request_for) for c in (1, 4)]
        runs += [(c, " by agent", requests_of(agent_items)) for c in (1, 4)]
        for concurrency, what, request_for in runs:
            with cpu.Window([server.service.pid], label="web server") as window:
                load = run_load(
                    server.port, request_for, total=requests, concurrency=concurrency,
                    headers=headers,
                )  # fmt: skip
            s = load.summary
            print(
                f"[complaint_report] GET /api/reports/complaints/{what} c={concurrency}:"
                f" p50 {ms(s.p50)} p95 {ms(s.p95)} p99 {ms(s.p99)} statuses {dict(load.statuses)}"
            )
            if load.errors:
                print(f"[complaint_report]   errors: {load.errors[:3]}")
            http.append(
                Http(
                    f"`GET /api/reports/complaints/`{what}, c={concurrency}",
                    concurrency,
                    s,
                    dict(load.statuses),
                    cpu.describe(window.shares),
                )
            )
    finally:
        server.stop()
    env.close_db_connections()
    body = _body(
        count, seeded, seed_load, full.days, full_seconds, sizes, len(picked), incremental.days,
        incremental_seconds, items, in_process, http, stats, agent_items, agent_in_process,
        len(handlers),
    )  # fmt: skip
    all_ok = all(set(h.statuses) == {200} for h in http)
    summary = [
        (
            f"complaint report, {count:,} complaints: {h.label.split(', c=')[0]} p95,"
            f" c={h.concurrency}",
            ms(h.summary.p95),
            "p95 ≤ 200 ms",
            report.verdict(all_ok and h.summary.p95 <= GOAL_P95),
        )
        for h in http
    ]
    summary.append(
        (
            f"read-model refresh after {len(picked):,} changed complaints",
            f"{incremental_seconds:.2f} s",
            "within the minute between refreshes",
            report.verdict(incremental_seconds < 60),
        )
    )
    return report.Section(
        "complaint_report",
        "Complaint report",
        body,
        summary,
        date=datetime.now(UTC).strftime("%Y-%m-%d"),
        seconds=time.monotonic() - started,
    )


def _body(
    count: int,
    seeded: dict[str, float],
    seed_load: str,
    days: int,
    full_seconds: float,
    sizes: dict[str, int],
    touched: int,
    touched_days: int,
    incremental_seconds: float,
    items: list[tuple[str, dict[str, str]]],
    in_process: Summary,
    http: list[Http],
    stats: dict[str, Any],
    agent_items: list[tuple[str, dict[str, str]]],
    agent_in_process: Summary,
    handlers: int,
) -> str:
    rows = [
        [h.label + " (gunicorn, 2 sync workers)", str(h.summary.count), ms(h.summary.p50),
         ms(h.summary.p95), ms(h.summary.p99), ms(h.summary.max), str(h.statuses), h.load]
        for h in http
    ]  # fmt: skip
    rows.append(
        ["selector `complaint_statistics`, in-process, c=1", str(in_process.count),
         ms(in_process.p50), ms(in_process.p95), ms(in_process.p99), ms(in_process.max), "", ""]
    )  # fmt: skip
    rows.append(
        ["selector by agent, in-process, c=1", str(agent_in_process.count),
         ms(agent_in_process.p50), ms(agent_in_process.p95), ms(agent_in_process.p99),
         ms(agent_in_process.max), "", ""]
    )  # fmt: skip
    examples = ", ".join(f"`{urlencode(p)}`" for _l, p in items[:4])
    totals = stats["totals"]
    return f"""## Complaint report ({count:,} complaints)

`python -m tests.bench complaint_report`. The design (a read model: a cube of day and month cells
over every subset of the filters, refreshed for the days touched): docs/reports.md.

**Data.** {count:,} complaints received over the last 365 days with their SLA clocks,
written with `INSERT … SELECT` ({", ".join(f"{k} {v:.1f} s" for k, v in seeded.items())};
{seed_load}). Of the last year: {totals["complaints"]:,} complaints, {totals["answered"]:,}
answered, repeat rate {totals["repeat_rate"]}, {totals["extended"]:,} extended.

**Read model.** Full rebuild: {days} days in {full_seconds:.1f} s; sizes
{", ".join(f"{k} {v:,}" for k, v in sizes.items())}. Incremental refresh after
{touched:,} recent complaints changed (what a busy minute brings): {touched_days} days
recounted in {incremental_seconds:.2f} s.

**Requests.** {len(items)} different queries in turn: periods of 30, 91, 182 and 365 days
ending on different days (so month rows and edge-day rows mix), with no filter, a
profile, a category, a channel, a severity and a team, or a profile and a channel; e.g.
{examples}. An administrator's API token. The year's totals were checked against a count of
the complaints table before the run.

**By agent.** The complaints are held by {handlers} handlers, some busier than others
(about {count // handlers:,} a year each on average). The report by agent is counted from the
complaints themselves (the read model is kept per team; docs/reports.md, "By agent"):
{len(agent_items)} queries, the same periods with a handler picked at random (`agent=`),
e.g. {", ".join(f"`{urlencode(p)}`" for _l, p in agent_items[:2])}; the first was checked
against a count of the handler's complaints.

{report.table(["path", "requests", "p50", "p95", "p99", "max", "statuses", "CPU meanwhile"], rows)}
"""
