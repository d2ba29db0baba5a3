"""The outbox against a real SMTP server (aiosmtpd): sent only once accepted, one
connection per drain, a fixed Message-ID, retries with backoff, leases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from outbox import services
from outbox.models import OutboxMessage
from tests.smtp_sink import Sink, free_port, running_sink


@pytest.fixture
def sink(settings: Any) -> Iterator[Sink]:
    with running_sink() as server:
        _point_at(settings, server.port)
        yield server


def _point_at(settings: Any, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5


def queue(n: int, **overrides: Any) -> list[OutboxMessage]:
    with transaction.atomic():
        return [
            services.queue_email(
                key=f"test:{i}",
                kind="test",
                to=f"customer{i}@example.com",
                subject=f"Hello {i}",
                body_text=f"secret link {i}",
                body_html=f"<p>secret link {i}</p>",
                **overrides,
            )
            for i in range(n)
        ]


def test_a_drain_sends_everything_due_and_marks_each_sent(db: Any, sink: Sink) -> None:
    rows = queue(5, discard_body_after_send=True)

    result = services.drain(batch=2)

    assert (result.sent, result.failed, result.more) == (5, 0, False)
    received = sink.snapshot()
    assert sorted(m["Message-ID"] for m in received) == sorted(r.message_id for r in rows)
    assert {m["X-Kefu-Outbox-Key"] for m in received} == {f"test:{i}" for i in range(5)}
    assert received[0].is_multipart()
    for row in OutboxMessage.objects.all():
        assert row.status == "sent" and row.sent_at is not None and row.attempts == 1
        assert row.body_text == services.DISCARDED_BODY and row.body_html == ""
    assert services.drain().sent == 0  # nothing twice


def test_the_same_key_is_queued_once(db: Any) -> None:
    first = queue(1)[0]
    again = queue(1)[0]
    assert first.pk == again.pk
    assert OutboxMessage.objects.count() == 1


def test_a_temporary_refusal_keeps_the_row_for_a_later_attempt(db: Any, sink: Sink) -> None:
    queue(1)
    sink.refuse = "451 4.3.0 Try again later"

    result = services.drain()

    row = OutboxMessage.objects.get()
    assert (result.sent, result.deferred) == (0, 1)
    assert row.status == "pending" and row.attempts == 1 and row.sent_at is None
    assert "451" in row.last_error
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=20)  # backoff
    assert services.drain().sent == 0  # not due yet

    sink.refuse = None
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    assert services.drain().sent == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")
    assert sink.count() == 1


def test_a_permanent_refusal_fails_the_row(db: Any, sink: Sink) -> None:
    queue(1)
    sink.refuse = "550 5.1.1 No such user"
    result = services.drain()
    row = OutboxMessage.objects.get()
    assert (result.failed, row.status) == (1, "failed")


def test_an_unreachable_server_defers_everything_and_raises(db: Any, settings: Any) -> None:
    _point_at(settings, free_port())  # nobody listens
    queue(3)
    with pytest.raises(services.TransientDeliveryError):
        services.drain()
    rows = list(OutboxMessage.objects.all())
    assert all(r.status == "pending" and r.attempts == 1 for r in rows)
    assert all(r.next_attempt_at > timezone.now() for r in rows)


def test_claimed_rows_are_leased_to_one_drain(db: Any) -> None:
    queue(3)
    first = services.claim(10, lease_seconds=60)
    second = services.claim(10, lease_seconds=60)
    assert len(first) == 3 and second == []
    # a drain that died: its lease runs out and the rows are due again
    OutboxMessage.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert services.due_count() == 3


def test_the_backoff_doubles_and_is_capped() -> None:
    assert 24 <= services.backoff_seconds(1) <= 36
    assert 48 <= services.backoff_seconds(2) <= 72
    assert services.backoff_seconds(20) <= 3600 * 1.2


def test_on_commit_wakes_a_drain_in_the_embedded_mode(
    db: Any, sink: Sink, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from project.celery import app

    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            queue(2)
    finally:
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
    assert sink.count() == 2
    assert OutboxMessage.objects.filter(status="sent").count() == 2
