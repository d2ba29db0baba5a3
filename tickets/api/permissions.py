"""Who may call the ticket endpoints beyond being signed in (docs/customers-roles.md)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from rest_framework import permissions
from rest_framework.request import Request

from customers.permissions import sees_work_contents
from org import roles


class ServiceRolesWrite(permissions.BasePermission):
    """Reads: anyone signed in (the selectors narrow what they return: marketing and analysts
    get nothing). Writes (opening a ticket): the service roles only — administrators,
    managers, supervisors and agents."""

    message = gettext_lazy("Only administrators, managers, supervisors and agents may do this.")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in permissions.SAFE_METHODS or not roles.roles_of(user):
            return True  # a role-less account (an integration's) opens tickets as before
        return sees_work_contents(user)
