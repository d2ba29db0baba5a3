"""Whoever holds the agent or supervisor role has an agent profile, whatever the path that gave
them the role; losing the role keeps the profile (and its history) but takes them off the
board and out of automatic assignment (issue 13, item 5). The supervisor role alone is not one
that takes work (``org.selectors.assignable_agents``)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from notifications import presence
from org.models import AgentProfile
from org.services import ensure_agent_profiles
from tests.concurrency import run_together
from tests.conftest import client_for
from tests.factories import (
    AgentFactory,
    CategoryFactory,
    RoutingRuleFactory,
    SupervisorFactory,
    TeamFactory,
    UserFactory,
    open_ticket,
    role,
)

pytestmark = pytest.mark.django_db


def person(username: str) -> Any:
    return UserFactory(username=username)


def team(name: str) -> Any:
    return TeamFactory(name=name)


def profiles_of(user: Any) -> int:
    return AgentProfile.objects.filter(user=user).count()


def board_agents(desk: Any) -> set[str]:
    response = client_for(desk.supervisor).get("/api/board/")
    assert response.status_code == 200
    return {agent["username"] for agent in response.json()["agents"]}


# --- every path that gives a role ------------------------------------------------------
def test_adding_the_agent_group_to_a_user_creates_one_profile() -> None:
    user = person("mei")

    user.groups.add(role("agent"))

    profile = AgentProfile.objects.get(user=user)
    assert (profile.presence, profile.capacity, profile.skills) == ("offline", 20, [])


def test_adding_users_to_the_agent_group_creates_a_profile_for_each() -> None:
    mei, jun = person("mei"), person("jun")

    role("agent").user_set.add(mei, jun)

    assert (profiles_of(mei), profiles_of(jun)) == (1, 1)


def test_setting_groups_from_either_side_creates_a_profile() -> None:
    mei, jun = person("mei"), person("jun")

    mei.groups.set([role("agent")])
    role("agent").user_set.set([jun])

    assert (profiles_of(mei), profiles_of(jun)) == (1, 1)


def test_a_supervisor_has_one_profile_also_once_given_the_agent_role() -> None:
    supervisor: Any = SupervisorFactory(username="boss")
    assert profiles_of(supervisor) == 1

    role("agent").user_set.add(supervisor)

    assert profiles_of(supervisor) == 1


def test_every_further_path_keeps_exactly_one_profile() -> None:
    user = person("mei")
    user.groups.add(role("agent"))
    AgentProfile.objects.filter(user=user).update(skills=["billing"], capacity=7)

    user.groups.add(role("supervisor"))
    role("agent").user_set.add(user)
    user.groups.set([role("agent"), role("supervisor")])
    team("VIP").members.add(user)
    user.kefu_teams.add(team("Night"))

    profile = AgentProfile.objects.get(user=user)
    assert (profile.skills, profile.capacity) == (["billing"], 7)


def test_a_superuser_without_an_agent_role_has_no_profile_until_given_one() -> None:
    root = User.objects.create_superuser("root", "root@example.com", "pw")
    root.groups.add(role("administrator"))
    assert profiles_of(root) == 0

    root.groups.add(role("agent"))

    assert profiles_of(root) == 1


def test_other_groups_create_no_profile() -> None:
    user = person("auditor")

    user.groups.add(role("administrator"), Group.objects.create(name="auditors"))
    Group.objects.get(name="auditors").user_set.add(person("second"))

    assert AgentProfile.objects.count() == 0


def test_the_supervisor_role_makes_a_profile_by_either_side() -> None:
    third, fourth = person("third"), person("fourth")

    role("supervisor").user_set.add(third)
    fourth.groups.add(role("supervisor"))

    assert (profiles_of(third), profiles_of(fourth)) == (1, 1)


def test_joining_a_team_restores_a_missing_profile_of_an_agent() -> None:
    """A role given where no signal is sent (a bulk insert) is caught up when they join a team."""
    mei, jun = person("mei"), person("jun")
    through = User.groups.through
    through.objects.bulk_create(
        [through(user=mei, group=role("agent")), through(user=jun, group=role("agent"))]
    )
    stranger = person("stranger")
    assert AgentProfile.objects.count() == 0

    team("VIP").members.add(mei, stranger)
    jun.kefu_teams.add(team("Night"))

    assert (profiles_of(mei), profiles_of(jun)) == (1, 1)
    assert profiles_of(stranger) == 0  # a team member without a role is not made an agent


def test_two_requests_giving_the_role_at_once_make_one_profile(transactional_db: Any) -> None:
    user = person("mei")
    through = User.groups.through
    through.objects.create(user=user, group=role("agent"))

    run_together(*[lambda: ensure_agent_profiles(user_ids=[user.pk])] * 4)

    assert profiles_of(user) == 1


def test_the_data_migration_creates_the_missing_profiles() -> None:
    migration = importlib.import_module("tickets.migrations.0004_agent_profiles_for_agents")
    names = ("mei", "jun", "boss", "plain")
    agent, working_supervisor, supervisor, plain = (person(n) for n in names)
    through = User.groups.through
    through.objects.bulk_create(
        [
            through(user=agent, group=role("agent")),
            through(user=working_supervisor, group=role("agent")),
            through(user=working_supervisor, group=role("supervisor")),
            through(user=supervisor, group=role("supervisor")),
        ]
    )
    kept: Any = AgentFactory(username="kept")
    AgentProfile.objects.filter(user=kept).update(capacity=3)

    # The models as that migration saw them (AgentProfile was still in tickets).
    state = MigrationLoader(connection).project_state(
        ("tickets", migration.__name__.split(".")[-1])
    )
    with connection.schema_editor() as editor:
        migration.create_missing_agent_profiles(state.apps, editor)
        migration.create_missing_agent_profiles(state.apps, editor)  # idempotent

    users = (agent, working_supervisor, supervisor, plain, kept)
    assert [profiles_of(u) for u in users] == [1, 1, 1, 0, 1]
    assert AgentProfile.objects.get(user=kept).capacity == 3


# --- the board and assignment -----------------------------------------------------------
def test_a_new_agent_is_on_the_board_and_gets_work_once_online(desk: Any) -> None:
    newcomer = person("newcomer")
    newcomer.groups.add(role("agent"))
    vip = team("VIP")
    vip.members.add(newcomer)
    RoutingRuleFactory(team=vip, category=CategoryFactory(code="vip"))
    assert "newcomer" in board_agents(desk)

    presence.connection_opened(user_id=newcomer.pk, channel_name="test.newcomer")
    ticket = open_ticket(desk, category_code="vip")

    assert ticket.team == vip
    assert ticket.assignee == newcomer


def test_losing_the_role_keeps_the_profile_but_leaves_the_board_and_assignment(
    desk: Any,
) -> None:
    first = open_ticket(desk)
    assert first.assignee == desk.agent1
    history = AgentProfile.objects.get(user=desk.agent1).last_assigned_at
    assert history is not None

    desk.agent1.groups.remove(role("agent"))

    profile = AgentProfile.objects.get(user=desk.agent1)
    assert (profile.presence, profile.last_assigned_at) == ("online", history)
    assert "agent1" not in board_agents(desk)
    assert {open_ticket(desk).assignee for _ in range(2)} == {desk.agent2}


@pytest.mark.parametrize("how", ["user.groups.clear", "group.user_set.clear", "groups.set"])
def test_every_way_of_taking_the_role_away_leaves_the_board(desk: Any, how: str) -> None:
    if how == "user.groups.clear":
        desk.agent2.groups.clear()
    elif how == "group.user_set.clear":
        role("agent").user_set.clear()
    else:
        desk.agent2.groups.set([role("administrator")])

    assert profiles_of(desk.agent2) == 1
    assert "agent2" not in board_agents(desk)
    assert open_ticket(desk).assignee != desk.agent2


def test_a_supervisor_in_a_team_is_offered_work_once_given_the_agent_role(desk: Any) -> None:
    boss: Any = SupervisorFactory(username="boss")
    vip = team("VIP")
    vip.members.add(boss)
    RoutingRuleFactory(team=vip, category=CategoryFactory(code="vip"))
    assert open_ticket(desk, category_code="vip").assignee is None

    boss.groups.add(role("agent"))
    presence.connection_opened(user_id=boss.pk, channel_name="test.boss")

    assert open_ticket(desk, category_code="vip").assignee == boss
    assert "boss" in board_agents(desk)
