"""GET /api/queue/: my work and my teams' unassigned work, most urgent SLA first."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from viewflow.workflow.models import Task

from tests.conftest import client_for
from tests.factories import open_ticket, update_ticket
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_queue_lists_my_work_and_my_teams_unassigned_work_by_urgency(desk: Any) -> None:
    desk.team.assignment = "manual"
    desk.team.save()
    later = open_ticket(desk, priority="P2")
    sooner = open_ticket(desk, priority="P2")
    update_ticket(sooner.pk, sla_due=later.sla_due - timedelta(minutes=5))
    mine = open_ticket(desk, priority="P2")
    services.claim_ticket(ticket_id=mine.pk, actor=desk.agent1)
    theirs = open_ticket(desk, priority="P2")
    services.claim_ticket(ticket_id=theirs.pk, actor=desk.agent2)
    done = open_ticket(desk)
    services.resolve_ticket(ticket_id=done.pk, actor=desk.agent1, resolution="ok")

    response = client_for(desk.agent1).get("/api/queue/")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["object_id"] for r in rows] == [sooner.pk, later.pk, mine.pk]
    row = rows[2]
    work = Task.objects.get(
        process__ticketprocess__ticket=mine, flow_task_type="HUMAN", status="ASSIGNED"
    )
    assert row["task_id"] == work.pk
    assert row["kind"] == "ticket"
    assert row["title"] == mine.subject
    assert row["assignee"] == desk.agent1.pk
    assert row["team"] == desk.team.pk
    assert row["status"] == "open"
    assert row["breached"] is False
    assert row["version"] == Ticket.objects.get(pk=mine.pk).version
    assert response.json()["cursor"] is None


def test_queue_pages_with_a_cursor(desk: Any, monkeypatch: Any) -> None:
    from processes import selectors

    desk.team.assignment = "manual"
    desk.team.save()
    tickets = [open_ticket(desk) for _ in range(5)]
    original = selectors.queue_for
    monkeypatch.setattr(
        selectors, "queue_for", lambda user, **kw: original(user, **{**kw, "limit": 2})
    )
    client = client_for(desk.agent1)

    seen: list[int] = []
    cursor = ""
    for _ in range(5):
        data = client.get(f"/api/queue/?cursor={cursor}" if cursor else "/api/queue/").json()
        seen += [r["object_id"] for r in data["results"]]
        cursor = data["cursor"]
        if not cursor:
            break
    assert seen == [t.pk for t in tickets]


def test_supervisors_see_a_team_or_everything_agents_do_not(desk: Any) -> None:
    ours = open_ticket(desk)
    supervisor = client_for(desk.supervisor)

    team_rows = supervisor.get(f"/api/queue/?team={desk.team.pk}").json()["results"]
    all_rows = supervisor.get("/api/queue/?all=1").json()["results"]

    assert [r["object_id"] for r in team_rows] == [ours.pk]
    assert [r["object_id"] for r in all_rows] == [ours.pk]
    assert client_for(desk.agent1).get("/api/queue/?all=1").status_code == 404
    assert client_for(desk.agent1).get(f"/api/queue/?team={desk.team.pk}").status_code == 404


def test_outsider_queue_is_empty(desk: Any) -> None:
    open_ticket(desk)

    assert client_for(desk.outsider).get("/api/queue/").json()["results"] == []


def test_queue_query_count_is_constant(desk: Any, django_assert_max_num_queries: Any) -> None:
    desk.team.assignment = "manual"
    desk.team.save()
    for _ in range(15):
        open_ticket(desk)
    client = client_for(desk.agent1)

    with django_assert_max_num_queries(7):
        response = client.get("/api/queue/")

    assert len(response.json()["results"]) == 15
