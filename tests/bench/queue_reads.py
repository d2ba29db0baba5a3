"""2. Queue reads with 1,000,000 tickets (50,000 open; ``--quick``: 20,000) and 100,000 open
complaints beside them: ``GET /api/queue/`` and ``GET /api/tickets/?assignee=me`` as one
agent, plus the plans of their SQL."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import cpu, env, report
from .load import Run, run_load
from .profiling import Profile, run_profiled, time_calls
from .queue_seed import FULL, QUICK, QueueSeed, seed
from .seed import seed_desk
from .server import GUNICORN_4, RunningServer
from .stats import ms

REQUESTS = 500
WARMUP = 50
CONCURRENCIES = (1, 4)
GOAL_P95 = 0.025
ENDPOINTS = {
    "queue": ("GET /api/queue/", "/api/queue/"),
    "mine": ("GET /api/tickets/?assignee=me", "/api/tickets/?assignee=me"),
}
BIG_SORT_ROWS = 1000
PROFILE_CALLS = 200
STACK_CALLS = 1000


@dataclass
class Plan:
    endpoint: str
    sql: str
    text: str
    execution_ms: float
    seq_scans: list[str]
    sorts: list[str]
    findings: list[str] = field(default_factory=list)


def _walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    out = [node]
    for child in node.get("Plans", []):
        out += _walk(child)
    return out


# The tables the endpoints must never read whole: tickets and the work queue.
BIG_TABLES = ("tickets_ticket", "processes_workitem")


def explain(endpoint: str, sql: str) -> Plan:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
        data = cursor.fetchone()[0]
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        text = "\n".join(r[0] for r in cursor.fetchall())
    doc = data if isinstance(data, list) else json.loads(data)
    root = doc[0]
    seq_scans, sorts, findings = [], [], []
    for node in _walk(root["Plan"]):
        kind = node["Node Type"]
        if kind == "Seq Scan":
            rel = node.get("Relation Name", "?")
            scanned = (
                node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
            ) * node.get("Actual Loops", 1)
            seq_scans.append(f"Seq Scan on {rel} ({scanned:,} rows read)")
            if rel in BIG_TABLES or scanned > 10_000:
                findings.append(f"sequential scan of {rel}, {scanned:,} rows read")
        if kind in ("Sort", "Incremental Sort"):
            child = node.get("Plans", [{}])[0]
            rows = child.get("Actual Rows", 0) * child.get("Actual Loops", 1)
            method = node.get("Sort Method", "?")
            keys = ", ".join(node.get("Sort Key", []))
            sorts.append(f"{kind} of {rows:,} rows by {keys} ({method})")
            if rows > BIG_SORT_ROWS:
                findings.append(f"{kind.lower()} of {rows:,} rows by {keys} ({method})")
    return Plan(endpoint, sql, text, root.get("Execution Time", 0.0), seq_scans, sorts, findings)


def what_if(plan: Plan) -> list[tuple[str, Plan]]:
    """The same statement rewritten the way the finding suggests, to show what it buys."""
    out: list[tuple[str, Plan]] = []
    if not plan.findings:
        return out
    if " DESC NULLS LAST" in plan.sql and any("created_at" in f for f in plan.findings):
        out.append(
            (
                "ordered by `created_at DESC, id DESC` (created_at is NOT NULL, so the rows are "
                "the same; the index `ticket_assignee_created_idx` is declared in this order)",
                explain(plan.endpoint, plan.sql.replace(" DESC NULLS LAST", " DESC")),
            )
        )
    match = re.search(r'"team_id" IN \(([0-9, ]+)\)', plan.sql)
    if match and any("sort" in f for f in plan.findings):
        for team in match.group(1).split(","):
            sql = plan.sql.replace(match.group(0), f'"team_id" = {int(team)}')
            out.append(
                (
                    f"one statement per team (team {int(team)}), merged in Python as "
                    "`queue_for` already merges its parts",
                    explain(plan.endpoint, sql),
                )
            )
    return out


def profile_views(token: str, calls: int) -> dict[str, tuple[float, Profile]]:
    """The two endpoints called in-process through the whole stack with the agent's token
    (no HTTP), timed and then under cProfile."""
    out = {}
    for key, call in stack_callers(token).items():

        def timed(_i: int, call: Callable[[], None] = call) -> None:
            call()

        for i in range(10):
            timed(i)
        out[key] = (time_calls(timed, calls), run_profiled(timed, calls))
    return out


@dataclass
class StackCost:
    """One endpoint through the whole Django stack in this process, as a gunicorn worker
    runs it (middleware, token authentication, view, JSON rendering), minus the HTTP."""

    calls: int
    cpu_median: float  # seconds of this process's CPU per request
    cpu_p90: float
    statements: dict[str, int]  # per request, by kind (the token look-up included)


def stack_callers(token: str) -> dict[str, Callable[[], None]]:
    """Each endpoint called through Django's WSGI handler with the agent's token, as a
    gunicorn worker runs it (middleware, token authentication, view, JSON rendering)."""
    import io
    import sys

    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()
    out: dict[str, Callable[[], None]] = {}
    for key, (_label, url) in ENDPOINTS.items():
        path, _, query = url.partition("?")

        def call(path: str = path, query: str = query) -> None:
            environ = {
                "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query,
                "SCRIPT_NAME": "", "SERVER_NAME": env.HOST, "SERVER_PORT": "80",
                "HTTP_HOST": env.HOST, "HTTP_AUTHORIZATION": f"Token {token}",
                "HTTP_ACCEPT": "application/json", "REMOTE_ADDR": env.HOST,
                "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.input": io.BytesIO(b""),
                "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
            }  # fmt: skip
            status: list[str] = []

            def start_response(line: str, _headers: Any, *_exc: Any) -> Any:
                status.append(line)
                return lambda _data: None

            b"".join(handler(environ, start_response))
            assert status[0].startswith("200"), status

        out[key] = call
    return out


def stack_costs(token: str, calls: int) -> dict[str, StackCost]:
    """CPU per request (``time.process_time``: insensitive to other work on the machine,
    unlike a latency) and the statements of one request, through the whole stack."""
    import statistics
    from collections import Counter

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .profiling import statement_kind

    out = {}
    for key, call in stack_callers(token).items():
        for _ in range(20):
            call()
        cpu = []
        for _ in range(calls):
            started = time.process_time()
            call()
            cpu.append(time.process_time() - started)
        with CaptureQueriesContext(connection) as captured:
            call()
        kinds = Counter(statement_kind(q["sql"]) for q in captured.captured_queries)
        p90 = statistics.quantiles(cpu, n=10)[-1] if len(cpu) > 1 else cpu[0]
        out[key] = StackCost(calls, statistics.median(cpu), p90, dict(kinds))
    return out


def captured_sql(token: str) -> dict[str, list[str]]:
    """The SQL each endpoint runs, captured in-process through the whole stack with the
    agent's token (its look-up included)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    out: dict[str, list[str]] = {}
    for key, call in stack_callers(token).items():
        call()  # the first call warms caches; capture the second
        with CaptureQueriesContext(connection) as captured:
            call()
        out[key] = [
            q["sql"]
            for q in captured.captured_queries
            if q["sql"].lstrip().upper().startswith("SELECT")
        ]
    return out


def _get(path: str) -> Any:
    def request_for(i: int) -> tuple[str, str, bytes | None]:
        return "GET", path, None

    return request_for


@dataclass
class EndpointResult:
    key: str
    runs: list[Run]
    rows_returned: int
    cpu_shares: dict[str, float]


def measure(
    seeded: QueueSeed, token: str, *, requests: int, warmup: int = WARMUP
) -> list[EndpointResult]:
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    server = RunningServer(GUNICORN_4)
    results = []
    try:
        server.wait_ready(token)
        for key, (_label, path) in ENDPOINTS.items():
            run_load(server.port, _get(path), total=warmup, concurrency=4, headers=headers)
            runs = []
            shares: dict[str, float] = {}
            for concurrency in CONCURRENCIES:
                with cpu.Window([server.service.pid], label="web server") as window:
                    run = run_load(
                        server.port, _get(path), total=requests, concurrency=concurrency,
                        headers=headers,
                    )  # fmt: skip
                if concurrency == max(CONCURRENCIES):
                    shares = window.shares
                runs.append(run)
            body = json.loads(runs[0].sample_body or b"{}")
            results.append(EndpointResult(key, runs, len(body.get("results", [])), shares))
    finally:
        server.stop()
    return results


def run(*, quick: bool = False) -> report.Section:
    started = time.monotonic()
    requests, warmup = (20, 8) if quick else (REQUESTS, WARMUP)
    scale = QUICK if quick else FULL
    env.reset_database()
    env.setup_django()
    desk = seed_desk()
    print(f"[queue] seeding {scale.tickets:,} tickets with SQL")
    seeded = seed(desk, scale)
    for what, secs in seeded.seconds.items():
        print(f"[queue]   {what}: {secs:.1f} s")
    print(
        f"[queue]   {seeded.tickets:,} tickets, {seeded.open_tickets:,} open; agent"
        f" {seeded.agent_id}: {seeded.agent_open_assigned} open assigned, its teams"
        f" {seeded.teams_open_unassigned} open unassigned"
    )
    print(f"[queue]   {seeded.complaints:,} complaints, {seeded.open_complaints:,} open")
    print(
        "[queue]   work queue: "
        + ", ".join(f"{n:,} {kind}" for kind, n in seeded.work_items.items())
        + "; the agent's queue: "
        + ", ".join(f"{n:,} {kind}" for kind, n in seeded.agent_queue.items())
    )
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=User.objects.get(pk=seeded.agent_id))
    env.close_db_connections()
    results = measure(seeded, token.key, requests=requests, warmup=warmup)
    for r in results:
        for run_ in r.runs:
            s = run_.summary
            print(
                f"[queue] {ENDPOINTS[r.key][0]} c={run_.concurrency}: {run_.throughput:.0f}/s"
                f" p50 {ms(s.p50)} p95 {ms(s.p95)} p99 {ms(s.p99)} statuses {dict(run_.statuses)}"
            )
    sqls = captured_sql(token.key)
    plans = [explain(key, sql) for key, statements in sqls.items() for sql in statements]
    alternatives: dict[int, list[tuple[str, Plan]]] = {}
    for i, p in enumerate(plans):
        flag = "; ".join(p.findings) or "ok"
        print(f"[queue] plan {p.endpoint}: {p.execution_ms:.2f} ms, {flag}")
        for description, alt in what_if(p):
            alternatives.setdefault(i, []).append((description, alt))
            print(f"[queue]   what if {description.split(' (')[0]}: {alt.execution_ms:.2f} ms")
    profiles = profile_views(token.key, 5 if quick else PROFILE_CALLS)
    for key, (plain, prof) in profiles.items():
        print(
            f"[queue] in-process {ENDPOINTS[key][0]}: {plain * 1000:.1f} ms per call"
            f" ({prof.per_call * 1000:.1f} ms under cProfile)"
        )
    costs = stack_costs(token.key, 20 if quick else STACK_CALLS)
    for key, cost in costs.items():
        print(
            f"[queue] whole stack {ENDPOINTS[key][0]}: {cost.cpu_median * 1000:.2f} ms CPU per"
            f" request (median of {cost.calls}), statements {cost.statements}"
        )
    env.close_db_connections()
    return _section(
        seeded, results, plans, alternatives, profiles, costs, warmup,
        time.monotonic() - started,
    )  # fmt: skip


def _section(
    seeded: QueueSeed,
    results: list[EndpointResult],
    plans: list[Plan],
    alternatives: dict[int, list[tuple[str, Plan]]],
    profiles: dict[str, tuple[float, Profile]],
    costs: dict[str, StackCost],
    warmup: int,
    seconds: float,
) -> report.Section:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    summary = []
    goal_rows = []
    for r in results:
        label = ENDPOINTS[r.key][0]
        for run_ in r.runs:
            s = run_.summary
            ok = s.p95 <= GOAL_P95
            goal_rows.append(
                [label, str(run_.concurrency), str(run_.requests), f"{run_.throughput:.0f}",
                 ms(s.p50), ms(s.p95), ms(s.p99), ms(s.max), "≤ 25 ms", report.verdict(ok)]
            )  # fmt: skip
            summary.append(
                (f"{label} p95, c={run_.concurrency}", ms(s.p95), "≤ 25 ms", report.verdict(ok))
            )
    checks = [
        [
            ENDPOINTS[r.key][0],
            ", ".join(
                f"c={x.concurrency}: " + ", ".join(f"HTTP {k} x {v}" for k, v in x.statuses.items())
                for x in r.runs
            ),
            str(r.rows_returned),
            cpu.describe(r.cpu_shares),
        ]
        for r in results
    ]
    seq_on_tickets = [
        p for p in plans if any(table in s for s in p.seq_scans for table in BIG_TABLES)
    ]
    summary.append(
        (
            "Seq Scan on tickets_ticket or processes_workitem in the endpoints' plans",
            "none" if not seq_on_tickets else f"{len(seq_on_tickets)} statement(s)",
            "none",
            report.verdict(not seq_on_tickets),
        )
    )
    plan_rows = [
        [
            ENDPOINTS[p.endpoint][0],
            str(i + 1),
            f"{p.execution_ms:.2f} ms",
            "; ".join(p.seq_scans) or "none",
            "; ".join(p.sorts) or "none",
        ]
        for i, p in enumerate(plans)
    ]
    plan_blocks = []
    for i, p in enumerate(plans):
        plan_blocks.append(
            f"#### {i + 1}. {ENDPOINTS[p.endpoint][0]}\n\n"
            + report.code(p.sql, "sql")
            + "\n\n"
            + report.code(p.text)
            + "\n"
        )
    findings = [f"* {ENDPOINTS[p.endpoint][0]} (statement {plans.index(p) + 1}): {f}"
                for p in plans for f in p.findings]  # fmt: skip
    template_rows = [[k, json.dumps(v, default=str)] for k, v in seeded.templates.items()]
    work_items = f"{sum(seeded.work_items.values()):,}"
    probes = seeded.work_items.get("probe", 0)
    agent_queue = ", ".join(f"{n:,} `{k}`" for k, n in seeded.agent_queue.items())
    cost_rows = [
        [ENDPOINTS[key][0], f"{c.cpu_median * 1000:.2f} ms", f"{c.cpu_p90 * 1000:.2f} ms",
         str(sum(c.statements.values())),
         ", ".join(f"{k} {v}" for k, v in c.statements.items())]
        for key, c in costs.items()
    ]  # fmt: skip
    seed_rows = [[k, f"{v:.1f} s"] for k, v in seeded.seconds.items()]
    scale = seeded.scale
    complaints = f"{seeded.open_complaints:,} open complaints"
    body = f"""\
## 2. Queue reads with {scale.tickets:,} tickets ({scale.open:,} open) and {complaints}

_Measured {now}; took {seconds:.0f} s._

Data, seeded with set-based SQL (`INSERT … SELECT … FROM generate_series`):
{seeded.tickets:,} tickets over two years (one every {scale.spacing:.0f} s, numbers
`T-YYYY-NNNNNN` per year), {seeded.open_tickets:,} of them open (status new or
open, the newest {scale.recent:,} hold them), {scale.teams} teams, {scale.agents} agents
(online, one team each), {scale.customers:,} customers and {scale.contacts:,} contacts reused
across the tickets. Every ticket has its SLA clock (`sla_slaclock`): open tickets' clocks
run, due (the nearest unmet target) spread from 1 day overdue to 6 days ahead (1 % without
SLA: a clock without targets); closed tickets' clocks are stopped with both targets met.
The benchmark agent (user {seeded.agent_id}) belongs to 2 teams
(ids {", ".join(map(str, seeded.agent_team_ids))}), has
{seeded.agent_open_assigned} open tickets assigned
({seeded.agent_all_assigned:,} assigned in total, closed ones included), and
its teams hold {seeded.teams_open_unassigned:,} open unassigned tickets. Every
open ticket has its viewflow rows (process, `flows_ticketprocess`, the `work`
task ASSIGNED to the assignee or NEW; no viewflow timer: the SLA ladder sweeps the
clocks); the closed tickets have none (a production database would also hold their
finished processes and tasks). Columns the seed does not set hold what the ORM gives a new
row (the fields' defaults; no checkpoint handled, so the clock's `warning` false and its
escalation level 0). Then `VACUUM ANALYZE`.

Beside the tickets, {seeded.complaints:,} complaints ({seeded.open_complaints:,} open:
3 in 10 received, the rest investigating; under the `cn-banking-insurance` profile, received
over the last 20 days, every second one assigned to an agent of its team) with their SLA
clocks (the profile's terms, the nearest unmet target due from about 19 days overdue to
15 days ahead) and their work items of kind `complaint` as `complaints.selectors.queue_row`
writes them; no viewflow rows for them (the queue reads the work items only).

The work queue (`processes_workitem`, which `GET /api/queue/` reads) holds
{seeded.work_items.get("ticket", 0):,} items of kind `ticket` (every open ticket's, as
the services write them), {seeded.work_items.get("complaint", 0):,} of kind `complaint`,
and {probes:,} open items of a third kind (`probe`, no
ticket behind them) spread over the same agents and teams, half of them unassigned,
their due times mixed in among the tickets' (from 2,000 minutes overdue to 18,000
minutes ahead); {work_items} in all. The benchmark agent's queue (assigned to it, or
unassigned in one of its teams) holds {agent_queue}.

The viewflow column values and the clocks' terms were copied from real tickets opened
through `tickets.services.open_ticket` on the same desk:

{report.table(["row", "values copied"], template_rows)}

Seeding time: {", ".join(f"{k} {v}" for k, v in seed_rows)}.

Requests go through {GUNICORN_4.label} (see Topology), authenticated with the
agent's token; {warmup} warm-up requests per endpoint first. Every request
reads the first page (50 rows).

{report.table(["endpoint", "concurrency", "requests", "req/s", "p50", "p95", "p99", "max",
               "goal p95", "verdict"], goal_rows)}

{report.table(["endpoint", "responses", "rows in a page", f"CPU at c={max(CONCURRENCIES)}"],
              checks)}

### CPU and statements per request, whole stack

Each endpoint called {next(iter(costs.values())).calls if costs else 0:,} times in one
process through Django's WSGI handler with the agent's token, as a gunicorn worker
runs it (middleware, token authentication, view, JSON rendering; not the HTTP parsing),
after 20 warm-up calls. CPU is this process's (`time.process_time`), which other work
on the machine does not inflate as it does a latency; PostgreSQL's CPU is not in it.
Statements are those Django sends in one request, the token look-up included (not
the connection's health check, a `SELECT 1` at the first statement of a request).

{report.table(["endpoint", "CPU per request, median", "p90", "statements",
               "by kind"], cost_rows)}

### Query plans

The SQL each endpoint runs, captured in-process with `CaptureQueriesContext`
around a request through the whole stack with the agent's token (the first
statement of each is the token's look-up, which reads the agent's roles and teams
with it), then run with `EXPLAIN (ANALYZE, BUFFERS)` on the warm database:

{report.table(["endpoint", "statement", "execution", "sequential scans", "sorts"], plan_rows)}

"""  # fmt: skip
    if findings:
        body += (
            f"**Findings** (a sequential scan, or a sort of more than {BIG_SORT_ROWS:,} rows):\n\n"
            + "\n".join(findings)
            + "\n\n"
        )
    else:
        body += (
            f"No sequential scan of `tickets_ticket` and no sort of more than "
            f"{BIG_SORT_ROWS:,} rows.\n\n"
        )
    for i, alts in alternatives.items():
        p = plans[i]
        for description, alt in alts:
            body += (
                f"* What if statement {i + 1} were {description}: "
                f"{alt.execution_ms:.2f} ms instead of {p.execution_ms:.2f} ms; sorts: "
                f"{'; '.join(alt.sorts) or 'none'}.\n"
            )
    if alternatives:
        body += "\n"
    body += "### What limits these figures\n\n" + _findings(results, plans, profiles) + "\n\n"
    body += _where_time_goes(results, plans, profiles)
    body += "\n#### The plans\n\n" + "\n".join(plan_blocks)
    alt_blocks = [
        f"#### Statement {i + 1} rewritten: {description}\n\n" + report.code(alt.text) + "\n"
        for i, alts in alternatives.items()
        for description, alt in alts
    ]
    if alt_blocks:
        body += "\n" + "\n".join(alt_blocks)
    return report.Section("queue", "Queue reads", body, summary, now, seconds)


def _max_cumulative(prof: Profile, suffix: str, name: str) -> float:
    raw: dict[Any, Any] = prof.stats.stats  # type: ignore[attr-defined]
    values = [v[3] for (path, _l, fn), v in raw.items() if fn == name and path.endswith(suffix)]
    return max(values, default=0.0)


def _findings(
    results: list[EndpointResult], plans: list[Plan], profiles: dict[str, tuple[float, Profile]]
) -> str:
    cpus = os.cpu_count() or 1
    lines = []
    for r in results:
        label = ENDPOINTS[r.key][0]
        plain, prof = profiles[r.key]
        sql_ms = sum(p.execution_ms for p in plans if p.endpoint == r.key)
        top = r.runs[-1]
        per = {
            k: r.cpu_shares.get(k, 0.0) / 100 * cpus / top.throughput * 1000
            if top.throughput
            else 0.0
            for k in ("web server", "postgres")
        }
        total = per["web server"] + per["postgres"]
        drf = _max_cumulative(prof, "rest_framework/serializers.py", "data") / prof.calls * 1000
        sla = _max_cumulative(prof, "tickets/api/serializers.py", "get_sla") / prof.calls * 1000
        text = (
            f"* **{label}**: at c=1 the p50 is {ms(r.runs[0].summary.p50)}, the request "
            f"in-process {plain * 1000:.1f} ms, its SQL {sql_ms:.1f} ms on the server: the "
            f"time is Python, not the database. At c={top.concurrency} the machine was "
            f"{r.cpu_shares.get('machine busy', 0):.0f} % busy and each request cost "
            f"{per['web server']:.1f} ms of web-worker CPU + {per['postgres']:.1f} ms of "
            f"PostgreSQL CPU, so {top.throughput:.0f} requests/s is about what "
            f"{cpus} CPUs give ({cpus * 1000 / total if total else 0:.0f}/s at most); "
            f"requests queue behind each other and the p95 rises with the concurrency."
        )
        statements = sum(1 for p in plans if p.endpoint == r.key)
        trips = prof.cumulative("django/db/backends/utils.py", "_execute") / prof.calls * 1000
        text += (
            f" Under the profiler ({prof.per_call * 1000:.1f} ms a call), the "
            f"{statements} statements' round trips take {trips:.1f} ms against {sql_ms:.1f} ms "
            f"of execution on the server: each statement costs more in the driver and the "
            f"ORM than in PostgreSQL, which is why a queue page is one statement for all its "
            f"parts (UNION ALL) and the token's look-up reads the roles and teams with it."
            if r.key == "queue"
            else ""
        )
        if drf > 0.2 * prof.per_call * 1000:
            text += (
                f" DRF serialization of the 50 rows takes {drf:.1f} of the "
                f"{prof.per_call * 1000:.1f} ms under the profiler"
            )
            if sla:
                text += f" (of which `TicketOutput.get_sla`, 50 calls: {sla:.1f} ms)"
            text += (
                "; a page of plain dicts built from `.values()`, as the queue does, would "
                "skip most of the per-field serializer machinery."
            )
        lines.append(text)
    return "\n".join(lines)


def _where_time_goes(
    results: list[EndpointResult], plans: list[Plan], profiles: dict[str, tuple[float, Profile]]
) -> str:
    rows = []
    for r in results:
        sql_ms = sum(p.execution_ms for p in plans if p.endpoint == r.key)
        statements = sum(1 for p in plans if p.endpoint == r.key)
        plain, _prof = profiles[r.key]
        http = r.runs[0].summary.p50 * 1000
        rows.append(
            [
                ENDPOINTS[r.key][0],
                f"{http:.1f} ms",
                f"{plain * 1000:.1f} ms",
                f"{statements} statements, {sql_ms:.1f} ms",
            ]
        )
    out = (
        "### Where a read's time goes\n\n"
        "HTTP p50 at c=1 against the endpoint called in-process through the whole stack "
        "with the token (mean wall time per call over the profiled number of calls, "
        "without the profiler; no HTTP) and the server-side execution time of its SQL "
        "(sum of the `EXPLAIN ANALYZE` execution times):\n\n"
        + report.table(["endpoint", "HTTP p50, c=1", "in-process", "its SQL (server side)"], rows)
        + "\n"
    )
    for key, (_plain, prof) in profiles.items():
        buckets = [[n, f"{per:.2f} ms", f"{sh * 100:.0f} %"] for n, per, sh in prof.buckets()]
        out += (
            f"\n`{ENDPOINTS[key][0]}` in-process, {prof.calls} calls, "
            f"{prof.per_call * 1000:.1f} ms per call:\n\n"
            + report.table(["bucket", "per call", "share"], buckets)
            + "\n\nTop 15 by cumulative time:\n\n"
            + report.table(
                ["ncalls", "tottime", "cumtime", "cum per call", "function"],
                prof.top("cumulative"),
            )
            + "\n"
        )
    return out
