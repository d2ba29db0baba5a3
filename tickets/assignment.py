"""Routing to a team and choosing an agent (round-robin, least-loaded, skills)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Q

from .choices import QUEUE_STATUSES, AssignmentStrategy, Presence
from .models import AgentProfile, RoutingRule, Team, Ticket
from .selectors import assignable_agents


def route_team(ticket: Ticket) -> Team | None:
    """The team of the most specific matching routing rule (position breaks ties)."""
    tier = ticket.customer.tier if ticket.customer_id and ticket.customer else "standard"
    region = ticket.customer.region if ticket.customer_id and ticket.customer else ""
    rules = RoutingRule.objects.select_related("team").filter(
        Q(category__isnull=True) | Q(category_id=ticket.category_id),
        Q(customer_tier="") | Q(customer_tier=tier),
        Q(region="") | Q(region=region),
    )
    best: tuple[int, int, int] | None = None
    chosen: Team | None = None
    for rule in rules:
        specificity = (
            int(rule.category_id is not None)
            + int(bool(rule.customer_tier))
            + int(bool(rule.region))
        )
        rank = (-specificity, rule.position, rule.pk)
        if best is None or rank < best:
            best, chosen = rank, rule.team
    return chosen


def choose_agent(ticket: Ticket) -> Any | None:
    """An online, assignable member of the ticket's team (``assignable_agents``: the agent
    role, so one who lost it keeps their profile but gets no work) with spare capacity, per
    the team's strategy."""
    team = ticket.team
    if team is None or team.assignment == AssignmentStrategy.MANUAL:
        return None
    candidates = (
        assignable_agents(team_id=team.pk)
        .filter(agent_profile__presence=Presence.ONLINE)
        .annotate(
            load=Count(
                "assigned_tickets",
                filter=Q(assigned_tickets__status__in=QUEUE_STATUSES),
            ),
            capacity=F("agent_profile__capacity"),
            last_assigned=F("agent_profile__last_assigned_at"),
            skills=F("agent_profile__skills"),
        )
        .filter(load__lt=F("capacity"))
    )
    skill = ticket.category.required_skill if ticket.category_id and ticket.category else ""
    pool = [u for u in candidates if not skill or skill in (u.skills or [])]
    if not pool:
        return None
    if team.assignment == AssignmentStrategy.LEAST_LOADED:
        pool.sort(key=lambda u: (u.load, u.last_assigned is not None, u.last_assigned, u.pk))
    else:  # round robin: whoever got work longest ago
        pool.sort(key=lambda u: (u.last_assigned is not None, u.last_assigned, u.pk))
    return pool[0]


def note_assignment(user_id: int, at: Any) -> None:
    AgentProfile.objects.filter(user_id=user_id).update(last_assigned_at=at)
