"""3. SLA checkpoints: 10,000 tickets with running SLA clocks, 1,000 checkpoints due within
one second (and all 10,000 within one second), fired set-wise by the production dispatcher
(Celery worker with beat embedded: ``processes.tasks.dispatch_due_timers`` fans out
``fire_due_timers``, each running ``processes.dispatcher.drain()``, which runs the SLA
ladder ``sla.ladder.fire_batch``); statements and CPU per checkpoint of an in-process
drain."""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from . import cpu, env, report
from .profiling import Profile, QueryCount, count_queries, run_profiled
from .seed import BenchDesk, seed_desk
from .stats import Summary, secs

ARMED = 10_000
DUE = 1_000
STORM = 10_000
CHUNK = 250
SEED_PROCESSES = 2
DAY = 86_400
# Clocks far away: a ticket's first checkpoint (the first-response warning) is 24 days out.
FIRST_RESPONSE_SECONDS = 30 * DAY
RESOLUTION_SECONDS = 90 * DAY
LEAD_SECONDS = 5.0
FIRE_TIMEOUT = 120.0
POLL_INTERVAL = 0.1
PROFILE_CHECKPOINTS = 500
COUNT_SIZES = (10, 100, 500, 1_000)
ROUNDS = 2
GOAL_RATE = 1_000.0
GOAL_P99 = 2.0
GOAL_MAX = 3.0
GOAL_STORM = 10.0
VERB = "sla_warning"


# --- seeding: 10,000 tickets through the intake service, in 2 processes ---------------
_desk: BenchDesk | None = None


def _seed_init(desk: BenchDesk) -> None:
    """A seeding process: production settings, but the in-memory channel layer (no
    Redis pushes) to save time; nothing of the seeding is measured."""
    global _desk
    env.apply_env()
    os.environ["KEFU_REDIS_URL"] = ""
    import django

    django.setup()
    _desk = desk


def _seed_chunk(bounds: tuple[int, int]) -> int:
    from django.contrib.auth.models import User

    from tickets import services

    assert _desk is not None
    admin = User.objects.get(pk=_desk.admin_id)
    start, end = bounds
    for i in range(start, end):
        services.open_ticket(
            actor=admin,
            subject=f"Timer bench ticket {i}",
            description="Opened to start an SLA clock.",
            priority="P2",
            channel="api",
            contact_id=_desk.contact_id,
        )
    return end - start


def seed_tickets(desk: BenchDesk, total: int) -> float:
    started = time.monotonic()
    env.close_db_connections()
    ctx = multiprocessing.get_context("spawn")
    done = 0
    chunk = max(1, min(CHUNK, math.ceil(total / SEED_PROCESSES)))  # every process works
    with ctx.Pool(SEED_PROCESSES, initializer=_seed_init, initargs=(desk,)) as pool:
        chunks = [(i, min(i + chunk, total)) for i in range(0, total, chunk)]
        for n in pool.imap_unordered(_seed_chunk, chunks):
            done += n
            if done % 2000 == 0:
                print(f"[timers]   {done:,} tickets opened", flush=True)
    for table in ("sla_slaclock", "tickets_ticket", "tickets_ticketevent", "viewflow_task"):
        env.sql(f"VACUUM ANALYZE {table}")
    return time.monotonic() - started


# --- arming ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Clock:
    clock_id: int
    ticket_id: int


def running_clocks() -> list[Clock]:
    rows = env.sql(
        "SELECT c.id, t.id FROM sla_slaclock c JOIN tickets_ticket t ON t.sla_clock_id = c.id"
        " WHERE c.next_at IS NOT NULL ORDER BY c.id"
    )
    return [Clock(r[0], r[1]) for r in rows]


def warning_seconds() -> int:
    """Seconds from a clock's start to its first-response warning (the terms it runs on)."""
    from sla.models import SlaPolicy

    policy = SlaPolicy.objects.get(kind="ticket", priority="P2")
    return math.ceil(int(policy.targets["first_response"]) * policy.warning_percent / 100)


def arm(group: list[Clock], second: datetime, warn: int) -> list[datetime]:
    """Clock i of the group gets its first-response warning due at ``second + i/len`` s: its
    start moves back so that the warning's moment (start + 80 % of the target) is then, and
    its next checkpoint (``next_at``) is that moment; nothing of it was handled yet. The
    ladder recomputes everything else (the targets' due moments, the queue's due) when it
    fires. Returns the due moments, in the group's order."""
    from django.db import transaction

    step = 1.0 / len(group)
    due = [second + timedelta(seconds=i * step) for i in range(len(group))]
    with transaction.atomic():
        env.sql(
            "UPDATE sla_slaclock c SET started_at = v.due - %s * interval '1 second',"
            " next_at = v.due, done = '[]'::jsonb, warning = false"
            " FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, due) WHERE c.id = v.id",
            [warn, [g.clock_id for g in group], due],
        )
    others = env.sql(
        "SELECT count(*) FROM sla_slaclock WHERE next_at < %s AND NOT (id = ANY(%s))",
        [second + timedelta(minutes=10), [g.clock_id for g in group]],
    )[0][0]
    assert others == 0, f"{others} other clocks would fall due during the run"
    return due


def next_second(lead: float) -> datetime:
    now = datetime.now(UTC)
    return (now + timedelta(seconds=lead)).replace(microsecond=0) + timedelta(seconds=1)


def _sleep_until(moment: datetime) -> None:
    delay = (moment - datetime.now(UTC)).total_seconds()
    if delay > 0:
        time.sleep(delay)


def _last_event_id() -> int:
    return int(env.sql("SELECT coalesce(max(id), 0) FROM tickets_ticketevent")[0][0])


# --- measuring ---------------------------------------------------------------------------
@dataclass
class Firing:
    label: str
    scenario: str
    fired: int  # tickets with their warning recorded
    expected: int
    duplicates: int  # warnings recorded more than once for one ticket
    extra: int  # other ladder verbs recorded for these tickets (none expected)
    lateness: Summary  # audit row's created_at - the checkpoint's due moment
    observed: Summary  # first seen committed by the poller - due
    rate: float  # fired / (last created_at - the due second)
    drain_rate: float  # fired / (last created_at - first created_at)
    cleared: float  # last created_at - the due second
    cpu_shares: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    window: float = 0.0  # seconds from the due second until the poller saw the last one
    round: int = 1

    def cpu_ms_per_checkpoint(self, group: str) -> float:
        """CPU milliseconds per fired checkpoint spent by a group over the window."""
        share = self.cpu_shares.get(group, 0.0)
        cpus = os.cpu_count() or 1
        return share / 100 * cpus * self.window / self.fired * 1000 if self.fired else math.nan


def _outcome(
    label: str,
    scenario: str,
    group: list[Clock],
    due: list[datetime],
    second: datetime,
    baseline: int,
    seen: dict[int, float],
) -> Firing:
    tickets = [g.ticket_id for g in group]
    due_by_ticket = {g.ticket_id: d for g, d in zip(group, due, strict=True)}
    rows = env.sql(
        "SELECT ticket_id, verb, created_at, (after->>'due')::timestamptz FROM tickets_ticketevent"
        " WHERE id > %s AND ticket_id = ANY(%s) AND verb IN ('sla_warning', 'sla_breached',"
        " 'escalated')",
        [baseline, tickets],
    )
    warnings = [r for r in rows if r[1] == VERB]
    counts: dict[int, int] = {}
    for r in warnings:
        counts[r[0]] = counts.get(r[0], 0) + 1
    first: dict[int, tuple[datetime, datetime]] = {}
    for ticket_id, _verb, created, at in sorted(warnings, key=lambda r: r[2]):
        first.setdefault(ticket_id, (created, at))
    problems = [
        f"ticket {t}: warning due {at.isoformat()}, armed for {due_by_ticket[t].isoformat()}"
        for t, (_c, at) in first.items()
        if abs((at - due_by_ticket[t]).total_seconds()) > 0.001
    ][:5]
    late = [(created - at).total_seconds() for created, at in first.values()]
    observed = [seen[t] - due_by_ticket[t].timestamp() for t in seen]
    if first:
        last = max(c for c, _a in first.values())
        earliest = min(c for c, _a in first.values())
        cleared = (last - second).total_seconds()
        span = (last - earliest).total_seconds()
    else:
        cleared = span = math.nan
    return Firing(
        label=label,
        scenario=scenario,
        fired=len(first),
        expected=len(group),
        duplicates=sum(n - 1 for n in counts.values()),
        extra=len(rows) - len(warnings),
        lateness=Summary.of(late),
        observed=Summary.of(observed),
        rate=len(first) / cleared if cleared and cleared > 0 else math.nan,
        drain_rate=len(first) / span if span and span > 0 else math.nan,
        cleared=cleared,
        problems=problems,
    )


def _poll_until_fired(group: list[Clock], baseline: int, deadline: float) -> dict[int, float]:
    """Ticket id -> wall-clock time the poller first saw its warning committed."""
    pending = {g.ticket_id for g in group}
    seen: dict[int, float] = {}
    while pending and time.monotonic() < deadline:
        rows = env.sql(
            "SELECT DISTINCT ticket_id FROM tickets_ticketevent"
            " WHERE id > %s AND verb = %s AND ticket_id = ANY(%s)",
            [baseline, VERB, list(pending)],
        )
        now = time.time()
        for (ticket_id,) in rows:
            seen[ticket_id] = now
            pending.discard(ticket_id)
        if pending:
            time.sleep(POLL_INTERVAL)
    return seen


@dataclass(frozen=True)
class WorkerSetup:
    key: str
    label: str
    nodes: int
    concurrency: int = 2


ONE_WORKER = WorkerSetup("celery-1x2", "1 worker process, --concurrency 2, beat embedded (-B)", 1)
TWO_WORKERS = WorkerSetup(
    "celery-2x2", "2 worker processes, --concurrency 2 each, beat embedded in the first", 2
)


def _worker_argv(setup: WorkerSetup, n: int) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "project",
        "worker",
        "--concurrency",
        str(setup.concurrency),
        "--loglevel",
        "WARNING",
        "-n",
        f"kefu-bench{n}@%h",
        "--without-gossip",
        "--without-mingle",
    ]
    if n == 1:
        env.LOG_DIR.mkdir(parents=True, exist_ok=True)
        schedule = env.LOG_DIR / "celerybeat-schedule"
        for leftover in env.LOG_DIR.glob("celerybeat-schedule*"):
            leftover.unlink()
        argv += ["-B", "-s", str(schedule)]
    return argv


def _wait_workers(count: int, services: list[env.Service], timeout: float = 60.0) -> None:
    from project.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for s in services:
            if not s.alive():
                raise RuntimeError(f"{s.name} exited:\n{s.tail()}")
        replies = app.control.ping(timeout=1.0) or []
        names = {name for reply in replies for name in reply if name.startswith("kefu-bench")}
        if len(names) >= count:
            return
    raise RuntimeError("Celery workers did not answer a ping in time")


def fire_with_celery(
    setup: WorkerSetup,
    scenario: str,
    group: list[Clock],
    warn: int,
    lead_seconds: float = LEAD_SECONDS,
    idle_seconds: float = 2.0,
) -> Firing:
    import redis

    client = redis.Redis.from_url(env.REDIS_URL)
    try:
        client.flushdb()
    finally:
        client.close()
    services = [
        env.Service(f"{setup.key}-{n}", _worker_argv(setup, n)) for n in range(1, setup.nodes + 1)
    ]
    try:
        _wait_workers(setup.nodes, services)
        time.sleep(idle_seconds)  # let beat tick a few times on an empty backlog
        baseline = _last_event_id()
        second = next_second(lead_seconds)
        due = arm(group, second, warn)
        env.close_db_connections()
        _sleep_until(second)
        roots = [s.pid for s in services]
        window_started = time.monotonic()
        with cpu.Window(roots, label="celery workers") as window:
            seen = _poll_until_fired(group, baseline, time.monotonic() + FIRE_TIMEOUT)
        window_seconds = time.monotonic() - window_started
        shares = window.shares
    finally:
        env.stop_all(services)
    firing = _outcome(setup.label, scenario, group, due, second, baseline, seen)
    firing.problems += [line for s in services for line in s.log_problems()]
    firing.cpu_shares = shares
    firing.window = window_seconds
    return firing


# --- in-process: statements and CPU per checkpoint ----------------------------------------
def _armed_and_due(group: list[Clock], warn: int, lead: float) -> None:
    second = next_second(lead)
    arm(group, second, warn)
    _sleep_until(second + timedelta(seconds=1.05))


@dataclass
class Counted:
    checkpoints: int
    fired: int
    queries: QueryCount


def count_statements(groups: list[list[Clock]], warn: int, lead: float) -> list[Counted]:
    """Statements of one ``processes.dispatcher.drain()`` of N due checkpoints, per N."""
    from processes import dispatcher

    out = []
    for group in groups:
        _armed_and_due(group, warn, lead)
        fired: list[int] = []

        def one(_i: int, fired: list[int] = fired) -> None:
            fired.append(dispatcher.drain(budget_seconds=600))

        counted = count_queries(one, 1)
        out.append(Counted(len(group), sum(fired), counted))
    return out


@dataclass
class InProcess:
    checkpoints: int
    wall: float  # seconds, one drain without the profiler
    app_cpu: float  # this process's CPU seconds over that drain
    shares: dict[str, float]
    profiled: Profile  # a second drain of a fresh group, under cProfile

    @property
    def wall_ms(self) -> float:
        return self.wall / self.checkpoints * 1000 if self.checkpoints else math.nan

    @property
    def app_ms(self) -> float:
        return self.app_cpu / self.checkpoints * 1000 if self.checkpoints else math.nan

    @property
    def pg_ms(self) -> float:
        share = self.shares.get("postgres", 0.0)
        cpus = os.cpu_count() or 1
        return share / 100 * cpus * self.wall / self.checkpoints * 1000 if self.checkpoints else 0


def drain_in_process(group: list[Clock], again: list[Clock], warn: int, lead: float) -> InProcess:
    from processes import dispatcher

    _armed_and_due(group, warn, lead)
    with cpu.Window([], label="-") as window:
        cpu_before = time.process_time()
        started = time.perf_counter()
        fired = dispatcher.drain(budget_seconds=600)
        wall = time.perf_counter() - started
        app_cpu = time.process_time() - cpu_before
    shares = window.shares
    assert fired == len(group), (fired, len(group))
    _armed_and_due(again, warn, lead)
    counts: list[int] = []
    profiled = run_profiled(lambda _i: counts.append(dispatcher.drain(budget_seconds=600)), 1)
    profiled.calls = max(1, sum(counts))  # per fired checkpoint
    return InProcess(len(group), wall, app_cpu, shares, profiled)


# --- the benchmark -----------------------------------------------------------------------
def run(*, quick: bool = False) -> report.Section:
    started = time.monotonic()
    # quick: 40 clocks; groups of 10 due in one second, the storm all 40, small drains
    armed_total, due, storm, rounds = (40, 10, 40, 1) if quick else (ARMED, DUE, STORM, ROUNDS)
    lead, idle = (1.0, 0.5) if quick else (LEAD_SECONDS, 2.0)
    sizes, profiled_n, drain_lead = ((1, 3, 10), 10, 0.5) if quick else (COUNT_SIZES, 500, 1.0)
    env.reset_database()
    env.setup_django()
    desk = seed_desk(
        first_response_seconds=FIRST_RESPONSE_SECONDS, resolution_seconds=RESOLUTION_SECONDS
    )
    warn = warning_seconds()
    print(
        f"[timers] opening {armed_total:,} tickets through open_ticket ({SEED_PROCESSES} processes)"
    )
    seed_seconds = seed_tickets(desk, armed_total)
    clocks = running_clocks()
    print(f"[timers]   {len(clocks):,} running SLA clocks after {seed_seconds:.0f} s")
    assert len(clocks) >= armed_total, len(clocks)
    timers = env.sql(
        "SELECT count(*) FROM viewflow_task WHERE flow_task_type = 'TIMER' AND status = 'SCHEDULED'"
    )[0][0]
    assert timers == 0, f"{timers} viewflow timers armed by open tickets"

    def group_of(n: int, offset: int) -> list[Clock]:
        """``n`` clocks from ``offset`` on (wrapping: arming resets a clock's checkpoints)."""
        return [clocks[(offset + i) % len(clocks)] for i in range(n)]

    plan = [ONE_WORKER, TWO_WORKERS] * rounds  # alternate, so a disturbance hits both
    firings: list[Firing] = []
    offset = 0
    for n, setup in enumerate(plan):
        print(f"[timers] {setup.label} (round {n // 2 + 1}): {due:,} checkpoints due in one second")
        firing = fire_with_celery(setup, "due", group_of(due, offset), warn, lead, idle)
        offset += due
        firing.round = n // 2 + 1
        _print(firing)
        firings.append(firing)
    storms: list[Firing] = []
    for setup in (ONE_WORKER, TWO_WORKERS):
        print(f"[timers] {setup.label}: {storm:,} checkpoints due in one second")
        firing = fire_with_celery(setup, "storm", group_of(storm, 0), warn, lead, idle)
        _print(firing)
        storms.append(firing)

    print(f"[timers] statements of one drain() of N due checkpoints, N = {sizes}")
    counted = count_statements([group_of(n, 0) for n in sizes], warn, drain_lead)
    for c in counted:
        print(
            f"[timers]   N = {c.checkpoints}: {c.queries.statements} statements "
            f"({c.queries.breakdown()}), fired {c.fired}"
        )
    print(f"[timers] one drain() of {profiled_n} due checkpoints in this process, then profiled")
    inproc = drain_in_process(
        group_of(profiled_n, 0), group_of(profiled_n, profiled_n), warn, drain_lead
    )
    print(
        f"[timers]   {inproc.wall_ms:.2f} ms wall, {inproc.app_ms:.2f} ms CPU here and "
        f"{inproc.pg_ms:.2f} ms CPU in PostgreSQL per checkpoint; "
        f"{inproc.profiled.per_call * 1000:.2f} ms per checkpoint under the profiler",
        flush=True,
    )
    env.close_db_connections()
    return _section(
        firings, storms, counted, inproc, seed_seconds, len(clocks), due, storm,
        time.monotonic() - started,
    )  # fmt: skip


def _print(f: Firing) -> None:
    print(
        f"[timers]   fired {f.fired:,}/{f.expected:,} (duplicates {f.duplicates}, other verbs"
        f" {f.extra}); lateness p50 {secs(f.lateness.p50)} p99 {secs(f.lateness.p99)}"
        f" max {secs(f.lateness.max)}; {f.rate:.0f} checkpoints/s; all fired after"
        f" {secs(f.cleared)}",
        flush=True,
    )


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _ok(f: Firing) -> bool:
    return f.fired == f.expected and f.duplicates == 0 and f.extra == 0


def _section(
    firings: list[Firing],
    storms: list[Firing],
    counted: list[Counted],
    inproc: InProcess,
    seed_seconds: float,
    armed: int,
    due: int,
    storm: int,
    seconds: float,
) -> report.Section:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    by_setup: dict[str, list[Firing]] = {}
    for f in firings:
        by_setup.setdefault(f.label, []).append(f)
    best_label = min(by_setup, key=lambda k: _median([f.lateness.p99 for f in by_setup[k]]))
    best = by_setup[best_label]
    p50 = _median([f.lateness.p50 for f in best])
    p99 = _median([f.lateness.p99 for f in best])
    worst = _median([f.lateness.max for f in best])
    rate = _median([f.rate for f in best])
    storm_best = min(storms, key=lambda f: f.cleared if _ok(f) else math.inf)
    storm_rate = storm_best.rate
    complete = all(_ok(f) for f in [*firings, *storms])
    per_batch = [c.queries.statements for c in counted]
    short = best_label.split(",")[0]
    summary = [
        (f"lateness p50 ({short}; median of {len(best)} rounds)", secs(p50), "—", "—"),
        ("lateness p99 (median of rounds)", secs(p99), "≤ 2 s", report.verdict(p99 <= GOAL_P99)),
        ("lateness max (median of rounds)", secs(worst), "≤ 3 s",
         report.verdict(worst <= GOAL_MAX)),
        # 1,000 due spread over one second cannot clear in less than that second (and beat
        # ticks once a second): capacity is judged on the storm below, lateness here
        (f"fired ÷ (last fired - due second), {due:,} due in one second (median of rounds)",
         f"{rate:.0f}/s", "— (capacity: the 10,000 row)", "—"),
        (f"{storm:,} due in one second: all fired after ({storm_best.label.split(',')[0]})",
         secs(storm_best.cleared), "≤ 10 s",
         report.verdict(_ok(storm_best) and storm_best.cleared <= GOAL_STORM)),
        (f"checkpoints/s, {storm:,} due in one second", f"{storm_rate:.0f}/s", "≥ 1,000/s",
         report.verdict(storm_rate >= GOAL_RATE)),
        ("every checkpoint fired exactly once", "yes" if complete else "no", "yes",
         report.verdict(complete)),
        (f"SQL statements, one drain() of N = {', '.join(str(c.checkpoints) for c in counted)}",
         " / ".join(str(n) for n in per_batch), "—", "—"),
        ("CPU per checkpoint (in-process drain: app + PostgreSQL)",
         f"{inproc.app_ms + inproc.pg_ms:.2f} ms", "—", "—"),
    ]  # fmt: skip
    header = ["configuration", "round", "fired", "lateness p50", "p99", "max", "checkpoints/s",
              "all fired after", "seen committed p50 / p99 / max", "goal"]  # fmt: skip
    rows = [
        [
            f.label,
            str(f.round) if f.scenario == "due" else f"{f.expected:,} due",
            f"{f.fired:,}/{f.expected:,}",
            secs(f.lateness.p50),
            secs(f.lateness.p99),
            secs(f.lateness.max),
            f"{f.rate:.0f}",
            secs(f.cleared),
            f"{secs(f.observed.p50)} / {secs(f.observed.p99)} / {secs(f.observed.max)}",
            report.verdict(
                _ok(f) and f.cleared <= GOAL_STORM
                if f.scenario == "storm"
                else _ok(f) and f.lateness.p99 <= GOAL_P99 and f.lateness.max <= GOAL_MAX
            ),
        ]
        for f in [*firings, *storms]
    ]
    detail = [
        [
            f"{f.label}, " + (f"round {f.round}" if f.scenario == "due" else "storm"),
            str(f.duplicates),
            str(f.extra),
            f"{f.drain_rate:.0f}",
            str(len(f.problems)),
            cpu.describe(f.cpu_shares),
        ]
        for f in [*firings, *storms]
    ]
    statements = [
        [
            str(c.checkpoints),
            str(c.fired),
            str(c.queries.statements),
            c.queries.breakdown(),
            f"{c.queries.statements / c.checkpoints:.2f}",
        ]
        for c in counted
    ]
    profiled = inproc.profiled
    buckets = [
        [label, f"{per:.2f} ms", f"{share * 100:.0f} %"] for label, per, share in profiled.buckets()
    ]
    problems = [p for f in [*firings, *storms] for p in f.problems]
    findings = _findings(best, by_setup, storms, counted, inproc, due, storm)
    body = f"""\
## 3. SLA checkpoints

_Measured {now}; took {seconds:.0f} s (of which {seed_seconds:.0f} s opening the tickets)._

{armed:,} tickets were opened through `tickets.services.open_ticket` (in
{SEED_PROCESSES} processes of this run; a P2 policy with a 30-day first-response and
90-day resolution target), so each has a running SLA clock (`sla_slaclock`) whose next
checkpoint, the first-response warning at 80 %, is 24 days out; no viewflow timer is
armed (the ladder sweeps the clocks). For each measurement a group of those clocks is
armed by SQL: clock *i* of the group gets `started_at` = its due moment - 80 % of the
target and `next_at` = its due moment, the due moments spread over one chosen second a few
seconds ahead (that second + *i*/N s), nothing handled yet (`done` empty); the ladder
recomputes the rest when it fires. All other clocks stay weeks away. Each checkpoint
records an `sla_warning` audit row, a notification to the ticket's owner, a clock and
ticket update and one queue event (a real-time push).

Lateness of a checkpoint = its audit row's `created_at` - the checkpoint's moment
(`after->>'due'`). `created_at` is stamped inside the sweep's transaction, before it
commits; the poller (every {POLL_INTERVAL:.1f} s) also records when each warning was first
seen committed ("seen committed"). Checkpoints/s = fired ÷ (last `created_at` - the
start of the due second), as issue 9 asks; with {due:,} checkpoints spread over the
second it cannot exceed about {due:,}/s even for an instant dispatcher, so the
{storm:,}-in-one-second run measures the capacity.

### The production dispatcher (Celery)

`celery -A project worker` with the bench settings; beat (embedded with `-B`) sends
`processes.tasks.dispatch_due_timers` every second, which counts the due backlog (SLA
clocks and viewflow timers) and enqueues up to `KEFU_TIMER_WORKERS` (4)
`fire_due_timers` tasks, each running `processes.dispatcher.drain()`: the ladder's
`fire_batch` claims up to `KEFU_SLA_BATCH` (500) due clocks with `FOR UPDATE SKIP
LOCKED`, takes their processes' locks in one statement and writes the batch set-wise, in
one transaction (5 s budget per task). The {due:,}-checkpoint runs alternate the two
configurations, {max(f.round for f in firings)} round(s) each, each round with fresh
clocks; then all {storm:,} clocks fall due within one second, once per configuration.

{report.table(header, rows)}

{report.table(["run", "duplicate warnings", "other ladder verbs", "drain rate (first to last, /s)",
               "error lines in worker logs", "CPU while firing"], detail)}

### Statements and CPU per checkpoint (in-process)

One `processes.dispatcher.drain()` in this process (production settings) after N
checkpoints fell due, statements counted with `CaptureQueriesContext` (BEGIN/COMMIT,
savepoints and the viewflow-timer sweep included):

{report.table(["N due", "fired", "statements", "by kind", "per checkpoint"], statements)}

One drain of {inproc.checkpoints} due checkpoints without the profiler took
{inproc.wall * 1000:.0f} ms: {inproc.wall_ms:.2f} ms per checkpoint, of which
{inproc.app_ms:.2f} ms CPU in this process and {inproc.pg_ms:.2f} ms CPU in PostgreSQL
({cpu.describe(inproc.shares)}). A second drain of {profiled.calls} fresh checkpoints
under cProfile: {profiled.per_call * 1000:.2f} ms per checkpoint with the profiler on.

{report.table(["bucket", "per checkpoint", "share of wall time"], buckets)}

Top 15 by cumulative time:

{report.table(["ncalls", "tottime", "cumtime", "cum per checkpoint", "function"],
              profiled.top("cumulative"))}

Top 15 by own time:

{report.table(["ncalls", "tottime", "cumtime", "cum per checkpoint", "function"],
              profiled.top("tottime"))}

### What limits these figures

{findings}
"""  # fmt: skip
    if problems:
        body += (
            "\nProblems (mismatched due moments, worker log lines reporting errors; first 10):"
            "\n\n" + report.code("\n".join(problems[:10])) + "\n"
        )
    return report.Section("timers", "Timers", body, summary, now, seconds)


def _findings(
    best: list[Firing],
    by_setup: dict[str, list[Firing]],
    storms: list[Firing],
    counted: list[Counted],
    inproc: InProcess,
    due: int,
    storm: int,
) -> str:
    cpus = os.cpu_count() or 1
    app = _median([f.cpu_ms_per_checkpoint("celery workers") for f in storms])
    pg = _median([f.cpu_ms_per_checkpoint("postgres") for f in storms])
    total = app + pg
    ceiling = cpus * 1000 / total if total else math.nan
    local = inproc.app_ms + inproc.pg_ms
    lag = _median([f.observed.p50 - f.lateness.p50 for f in best if f.observed.count])
    waits = _median([f.lateness.p50 for f in best])
    statements = [c.queries.statements for c in counted]
    grows = statements[-1] / statements[0] if statements[0] else math.nan
    ladder_ms = (
        inproc.profiled.cumulative("sla/ladder.py", "_fire_kind") / inproc.profiled.calls * 1000
    )
    save_ms = (
        inproc.profiled.cumulative("tickets/services/escalation.py", "save")
        / inproc.profiled.calls
        * 1000
    )
    rates = {k: _median([f.rate for f in v]) for k, v in by_setup.items()}
    storm_rates = {f.label.split(",")[0]: f.rate for f in storms}
    busy = _median([f.cpu_shares.get("machine busy", 0.0) for f in storms])
    lines = [
        f"* **CPU per checkpoint.** While the {storm:,} checkpoints fired, the workers used "
        f"{app:.2f} ms and PostgreSQL {pg:.2f} ms of CPU per checkpoint ({total:.2f} ms in "
        f"all; {local:.2f} ms in one in-process drain, without Celery): on {cpus} CPUs that "
        f"caps this machine at about {ceiling:,.0f} checkpoints/s, whatever the number of "
        f"worker processes. The storm ran at "
        + ", ".join(f"{r:,.0f}/s ({k})" for k, r in storm_rates.items())
        + f", the machine {busy:.0f} % busy.",
        "* **Statements do not grow with the checkpoints.** One drain sent "
        + ", ".join(f"{c.queries.statements} statements for {c.checkpoints}" for c in counted)
        + f" due checkpoints ({grows:.1f}x the statements for "
        f"{counted[-1].checkpoints / counted[0].checkpoints:.0f}x the checkpoints): a batch "
        f"of up to `KEFU_SLA_BATCH` clocks is a fixed set of statements (claim, lock, load, "
        f"bulk writes), and a drain of more than one batch repeats it per batch. Under the "
        f"profiler the ladder's `_fire_kind` takes {ladder_ms:.2f} ms per checkpoint, of "
        f"which the tickets' adapter `save` (bulk update, work items, queue events) "
        f"{save_ms:.2f} ms.",
        f"* **Beat's tick.** A checkpoint waits for the next `dispatch_due_timers` (every "
        f"second) and then for a worker to take the task: the median lateness was "
        f"{waits:.2f} s with {due:,} due in one second. Medians by configuration: "
        + ", ".join(
            f"{k.split(',')[0]} {_median([f.lateness.p50 for f in v]):.2f} s p50, {rates[k]:.0f}/s"
            for k, v in by_setup.items()
        )
        + ".",
        f"* **Commit lag.** A batch is one transaction: its audit rows carry the moment they "
        f"were built, and become visible when the batch commits; the poller saw them "
        f"{lag:.2f} s (median) after their `created_at`.",
    ]
    return "\n".join(lines)
