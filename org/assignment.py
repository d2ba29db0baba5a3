"""Choosing an agent of a team for new work: round robin or least loaded, by skill, within
capacity. The load is every open human task of every process kind (``org.workload``)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db.models import F

from . import workload
from .choices import AssignmentStrategy, Presence
from .models import AgentProfile, Team
from .selectors import assignable_agents


def choose_agent(
    team: Team | None, *, skill: str = "", exclude: Collection[int] = ()
) -> Any | None:
    """An online, assignable member of ``team`` (``assignable_agents``: the agent role, so
    one who lost it keeps their profile but gets no work) with ``skill`` if one is needed
    and spare capacity, per the team's strategy, never one of ``exclude`` (a complaint's
    handler is never the person it is about); None when nobody fits or the team assigns by
    hand."""
    if team is None or team.assignment == AssignmentStrategy.MANUAL:
        return None
    people = (
        assignable_agents(team_id=team.pk)
        .filter(agent_profile__presence=Presence.ONLINE)
        .annotate(
            capacity=F("agent_profile__capacity"),
            last_assigned=F("agent_profile__last_assigned_at"),
            skills=F("agent_profile__skills"),
        )
    )
    load = workload.load_expression()
    if load is not None:  # each one's load in the same statement
        people = people.annotate(load=load)
    candidates = list(people)
    if skill:
        candidates = [u for u in candidates if skill in (u.skills or [])]
    if exclude:
        candidates = [u for u in candidates if u.pk not in exclude]
    if not candidates:
        return None
    loads = (
        {u.pk: u.load for u in candidates}
        if load is not None
        else workload.load_by_agent([u.pk for u in candidates])
    )
    pool = [u for u in candidates if loads.get(u.pk, 0) < u.capacity]
    if not pool:
        return None
    if team.assignment == AssignmentStrategy.LEAST_LOADED:
        pool.sort(
            key=lambda u: (loads.get(u.pk, 0), u.last_assigned is not None, u.last_assigned, u.pk)
        )
    else:  # round robin: whoever got work longest ago
        pool.sort(key=lambda u: (u.last_assigned is not None, u.last_assigned, u.pk))
    return pool[0]


def note_assignment(user_id: int, at: Any) -> None:
    """Round robin's memory: when the agent last got work."""
    AgentProfile.objects.filter(user_id=user_id).update(last_assigned_at=at)
