"""Routing a ticket to a team, and choosing its agent through ``org.assignment``."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from org import assignment
from org.models import Team

from .models import RoutingRule, Ticket


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
    """An agent of the ticket's team for it (``org.assignment``), with the skill its
    category needs."""
    skill = ticket.category.required_skill if ticket.category_id and ticket.category else ""
    return assignment.choose_agent(ticket.team, skill=skill)
