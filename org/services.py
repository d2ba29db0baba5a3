"""Agents: whoever holds the agent or supervisor role has what an agent needs (an
``AgentProfile``: skills, capacity, presence), whatever path gave them the role: the Django
admin, the API, the shell, a data import. ``org.signals`` calls this when roles or team
memberships change. Only the agent role makes someone take work
(``org.selectors.assignable_agents``): a supervisor's profile keeps their presence and is ready
the day they are given the agent role too. Losing a role keeps the profile (its history)."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction

from .models import AgentProfile
from .roles import ROLE_AGENT, ROLE_SUPERVISOR

ROLES_WITH_A_PROFILE = (ROLE_AGENT, ROLE_SUPERVISOR)


def ensure_agent_profiles(*, user_ids: Iterable[int]) -> list[int]:
    """Creates the missing profiles of those of ``user_ids`` who hold either role; returns
    the ids it found without one. Idempotent, and safe when two requests give one user the
    role at once: the insert skips a profile another transaction made (``ON CONFLICT DO
    NOTHING``)."""
    ids = sorted(set(user_ids))
    if not ids:
        return []
    with transaction.atomic():
        missing = list(
            get_user_model()
            .objects.filter(
                pk__in=ids, groups__name__in=ROLES_WITH_A_PROFILE, agent_profile__isnull=True
            )
            .distinct()
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if missing:
            AgentProfile.objects.bulk_create(
                [AgentProfile(user_id=user_id) for user_id in missing], ignore_conflicts=True
            )
    return missing
