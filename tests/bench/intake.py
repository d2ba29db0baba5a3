"""1. Intake: ``POST /api/tickets/`` through the production web topology over loopback.

README's topology serves HTTP from gunicorn sync workers (2: one per core) and only the
socket from uvicorn: the full measurement always runs on it. The screening also runs
gunicorn with 4 workers and uvicorn with 4, as a comparison, never as the figure."""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from . import cpu, env, report
from .load import RequestFor, Run, run_load
from .pgactivity import Activity, ActivitySampler
from .profiling import (
    CpuPerCall,
    Profile,
    QueryCount,
    count_queries,
    cpu_per_call,
    run_profiled,
    wsgi_request,
)
from .seed import BenchDesk, seed_desk
from .server import GUNICORN_2, GUNICORN_4, UVICORN_4, RunningServer, ServerConfig
from .stats import ms

WARMUP = 48
SCREEN_REQUESTS = 400
SERIAL_REQUESTS = 300
CONCURRENT_REQUESTS = 2000
CONCURRENCY = 8
PROFILE_INTAKES = 200
QUERY_COUNT_INTAKES = 30
CPU_BATCHES, CPU_BATCH = 15, 40  # CPU per intake: the median of 15 batches of 40
GOAL_THROUGHPUT = 150.0  # issue 9
GOAL_P95 = 0.080
PRIORITIES = ("P2", "P3", "P2", "P1", "P4", "P3")
# README's production topology for HTTP; the others are screened beside it for comparison.
PRODUCTION = GUNICORN_2
CONFIGS = (GUNICORN_4, GUNICORN_2, UVICORN_4)


@dataclass
class ConfigResult:
    config: ServerConfig
    runs: list[Run]
    created_http: int
    created_db: int
    cpu_shares: dict[str, float] = field(default_factory=dict)
    activity: Activity | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def concurrent(self) -> Run:
        return self.runs[-1]

    @property
    def serial(self) -> Run:
        return self.runs[0]

    @property
    def all_created(self) -> bool:
        return self.created_http == self.created_db and not self.bad_statuses

    @property
    def bad_statuses(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for run in self.runs:
            for code, n in run.statuses.items():
                if code != 201:
                    out[code] = out.get(code, 0) + n
        return out


def _body(tag: str, i: int) -> bytes:
    return json.dumps(
        {
            "subject": f"Bench intake {tag} #{i}: cannot log in",
            "description": "The customer cannot log in since this morning; error 500 on submit.",
            "priority": PRIORITIES[i % len(PRIORITIES)],
            "channel": "api",
            "contact": {"email": f"{tag}-{i}@bench.example.com", "name": f"Customer {i}"},
        }
    ).encode()


def _post(tag: str) -> RequestFor:
    def request_for(i: int) -> tuple[str, str, bytes | None]:
        return "POST", "/api/tickets/", _body(tag, i)

    return request_for


def _ticket_count() -> int:
    from tickets.models import Ticket

    return Ticket.objects.count()


def measure(
    config: ServerConfig,
    desk: BenchDesk,
    phases: list[tuple[int, int]],
    tag: str,
    warmup: int = WARMUP,
) -> ConfigResult:
    """Starts the server, warms it up, then runs each (requests, concurrency) phase; CPU
    and database activity are sampled during the last phase."""
    headers = {"Authorization": f"Token {desk.token}", "Accept": "application/json"}
    server = RunningServer(config)
    try:
        server.wait_ready(desk.token)
        warm = run_load(
            server.port, _post(f"{tag}-{config.key}-warm"), total=warmup,
            concurrency=CONCURRENCY, headers=headers,
        )  # fmt: skip
        before = _ticket_count()
        runs: list[Run] = []
        shares: dict[str, float] = {}
        activity = None
        for n, (total, concurrency) in enumerate(phases):
            last = n == len(phases) - 1
            with (
                cpu.Window([server.service.pid], label="web server") as window,
                ActivitySampler() as sampler,
            ):
                runs.append(
                    run_load(
                        server.port,
                        _post(f"{tag}-{config.key}-{n}"),
                        total=total,
                        concurrency=concurrency,
                        headers=headers,
                    )
                )
            if last:
                shares = window.shares
                activity = sampler.result
        created_db = _ticket_count() - before
        created_http = sum(r.statuses.get(201, 0) for r in runs)
        problems = [f"warm-up: {e}" for e in warm.errors[:3]]
        problems += [e for r in runs for e in r.errors[:3]]
        problems += server.service.log_problems()[:10]
        return ConfigResult(config, runs, created_http, created_db, shares, activity, problems)
    finally:
        server.stop()
        env.close_db_connections()


def profile_intake(
    desk: BenchDesk,
    calls: int = PROFILE_INTAKES,
    counted_calls: int = QUERY_COUNT_INTAKES,
    cpu_batches: int = CPU_BATCHES,
    cpu_batch: int = CPU_BATCH,
) -> tuple[Profile, QueryCount, CpuPerCall]:
    """Intakes in this process through the production WSGI application (middleware, token
    authentication, the view, the service), as one gunicorn sync worker runs them: the
    statements of each, its CPU (this process and its PostgreSQL backend), and a profile."""
    send = wsgi_request(
        "POST",
        "/api/tickets/",
        {"Authorization": f"Token {desk.token}", "Accept": "application/json"},
    )
    stamp = int(time.time())

    def intake(tag: str) -> Callable[[int], None]:
        def one(i: int) -> None:
            status, content = send(_body(f"{tag}-{stamp}", i))
            if status != 201:
                raise RuntimeError(f"intake answered {status}: {content[:300]!r}")

        return one

    for i in range(20):  # warm caches and connections
        intake("warm")(i)
    counted = count_queries(intake("count"), counted_calls)
    cpu_used = cpu_per_call(intake("cpu"), cpu_batches, cpu_batch)
    profiled = run_profiled(intake("profile"), calls)
    return profiled, counted, cpu_used


def _print(label: str, result: ConfigResult) -> None:
    parts = []
    for r in result.runs:
        s = r.summary
        parts.append(
            f"c={r.concurrency}: {r.requests} req, {r.throughput:.1f}/s, p50 {ms(s.p50)},"
            f" p95 {ms(s.p95)}, p99 {ms(s.p99)}"
        )
    print(
        f"[intake]   {label}: "
        + " | ".join(parts)
        + f" | 201s {result.created_http}, new rows {result.created_db}",
        flush=True,
    )


def run(*, quick: bool = False) -> report.Section:
    started = time.monotonic()
    screen = 16 if quick else SCREEN_REQUESTS
    serial = 10 if quick else SERIAL_REQUESTS
    concurrent = 24 if quick else CONCURRENT_REQUESTS
    warmup = 8 if quick else WARMUP
    profile_calls, counted_calls = (10, 5) if quick else (PROFILE_INTAKES, QUERY_COUNT_INTAKES)
    env.reset_database()
    env.setup_django()
    desk = seed_desk()
    screened = []
    for config in CONFIGS:
        print(f"[intake] screening {config.label}: {screen} requests at c={CONCURRENCY}")
        result = measure(config, desk, [(screen, CONCURRENCY)], "screen", warmup)
        _print(config.label, result)
        screened.append(result)
    fastest = max(screened, key=lambda r: r.concurrent.throughput).config
    print(
        f"[intake] production topology: {PRODUCTION.label} (fastest screened: {fastest.label});"
        f" {serial} requests at c=1, {concurrent} at c={CONCURRENCY}"
    )
    full = measure(PRODUCTION, desk, [(serial, 1), (concurrent, CONCURRENCY)], "full", warmup)
    _print(PRODUCTION.label, full)
    print(f"[intake] profiling {profile_calls} in-process intakes (WSGI)")
    profiled, counted, cpu_used = profile_intake(
        desk, profile_calls, counted_calls, *((3, 5) if quick else (CPU_BATCHES, CPU_BATCH))
    )
    print(
        f"[intake]   {profiled.per_call * 1000:.1f} ms per intake under the profiler,"
        f" {counted.per_call():.1f} queries ({counted.statements / counted.calls:.1f}"
        f" statements) per intake, CPU per intake {cpu_used.web_ms:.1f} ms web +"
        f" {cpu_used.postgres_ms:.1f} ms PostgreSQL"
    )
    env.close_db_connections()
    return _section(screened, full, profiled, counted, cpu_used, warmup, time.monotonic() - started)


def _task_chain() -> str:
    """The task rows of the newest ticket's process: what one intake made the flow write."""
    rows = env.sql(
        "SELECT t.flow_task, t.flow_task_type, t.status FROM viewflow_task t"
        " WHERE t.process_id = (SELECT process_ptr_id FROM flows_ticketprocess"
        " ORDER BY ticket_id DESC LIMIT 1) ORDER BY t.id"
    )
    return " → ".join(f"`{name.rsplit('.', 1)[-1]}` {status}" for name, _type, status in rows)


def _findings(full: ConfigResult, profiled: Profile, counted: QueryCount) -> str:
    cpus = os.cpu_count() or 1
    c8 = full.concurrent
    per = {
        k: full.cpu_shares.get(k, 0.0) / 100 * cpus / c8.throughput * 1000 if c8.throughput else 0
        for k in ("web server", "postgres", "redis")
    }
    total = sum(per.values())
    ceiling = cpus * 1000 / total if total else math.nan
    budget = cpus * 1000 / GOAL_THROUGHPUT
    flow = profiled.cumulative("viewflow/workflow/nodes/start.py", "run") / profiled.calls * 1000
    sql = profiled.cumulative("django/db/backends/utils.py", "_execute") / profiled.calls * 1000
    commit = profiled.cumulative("django/db/backends/base/base.py", "_commit") / profiled.calls
    commits = counted.kinds.get("COMMIT", 0) / counted.calls
    savepoints = counted.kinds.get("SAVEPOINT/RELEASE", 0) / counted.calls / 2
    statements = counted.statements / counted.calls
    waiting = sum(v for k, v in (full.activity.states if full.activity else {}).items()
                  if k.startswith("waiting on lock"))  # fmt: skip
    samples = full.activity.samples if full.activity else 0
    blocked = full.activity.blocked_statements() if full.activity else "none"
    little = CONCURRENCY / c8.throughput * 1000 if c8.throughput else math.nan
    chain = _task_chain()
    lock_avg = waiting / samples if samples else 0.0
    agent_note = (
        " Round-robin assignment updates the chosen agent's `AgentProfile.last_assigned_at` "
        "inside the intake transaction, and concurrent intakes read the same committed "
        "state, so they pick the same agent and queue on that row until the first commits."
        if "agentprofile" in blocked
        else ""
    )
    return "\n".join(
        [
            f"* **CPU-bound on {cpus} CPUs.** At c={CONCURRENCY} the machine was "
            f"{full.cpu_shares.get('machine busy', 0):.0f} % busy. Per ticket the web workers "
            f"spent {per['web server']:.1f} ms of CPU, PostgreSQL {per['postgres']:.1f} ms and "
            f"Redis {per['redis']:.1f} ms: {total:.1f} ms, a ceiling of about {ceiling:.0f} "
            f"tickets/s here, whatever the number of workers. {GOAL_THROUGHPUT:.0f} tickets/s "
            f"needs ≤ {budget:.0f} ms of CPU per ticket in all.",
            f"* **Latency follows throughput.** With {CONCURRENCY} requests always in flight, "
            f"the mean latency is {CONCURRENCY} / throughput = {little:.0f} ms (Little's law): "
            f"p95 ≤ {GOAL_P95 * 1000:.0f} ms at c={CONCURRENCY} needs well over "
            f"{CONCURRENCY / GOAL_P95:.0f} tickets/s, so it moves only "
            f"with the CPU per ticket. At c=1 a ticket takes {ms(full.serial.summary.p50)} "
            f"(p50).",
            f"* **Statements per ticket.** {counted.per_call():.0f} queries and "
            f"{statements:.0f} statements in all ({counted.breakdown()}); in-process they cost "
            f"{sql:.1f} ms of round trips per ticket. {savepoints:.0f} savepoints come from "
            f"the nested atomic blocks of the flow (one per node activation and lock); "
            f"{commits:.0f} commit(s) per ticket"
            + (
                " because the ticket number is allocated in its own transaction before the "
                "intake transaction"
                if commits >= 2
                else ""
            )
            + f" (each COMMIT waits for the WAL flush: {commit * 1000:.1f} ms per ticket in "
            f"all). Starting the process (`TicketFlow.start.run`) takes {flow:.1f} ms of the "
            f"{profiled.per_call * 1000:.1f} ms an intake takes under the profiler; it writes "
            f"these task rows (each with its `previous` link, most updated again when done): "
            f"{chain}.",
            f"* **Row locks.** Backends waiting on a lock: {lock_avg:.2f} on average (of "
            f"{CONCURRENCY} in flight). Statements seen waiting: {blocked}.{agent_note}"
            + (
                " At this throughput the effect is small; it grows with the rate of intakes."
                if lock_avg < 0.5
                else " That is a real share of the intakes in flight."
            ),
        ]
    )


def _section(
    screened: list[ConfigResult],
    full: ConfigResult,
    profiled: Profile,
    counted: QueryCount,
    cpu_used: CpuPerCall,
    warmup: int,
    seconds: float,
) -> report.Section:
    c1, c8 = full.serial, full.concurrent
    label = full.config.label
    summary = [
        (f"throughput at c={CONCURRENCY} ({label})", f"{c8.throughput:.1f} tickets/s",
         f"≥ {GOAL_THROUGHPUT:.0f} tickets/s", report.verdict(c8.throughput >= GOAL_THROUGHPUT)),
        (f"p95 latency at c={CONCURRENCY}", ms(c8.summary.p95), f"≤ {GOAL_P95 * 1000:.0f} ms",
         report.verdict(c8.summary.p95 <= GOAL_P95)),
        ("p95 latency at c=1", ms(c1.summary.p95), "—", "—"),
        ("SQL queries per intake", f"{counted.per_call():.1f}", "—", "—"),
        ("CPU per intake in-process (web + PostgreSQL)",
         f"{cpu_used.web_ms:.1f} + {cpu_used.postgres_ms:.1f} ms", "—", "—"),
    ]  # fmt: skip
    goal_rows = [
        [f"throughput, c={CONCURRENCY} ({c8.requests} requests)", f"{c8.throughput:.1f} tickets/s",
         f"≥ {GOAL_THROUGHPUT:.0f} tickets/s", report.verdict(c8.throughput >= GOAL_THROUGHPUT)],
        [f"p50 / p95 / p99 / max latency, c={CONCURRENCY}",
         f"{ms(c8.summary.p50)} / **{ms(c8.summary.p95)}** / {ms(c8.summary.p99)} / "
         f"{ms(c8.summary.max)}", f"p95 ≤ {GOAL_P95 * 1000:.0f} ms",
         report.verdict(c8.summary.p95 <= GOAL_P95)],
        [f"throughput, c=1 ({c1.requests} requests)", f"{c1.throughput:.1f} tickets/s", "—", "—"],
        ["p50 / p95 / p99 / max latency, c=1",
         f"{ms(c1.summary.p50)} / {ms(c1.summary.p95)} / {ms(c1.summary.p99)} / "
         f"{ms(c1.summary.max)}", "—", "—"],
        ["SQL queries per intake", f"{counted.per_call():.1f} "
         f"(+ BEGIN/COMMIT/savepoints: {counted.statements / counted.calls:.1f} statements)",
         "—", "—"],
    ]  # fmt: skip
    screen_rows = []
    for r in screened:
        run_ = r.concurrent
        s = run_.summary
        screen_rows.append(
            [r.config.label, str(run_.requests), f"{run_.throughput:.1f}", ms(s.p50), ms(s.p95),
             ms(s.p99), cpu.describe(r.cpu_shares)]
        )  # fmt: skip
    checks = []
    for r in [*screened, full]:
        bad = ", ".join(f"HTTP {k}: {v}" for k, v in sorted(r.bad_statuses.items())) or "none"
        phase = "full run" if r is full else "screening"
        checks.append(
            [f"{r.config.label} ({phase})", str(r.created_http), str(r.created_db),
             "yes" if r.all_created else "**NO**", bad, str(len(r.problems))]
        )  # fmt: skip
    buckets = [
        [name, f"{per:.1f} ms", f"{share * 100:.0f} %"] for name, per, share in profiled.buckets()
    ]
    problems = [p for r in [*screened, full] for p in r.problems]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    activity = full.activity.describe() if full.activity else "no samples"
    blocked = full.activity.blocked_statements() if full.activity else "none"
    body = f"""\
## 1. Intake: `POST /api/tickets/`

_Measured {now}; took {seconds:.0f} s._

Each request opens a distinct ticket for a new contact email (priorities mixed
P1-P4), authenticated with the desk admin's API token: validation, contact
creation, the ticket row, its audit events, the TicketFlow process (start →
triage: SLA policy and routing → auto-assign → the `work` task with its SLA
checkpoint timer), a notification, and the real-time pushes after commit.
Every server start is followed by {warmup} warm-up requests at c={CONCURRENCY},
not counted.

The full measurement runs on README's production topology for HTTP, **{label}**
(uvicorn serves only the live queue's socket there). Three server configurations
were screened beforehand with {screened[0].concurrent.requests} requests at
c={CONCURRENCY}, as a comparison (the fastest of them:
{max(screened, key=lambda r: r.concurrent.throughput).config.label}).

{report.table(["figure", "measured (" + label + ")", "goal", "verdict"], goal_rows)}

During the c={CONCURRENCY} run: CPU {cpu.describe(full.cpu_shares)}; the bench
database's backends, on average per 50 ms sample of `pg_stat_activity`:
{activity}. ("idle in transaction" = the app holds an open transaction while
Python runs; "waiting on lock" = blocked by another intake's row lock.)
Statements seen waiting on a lock: {blocked}.

### What limits these figures

{_findings(full, profiled, counted)}

### Screening of the server configurations

{report.table(["server", "requests", "tickets/s", "p50", "p95", "p99", "CPU (2 CPUs = 100 %)"],
              screen_rows)}

Correctness of every run (each response must be 201 and each 201 a new ticket row):

{report.table(["server", "201 responses", "new ticket rows", "match", "other statuses",
               "error lines in server log"], checks)}

### Where an intake's time goes (in-process profile)

Intakes in this process through the production WSGI application (`project.wsgi`:
every middleware, the token authentication, the view, the service), as a
gunicorn sync worker runs them, with production settings and the real
PostgreSQL and Redis; unlike the load runs above, these figures do not depend
on what else the machine is doing.

* SQL statements per intake, counted with `CaptureQueriesContext` over
  {counted.calls} separate intakes: {counted.breakdown()} (besides these, the
  connection's health check, `CONN_HEALTH_CHECKS`, sends one `SELECT 1` per
  request).
* CPU per intake, the median of {cpu_used.batches} batches of
  {cpu_used.calls_per_batch}: **{cpu_used.web_ms:.1f} ms** in the web process (its
  real-time publisher thread included) and **{cpu_used.postgres_ms:.1f} ms** in its
  PostgreSQL backend. At {GOAL_THROUGHPUT:.0f} tickets/s on {os.cpu_count() or 1}
  CPUs an intake may cost {(os.cpu_count() or 1) * 1000 / GOAL_THROUGHPUT:.1f} ms of
  CPU in all.
* {profiled.calls} intakes under cProfile: {profiled.per_call * 1000:.1f} ms per
  intake with the profiler on.

{report.table(["bucket", "per intake", "share of wall time"], buckets)}

Top 15 by cumulative time:

{report.table(["ncalls", "tottime", "cumtime", "cum per intake", "function"],
              profiled.top("cumulative"))}

Top 15 by own time:

{report.table(["ncalls", "tottime", "cumtime", "cum per intake", "function"],
              profiled.top("tottime"))}
"""  # fmt: skip
    if problems:
        body += (
            "\nServer log lines reporting errors (first 10):\n\n"
            + report.code("\n".join(problems[:10]))
            + "\n"
        )
    return report.Section("intake", "Intake", body, summary, now, seconds)
