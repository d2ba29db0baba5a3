"""Surveys end to end: a real Celery worker and beat, a private Redis, a real SMTP server
(aiosmtpd) started here. Close → email → follow the link → answer → the API shows it;
and the fault test: kill -9 the worker mid-drain and restart Redis, nothing lost."""

from __future__ import annotations

import re
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from outbox.models import OutboxMessage
from tests.conftest import client_for
from tests.e2e.conftest import PrivateRedis, WorkerProcess, point_celery_at, worker_env
from tests.smtp_sink import Sink, body_html, body_text

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

LINK = re.compile(r"https?://[^\s\"'<>]+/s/([A-Za-z0-9_-]{43})/\?score=(\d+)")


@pytest.fixture(autouse=True)
def default_template(transactional_db: Any) -> Any:
    """The built-in default (a migration creates it; an earlier transactional test's
    flush removes it)."""
    from tests.factories import SurveyTemplateFactory

    return SurveyTemplateFactory(name="CSAT", scale="csat", is_default=True)


@pytest.fixture
def publish_to(private_redis: PrivateRedis) -> Iterator[PrivateRedis]:
    previous = point_celery_at(private_redis.url)
    try:
        yield private_redis
    finally:
        point_celery_at(previous)


def start_worker(redis: PrivateRedis, sink: Sink, **extra: str) -> WorkerProcess:
    env = worker_env(
        broker=redis.url,
        KEFU_EMAIL_URL=sink.url,
        KEFU_OUTBOX_SWEEP_SECONDS="0.5",
        KEFU_SURVEY_PUBLIC_URL="http://kefu.test",
        **extra,
    )
    return WorkerProcess(env, Path(tempfile.mkdtemp(prefix="kefu-surveys-")))


def test_close_email_link_answer_api(
    desk: Any, smtp_sink: Sink, publish_to: PrivateRedis, transactional_db: Any
) -> None:
    worker = start_worker(publish_to, smtp_sink)
    try:
        agent = client_for(desk.agent1)
        created = agent.post(
            "/api/tickets/",
            {
                "subject": "Invoice missing",
                "priority": "P2",
                "contact": {"email": "wang@example.com"},
            },
            format="json",
        )
        assert created.status_code == 201, created.content
        ticket = created.json()
        supervisor = client_for(desk.supervisor)
        closed = supervisor.post(f"/api/tickets/{ticket['id']}/close/")
        assert closed.status_code == 200, closed.content

        # the acknowledgement, the closing notice and the invitation (docs/email.md)
        smtp_sink.wait_for(3, timeout=60, on_timeout=worker.log)
        (message,) = [
            m
            for m in smtp_sink.snapshot()
            if m["X-Kefu-Outbox-Key"].startswith("survey-invitation:")
        ]
        assert message["To"] == "wang@example.com"
        assert message["Subject"] == f"How did we do with {ticket['number']}?"
        row = OutboxMessage.objects.get(kind="survey_invitation")
        assert message["Message-ID"] == row.message_id
        text = body_text(message)
        links = LINK.findall(text)
        assert [int(score) for _, score in links] == [1, 2, 3, 4, 5]
        assert len(LINK.findall(body_html(message).replace("&amp;", "&"))) == 5
        token = links[3][0]

        # the customer follows the "4" link, adds a comment and sends
        browser = Client(enforce_csrf_checks=True)
        page = browser.get(f"/s/{token}/?score=4")
        assert page.status_code == 200
        assert ticket["number"] in page.content.decode()
        assert 'value="4" checked' in page.content.decode()
        sent = browser.post(
            f"/s/{token}/",
            {
                "score": "4",
                "comment": "Quick and kind",
                "csrfmiddlewaretoken": page.cookies["csrftoken"].value,
            },
        )
        assert sent.status_code == 303

        listed = supervisor.get(f"/api/surveys/responses/?ticket={ticket['id']}").json()
        assert [(r["number"], r["score"], r["comment"]) for r in listed["results"]] == [
            (ticket["number"], 4, "Quick and kind")
        ]
        report = supervisor.get("/api/reports/csat/").json()["total"]
        assert (report["invitations"], report["responses"], report["csat"]["percent"]) == (
            1,
            1,
            100.0,
        )
        # the row was marked sent and no longer holds the link
        row.refresh_from_db()
        assert row.status == "sent" and token not in row.body_text
    finally:
        worker.stop()


TICKETS = 500


def test_kill_9_mid_drain_and_a_redis_restart_lose_nothing(
    desk: Any, smtp_sink: Sink, publish_to: PrivateRedis, transactional_db: Any
) -> None:
    from tests.factories import ContactFactory
    from tickets import services

    # 500 closes through the services, each for its own contact, before any worker runs;
    # each close emails its notice and the invitation (no acknowledgement of the intake)
    for i in range(TICKETS):
        contact: Any = ContactFactory(email=f"fault{i}@example.com")
        ticket, _ = services.open_ticket(
            actor=desk.admin,
            subject=f"Fault {i}",
            description="",
            priority="P2",
            channel="api",
            contact_id=contact.pk,
            acknowledge=False,
        )
        services.close_ticket(ticket_id=ticket.pk, actor=desk.supervisor)
    emails = 2 * TICKETS
    assert OutboxMessage.objects.filter(status="pending").count() == emails

    extra = {"KEFU_OUTBOX_LEASE_SECONDS": "3", "KEFU_OUTBOX_BATCH": "50"}
    first = start_worker(publish_to, smtp_sink, **extra)
    second = None
    try:
        smtp_sink.wait_for(100, timeout=120, on_timeout=first.log)
        first.kill9()
        killed_at = smtp_sink.count()
        assert killed_at < emails, "the worker finished before it could be killed"

        second = start_worker(publish_to, smtp_sink, **extra)
        smtp_sink.wait_for(min(emails, killed_at + 100), timeout=120, on_timeout=second.log)
        publish_to.restart()  # queued tasks are gone; the sweep finds the rows again

        deadline = time.monotonic() + 180
        while OutboxMessage.objects.filter(status="sent").count() < emails:
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{OutboxMessage.objects.filter(status='sent').count()} of {emails} "
                    f"sent\n{second.log()}"
                )
            time.sleep(0.2)
    finally:
        first.stop()
        if second is not None:
            second.stop()

    received = smtp_sink.snapshot()
    ids_by_recipient: dict[str, set[str]] = defaultdict(set)
    for message in received:
        ids_by_recipient[message["To"]].add(message["Message-ID"])
    expected: dict[str, set[str]] = defaultdict(set)
    for to, mid in OutboxMessage.objects.values_list("to", "message_id"):
        expected[to].add(mid)
    # every contact got exactly its two emails (two Message-IDs), the ones of its rows
    assert len(ids_by_recipient) == TICKETS
    assert dict(expected) == dict(ids_by_recipient)
    assert all(len(ids) == 2 for ids in expected.values())
    unique_ids = {m["Message-ID"] for m in received}
    assert len(unique_ids) == emails
    # a duplicate is only the resend of a message accepted just before the kill, at most
    # one per drain that was in flight (the worker runs two)
    duplicates = len(received) - len(unique_ids)
    assert duplicates <= 2, duplicates
    print(f"killed after {killed_at} messages; duplicates resent: {duplicates}")
