"""Who someone is at work: roles are Django groups, teams give visibility."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User

ROLE_ADMINISTRATOR = "administrator"
ROLE_SUPERVISOR = "supervisor"
ROLE_AGENT = "agent"
ROLES = (ROLE_ADMINISTRATOR, ROLE_SUPERVISOR, ROLE_AGENT)

AnyUser = AbstractBaseUser | AnonymousUser
# Who does something a service records: a signed-in person, an anonymous caller of a public
# endpoint, or None for Kefu itself (a timer, the dispatcher, an import).
Actor = User | AnonymousUser | None
# A signed-in person: who replies, supervises or holds an idempotency key.
Person = User


def roles_of(user: Any) -> list[str]:
    cached = getattr(user, "_kefu_roles", None)
    if cached is not None:
        return list(cached)
    if not user.is_authenticated:
        return []
    names = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
    if user.is_superuser:
        names.add(ROLE_ADMINISTRATOR)
    roles = [r for r in ROLES if r in names]
    user._kefu_roles = roles
    return list(roles)


def is_administrator(user: Any) -> bool:
    return ROLE_ADMINISTRATOR in roles_of(user)


def is_supervisor(user: Any) -> bool:
    """Supervisors (and administrators) watch and move every team's work."""
    roles = roles_of(user)
    return ROLE_SUPERVISOR in roles or ROLE_ADMINISTRATOR in roles


def team_ids_of(user: Any) -> list[int]:
    cached = getattr(user, "_kefu_team_ids", None)
    if cached is not None:
        return list(cached)
    if not user.is_authenticated:
        return []
    ids = sorted(user.kefu_teams.order_by().values_list("id", flat=True))
    user._kefu_team_ids = ids
    return list(ids)
