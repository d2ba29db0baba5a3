"""What the navigation shows each role (docs/customers-roles.md): ``user|may_use:"segments"``."""

from __future__ import annotations

from typing import Any

from django import template

from customers import permissions
from org import roles
from reports.selectors import may_see_reports

register = template.Library()

# Each area of the navigation and who may use it: the screens and services decide for real.
AREAS: dict[str, Any] = {
    # the queue, tickets and complaints: the service roles, never marketing or analysts
    "work": permissions.sees_work_contents,
    "board": roles.is_supervisor,
    "reports": may_see_reports,
    "customers": permissions.is_staff_member,
    "segments": permissions.can_manage_segments,
    "imports": permissions.can_import,
    "duplicates": permissions.can_merge,
    "privacy": permissions.can_handle_privacy,
}


@register.filter
def may_use(user: Any, area: str) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(AREAS[area](user))
