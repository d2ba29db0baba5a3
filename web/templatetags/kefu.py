"""Template filters of the screens."""

from __future__ import annotations

from typing import Any

from django import template

from org.selectors import person_name as _person_name

register = template.Library()


@register.filter
def person_name(user: Any) -> str:
    """A person as every screen shows them (org.selectors.person_name)."""
    return _person_name(user)


@register.filter
def is_staff_member(user: Any) -> bool:
    """Agents, supervisors, managers and administrators (the complaint screens' readers)."""
    from org.roles import roles_of

    return bool(roles_of(user))
