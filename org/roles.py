"""Who someone is at work: roles are Django groups, teams give visibility."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, User

ROLE_ADMINISTRATOR = "administrator"
ROLE_SUPERVISOR = "supervisor"
ROLE_AGENT = "agent"
# Approves above a supervisor's limit of authority and sees every complaint (docs/complaints.md).
ROLE_MANAGER = "manager"
# Segments, consent and campaigns; no ticket or complaint contents (docs/customers.md).
ROLE_MARKETING = "marketing"
# Read-only reports and exports; personal data masked unless granted (docs/customers.md).
ROLE_ANALYST = "analyst"
ROLES = (
    ROLE_ADMINISTRATOR,
    ROLE_MANAGER,
    ROLE_SUPERVISOR,
    ROLE_AGENT,
    ROLE_MARKETING,
    ROLE_ANALYST,
)

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


def is_manager(user: Any) -> bool:
    """Managers (and administrators) approve above a supervisor's limit of authority."""
    roles = roles_of(user)
    return ROLE_MANAGER in roles or ROLE_ADMINISTRATOR in roles


def is_marketing(user: Any) -> bool:
    return ROLE_MARKETING in roles_of(user)


def is_analyst(user: Any) -> bool:
    return ROLE_ANALYST in roles_of(user)


def team_ids_of(user: Any) -> list[int]:
    cached = getattr(user, "_kefu_team_ids", None)
    if cached is not None:
        return list(cached)
    if not user.is_authenticated:
        return []
    ids = sorted(user.kefu_teams.order_by().values_list("id", flat=True))
    user._kefu_team_ids = ids
    return list(ids)


def read_with_user(user_id: str) -> tuple[str, list[Any]]:
    """SQL of two PostgreSQL arrays, a user's role names and team ids, given the SQL of the
    user's id: read in the statement that reads the user, then ``remember``-ed, they spare a
    token request two statements (the queue and the ticket list ask both every time)."""
    from django.db import connection

    qn = connection.ops.quote_name
    groups, user_groups = Group._meta.db_table, User.groups.through._meta.db_table
    members = User.kefu_teams.through._meta.db_table  # org.Team.members
    roles = ", ".join(["%s"] * len(ROLES))
    sql = (
        f"ARRAY(SELECT g.{qn('name')} FROM {qn(groups)} g JOIN {qn(user_groups)} ug"  # noqa: S608
        f" ON ug.{qn('group_id')} = g.{qn('id')}"
        f" WHERE ug.{qn('user_id')} = {user_id} AND g.{qn('name')} IN ({roles})),"
        f" ARRAY(SELECT m.{qn('team_id')} FROM {qn(members)} m"
        f" WHERE m.{qn('user_id')} = {user_id})"
    )
    return sql, list(ROLES)


def remember(user: Any, role_names: list[str], team_ids: list[int]) -> None:
    """What ``roles_of`` and ``team_ids_of`` would read, given: they answer from it."""
    names = set(role_names)
    if user.is_superuser:
        names.add(ROLE_ADMINISTRATOR)
    user._kefu_roles = [r for r in ROLES if r in names]
    user._kefu_team_ids = sorted(team_ids)
