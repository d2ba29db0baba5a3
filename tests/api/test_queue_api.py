"""GET /api/queue/: my work and my teams' unassigned work, most urgent SLA first."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient
from viewflow.workflow.models import Task

from tests.conftest import TOKEN_AND_PAGE, client_for
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


def _item(n: int, *, due: Any, team: Any = None, assignee: Any = None) -> Any:
    from django.utils import timezone

    from processes.models import WorkItem

    return WorkItem.objects.create(
        kind="probe",
        object_id=n,
        number=f"P-{n}",
        title=f"probe {n}",
        priority="P2",
        status="handling",
        team=team,
        assignee=assignee,
        due=due,
        created=timezone.now(),
    )


def test_a_queue_of_several_parts_is_one_statement_in_due_order_page_by_page(
    desk: Any, monkeypatch: Any, django_assert_num_queries: Any
) -> None:
    """Mine and each of my teams' unassigned work are read together (one UNION ALL), merged
    by due then id with no due last, and paged with the cursor across the parts."""
    from django.utils import timezone

    from processes import selectors

    desk.other_team.members.add(desk.agent1)
    now = timezone.now()
    items = [
        _item(1, due=now + timedelta(minutes=3), assignee=desk.agent1, team=desk.team),
        _item(2, due=now + timedelta(minutes=1), team=desk.team),
        _item(3, due=now + timedelta(minutes=2), team=desk.other_team),
        _item(4, due=None, team=desk.other_team),
        _item(5, due=now + timedelta(minutes=2), assignee=desk.agent1),
        _item(6, due=None, assignee=desk.agent1),
        _item(7, due=now + timedelta(minutes=1), team=desk.other_team),
    ]
    _item(8, due=now, assignee=desk.agent2, team=desk.team)  # someone else's
    expected = sorted(items, key=lambda i: (i.due is None, i.due or now, i.pk))
    client = client_for(desk.agent1)

    with django_assert_num_queries(TOKEN_AND_PAGE):
        whole = client.get("/api/queue/").json()
    original = selectors.queue_for
    monkeypatch.setattr(
        selectors, "queue_for", lambda user, **kw: original(user, **{**kw, "limit": 2})
    )
    seen: list[int] = []
    cursor = ""
    for _ in range(10):
        data = client.get(f"/api/queue/?cursor={cursor}" if cursor else "/api/queue/").json()
        seen += [r["object_id"] for r in data["results"]]
        cursor = data["cursor"]
        if not cursor:
            break

    assert [r["object_id"] for r in whole["results"]] == [i.object_id for i in expected]
    assert whole["cursor"] is None
    assert seen == [i.object_id for i in expected]
    assert whole["results"][-1] == {
        "kind": "probe",
        "object_id": 6,
        "task_id": None,
        "number": "P-6",
        "title": "probe 6",
        "priority": "P2",
        "status": "handling",
        "assignee": desk.agent1.pk,
        "team": None,
        "due": None,
        "breached": False,
        "warning": False,
        "paused": False,
        "escalation_level": 0,
        "acknowledged": False,
        "customer_tier": None,
        "created": whole["results"][-1]["created"],
        "version": 1,
    }


def test_roles_and_teams_read_with_the_token_are_those_of_the_moment(desk: Any) -> None:
    """Read with the token on every request, never kept between requests: a supervisor who
    loses the role loses ``?all=1`` on the next request; an agent who joins a team sees its
    unassigned work on the next one."""
    from django.contrib.auth.models import Group
    from django.utils import timezone

    supervisor = client_for(desk.supervisor)
    assert supervisor.get("/api/queue/?all=1").status_code == 200
    desk.supervisor.groups.remove(Group.objects.get(name="supervisor"))
    assert supervisor.get("/api/queue/?all=1").status_code == 404

    _item(1, due=timezone.now(), team=desk.other_team)
    agent = client_for(desk.agent1)
    assert agent.get("/api/queue/").json()["results"] == []
    desk.other_team.members.add(desk.agent1)
    assert [r["object_id"] for r in agent.get("/api/queue/").json()["results"]] == [1]


def test_a_superuser_token_counts_as_an_administrator(desk: Any) -> None:
    from tests.factories import UserFactory

    root = UserFactory(username="root", is_superuser=True)

    assert client_for(root).get("/api/queue/?all=1").status_code == 200
    assert client_for(desk.agent1).get("/api/queue/?all=1").status_code == 404


def test_an_inactive_users_token_is_refused_on_reads_and_writes(desk: Any) -> None:
    client = client_for(desk.agent1)
    desk.agent1.is_active = False
    desk.agent1.save(update_fields=["is_active"])

    read = client.get("/api/queue/")
    write = client.post("/api/tickets/", {}, format="json")

    assert read.status_code == write.status_code == 401
    assert read.json()["detail"] == write.json()["detail"] == "User inactive or deleted."
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Token nope")
    assert stranger.get("/api/queue/").json()["detail"] == "Invalid token."
