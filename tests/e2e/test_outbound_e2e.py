"""The customer's emails end to end: the REST API, a real Celery worker and beat, a private
Redis, a real SMTP server (aiosmtpd). An intake's acknowledgement arrives with the number and
the link; the agent's reply arrives threaded under it, in the contact's language; a retried
reply arrives once (docs/email.md)."""

# ruff: noqa: RUF001
from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from mail.outbound import REPLY_MARKER
from outbox.models import OutboxMessage
from tests.conftest import client_for
from tests.e2e.conftest import PrivateRedis, WorkerProcess, point_celery_at, worker_env
from tests.smtp_sink import Sink, body_text
from tickets.links import read_request_token

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def publish_to(private_redis: PrivateRedis) -> Iterator[PrivateRedis]:
    previous = point_celery_at(private_redis.url)
    try:
        yield private_redis
    finally:
        point_celery_at(previous)


def subject_of(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def test_acknowledgement_then_a_threaded_reply_in_the_contacts_language(
    desk: Any, smtp_sink: Sink, publish_to: PrivateRedis, transactional_db: Any
) -> None:
    from tests.factories import ContactFactory

    contact: Any = ContactFactory(
        customer=desk.customer, email="li.na@example.cn", name="李娜", language="zh-hans"
    )
    env = worker_env(
        broker=publish_to.url, KEFU_EMAIL_URL=smtp_sink.url, KEFU_OUTBOX_SWEEP_SECONDS="0.5"
    )
    worker = WorkerProcess(env, Path(tempfile.mkdtemp(prefix="kefu-outbound-")))
    try:
        created = client_for(desk.admin).post(
            "/api/tickets/",
            {"subject": "发票丢失", "priority": "P2", "contact_id": contact.pk},
            format="json",
        )
        assert created.status_code == 201, created.content
        ticket = created.json()
        smtp_sink.wait_for(1, timeout=60, on_timeout=worker.log)
        (ack,) = smtp_sink.snapshot()
        assert subject_of(ack) == f"[{ticket['number']}] 发票丢失"
        assert ack["Auto-Submitted"] == "auto-replied"
        text = body_text(ack).replace("\r\n", "\n")
        assert text.startswith(REPLY_MARKER)
        assert f"编号为 {ticket['number']}" in text
        token = text.split("/help/requests/")[1].split("/")[0]
        assert read_request_token(token).ticket_id == ticket["id"]

        # the assignee answers; the client retries the request (a lost response)
        from tickets.models import Ticket

        assignee = Ticket.objects.get(pk=ticket["id"]).assignee
        agent = client_for(assignee)
        for _ in range(2):
            answer = agent.post(
                f"/api/tickets/{ticket['id']}/reply/",
                {"body": "您好，发票已重新发送。"},
                format="json",
                HTTP_IDEMPOTENCY_KEY="reply-once",
            )
            assert answer.status_code == 200, answer.content
        smtp_sink.wait_for(2, timeout=60, on_timeout=worker.log)
        reply = smtp_sink.snapshot()[1]
        assert subject_of(reply) == f"Re: [{ticket['number']}] 发票丢失"
        assert reply["In-Reply-To"] == ack["Message-ID"]
        assert reply["References"] == ack["Message-ID"]
        assert reply["Auto-Submitted"] is None
        assert reply["Reply-To"] == f"support+{ticket['number']}@kefu.localhost"
        assert "您好，发票已重新发送。" in body_text(reply)
        row = OutboxMessage.objects.get(kind="ticket.replied")
        assert row.message_id == reply["Message-ID"]
        # the retried reply was queued once; both rows sent (marked right after the 250)
        deadline = time.monotonic() + 30
        while OutboxMessage.objects.filter(status="sent").count() < 2:
            assert time.monotonic() < deadline, worker.log()
            time.sleep(0.05)
        assert list(OutboxMessage.objects.order_by("id").values_list("kind", "status")) == [
            ("ticket.acknowledged", "sent"),
            ("ticket.replied", "sent"),
        ]
    finally:
        worker.stop()
