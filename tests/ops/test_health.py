"""``/healthz`` and ``/readyz``: the readiness answer names what is wrong, with figures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from outbox.models import OutboxMessage
from outbox.services import queue_email
from sla.models import SlaClock
from tests.factories import open_ticket

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_healthz_is_alive_without_asking_anything(client: Client) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "alive"}
    assert "no-cache" in answer["Cache-Control"]


def test_healthz_needs_no_login_and_is_exempt_from_the_https_redirect(
    client: Client, settings: Any
) -> None:
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code in (200, 503)
    assert client.get("/api/tickets/").status_code == 301  # the rest is redirected


@pytest.mark.django_db
def test_readyz_without_a_worker_or_beat_is_503_naming_them(client: Client) -> None:
    """No Celery worker listens on the test broker and no beat has written a heartbeat."""
    answer = client.get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "not ready"
    assert "celery_workers" in body["failed"]
    assert "beat" in body["failed"]
    assert body["checks"]["celery_workers"] == {"ok": False, "used": True, "answered": 0}
    assert body["checks"]["beat"]["heartbeat_age"] is None
    for healthy in ("database", "cache", "redis", "outbox", "timers"):
        assert body["checks"][healthy]["ok"], healthy


@pytest.mark.django_db
def test_readyz_reports_an_old_undelivered_outbox_row(client: Client) -> None:
    message = queue_email(
        key="readyz:1", kind="test", to="a@example.com", subject="s", body_text="b"
    )
    OutboxMessage.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - timedelta(hours=2)
    )
    body = client.get("/readyz").json()
    outbox = body["checks"]["outbox"]
    assert "outbox" in body["failed"]
    assert outbox["ok"] is False
    assert outbox["pending"] == 1
    assert 7190 < outbox["oldest_pending_age"] < 7300


@pytest.mark.django_db
def test_readyz_reports_a_due_timer_not_fired(client: Client, desk: Any) -> None:
    ticket = open_ticket(desk)
    armed = SlaClock.objects.filter(kind="ticket", object_id=ticket.pk, next_at__isnull=False)
    assert armed.exists()
    armed.update(next_at=timezone.now() - timedelta(seconds=120))
    body = client.get("/readyz").json()
    timers = body["checks"]["timers"]
    assert "timers" in body["failed"]
    assert timers["due"] == armed.count()
    assert 119 < timers["max_lateness"] < 180


@pytest.mark.django_db
def test_readyz_a_recent_timer_is_within_the_lateness_allowed(client: Client, desk: Any) -> None:
    ticket = open_ticket(desk)
    SlaClock.objects.filter(kind="ticket", object_id=ticket.pk).update(
        next_at=timezone.now() - timedelta(seconds=2)
    )
    timers = client.get("/readyz").json()["checks"]["timers"]
    assert timers["ok"] is True
    assert timers["due"] >= 1


@pytest.mark.django_db
def test_readyz_shows_no_connection_details(client: Client, settings: Any) -> None:
    text = client.get("/readyz").content.decode()
    assert "redis://" not in text
    assert "postgres" not in text.replace('"vendor": "postgresql"', "")
    assert settings.SECRET_KEY not in text
