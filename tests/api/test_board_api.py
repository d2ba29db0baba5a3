"""The supervisor's endpoints (board, priority, acknowledge) and in-app notifications."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from notifications.models import Notification
from org.models import AgentProfile
from processes import dispatcher
from tests.conftest import client_for
from tests.factories import make_due, open_ticket, update_ticket
from tickets import services

pytestmark = pytest.mark.django_db


# --- board ----------------------------------------------------------------------------
def test_board_counts_per_team_and_lists_agents(desk: Any) -> None:
    first = open_ticket(desk)
    open_ticket(desk, subject="Second")
    late = open_ticket(desk, subject="Late")
    update_ticket(late.pk, first_response_breached=True)
    update_ticket(first.pk, assignee=None)
    update_ticket(first.pk, sla_warning=True)
    update_ticket(late.pk, sla_warning=True)  # breached: not "near"
    AgentProfile.objects.filter(user=desk.agent2).update(presence="away")

    response = client_for(desk.supervisor).get("/api/board/")

    assert response.status_code == 200
    body = response.json()
    support = next(t for t in body["teams"] if t["id"] == desk.team.pk)
    assert support["open"] == 3
    assert support["unassigned"] == 1
    assert support["breached"] == 1
    assert support["near_breach"] == 1
    assert support["oldest"] is not None
    billing = next(t for t in body["teams"] if t["id"] == desk.other_team.pk)
    assert billing["open"] == 0 and billing["oldest"] is None
    agents = {a["username"]: a for a in body["agents"]}
    assert agents["agent2"]["presence"] == "away"
    assert agents["agent1"]["teams"] == [desk.team.pk]
    loads = agents["agent1"]["load"] + agents["agent2"]["load"]
    assert loads == 2  # three open tickets, one unassigned


def test_agents_may_not_see_the_board(desk: Any) -> None:
    response = client_for(desk.agent1).get("/api/board/")
    assert response.status_code == 403
    assert response.json()["detail"]


# --- priority -------------------------------------------------------------------------
def test_supervisor_changes_priority_audited_and_assignee_told(desk: Any) -> None:
    ticket = open_ticket(desk)
    version = ticket.version

    response = client_for(desk.supervisor).post(
        f"/api/tickets/{ticket.pk}/priority/", {"priority": "P1"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["priority"] == "P1"
    ticket.refresh_from_db()
    assert ticket.version == version + 1
    event = ticket.events.get(verb="priority_changed")
    assert event.before == {"priority": "P2"} and event.after == {"priority": "P1"}
    assert Notification.objects.filter(
        recipient_id=ticket.assignee_id, kind="priority_changed"
    ).exists()


@pytest.mark.parametrize(
    ("who", "payload", "status"),
    [
        ("agent1", {"priority": "P1"}, 403),
        ("supervisor", {"priority": "P9"}, 400),
        ("supervisor", {}, 400),
        ("supervisor", [], 400),
    ],
)
def test_priority_refusals_change_nothing(desk: Any, who: str, payload: Any, status: int) -> None:
    ticket = open_ticket(desk)
    user = getattr(desk, who)

    response = client_for(user).post(f"/api/tickets/{ticket.pk}/priority/", payload, format="json")

    assert response.status_code == status
    assert response.json()["detail"]
    ticket.refresh_from_db()
    assert ticket.priority == "P2"
    assert not ticket.events.filter(verb="priority_changed").exists()


def test_closed_ticket_keeps_its_priority(desk: Any) -> None:
    ticket = open_ticket(desk)
    services.resolve_ticket(ticket_id=ticket.pk, actor=desk.supervisor, resolution="Done")
    services.close_ticket(ticket_id=ticket.pk, actor=desk.supervisor)

    response = client_for(desk.supervisor).post(
        f"/api/tickets/{ticket.pk}/priority/", {"priority": "P1"}, format="json"
    )

    assert response.status_code == 409


# --- acknowledge ----------------------------------------------------------------------
def test_acknowledge_needs_an_escalation_then_records_it_once(desk: Any) -> None:
    desk.policy.escalation = [{"at_percent": 50, "target": "first_response", "action": "warn"}]
    desk.policy.save()
    ticket = open_ticket(desk)
    boss = client_for(desk.supervisor)
    url = f"/api/tickets/{ticket.pk}/acknowledge/"

    assert boss.post(url, {}, format="json").status_code == 409  # nothing escalated yet

    make_due(ticket, started_ago=timedelta(minutes=31))
    dispatcher.drain()
    queue = client_for(desk.supervisor).get("/api/queue/?all=1").json()["results"]
    row = next(r for r in queue if r["object_id"] == ticket.pk)
    assert row["escalation_level"] == 1 and row["acknowledged"] is False

    response = boss.post(url, {}, format="json")

    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.escalation_acknowledged == 1
    assert ticket.events.filter(verb="acknowledged").count() == 1
    queue = client_for(desk.supervisor).get("/api/queue/?all=1").json()["results"]
    assert next(r for r in queue if r["object_id"] == ticket.pk)["acknowledged"] is True
    assert boss.post(url, {}, format="json").status_code == 409  # already acknowledged
    assert client_for(desk.agent1).post(url, {}, format="json").status_code == 403


# --- notifications --------------------------------------------------------------------
def test_notifications_list_read_and_read_all(desk: Any) -> None:
    ticket = open_ticket(desk)
    other = desk.agent2 if ticket.assignee_id == desk.agent1.pk else desk.agent1
    services.assign_ticket(ticket_id=ticket.pk, actor=desk.supervisor, assignee_id=other.pk)
    services.urge_ticket(ticket_id=ticket.pk, actor=desk.supervisor, note="VIP")
    client = client_for(other)

    listing = client.get("/api/notifications/", HTTP_ACCEPT_LANGUAGE="en").json()

    assert listing["unread"] == 2
    assert [n["kind"] for n in listing["results"]] == ["urged", "assigned"]
    assert listing["results"][1]["title"] == f"Ticket {ticket.number} was assigned to you"
    assert listing["results"][1]["ticket"] == ticket.pk
    first = listing["results"][0]["id"]

    assert client.post(f"/api/notifications/{first}/read/").json() == {"unread": 1}
    assert client.get("/api/notifications/?unread=1").json()["unread"] == 1
    assert len(client.get("/api/notifications/?unread=1").json()["results"]) == 1
    assert client.post("/api/notifications/read-all/").json() == {"unread": 0}


def test_someone_elses_notification_is_not_found(desk: Any) -> None:
    ticket = open_ticket(desk)
    services.urge_ticket(ticket_id=ticket.pk, actor=desk.supervisor)
    notification = Notification.objects.get(kind="urged")

    response = client_for(desk.outsider).post(f"/api/notifications/{notification.pk}/read/")

    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_notifications_need_credentials(desk: Any, api: Any) -> None:
    assert api.get("/api/notifications/").status_code == 401


def test_a_mention_in_a_note_notifies_who_may_see_the_ticket(desk: Any) -> None:
    ticket = open_ticket(desk)
    author = desk.agent1 if ticket.assignee_id == desk.agent1.pk else desk.agent2
    colleague = desk.agent2 if author == desk.agent1 else desk.agent1

    services.reply_to_ticket(
        ticket_id=ticket.pk,
        actor=author,
        body=f"@{colleague.username} can you look? cc @outsider @{author.username} a@b.c",
        internal=True,
    )

    mentioned = Notification.objects.filter(kind="mentioned")
    assert [n.recipient_id for n in mentioned] == [colleague.pk]  # not the outsider, not me
    assert mentioned[0].data["by"] == author.username
