"""The demo-like desk every benchmark starts from, built with the test factories."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EXTRA_AGENTS = 6
LARGE_CAPACITY = 1_000_000


@dataclass(frozen=True)
class BenchDesk:
    admin_id: int
    token: str
    team_id: int
    other_team_id: int
    agent_ids: list[int]
    contact_id: int
    policy_ids: dict[str, int]


def escalation_levels(reassign_team_id: int) -> list[dict[str, Any]]:
    return [
        {"at_percent": 90, "target": "resolution", "action": "notify_supervisor"},
        {"at_percent": 100, "target": "resolution", "action": "raise_priority"},
        {"at_percent": 150, "target": "resolution", "action": "reassign", "team": reassign_team_id},
    ]


def seed_desk(
    *, first_response_seconds: int | None = None, resolution_seconds: int | None = None
) -> BenchDesk:
    """``build_desk()`` (an empty database) plus: more online agents in the routed team,
    large capacities, escalation levels on every policy, an API token for the admin.

    The factories' passwords are hashed with MD5, not the production PBKDF2 (about 0.8 s
    each here): the benchmarks authenticate with API tokens, no password is ever checked."""
    from django.contrib.auth.models import User
    from django.test import override_settings
    from rest_framework.authtoken.models import Token

    from org.models import AgentProfile
    from sla.models import SlaPolicy
    from tests.factories import build_desk, role

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        desk = build_desk()
    agent_role = role("agent")
    agents = [desk.agent1, desk.agent2]
    for n in range(EXTRA_AGENTS):
        user = User.objects.create(username=f"bench-agent{n + 1}", password="!")
        user.groups.add(agent_role)
        # the agent role may already have given the user a profile (org.signals)
        AgentProfile.objects.update_or_create(
            user=user, defaults={"presence": "online", "capacity": LARGE_CAPACITY}
        )
        agents.append(user)
    desk.team.members.add(*agents[2:])
    AgentProfile.objects.update(capacity=LARGE_CAPACITY, presence="online")
    levels = escalation_levels(desk.other_team.pk)
    for policy in SlaPolicy.objects.filter(kind="ticket"):
        policy.escalation = levels
        if first_response_seconds is not None:
            policy.targets["first_response"] = first_response_seconds
        if resolution_seconds is not None:
            policy.targets["resolution"] = resolution_seconds
        policy.save(update_fields=["escalation", "targets", "updated_at"])
    token, _ = Token.objects.get_or_create(user=desk.admin)
    policies = dict(SlaPolicy.objects.filter(kind="ticket").values_list("priority", "id"))
    return BenchDesk(
        admin_id=desk.admin.pk,
        token=token.key,
        team_id=desk.team.pk,
        other_team_id=desk.other_team.pk,
        agent_ids=[a.pk for a in agents],
        contact_id=desk.contact.pk,
        policy_ids=policies,
    )
