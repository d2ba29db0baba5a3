"""``core.configcache``: configuration read once per change in each process, rebuilt when
this process or another one changes it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import configcache
from tests.factories import RoutingRuleFactory, TeamFactory, open_ticket
from tickets.assignment import routing_rules


@pytest.mark.django_db
def test_a_build_is_kept_until_the_configuration_changes() -> None:
    builds: list[int] = []

    def build() -> int:
        builds.append(1)
        return len(builds)

    assert configcache.cached("probe", build) == 1
    assert configcache.cached("probe", build) == 1  # kept
    # another process saves a team: the shared version moves, this process rebuilds
    cache.set(configcache.KEY, (cache.get(configcache.KEY) or 0) + 1, None)
    assert configcache.cached("probe", build) == 2
    assert configcache.cached("probe", build) == 2


@pytest.mark.django_db
def test_routing_sees_a_rule_saved_or_deleted_at_once(desk: Any) -> None:
    before = {rule.pk for rule in routing_rules()}
    other: Any = TeamFactory(name="Escalations")
    added: Any = RoutingRuleFactory(team=other, region="north")
    assert {rule.pk for rule in routing_rules()} == before | {added.pk}
    added.delete()
    assert {rule.pk for rule in routing_rules()} == before


@pytest.mark.django_db
def test_an_intake_reads_no_routing_rule_or_policy_once_they_are_known(desk: Any) -> None:
    open_ticket(desk)
    with CaptureQueriesContext(connection) as queries:
        ticket = open_ticket(desk)
    tables = " ".join(q["sql"] for q in queries.captured_queries)
    assert "tickets_routingrule" not in tables
    assert "tickets_slapolicy" not in tables
    assert ticket.team == desk.team and ticket.sla_policy == desk.policy


@pytest.mark.django_db
def test_a_policy_edit_applies_to_the_next_intake(desk: Any) -> None:
    open_ticket(desk)
    desk.policy.targets = {**desk.policy.targets, "first_response": 60}
    desk.policy.save()
    ticket = open_ticket(desk)
    assert ticket.clock is not None and ticket.clock.terms["targets"][0] == ["first_response", 60]
