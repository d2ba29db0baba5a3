"""Routing a ticket to a team, and choosing its agent through ``org.assignment``."""

from __future__ import annotations

from typing import Any

from core import configcache
from org import assignment
from org.models import Team

from .models import RoutingRule, Ticket


def routing_rules() -> list[RoutingRule]:
    """Every routing rule with its team (and the team's calendar): read once per
    configuration change in each process (``core.configcache``)."""
    return configcache.cached(
        "routing-rules",
        lambda: list(RoutingRule.objects.select_related("team", "team__calendar")),
    )


def route_team(ticket: Ticket) -> Team | None:
    """The team of the most specific matching routing rule (position breaks ties)."""
    tier = ticket.customer.tier if ticket.customer_id and ticket.customer else "standard"
    region = ticket.customer.region if ticket.customer_id and ticket.customer else ""
    rules = [
        rule
        for rule in routing_rules()
        if rule.category_id in (None, ticket.category_id)
        and rule.customer_tier in ("", tier)
        and rule.region in ("", region)
    ]
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
