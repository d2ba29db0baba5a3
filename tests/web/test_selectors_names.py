"""One rule for a person's name on every screen, and assignee menus that offer only people
who can take work (issue 13, item 9)."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from org import selectors
from org.models import AgentProfile
from processes import selectors as work_queue
from tests.conftest import client_for
from tests.factories import AgentFactory, UserFactory, open_ticket
from tickets import services
from web import selectors as web_selectors

pytestmark = pytest.mark.django_db


def _name(user: Any, first: str, last: str) -> None:
    user.first_name, user.last_name = first, last
    user.save(update_fields=["first_name", "last_name"])


def test_a_person_is_shown_by_full_name_else_by_user_name() -> None:
    full: Any = UserFactory(username="lli", first_name="Lei", last_name="Li")
    first_only: Any = UserFactory(username="hua", first_name="Hua")
    bare: Any = UserFactory(username="agent9")
    blank: Any = UserFactory(username="agent8", first_name="  ")

    assert selectors.person_name(full) == "Lei Li"
    assert selectors.person_name(first_only) == "Hua"
    assert selectors.person_name(bare) == "agent9"
    assert selectors.person_name(blank) == "agent8"
    assert selectors.person_names(get_user_model().objects.all()) == {
        full.pk: "Lei Li",
        first_only.pk: "Hua",
        bare.pk: "agent9",
        blank.pk: "agent8",
    }


def test_every_screen_names_a_person_the_same_way(desk: Any) -> None:
    _name(desk.agent1, "Lei", "Li")
    _name(desk.supervisor, "Mei", "Han")
    desk.team.assignment = "manual"
    desk.team.save()
    ticket = open_ticket(desk)
    services.assign_ticket(ticket_id=ticket.pk, actor=desk.supervisor, assignee_id=desk.agent1.pk)

    directory = web_selectors.directory_for(desk.supervisor)
    board = {a["id"]: a for a in work_queue.board_for(desk.supervisor)["agents"]}
    history = web_selectors.history_directory(ticket, directory)
    owners = [t["owner"] for t in web_selectors.process_tasks(ticket) if t["owner"]]

    assert directory["users"][desk.agent1.pk] == "Lei Li"
    assert directory["users"][desk.agent2.pk] == "agent2"
    assert directory["users"][desk.supervisor.pk] == "Mei Han"
    assert board[desk.agent1.pk]["name"] == "Lei Li"
    assert board[desk.agent2.pk]["name"] == "agent2"
    assert selectors.agent_summary(desk.agent1.pk)["name"] == "Lei Li"
    assert history["users"][desk.supervisor.pk] == "Mei Han"
    assert owners and set(owners) == {"Lei Li"}


def _working_supervisor(desk: Any) -> None:
    """As in the demo: the supervisor is a member of the team and has an agent profile."""
    desk.team.members.add(desk.supervisor)
    AgentProfile.objects.update_or_create(
        user=desk.supervisor, defaults={"presence": "online", "capacity": 5}
    )


def test_only_agents_who_can_take_work_are_assignable(desk: Any) -> None:
    _working_supervisor(desk)
    gone: Any = AgentFactory(username="gone")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    no_profile: Any = AgentFactory(username="noprofile")
    desk.team.members.add(gone, no_profile)
    AgentProfile.objects.filter(user=no_profile).delete()

    in_team = selectors.assignable_agents(team_id=desk.team.pk)
    anywhere = selectors.assignable_agents()

    assert {u.username for u in in_team} == {"agent1", "agent2"}
    assert {u.username for u in anywhere} == {"agent1", "agent2", "outsider"}


def test_the_board_offers_only_assignable_agents_and_still_names_everyone(desk: Any) -> None:
    _working_supervisor(desk)

    response = client_for(desk.supervisor).get("/api/board/")
    directory = web_selectors.directory_for(desk.supervisor)

    assert response.status_code == 200
    agents = {a["username"]: a for a in response.json()["agents"]}
    assert set(agents) == {"agent1", "agent2", "outsider"}
    assert agents["agent1"]["teams"] == [desk.team.pk]
    assert agents["outsider"]["teams"] == [desk.other_team.pk]
    assert desk.supervisor.pk in directory["users"]  # history still shows who did what


def test_the_demo_board_does_not_offer_the_supervisor() -> None:
    call_command("load_demo", stdout=StringIO())
    supervisor = get_user_model().objects.get(username="supervisor")

    agents = work_queue.board_for(supervisor)["agents"]

    assert [(a["username"], a["name"]) for a in agents] == [
        ("agent1", "Lei Li"),
        ("agent2", "Hua Zhang"),
        # the complaint handlers of the team the supervisor also leads
        ("handler1", "Jing He"),
        ("handler2", "Daniel Brooks"),
    ]
    assert web_selectors.directory_for(supervisor)["users"][supervisor.pk] == "supervisor"
