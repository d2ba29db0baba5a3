"""Who may do what with customers, contacts, segments, imports, exports and privacy
requests (docs/customers.md, "Roles"). Services check these before they write; selectors
narrow what they read with ``customers.selectors.customers_visible_to``.

* administrators: everything;
* managers and supervisors: every customer; edit, merge, export; privacy requests read;
* agents: the customers their work shows (tickets, complaints, accounts they own); edit
  those; record consent on a call;
* marketing: every customer and contact, segments, consent, suppression, exports of
  contacts; never the contents of tickets or complaints;
* analysts: read-only, reports and exports, personal data masked unless granted the
  ``customers.view_personal_data`` permission.
"""

from __future__ import annotations

from typing import Any

from org import roles

STAFF_ROLES = frozenset(roles.ROLES)
# What a reader who may not see personal data sees in its place (API, screens, exports).
MASK = "***"
SERVICE_ROLES = frozenset(
    {roles.ROLE_ADMINISTRATOR, roles.ROLE_MANAGER, roles.ROLE_SUPERVISOR, roles.ROLE_AGENT}
)


def _has(user: Any, *names: str) -> bool:
    return bool(set(roles.roles_of(user)) & set(names))


def is_staff_member(user: Any) -> bool:
    """Anyone with one of Kefu's roles."""
    return bool(roles.roles_of(user))


def sees_every_customer(user: Any) -> bool:
    return _has(
        user,
        roles.ROLE_ADMINISTRATOR,
        roles.ROLE_MANAGER,
        roles.ROLE_SUPERVISOR,
        roles.ROLE_MARKETING,
        roles.ROLE_ANALYST,
    )


def sees_work_contents(user: Any) -> bool:
    """Ticket and complaint contents (subjects, messages): the service roles only."""
    return _has(user, *SERVICE_ROLES)


def sees_personal_data(user: Any) -> bool:
    """Names, addresses, numbers, birthdays: everyone but an analyst not granted them."""
    if not is_staff_member(user):
        return False
    if set(roles.roles_of(user)) - {roles.ROLE_ANALYST}:
        return True
    return bool(user.has_perm("customers.view_personal_data"))


def can_edit_records(user: Any) -> bool:
    """Create and change customers, contacts, contracts (agents: the ones they see)."""
    return _has(user, *SERVICE_ROLES)


def can_merge(user: Any) -> bool:
    return _has(user, roles.ROLE_ADMINISTRATOR, roles.ROLE_MANAGER, roles.ROLE_SUPERVISOR)


def can_manage_fields(user: Any) -> bool:
    """Custom fields, legal holds: administrators."""
    return roles.is_administrator(user)


def can_manage_segments(user: Any) -> bool:
    return _has(
        user,
        roles.ROLE_ADMINISTRATOR,
        roles.ROLE_MANAGER,
        roles.ROLE_SUPERVISOR,
        roles.ROLE_MARKETING,
    )


def can_record_consent(user: Any) -> bool:
    return _has(user, *SERVICE_ROLES, roles.ROLE_MARKETING)


def can_manage_suppression(user: Any) -> bool:
    return _has(user, roles.ROLE_ADMINISTRATOR, roles.ROLE_MANAGER, roles.ROLE_MARKETING)


def can_import(user: Any) -> bool:
    return roles.is_administrator(user)


def can_export(user: Any) -> bool:
    return _has(
        user,
        roles.ROLE_ADMINISTRATOR,
        roles.ROLE_MANAGER,
        roles.ROLE_SUPERVISOR,
        roles.ROLE_MARKETING,
        roles.ROLE_ANALYST,
    )


def can_handle_privacy(user: Any) -> bool:
    """Record, carry out and refuse privacy requests: administrators and managers."""
    return _has(user, roles.ROLE_ADMINISTRATOR, roles.ROLE_MANAGER)
