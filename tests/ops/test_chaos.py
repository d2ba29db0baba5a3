"""Chaos under load (issue 8; docs/resilience.md): while a client opens and closes tickets
over HTTP, SLA checkpoints fall due and survey invitations leave through the outbox,
``kill -9`` the Celery worker, restart Redis, restart PostgreSQL. Nothing the client was
told is lost or doubled, every due SLA checkpoint fires once (an audit row per ticket and
checkpoint, recorded by the ladder's sweep of the SLA clocks), every email arrives (a resend only
ever with its Message-ID), ``/readyz`` names each failure while it lasts, and the service
answers again within a bound. The figures are printed (``-s``).

Everything runs on a private PostgreSQL cluster and a private redis-server
(tests/ops/chaos.py): the shared services of the other tests are never touched.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.ops.chaos import (
    Load,
    PrivateRedis,
    Probe,
    ReadyzPoller,
    Topology,
    missing_tools,
    running_holding_sink,
    seed,
    wait_until,
)

# SLA targets short enough that checkpoints fall due all through the run: the first
# response warning 16 s after intake, its breach at 20 s, the resolution's at 32 and 40 s.
FIRST_RESPONSE, RESOLUTION, WARNING_PERCENT = 20, 40, 80
INTAKE_INTERVAL = 0.25  # the client's pace: about 4 tickets a second, half of them closed
TICKETS_BETWEEN_FAULTS = 32  # opened (successfully) after each fault before the next
OUTAGE_SECONDS = 5.0  # each outage lasts at least this long, and until /readyz named it
RECOVERY_BOUND = 60.0
DRAIN_TIMEOUT = 120.0
# What the processes run with besides production's settings: beat sends the timer
# dispatcher twice a second (as in the e2e tests); the outbox is swept every 2 s and a
# claim's lease is 20 s, so a killed worker's claimed rows come back within the test's
# time (production: 30 s and 60 s; docs/resilience.md).
SETTINGS = {
    "KEFU_TIMER_INTERVAL": "0.5",
    "KEFU_OUTBOX_SWEEP_SECONDS": "2",
    "KEFU_OUTBOX_LEASE_SECONDS": "20",
}


@pytest.fixture
def topology() -> Iterator[Topology]:
    missing = missing_tools()
    if missing:
        pytest.fail("The chaos test needs: " + "; ".join(missing), pytrace=False)
    root = Path(tempfile.mkdtemp(prefix="kefu-chaos-"))
    root.chmod(0o755)  # the postgres OS user reaches its data directory inside
    with running_holding_sink() as sink:
        topo = Topology(root, sink, **SETTINGS)
        try:
            topo.start_services()
            topo.token = seed(
                topo.env,
                first_response=FIRST_RESPONSE,
                resolution=RESOLUTION,
                warning=WARNING_PERCENT,
            )
            topo.start_kefu()
            yield topo
        finally:
            topo.close()
    if topo.passed and not os.environ.get("KEFU_CHAOS_KEEP"):
        shutil.rmtree(root, ignore_errors=True)
    else:
        print(f"\nchaos test: the logs and the cluster's directory are kept in {root}")


# --- faults ------------------------------------------------------------------------------
@dataclass
class Fault:
    name: str
    check: str  # the /readyz check that must name it
    started: float = math.nan  # wall clock
    ended: float = math.nan  # the service is back (the replacement started, the server up)
    probes: list[Probe] = field(default_factory=list)  # /readyz answers during the outage
    readyz_back: float | None = None  # seconds from ``ended`` to /readyz 200
    intake_back: float | None = None  # to the first successful intake begun after ``ended``
    email_back: float | None = None  # to the first email the SMTP server accepted
    timer_back: float | None = None  # to the first SLA checkpoint fired
    failed_attempts: int = 0  # client requests that got no answer or a 5xx meanwhile
    timers_due: int = 0  # SLA checkpoints that fell due during the outage
    timers_due_latest: float = 0.0  # the latest of them fired this long after its moment
    held: str = ""  # the Message-ID the SMTP server had accepted, unanswered, at the cut

    @property
    def named(self) -> bool:
        return any(p.status == 503 and self.check in p.failed for p in self.probes)

    def seen(self) -> str:
        answers = Counter(
            f"{p.status} {'+'.join(p.failed)}".strip() if p.status else f"no answer ({p.error})"
            for p in self.probes
        )
        return ", ".join(f"{answer} x{n}" for answer, n in answers.most_common())


def first_ready_after(probes: list[Probe], moment: float) -> Probe | None:
    return next((p for p in probes if p.started >= moment and p.status == 200), None)


def outage(
    topo: Topology,
    readyz: ReadyzPoller,
    load: Load,
    fault: Fault,
    cut: Callable[[], None],
    restore: Callable[[], Any],
) -> Fault:
    """Cuts a service while the load runs, holds the outage until /readyz has answered 503
    naming it (and at least OUTAGE_SECONDS), restores it, then waits for the service to
    answer again: /readyz 200 and a successful intake, each begun after the restore."""
    cut()
    fault.started = time.time()

    def named() -> bool:
        held = time.time() - fault.started >= OUTAGE_SECONDS
        during = [p for p in readyz.snapshot() if p.started >= fault.started]
        return held and any(p.status == 503 and fault.check in p.failed for p in during)

    # restored anyway if it never does: the assertion on ``fault.named`` reports it
    with contextlib.suppress(TimeoutError):
        wait_until(named, timeout=30, what=f"/readyz to name {fault.check}")
    restore()
    fault.ended = time.time()

    def recovered() -> bool:
        intake = [a for a in load.successes() if a.started >= fault.ended]
        return bool(intake) and first_ready_after(readyz.snapshot(), fault.ended) is not None

    try:
        wait_until(recovered, timeout=RECOVERY_BOUND, what=f"recovery from: {fault.name}")
    except TimeoutError as exc:
        pytest.fail(f"{exc}\n{readyz.snapshot()[-5:]}\n{topo.tails()}", pytrace=False)
    return fault


def keep_loading(topo: Topology, load: Load, tickets: int) -> None:
    """Lets the load run until ``tickets`` more intakes succeeded."""
    target = len(load.successes()) + tickets
    try:
        wait_until(
            lambda: len(load.successes()) >= target, timeout=60, what=f"{tickets} more intakes"
        )
    except TimeoutError as exc:
        pytest.fail(f"{exc}\n{topo.tails()}", pytrace=False)


# --- the test ----------------------------------------------------------------------------
def test_kill_9_a_worker_restart_redis_and_restart_postgres_under_load(
    topology: Topology,
) -> None:
    topo = topology
    began = time.monotonic()
    run = f"{os.getpid()}-{int(time.time())}"
    readyz = ReadyzPoller(topo.port)
    load = Load(topo.port, topo.token, interval=INTAKE_INTERVAL, run=run)
    faults: list[Fault] = []
    try:
        readyz.start()
        try:
            wait_until(
                lambda: any(p.status == 200 for p in readyz.snapshot()),
                timeout=120,
                what="/readyz 200 before the load",
            )
        except TimeoutError as exc:
            pytest.fail(f"{exc}\n{readyz.snapshot()[-3:]}\n{topo.tails()}", pytrace=False)
        load.start()
        # the load runs until SLA checkpoints fall due, so that they fire through every fault
        try:
            wait_until(
                lambda: topo.db.value(
                    "SELECT count(*) FROM tickets_ticketevent WHERE verb = 'sla_warning'"
                ),
                timeout=60,
                what="the first SLA checkpoint to fire",
                every=0.2,
            )
        except TimeoutError as exc:
            pytest.fail(f"{exc}\n{topo.tails()}", pytrace=False)

        # 1. the worker crashes while the SMTP server has accepted a message and the drain
        # has not heard the 250 yet; its supervisor starts another worker
        crash = Fault("worker killed (kill -9)", "celery_workers")
        victim = topo.worker

        def kill_mid_send() -> None:
            crash.held = topo.sink.hold_next(timeout=30)
            victim.kill9()
            topo.sink.release()

        faults.append(outage(topo, readyz, load, crash, kill_mid_send, topo.start_worker))
        keep_loading(topo, load, TICKETS_BETWEEN_FAULTS)

        # 2. Redis stops and starts again, empty: queued tasks, beat's lock, the cache gone
        restart = Fault("Redis restarted", "redis")
        faults.append(outage(topo, readyz, load, restart, topo.redis.stop, topo.redis.start))
        keep_loading(topo, load, TICKETS_BETWEEN_FAULTS)

        # 3. PostgreSQL stops (fast: every session cut, open transactions rolled back) while
        # the SMTP server holds its 250 to a message, then starts again
        database = Fault("PostgreSQL restarted", "database")

        def stop_mid_send() -> None:
            database.held = topo.sink.hold_next(timeout=30)
            topo.pg.stop()
            topo.sink.release()

        faults.append(outage(topo, readyz, load, database, stop_mid_send, topo.pg.start))
        keep_loading(topo, load, TICKETS_BETWEEN_FAULTS)
        load.stop(timeout=60)
        horizon: datetime = topo.db.value("SELECT now()")
        try:
            drain(topo, horizon)
        except TimeoutError as exc:
            pytest.fail(f"{exc}\n{topo.tails()}", pytrace=False)
    finally:
        load.give_up()
        readyz.stop()
    exited = [p.name for p in topo.processes if p is not victim and not p.alive()]
    probes = readyz.snapshot()
    for fault in faults:
        measure(topo, fault, probes, load)
    outcome = Outcome.collect(topo, load, horizon)
    print_report(faults, outcome, load, time.monotonic() - began)

    # every process but the killed worker lived through it all: each reconnected by itself
    assert exited == [], f"exited: {exited}\n{topo.tails()}"

    # every logical intake succeeded, and exists exactly once
    assert outcome.unfinished == [], outcome.unfinished
    assert outcome.ticket_problems == [], outcome.ticket_problems[:10]
    assert outcome.tickets == len(load.intakes)
    # every survey ticket was closed, and its contact invited once
    assert outcome.close_problems == [], outcome.close_problems[:10]
    assert outcome.invitations == outcome.closed
    # every email delivered; a resend only ever carries its message's own Message-ID
    assert outcome.outbox_problems == [], outcome.outbox_problems[:10]
    assert outcome.duplicates <= DUPLICATES_BOUND, outcome.duplicate_detail
    # the message accepted as PostgreSQL went away is recorded sent once it is back: not
    # resent (the drain retries marking it while its lease lasts)
    assert outcome.received[database.held] == 1, outcome.duplicate_detail
    # the message accepted as the worker died is sent again at most once, same Message-ID
    assert 1 <= outcome.received[crash.held] <= 2
    # every due SLA checkpoint fired exactly once
    assert outcome.due_checkpoints > 0
    assert outcome.timer_problems == [], outcome.timer_problems[:10]
    # /readyz named each failure while it lasted, and everything came back in time
    for fault in faults:
        assert fault.named, f"{fault.name}: /readyz never named {fault.check}: {fault.seen()}"
        assert fault.readyz_back is not None and fault.readyz_back < RECOVERY_BOUND
        assert fault.intake_back is not None and fault.intake_back < RECOVERY_BOUND
    topo.passed = True


# At most one resend per drain in flight when a worker dies between the SMTP server's 250
# and marking the row sent (docs/surveys.md): the killed worker runs two.
DUPLICATES_BOUND = 2


# The ladder's audit verbs for a fired checkpoint; ``after`` holds its target and moment.
CHECKPOINT_VERBS = "('sla_warning', 'sla_breached', 'escalated')"


def drain(topo: Topology, horizon: datetime) -> None:
    """Waits until every SLA checkpoint and viewflow timer due by ``horizon`` fired and every
    outbox row was sent and arrived."""

    def timers_fired() -> bool:
        clocks = topo.db.value("SELECT count(*) FROM sla_slaclock WHERE next_at <= %s", [horizon])
        timers = topo.db.value(
            "SELECT count(*) FROM viewflow_task WHERE flow_task_type = 'TIMER'"
            " AND status = 'SCHEDULED' AND scheduled <= %s",
            [horizon],
        )
        return not clocks and not timers

    def outbox_delivered() -> bool:
        rows = topo.db.rows("SELECT status, message_id FROM outbox_outboxmessage")
        if any(status == "pending" for status, _ in rows):
            return False
        arrived = {m["Message-ID"] for m in topo.sink.snapshot()}
        return {mid for _, mid in rows} <= arrived

    wait_until(timers_fired, timeout=DRAIN_TIMEOUT, what="the checkpoints due to fire", every=0.2)
    wait_until(outbox_delivered, timeout=DRAIN_TIMEOUT, what="the outbox to drain", every=0.2)


def measure(topo: Topology, fault: Fault, probes: list[Probe], load: Load) -> None:
    fault.probes = [p for p in probes if fault.started <= p.started < fault.ended]
    ready = first_ready_after(probes, fault.ended)
    fault.readyz_back = ready.ended - fault.ended if ready else None
    intake = next((a for a in load.successes() if a.started >= fault.ended), None)
    fault.intake_back = intake.ended - fault.ended if intake else None
    emails = [t for t in topo.sink.accepted_at if t >= fault.ended]
    fault.email_back = min(emails) - fault.ended if emails else None
    fired = topo.db.value(
        f"SELECT min(created_at) FROM tickets_ticketevent WHERE verb IN {CHECKPOINT_VERBS}"
        " AND created_at >= to_timestamp(%s)",
        [fault.ended],
    )
    fault.timer_back = fired.timestamp() - fault.ended if fired else None
    fault.timers_due, latest = topo.db.rows(
        "SELECT count(*), max(created_at - (after->>'due')::timestamptz)"
        f" FROM tickets_ticketevent WHERE verb IN {CHECKPOINT_VERBS}"
        " AND (after->>'due')::timestamptz BETWEEN to_timestamp(%s) AND to_timestamp(%s)",
        [fault.started, fault.ended],
    )[0]
    fault.timers_due_latest = latest.total_seconds() if latest else 0.0
    until = fault.ended + (fault.intake_back or 0)
    fault.failed_attempts = sum(
        1
        for r in [*load.intakes, *load.closes]
        for a in r.attempts
        if fault.started - 1 <= a.started <= until and (a.status == 0 or a.status >= 500)
    )


# --- what the database and the mail server hold afterwards ---------------------------------
@dataclass
class Outcome:
    tickets: int = 0
    unfinished: list[str] = field(default_factory=list)
    ticket_problems: list[str] = field(default_factory=list)
    replays: int = 0
    closed: int = 0
    close_problems: list[str] = field(default_factory=list)
    invitations: int = 0
    emails: int = 0
    outbox_problems: list[str] = field(default_factory=list)
    duplicates: int = 0
    duplicate_detail: list[str] = field(default_factory=list)
    received: Counter[str] = field(default_factory=Counter)  # copies per Message-ID
    due_checkpoints: int = 0
    later_checkpoints: int = 0
    timer_problems: list[str] = field(default_factory=list)
    timer_lateness: list[float] = field(default_factory=list)

    @classmethod
    def collect(cls, topo: Topology, load: Load, horizon: datetime) -> Outcome:
        out = cls()
        out._intakes(topo, load)
        out._emails(topo, load)
        out._timers(topo, load, horizon)
        return out

    def _intakes(self, topo: Topology, load: Load) -> None:
        self.unfinished = [
            f"{i.key}: {i.refused or i.attempts[-1:]}" for i in load.intakes if not i.succeeded
        ]
        ids_by_subject: dict[str, list[int]] = defaultdict(list)
        for ticket_id, subject in topo.db.rows("SELECT id, subject FROM tickets_ticket"):
            ids_by_subject[subject].append(ticket_id)
        self.tickets = sum(len(ids) for ids in ids_by_subject.values())
        keys = Counter(key for (key,) in topo.db.rows("SELECT key FROM tickets_idempotencykey"))
        for intake in load.intakes:
            if intake.succeeded is None:
                continue
            if ids_by_subject.get(intake.subject) != [intake.ticket_id]:
                self.ticket_problems.append(
                    f"{intake.key}: answered #{intake.ticket_id}, the database holds "
                    f"{ids_by_subject.get(intake.subject)}"
                )
            created = [a for a in intake.attempts if a.status == 201]
            if len(created) > 1 or keys[intake.key] != 1:
                self.ticket_problems.append(
                    f"{intake.key}: {len(created)} answers 201, {keys[intake.key]} key rows"
                )
            self.replays += sum(a.status == 200 for a in intake.attempts)

    def _emails(self, topo: Topology, load: Load) -> None:
        status = dict(topo.db.rows("SELECT id, status FROM tickets_ticket"))
        closed_ids: set[int] = set()
        for close in load.closes:
            assert close.ticket_id is not None
            if close.succeeded is None or status.get(close.ticket_id) != "closed":
                self.close_problems.append(
                    f"#{close.ticket_id}: {close.refused or close.attempts[-1:]}, "
                    f"status {status.get(close.ticket_id)}"
                )
            else:
                closed_ids.add(close.ticket_id)
        surveyed = {i.ticket_id for i in load.intakes if i.kind == "survey" and i.ticket_id}
        if surveyed - closed_ids:
            self.close_problems.append(f"never closed: {sorted(surveyed - closed_ids)}")
        self.closed = len(closed_ids)

        rows = topo.db.rows('SELECT key, "to", message_id, status FROM outbox_outboxmessage')
        invited = {int(key.split(":")[2]) for key, *_ in rows if key.startswith("survey-inv")}
        self.invitations = len(invited)
        if invited != closed_ids:
            self.outbox_problems.append(
                f"invitations for {sorted(invited - closed_ids)[:10]} not closed, none for "
                f"{sorted(closed_ids - invited)[:10]}"
            )
        received: dict[str, list[str]] = defaultdict(list)
        ids_by_recipient: dict[str, set[str]] = defaultdict(set)
        for message in topo.sink.snapshot():
            received[str(message["Message-ID"])].append(str(message["To"]))
            ids_by_recipient[str(message["To"])].add(str(message["Message-ID"]))
        self.emails = sum(len(v) for v in received.values())
        expected = {mid: to for _, to, mid, _ in rows}
        # a contact gets the acknowledgement, the closing notice and the invitation: each
        # exactly its rows' Message-IDs
        ids_of_rows: dict[str, set[str]] = defaultdict(set)
        for _, to, mid, _ in rows:
            ids_of_rows[to].add(mid)
        for key, to, mid, row_status in rows:
            if row_status != "sent":
                self.outbox_problems.append(f"{key}: {row_status}")
            copies = received.get(mid, [])
            if not copies or set(copies) != {to}:
                self.outbox_problems.append(f"{key}: {mid} to {to} arrived as {copies}")
            if ids_by_recipient[to] != ids_of_rows[to]:
                self.outbox_problems.append(f"{to} got Message-IDs {ids_by_recipient[to]}")
        strangers = set(received) - set(expected)
        if strangers:
            self.outbox_problems.append(f"messages the outbox never held: {sorted(strangers)}")
        for mid, recipients in received.items():
            self.received[mid] = len(recipients)
            if len(recipients) > 1:
                self.duplicates += len(recipients) - 1
                self.duplicate_detail.append(f"{mid} to {recipients[0]} x{len(recipients)}")

    def _timers(self, topo: Topology, load: Load, horizon: datetime) -> None:
        timer_subjects = [i.subject for i in load.intakes if i.kind == "timer" and i.succeeded]
        tickets = topo.db.rows(
            "SELECT t.id, c.started_at, t.status, c.done FROM tickets_ticket t"
            " JOIN sla_slaclock c ON c.id = t.sla_clock_id WHERE t.subject = ANY(%s)",
            [timer_subjects],
        )
        fired = Counter(
            (ticket_id, verb, target)
            for ticket_id, verb, target in topo.db.rows(
                "SELECT ticket_id, verb, after->>'target' FROM tickets_ticketevent"
                " WHERE verb IN ('sla_warning', 'sla_breached')"
            )
        )
        checkpoints = [
            ("sla_warning", "first_response", math.ceil(FIRST_RESPONSE * WARNING_PERCENT / 100)),
            ("sla_breached", "first_response", FIRST_RESPONSE),
            ("sla_warning", "resolution", math.ceil(RESOLUTION * WARNING_PERCENT / 100)),
            ("sla_breached", "resolution", RESOLUTION),
        ]
        for ticket_id, started, status, done in tickets:
            if status == "closed":
                self.timer_problems.append(f"#{ticket_id}: a timer ticket was closed")
            for key, n in Counter(done).items():
                if n > 1:
                    self.timer_problems.append(f"#{ticket_id}: {key} done {n} times")
            for verb, target, seconds in checkpoints:
                count = fired[(ticket_id, verb, target)]
                if started + timedelta(seconds=seconds) <= horizon:
                    self.due_checkpoints += 1
                    if count != 1:
                        self.timer_problems.append(f"#{ticket_id}: {target} {verb} x{count}")
                else:
                    self.later_checkpoints += count
                    if count > 1:
                        self.timer_problems.append(f"#{ticket_id}: {target} {verb} x{count}")
        errors = topo.db.value("SELECT count(*) FROM viewflow_task WHERE status = 'ERROR'")
        if errors:
            self.timer_problems.append(f"{errors} workflow tasks in ERROR")
        # the checkpoint moved no work: each timer ticket's process still has exactly one
        # open `work` task (the ladder marks and tells; only a reassign level goes through
        # the flow, and these policies have none)
        work = dict(
            topo.db.rows(
                "SELECT tp.ticket_id, count(task.id) FILTER (WHERE task.flow_task_type = 'HUMAN'"
                " AND task.status IN ('NEW', 'ASSIGNED'))"
                " FROM flows_ticketprocess tp JOIN tickets_ticket t ON t.id = tp.ticket_id"
                " LEFT JOIN viewflow_task task ON task.process_id = tp.process_ptr_id"
                " WHERE t.subject = ANY(%s) GROUP BY tp.ticket_id",
                [timer_subjects],
            )
        )
        for ticket_id, _started, _status, _done in tickets:
            if work.get(ticket_id) != 1:
                self.timer_problems.append(
                    f"#{ticket_id}: {work.get(ticket_id)} open work tasks, not 1"
                )
        self.timer_lateness = [
            late.total_seconds()
            for (late,) in topo.db.rows(
                "SELECT created_at - (after->>'due')::timestamptz FROM tickets_ticketevent"
                f" WHERE verb IN {CHECKPOINT_VERBS}"
            )
        ]


def print_report(faults: list[Fault], outcome: Outcome, load: Load, wall: float) -> None:
    def secs(value: float | None) -> str:
        return "never" if value is None else f"{value:.2f} s"

    attempts = Counter(
        a.status if a.status else "no answer"
        for r in [*load.intakes, *load.closes]
        for a in r.attempts
    )
    late = outcome.timer_lateness
    lines = [
        "",
        f"chaos: {len(load.intakes)} intakes ({outcome.replays} answered as replays), "
        f"{outcome.closed} closes, {outcome.invitations} invitations, "
        f"{outcome.emails} emails received ({outcome.duplicates} resent with the same "
        f"Message-ID), {outcome.due_checkpoints} SLA checkpoints due and fired "
        f"(+{outcome.later_checkpoints} that fell due while draining); "
        f"attempts by answer: {dict(attempts)}",
        f"SLA checkpoints fired: {len(late)}, lateness (audit row - due moment) median "
        f"{statistics.median(late) if late else 0:.2f} s, max {max(late, default=0):.2f} s",
    ]
    for fault in faults:
        lines.append(
            f"{fault.name}: outage {fault.ended - fault.started:.2f} s, /readyz said "
            f"[{fault.seen()}]; back after: /readyz 200 {secs(fault.readyz_back)}, intake "
            f"{secs(fault.intake_back)}, email {secs(fault.email_back)}, SLA checkpoint "
            f"{secs(fault.timer_back)}; {fault.failed_attempts} client attempts failed; "
            f"{fault.timers_due} checkpoints fell due meanwhile, fired at most "
            f"{fault.timers_due_latest:.2f} s late"
            + (
                f"; the message in the SMTP server's hands at the cut arrived "
                f"x{outcome.received[fault.held]}"
                if fault.held
                else ""
            )
        )
    lines.append(f"wall time {wall:.1f} s")
    if outcome.duplicate_detail:
        lines.append(f"resent: {outcome.duplicate_detail}")
    print("\n".join(lines))


# --- a regression the chaos test found ------------------------------------------------------
def test_a_broker_lost_with_a_task_in_flight_is_a_connection_error_for_the_worker() -> None:
    """What Celery 5.7's worker does when Redis goes away (collect the connection, then close
    it ignoring connection errors), on a connection whose task channel holds an unacknowledged
    message with its BRPOP in flight and whose control channel listens to a broadcast. The
    close raised AttributeError, and the worker exited instead of reconnecting; project/celery.py
    makes it a connection error (docs/resilience.md)."""
    import socket

    from kombu import Connection, Consumer, Exchange, Producer, Queue
    from kombu.common import ignore_errors

    import project.celery  # noqa: F401 - the worker's own imports

    missing = [m for m in missing_tools() if "redis" in m]
    if missing:
        pytest.fail("This test needs: " + "; ".join(missing), pytrace=False)
    server = PrivateRedis()
    server.start()
    connection = Connection(server.url(0))
    try:
        tasks: Any = connection.default_channel
        queue = Queue("chaos-tasks")
        Producer(tasks).publish({"task": 1}, routing_key=queue.name, declare=[queue])
        Consumer(tasks, [queue], callbacks=[lambda body, message: None]).consume()
        connection.drain_events(timeout=5)  # delivered, never acknowledged (acks_late)
        control = connection.channel()
        broadcast = Queue("chaos-control", Exchange("chaos-control", type="fanout"))
        broadcast.auto_delete = True
        Consumer(control, [broadcast], callbacks=[lambda body, message: None]).consume()
        with contextlib.suppress(socket.timeout):
            connection.drain_events(timeout=0.2)  # leaves the BRPOP in flight
        assert len(tasks.qos._delivered) == 1 and tasks._in_poll
    finally:
        server.stop()
        server.reserved.release()

    with contextlib.suppress(Exception):
        connection.collect(socket_timeout=0.2)
    ignore_errors(connection, connection.close)  # raised AttributeError before the fix
