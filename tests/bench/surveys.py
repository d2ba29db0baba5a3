"""4. Survey delivery: (a) dispatch throughput — 10,000 invitations in the outbox drained
to an SMTP sink (aiosmtpd) by one Celery worker; (b) close-to-accepted latency — a ticket
closed through the service until the SMTP server accepted its invitation, idle worker."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

from . import env, report
from .seed import seed_desk
from .stats import Summary, ms

INVITATIONS = 10_000
LATENCY_CLOSES = 200
GOAL_RATE = 100.0
GOAL_P95 = 2.0


@dataclass
class Drain:
    label: str
    count: int
    seconds: float
    first_to_last: float

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def _worker(name: str, sink_url: str, concurrency: int) -> env.Service:
    env.LOG_DIR.mkdir(parents=True, exist_ok=True)
    for leftover in env.LOG_DIR.glob("surveys-beat*"):
        leftover.unlink()
    argv = [
        sys.executable, "-m", "celery", "-A", "project", "worker", "-B",
        "-s", str(env.LOG_DIR / "surveys-beat"),
        "--concurrency", str(concurrency), "--loglevel", "WARNING",
        "-n", f"kefu-bench-{name}@%h", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    return env.Service(name, argv, env.child_env(KEFU_EMAIL_URL=sink_url))


def _flush_broker() -> None:
    import redis

    client = redis.Redis.from_url(env.REDIS_URL)
    try:
        client.flushdb()
    finally:
        client.close()


def seed_invitations(total: int) -> float:
    """``total`` invitations through ``invite_after_close`` (each renders its email and
    writes its outbox row), one contact each."""
    from customers.models import Contact
    from surveys import services

    started = time.monotonic()
    contacts = Contact.objects.bulk_create(
        [Contact(email=f"bench{i}@example.com", name=f"Bench {i}") for i in range(total)]
    )
    for i, contact in enumerate(contacts):
        result = services.invite_after_close(
            subject=services.SurveySubject(
                kind="ticket",
                object_id=1_000_000 + i,
                number=f"T-2026-{i:06d}",
                title=f"Bench request {i}",
                contact_id=contact.pk,
            )
        )
        assert result.outcome == "invited", result.outcome
        if (i + 1) % 2000 == 0:
            print(f"[surveys]   {i + 1:,} invitations queued", flush=True)
    return time.monotonic() - started


def measure_drain(sink: Any, concurrency: int, total: int) -> Drain:
    from outbox.tasks import drain_outbox

    _flush_broker()  # the seeding's wake-ups: the drain starts when we say so
    worker = _worker(f"surveys-drain-{concurrency}", sink.url, concurrency)
    try:
        env.wait_for_worker(worker, "kefu-bench-")
        before = sink.count()
        started = time.time()
        for _ in range(concurrency):
            drain_outbox.apply_async()
        deadline = time.monotonic() + 900
        while sink.count() - before < total:
            if time.monotonic() > deadline or not worker.alive():
                raise RuntimeError(f"{sink.count() - before}/{total} sent\n{worker.tail()}")
            time.sleep(0.05)
        seconds = time.time() - started
        stamps = sink.accepted_at[before : before + total]
        return Drain(
            f"1 worker, --concurrency {concurrency}",
            total,
            seconds,
            max(stamps) - min(stamps),
        )
    finally:
        worker.stop()


def measure_latency(sink: Any, desk: Any, closes: int) -> Summary:
    from django.contrib.auth.models import User

    from customers.models import Contact
    from tickets import services

    worker = _worker("surveys-latency", sink.url, 2)
    admin = User.objects.get(pk=desk.admin_id)
    samples: list[float] = []
    try:
        env.wait_for_worker(worker, "kefu-bench-")
        time.sleep(2.0)  # idle: beat ticks, nothing queued
        for i in range(closes):
            contact = Contact.objects.create(email=f"latency{i}@example.com")
            # no acknowledgement: the first email after the close is the one timed
            ticket, _ = services.open_ticket(
                actor=admin, subject=f"Latency {i}", description="", priority="P2",
                channel="api", contact_id=contact.pk, acknowledge=False,
            )  # fmt: skip
            before = sink.count()
            closed_at = time.time()
            services.close_ticket(ticket_id=ticket.pk, actor=admin)
            deadline = time.monotonic() + 30
            while sink.count() == before:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"close {i}: no email in 30 s\n{worker.tail()}")
                time.sleep(0.002)
            samples.append(sink.accepted_at[before] - closed_at)
            time.sleep(0.1)  # the worker goes idle again
    finally:
        worker.stop()
    return Summary.of(samples)


def run(*, quick: bool = False) -> report.Section:
    from tests.smtp_sink import running_sink

    started = time.monotonic()
    total, closes = (40, 5) if quick else (INVITATIONS, LATENCY_CLOSES)
    env.reset_database()
    env.setup_django()
    desk = seed_desk()
    drains: list[Drain] = []
    with running_sink() as sink:
        for concurrency in (1, 2):
            print(f"[surveys] queueing {total:,} invitations through invite_after_close")
            if not drains:
                seed_seconds = seed_invitations(total)
                bodies = _bodies()
            else:
                seed_seconds = _requeue(bodies)
            print(
                f"[surveys]   queued in {seed_seconds:.0f} s; draining, --concurrency {concurrency}"
            )
            drain = measure_drain(sink, concurrency, total)
            print(f"[surveys]   {drain.rate:.0f}/s ({drain.seconds:.1f} s)", flush=True)
            drains.append(drain)
        print(f"[surveys] close-to-accepted latency, {closes} closes, idle worker")
        latency = measure_latency(sink, desk, closes)
        print(f"[surveys]   p50 {ms(latency.p50)} p95 {ms(latency.p95)}", flush=True)
    env.close_db_connections()
    return _section(drains, latency, total, closes, time.monotonic() - started)


def _bodies() -> dict[int, tuple[str, str]]:
    from outbox.models import OutboxMessage

    return {
        pk: (text, html)
        for pk, text, html in OutboxMessage.objects.values_list("pk", "body_text", "body_html")
    }


def _requeue(bodies: dict[int, tuple[str, str]]) -> float:
    """The same rows pending again (bodies back, fresh Message-IDs) for the next run."""
    from email.utils import make_msgid

    from django.utils import timezone

    from outbox.models import OutboxMessage

    started = time.monotonic()
    rows = list(OutboxMessage.objects.filter(pk__in=list(bodies)))
    now = timezone.now()
    for row in rows:
        row.body_text, row.body_html = bodies[row.pk]
        row.message_id = make_msgid(domain="kefu.localhost")
        row.status, row.sent_at, row.attempts, row.next_attempt_at = "pending", None, 0, now
    OutboxMessage.objects.bulk_update(
        rows,
        [
            "body_text",
            "body_html",
            "message_id",
            "status",
            "sent_at",
            "attempts",
            "next_attempt_at",
        ],
        batch_size=500,
    )
    return time.monotonic() - started


def _section(
    drains: list[Drain], latency: Summary, total: int, closes: int, seconds: float
) -> report.Section:
    best = max(d.rate for d in drains)
    summary = [
        (
            f"dispatch throughput, {total:,} invitations, one worker",
            " / ".join(f"{d.rate:.0f}/s ({d.label.split(', ')[1]})" for d in drains),
            f">= {GOAL_RATE:.0f}/s",
            report.verdict(best >= GOAL_RATE),
        ),
        (
            "close to accepted by SMTP, idle worker",
            f"p50 {ms(latency.p50)}, p95 {ms(latency.p95)}",
            f"p95 <= {GOAL_P95:.0f} s",
            report.verdict(latency.p95 <= GOAL_P95),
        ),
    ]
    rows = [
        [
            d.label,
            f"{d.count:,}",
            f"{d.seconds:.1f} s",
            f"{d.first_to_last:.1f} s",
            f"{d.rate:.0f}/s",
        ]
        for d in drains
    ]
    drain_table = report.table(
        ["worker", "messages", "enqueue → last accepted", "first → last accepted", "throughput"],
        rows,
    )
    latency_table = report.table(
        ["closes", "p50", "p95", "p99", "max"],
        [
            [
                str(latency.count),
                *(ms(v) for v in (latency.p50, latency.p95, latency.p99, latency.max)),
            ]
        ],
    )
    body = f"""## 4. Survey delivery (outbox → SMTP)

The bench process queues {total:,} invitations through `surveys.services.invite_after_close`
(each renders its bilingual email and writes its outbox row in one transaction, one contact
each), empties the broker, starts one `celery -A project worker -B` with `KEFU_EMAIL_URL`
pointing at an aiosmtpd server running in the bench process (a thread; it competes for the
same two cores), and sends one `outbox.tasks.drain_outbox` per pool process. Each drain
claims batches of `KEFU_OUTBOX_BATCH` (200) rows with `SELECT … FOR UPDATE SKIP LOCKED`,
sends them over one SMTP connection, and marks each row sent right after the server's 250.
Time runs from the enqueue to the last message accepted.

{drain_table}

Close-to-accepted latency: {closes} tickets opened, then closed one at a time through
`tickets.services.close_ticket` in the bench process (production settings, Redis broker);
the clock runs from the call to the moment the sink accepted the invitation. The worker
(`--concurrency 2`, beat embedded) is idle before each close; the close's `on_commit` wakes a
drain.

{latency_table}

Total run time {seconds:.0f} s.
"""
    from datetime import UTC, datetime

    return report.Section(
        "surveys",
        "Survey delivery",
        body,
        summary,
        date=datetime.now(UTC).strftime("%Y-%m-%d"),
        seconds=seconds,
    )
