"""``/metrics``: Kefu's gauges in Prometheus' text format, only for allowed scrapers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from outbox.models import MessageStatus, OutboxMessage
from outbox.services import queue_email
from sla.models import SlaClock
from tests.factories import open_ticket, update_ticket

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db]


def scrape(client: Client, **extra: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.get("/metrics", **extra)
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(answer.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_kefu_gauges_carry_the_database_figures(client: Client, desk: Any) -> None:
    # no acknowledgements: the outbox holds only the two rows below
    first = open_ticket(desk, acknowledge=False)
    second = open_ticket(desk, subject="Second", acknowledge=False)
    update_ticket(second.pk, assignee=None, resolution_breached=True)
    update_ticket(first.pk, assignee=desk.agent1)
    old = queue_email(key="m:1", kind="test", to="a@example.com", subject="s", body_text="b")
    OutboxMessage.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )
    failed = queue_email(key="m:2", kind="test", to="b@example.com", subject="s", body_text="b")
    OutboxMessage.objects.filter(pk=failed.pk).update(status=MessageStatus.FAILED)
    SlaClock.objects.filter(kind="ticket", object_id=first.pk).update(
        next_at=timezone.now() - timedelta(seconds=90)
    )

    samples = scrape(client)

    assert samples[("kefu_outbox_backlog", (("status", "pending"),))] == 1
    assert samples[("kefu_outbox_backlog", (("status", "failed"),))] == 1
    assert 595 < samples[("kefu_outbox_oldest_pending_age_seconds", ())] < 700
    assert samples[("kefu_timers_due", ())] >= 1
    assert 89 < samples[("kefu_timer_lateness_seconds", ())] < 150
    support = desk.team.name
    assert samples[("kefu_queue_open_tickets", (("assigned", "no"), ("team", support)))] == 1
    assert samples[("kefu_queue_open_tickets", (("assigned", "yes"), ("team", support)))] == 1
    assert samples[("kefu_queue_breached_tickets", (("team", support),))] == 1
    assert samples[("kefu_tickets_created", (("window", "5m"),))] == 2
    assert samples[("kefu_work_created", (("kind", "ticket"), ("window", "5m")))] == 2
    assert samples[("kefu_tickets_created", (("window", "1h"),))] == 2
    # the broker's queue is visible with Redis; the process' own collectors are there too
    assert ("kefu_celery_queue_length", ()) in samples
    assert ("process_resident_memory_bytes", ()) in samples


def test_metrics_are_refused_to_an_address_not_allowed(client: Client) -> None:
    answer = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert answer.status_code == 403
    assert "kefu_" not in answer.content.decode()


def test_metrics_allow_a_configured_network(client: Client, settings: Any) -> None:
    import ipaddress

    settings.KEFU_METRICS_ALLOW = [ipaddress.ip_network("203.0.113.0/24")]
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_metrics_accept_the_bearer_token_from_anywhere(client: Client, settings: Any) -> None:
    settings.KEFU_METRICS_TOKEN = "scrape-secret-123"
    headers: dict[str, Any] = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", **headers).status_code == 403
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope", **headers)
    assert wrong.status_code == 403
    right = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret-123", **headers)
    assert right.status_code == 200
    assert b"kefu_outbox_backlog" in right.content
