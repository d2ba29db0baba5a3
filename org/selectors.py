"""Read queries about people: names, who takes work, an agent as the board shows them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from . import workload
from .models import AgentProfile, Team
from .roles import ROLE_AGENT

NAME_FIELDS = ("id", "username", "first_name", "last_name")


def person_name(user: Any) -> str:
    """How every screen, event and message shows a person: the full name, else the user
    name (docs/tickets.md). The one place that rule is written."""
    return str(user.get_full_name().strip() or user.get_username())


def person_names(people: QuerySet[Any]) -> dict[int, str]:
    """``person_name`` of each user of ``people``, by id, loading only the name fields."""
    return {user.pk: person_name(user) for user in people.only(*NAME_FIELDS).order_by()}


def assignable_agents(*, team_id: int | None = None) -> QuerySet[Any]:
    """Who can be given work, the one source of every assignee menu: active users with the
    agent role and an agent profile, members of ``team_id`` when given. A supervisor who
    sits in a team without the agent role is named on screens but never offered."""
    people = get_user_model().objects.filter(
        is_active=True,
        groups__name=ROLE_AGENT,
        agent_profile__isnull=False,
    )
    if team_id is not None:
        people = people.filter(kefu_teams=team_id)
    return people


# --- agents as the board and the presence pushes show them --------------------------
def agent_rows(profiles: list[AgentProfile], loads: dict[int, int]) -> list[dict[str, Any]]:
    teams: dict[int, list[int]] = {}
    for user_id, team_id in Team.members.through.objects.filter(
        user_id__in=[p.user_id for p in profiles]
    ).values_list("user_id", "team_id"):
        teams.setdefault(user_id, []).append(team_id)
    return [
        {
            "id": p.user_id,
            "username": p.user.username,
            "name": person_name(p.user),
            "presence": p.presence,
            "load": loads.get(p.user_id, 0),
            "capacity": p.capacity,
            "teams": sorted(teams.get(p.user_id, [])),
        }
        for p in profiles
    ]


def agent_summary(user_id: int) -> dict[str, Any]:
    """One agent as the board shows them (pushed to supervisors when presence changes)."""
    profile = AgentProfile.objects.select_related("user").get(user_id=user_id)
    return agent_rows([profile], workload.load_by_agent([user_id]))[0]


def supervisors_by_team(team_ids: Iterable[int | None]) -> dict[int | None, list[int]]:
    """Whom to tell about work of each team: the team's supervisors, or every active
    supervisor when the team names none (or the work has no team); sorted ids."""
    from .roles import ROLE_SUPERVISOR

    wanted = set(team_ids)
    by_team: dict[int | None, list[int]] = {}
    for row_team, user_id in Team.supervisors.through.objects.filter(
        team_id__in=[t for t in wanted if t]
    ).values_list("team_id", "user_id"):
        by_team.setdefault(row_team, []).append(user_id)
    everyone: list[int] | None = None
    out: dict[int | None, list[int]] = {}
    for team_id in wanted:
        ids = by_team.get(team_id)
        if not ids:
            if everyone is None:
                everyone = list(
                    get_user_model()
                    .objects.filter(groups__name=ROLE_SUPERVISOR, is_active=True)
                    .values_list("id", flat=True)
                )
            ids = everyone
        out[team_id] = sorted(ids)
    return out
