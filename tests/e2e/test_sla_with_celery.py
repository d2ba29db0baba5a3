"""SLA checkpoints fired by the production dispatcher (the ladder sweeping the SLA clocks):
Celery beat and worker, PostgreSQL, Redis."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.conftest import client_for
from tests.e2e.conftest import worker_log
from tests.factories import SlaPolicyFactory
from tickets.models import Ticket

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def wait_for(condition: Any, *, timeout: float, what: str, process: Any) -> None:
    """Polls the database until ``condition()`` holds; fails with the worker's log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}\n--- worker log ---\n{worker_log(process)}")


def test_breach_and_escalation_fire_through_celery_beat(
    desk: Any, celery_worker_process: Any
) -> None:
    SlaPolicyFactory(
        priority="P1",
        first_response_seconds=2,
        resolution_seconds=4,
        warning_percent=50,
        escalation=[{"at_percent": 100, "target": "resolution", "action": "notify_supervisor"}],
    )
    api = client_for(desk.admin)
    created = api.post(
        "/api/tickets/",
        {"subject": "Site down", "priority": "P1", "contact": {"email": "ops@example.com"}},
        format="json",
    )
    assert created.status_code == 201
    ticket_id = created.json()["id"]

    def fully_escalated() -> bool:
        ticket = Ticket.objects.get(pk=ticket_id)
        return ticket.resolution_breached and ticket.escalation_level == 1

    wait_for(
        fully_escalated, timeout=60, what="the resolution breach", process=celery_worker_process
    )

    data = api.get(f"/api/tickets/{ticket_id}/").json()
    assert data["sla"]["breached"] == ["first_response", "resolution"]
    assert data["sla"]["escalation_level"] == 1
    ticket = Ticket.objects.get(pk=ticket_id)
    # equal moments keep the policy's order: first response before resolution
    assert ticket.sla_done == [
        "first_response:warning",
        "first_response:breach",
        "resolution:warning",
        "resolution:breach",
        "level:0",
    ]
    history = api.get(f"/api/tickets/{ticket_id}/history/").json()
    verbs = [h["verb"] for h in history]
    assert verbs.count("sla_warning") == 2
    assert verbs.count("sla_breached") == 2
    assert verbs.count("escalated") == 1
    breach = next(
        h for h in history if h["verb"] == "sla_breached" and h["after"]["target"] == "resolution"
    )
    assert breach["after"]["due"] == data["sla"]["resolution_due"].replace("Z", "+00:00")
    assert (
        desk.supervisor.notifications.filter(
            kind="escalated", subject_kind="ticket", object_id=ticket_id
        ).count()
        == 1
    )

    # the ladder fired every checkpoint of the clock, and none is left armed
    clock = Ticket.objects.select_related("sla_clock").get(pk=ticket_id).clock
    assert clock is not None and clock.next_at is None

    # the agent can still work the escalated ticket: the checkpoints never interrupted the
    # work task (no viewflow timer guards it; only a reassign level moves the work)
    assignee = Ticket.objects.get(pk=ticket_id).assignee
    resolved = client_for(assignee).post(
        f"/api/tickets/{ticket_id}/resolve/", {"resolution": "restarted"}, format="json"
    )
    assert resolved.status_code == 200
    assert resolved.json()["status"] == "resolved"
