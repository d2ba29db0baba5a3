"""Inbound email: 10,000 messages in a real Dovecot mailbox (half of them replies, by
In-Reply-To, to tickets that exist before the run) taken by one Celery worker polling it
(``mail.tasks.poll_mailbox``: IMAP fetch → ``mail.services.receive_raw`` → the tickets'
mail handler → the message moved or flagged), on PostgreSQL with the production settings.

Figures: throughput over the backlog; mail-arrived (the APPEND's answer) → ticket-visible
(the InboundEmail row's ``processed_at``, stamped in the transaction that wrote the ticket
or its message) for the backlog and for mail arriving at a steady rate below capacity; and
an in-process profile of a poll round (where a message's time goes, statements each)."""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import make_msgid
from typing import Any

from . import cpu, env, report
from .profiling import Profile, run_profiled
from .seed import BenchDesk, seed_desk
from .stats import Summary, ms, secs

MESSAGES = 10_000
ONE_LANE_MESSAGES = 2_000  # the same backlog with one poller per mailbox, for comparison
EXISTING_TICKETS = 1_000
STEADY_MESSAGES = 300
STEADY_RATE = 10.0  # messages/s, well below capacity
PROFILE_MESSAGES = 300
POLL_SECONDS = 1.0
APPEND_CHUNK = 100
DRAIN_TIMEOUT = 3600.0
GOAL_RATE = 50.0
USER, PASSWORD = "support", "bench-imap"
ADDRESS = "support@kefu.bench"
QUOTE = "\n".join(
    f"> {line}"
    for line in (
        "Dear customer, thank you for your message. We opened a ticket for it and will",
        "answer as soon as we can. You can follow your request with the link below.",
        "Kind regards, the support team",
    )
)
BODY = (
    "Hello,\n\nthe invoice for last month lists the printer lease twice, and the second\n"
    "line has a different contract number. Could you check which one is right and send\n"
    "a corrected invoice? Our accounting closes the month on Friday.\n\n"
    "Best regards,\nWang Fang\nPurchasing, Example Trading Co.\n"
)


@dataclass
class Existing:
    number: str
    sender: str
    thread_id: str  # the Message-ID a reply's In-Reply-To names


@dataclass
class Run:
    label: str
    count: int
    appended_at: dict[str, float] = field(default_factory=dict)  # Message-ID → epoch
    started: float = 0.0  # epoch: the worker began (backlog) or the first APPEND
    processed_at: dict[str, float] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def latency(self) -> Summary:
        return Summary.of([self.processed_at[m] - self.appended_at[m] for m in self.processed_at])

    @property
    def span(self) -> float:
        """First to last message visible."""
        stamps = list(self.processed_at.values())
        return max(stamps) - min(stamps) if len(stamps) > 1 else 0.0

    @property
    def rate(self) -> float:
        return self.count / self.span if self.span else 0.0

    @property
    def wall(self) -> float:
        return max(self.processed_at.values()) - self.started if self.processed_at else 0.0


# --- seeding -----------------------------------------------------------------------------
def seed_existing(desk: BenchDesk, count: int) -> list[Existing]:
    """``count`` tickets opened through the intake service, each with an email thread: its
    first message carries a Message-ID as if it had come by email."""
    from django.contrib.auth.models import User

    from tickets import services
    from tickets.models import TicketMessage

    admin = User.objects.get(pk=desk.admin_id)
    found: list[Existing] = []
    for i in range(count):
        sender = f"existing{i}@customer.example"
        ticket, _ = services.open_ticket(
            actor=admin, subject=f"Existing request {i}", description=BODY, priority="P3",
            channel="email", contact_email=sender,
        )  # fmt: skip
        thread_id = f"<existing-{i}@customer.example>"
        first = TicketMessage.objects.filter(ticket=ticket).order_by("pk").first()
        if first is None:
            TicketMessage.objects.create(
                ticket=ticket, contact=ticket.contact, body=BODY, channel="email",
                email_message_id=thread_id,
            )  # fmt: skip
        else:
            TicketMessage.objects.filter(pk=first.pk).update(email_message_id=thread_id)
        found.append(Existing(ticket.number, sender, thread_id))
        if (i + 1) % 250 == 0:
            print(f"[inbound]   {i + 1:,} existing tickets", flush=True)
    return found


def build_messages(
    count: int, existing: list[Existing], *, prefix: str, seed: int
) -> list[tuple[str, bytes]]:
    """Alternately a new request (a sender of its own) and a reply to an existing ticket
    (In-Reply-To its thread, its number in the subject, the acknowledgement quoted)."""
    from tests.mail.messages import customer_email

    rng = random.Random(seed)
    out = []
    for i in range(count):
        message_id = make_msgid(idstring=f"{prefix}{i}", domain="customer.example")
        if i % 2 == 0:
            raw = customer_email(
                sender=f"{prefix}-new{i}@customer.example", to=ADDRESS,
                subject=f"Invoice question {prefix}-{i}", body=BODY, message_id=message_id,
            )  # fmt: skip
        else:
            target = existing[rng.randrange(len(existing))]
            raw = customer_email(
                sender=target.sender, to=ADDRESS,
                subject=f"Re: [{target.number}] Existing request",
                body=f"Thank you, here is the contract number: {i}.\n\n{QUOTE}\n",
                message_id=message_id, in_reply_to=target.thread_id,
            )  # fmt: skip
        out.append((message_id, raw))
    return out


def append_all(server: Any, messages: list[tuple[str, bytes]]) -> dict[str, float]:
    """MULTIAPPEND in chunks over one session; a message's arrival is its chunk's answer."""
    arrived: dict[str, float] = {}
    with server.session(USER) as client:
        for start in range(0, len(messages), APPEND_CHUNK):
            chunk = messages[start : start + APPEND_CHUNK]
            client.multiappend("INBOX", [raw for _, raw in chunk])
            now = time.time()
            arrived.update((message_id, now) for message_id, _ in chunk)
    return arrived


def append_paced(server: Any, messages: list[tuple[str, bytes]], rate: float) -> dict[str, float]:
    """One APPEND every 1/rate seconds (a steady arrival), each timed on its answer."""
    from tests.mail.dovecot import append

    arrived: dict[str, float] = {}
    with server.session(USER) as client:
        started = time.monotonic()
        for n, (message_id, raw) in enumerate(messages):
            due = started + n / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)  # pacing the arrivals, not waiting for a result
            append(client, raw)
            arrived[message_id] = time.time()
    return arrived


# --- the worker ----------------------------------------------------------------------------
def _worker(sink_url: str, lanes: int = 2) -> env.Service:
    env.LOG_DIR.mkdir(parents=True, exist_ok=True)
    for leftover in env.LOG_DIR.glob("inbound-beat*"):
        leftover.unlink()
    argv = [
        sys.executable, "-m", "celery", "-A", "project", "worker", "-B",
        "-s", str(env.LOG_DIR / "inbound-beat"),
        "--concurrency", "2", "--loglevel", "WARNING",
        "-n", "kefu-bench-inbound@%h", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    settings = {**_settings(sink_url), "KEFU_IMAP_LANES": str(lanes)}
    return env.Service("inbound-worker", argv, env.child_env(**settings))


def _settings(sink_url: str) -> dict[str, str]:
    return {
        "KEFU_EMAIL_URL": sink_url,
        "KEFU_MAIL_POLL_SECONDS": str(POLL_SECONDS),
        "KEFU_MEDIA_ROOT": str(env.LOG_DIR / "media"),
        "KEFU_SUPPORT_ADDRESS": ADDRESS,
    }


def wait_processed(run: Run, worker: env.Service | None, timeout: float) -> None:
    """Reads the rows of the run's messages until every one of them has its row."""
    from django.db.models import Count

    from mail.models import InboundEmail

    wanted = list(run.appended_at)
    deadline = time.monotonic() + timeout
    last_report = time.monotonic()
    while True:
        done = InboundEmail.objects.filter(
            message_id__in=wanted, processed_at__isnull=False
        ).count()
        if done >= len(wanted):
            break
        if time.monotonic() > deadline or (worker is not None and not worker.alive()):
            tail = worker.tail() if worker is not None else ""
            raise RuntimeError(f"{done}/{len(wanted)} messages visible\n{tail}")
        if time.monotonic() - last_report > 15:
            print(f"[inbound]   {done:,}/{len(wanted):,} visible", flush=True)
            last_report = time.monotonic()
        time.sleep(0.25)
    rows = InboundEmail.objects.filter(message_id__in=wanted)
    run.processed_at = {
        m: p.timestamp() for m, p in rows.values_list("message_id", "processed_at") if p
    }
    run.statuses = dict(
        rows.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )


# --- the runs -------------------------------------------------------------------------------
def backlog(server: Any, sink: Any, messages: list[tuple[str, bytes]], lanes: int) -> Run:
    """Everything appended first, then the worker starts and drains the mailbox."""
    run = Run(f"backlog, {lanes} lane{'s' if lanes > 1 else ''}", len(messages))
    print(f"[inbound] appending {len(messages):,} messages (worker stopped)", flush=True)
    started = time.monotonic()
    run.appended_at = append_all(server, messages)
    print(f"[inbound]   appended in {time.monotonic() - started:.0f} s", flush=True)
    worker = _worker(sink.url, lanes)
    try:
        with cpu.Window([worker.pid], label="Celery worker") as window:
            run.started = time.time()
            env.wait_for_worker(worker, "kefu-bench-inbound")
            wait_processed(run, worker, DRAIN_TIMEOUT)
        run.cpu = window.shares
    finally:
        worker.stop()
    return run


def steady(server: Any, sink: Any, messages: list[tuple[str, bytes]], rate: float) -> Run:
    """The worker running and idle; messages arrive one at a time at ``rate``."""
    run = Run(f"steady {rate:g}/s", len(messages))
    worker = _worker(sink.url)
    try:
        env.wait_for_worker(worker, "kefu-bench-inbound")
        time.sleep(3 * POLL_SECONDS)  # idle: beat ticks, the mailbox is empty
        print(f"[inbound] {len(messages)} messages at {rate:g}/s into an idle mailbox")
        with cpu.Window([worker.pid], label="Celery worker") as window:
            run.started = time.time()
            run.appended_at = append_paced(server, messages, rate)
            wait_processed(run, worker, 300)
        run.cpu = window.shares
    finally:
        worker.stop()
    return run


@dataclass
class InProcess:
    profile: Profile
    statements: float
    kinds: str
    messages: int
    wall_ms: float  # per message, no profiler
    app_cpu_ms: float  # this process (parsing, ORM, services, IMAP client)
    postgres_cpu_ms: float  # its PostgreSQL backend

    @property
    def capacity(self) -> float:
        """Messages/s two cores could take if they did nothing else (an estimate)."""
        spent = self.app_cpu_ms + self.postgres_cpu_ms
        return 2000.0 / spent if spent else 0.0


def _backend_cpu(pid: int) -> float:
    import os

    try:
        with open(f"/proc/{pid}/stat") as fh:
            rest = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


def profile_round(
    server: Any, mailbox_id: int, timed: list[tuple[str, bytes]], profiled: list[tuple[str, bytes]]
) -> InProcess:
    """Two poll rounds in this process: ``timed`` without a profiler (wall and CPU per
    message, this process and its PostgreSQL backend, every statement counted), then
    ``profiled`` under cProfile."""
    from django.db import connection

    from mail import imap

    from .profiling import statement_kind

    kinds: dict[str, int] = {}

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        kind = statement_kind(sql)
        kinds[kind] = kinds.get(kind, 0) + 1
        return execute(sql, params, many, context)

    append_all(server, timed)
    connection.ensure_connection()
    backend = int(env.sql("SELECT pg_backend_pid()")[0][0])
    cpu0, pg0, wall0 = time.process_time(), _backend_cpu(backend), time.perf_counter()
    with connection.execute_wrapper(count):
        done = imap.poll_mailbox(mailbox_id)
    n = len(timed)
    wall = (time.perf_counter() - wall0) / n
    app_cpu, pg_cpu = (time.process_time() - cpu0) / n, (_backend_cpu(backend) - pg0) / n
    assert done.taken == n, done

    append_all(server, profiled)
    result: list[imap.PollResult] = []
    profile = run_profiled(lambda _i: result.append(imap.poll_mailbox(mailbox_id)), 1)
    assert result and result[0].taken == len(profiled), result
    profile.calls = len(profiled)  # per message
    return InProcess(
        profile,
        sum(kinds.values()) / n,
        ", ".join(f"{k} {v / n:.1f}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])),
        n,
        wall * 1000,
        app_cpu * 1000,
        pg_cpu * 1000,
    )


def run(*, quick: bool = False) -> report.Section:
    started = time.monotonic()
    env.reset_database()
    env.setup_django()
    from django.test import override_settings

    # this process (the seeding, the in-process round) stores where the worker does
    local = override_settings(
        MEDIA_ROOT=_settings("")["KEFU_MEDIA_ROOT"], KEFU_SUPPORT_ADDRESS=ADDRESS
    )
    local.enable()
    try:
        return _run(quick, started)
    finally:
        local.disable()


def _run(quick: bool, started: float) -> report.Section:
    from mail.models import Mailbox
    from tests.mail.dovecot import running_dovecot
    from tests.smtp_sink import running_sink

    total, one_lane_n, existing_n, steady_n, profile_n = (
        (40, 20, 10, 10, 10)
        if quick
        else (MESSAGES, ONE_LANE_MESSAGES, EXISTING_TICKETS, STEADY_MESSAGES, PROFILE_MESSAGES)
    )

    desk = seed_desk()
    print(f"[inbound] seeding {existing_n:,} existing tickets with an email thread", flush=True)
    existing = seed_existing(desk, existing_n)
    with running_dovecot({USER: PASSWORD}) as server, running_sink() as sink:
        mailbox = Mailbox.objects.create(
            name="Bench", address=ADDRESS, host=server.host, port=server.port,
            security="none", username=USER, password=PASSWORD,
        )  # fmt: skip
        one = backlog(server, sink, build_messages(one_lane_n, existing, prefix="a", seed=5), 1)
        print(f"[inbound]   {one.rate:.1f} messages/s with one lane", flush=True)
        drained = backlog(server, sink, build_messages(total, existing, prefix="b", seed=1), 2)
        print(
            f"[inbound]   {drained.rate:.1f} messages/s; arrived → visible"
            f" p50 {secs(drained.latency.p50)} p95 {secs(drained.latency.p95)}",
            flush=True,
        )
        paced = steady(
            server, sink, build_messages(steady_n, existing, prefix="s", seed=2), STEADY_RATE
        )
        print(
            f"[inbound]   arrived → visible p50 {ms(paced.latency.p50)}"
            f" p95 {ms(paced.latency.p95)}",
            flush=True,
        )
        print(f"[inbound] profiling one poll round of {profile_n} messages in-process")
        inproc = profile_round(
            server,
            mailbox.pk,
            build_messages(profile_n, existing, prefix="t", seed=6),
            build_messages(profile_n, existing, prefix="p", seed=3),
        )
        left = server.uids(USER, criteria=["NOT", "KEYWORD", "$Kefu"])
        sent = sink.count()
    env.close_db_connections()
    return _section(
        one, drained, paced, inproc, existing_n, len(left), sent, time.monotonic() - started
    )


def _counts() -> dict[str, int]:
    from mail.models import InboundEmail
    from tickets.models import Ticket, TicketMessage

    return {
        "tickets": Ticket.objects.count(),
        "email messages": TicketMessage.objects.filter(channel="email").count(),
        "inbound rows": InboundEmail.objects.count(),
    }


def _section(
    one: Run,
    drained: Run,
    paced: Run,
    inproc: InProcess,
    existing: int,
    left: int,
    sent: int,
    seconds: float,
) -> report.Section:
    counts = _counts()
    summary = [
        (
            f"throughput, {drained.count:,} messages (half replies), one worker, 2 lanes",
            f"{drained.rate:.1f} messages/s",
            f"≥ {GOAL_RATE:.0f} messages/s",
            report.verdict(drained.rate >= GOAL_RATE),
        ),
        (
            f"throughput, {one.count:,} messages, one worker, 1 lane",
            f"{one.rate:.1f} messages/s",
            "—",
            "—",
        ),
        (
            f"arrived → visible at {paced.label.split()[1]}, poll every {POLL_SECONDS:g} s",
            f"p50 {secs(paced.latency.p50)}, p95 {secs(paced.latency.p95)}",
            "—",
            "—",
        ),
        (
            "arrived → visible, backlog (position in the queue)",
            f"p50 {secs(drained.latency.p50)}, p95 {secs(drained.latency.p95)}",
            "—",
            "—",
        ),
        (
            "statements per message (in-process poll round)",
            f"{inproc.statements:.1f}",
            "—",
            "—",
        ),
        (
            "CPU per message in-process (app + PostgreSQL)",
            f"{inproc.app_cpu_ms:.1f} + {inproc.postgres_cpu_ms:.1f} ms",
            "—",
            "—",
        ),
        (
            "estimate: messages/s two otherwise idle cores could take (2 s ÷ CPU per message)",
            f"≈ {inproc.capacity:.0f}/s",
            "—",
            "—",
        ),
    ]
    runs = report.table(
        ["run", "messages", "first → last visible", "throughput", "arrived → visible p50",
         "p95", "p99", "max", "statuses", "CPU"],
        [
            [
                r.label, f"{r.count:,}", secs(r.span), f"{r.rate:.1f}/s",
                secs(r.latency.p50), secs(r.latency.p95), secs(r.latency.p99),
                secs(r.latency.max),
                ", ".join(f"{k} {v:,}" for k, v in sorted(r.statuses.items())),
                cpu.describe(r.cpu),
            ]
            for r in (one, drained, paced)
        ],
    )  # fmt: skip
    buckets = report.table(
        ["where", "ms per message", "share"],
        [[label, f"{per:.2f}", f"{share:.0%}"] for label, per, share in inproc.profile.buckets()],
    )
    top = report.table(
        ["calls", "tottime", "cumtime", "per message", "function"],
        [list(row) for row in inproc.profile.top(limit=25)],
    )
    state = report.table(
        ["after the run", "count"],
        [[k, f"{v:,}"] for k, v in counts.items()]
        + [["messages left unflagged in the mailbox", str(left)], ["emails sent", f"{sent:,}"]],
    )
    body = f"""## Inbound email (IMAP → tickets)

{existing:,} tickets are opened through `tickets.services.open_ticket` before the run, each
with an email thread (its first message carries a Message-ID). Dovecot (Debian's, started by
the run on loopback, maildir, tests/mail/dovecot.py) holds the mailbox; a Kefu `Mailbox`
(plain IMAP on 127.0.0.1, flags rather than a done folder) reads it. Half the messages are
new requests, each from its own address (a ticket and an acknowledgement each); the other
half are replies to a random existing ticket: `In-Reply-To` its thread, its number in the
subject, the acknowledgement quoted (stripped before it is stored).

One `celery -A project worker -B --concurrency 2` (production settings, beat embedded,
`KEFU_MAIL_POLL_SECONDS={POLL_SECONDS:g}`, emails to an aiosmtpd server in the bench
process): beat's `poll_mailboxes` queues one `poll_mailbox` per lane of the mailbox
(`KEFU_IMAP_LANES`, 2 by default: each lane takes the conversations whose root Message-ID
hashes to it, over its own IMAP connection, under its own lease), fetching
`KEFU_IMAP_BATCH` (100) messages per FETCH and flagging each batch once its messages
committed; the acknowledgements are delivered by the outbox's drain task in the same pool.

* **backlog**: the messages are appended (MULTIAPPEND, 100 a command) with the worker
  stopped, then the worker starts: {one.count:,} with one lane, then {drained.count:,} with
  two (the default). Throughput is messages ÷ first-to-last visible. Arrived → visible here
  is mostly the wait in the queue.
* **steady**: the worker idle, messages appended one at a time at {STEADY_RATE:g}/s; arrived →
  visible is the pipeline's latency: up to one poll interval of waiting plus the processing.

Arrived = the APPEND's answer to the bench process; visible = the row's `processed_at`,
stamped inside the transaction that wrote the ticket or its message (it commits right after).

{runs}

{state}

### Where a message's time goes (poll rounds in-process)

The bench process runs `mail.imap.poll_mailbox` itself (one lane) on {inproc.messages}
freshly appended messages of the same mix, without a profiler: per message
{inproc.wall_ms:.1f} ms of wall time, {inproc.app_cpu_ms:.1f} ms of CPU in the process
(parsing, the ORM, the services, the IMAP client) and {inproc.postgres_cpu_ms:.1f} ms in its
PostgreSQL backend; {inproc.statements:.1f} statements ({inproc.kinds}). Two cores doing
nothing else could thus take about {inproc.capacity:.0f} messages/s (2 s of CPU a second ÷
the CPU of one message; an estimate that leaves out Dovecot, Redis and the
acknowledgements' delivery). Then a second round of {inproc.profile.calls} under cProfile:

{buckets}

{top}

Total run time {seconds:.0f} s.
"""
    return report.Section(
        "inbound",
        "Inbound email",
        body,
        summary,
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        seconds=seconds,
    )
