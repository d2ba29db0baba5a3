"""Reads of privacy requests (docs/customers-privacy.md): administrators and managers
only; anyone else gets a 404 for a request and 403 for the list."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.errors import Forbidden, NotFound

from .. import permissions
from ..choices import PrivacyStatus
from ..models import PrivacyRequest

OPEN = (PrivacyStatus.RECEIVED, PrivacyStatus.IN_PROGRESS)


def requests_visible_to(user: Any) -> QuerySet[PrivacyRequest]:
    if not permissions.can_handle_privacy(user):
        raise Forbidden(_("Only administrators and managers handle privacy requests."))
    return PrivacyRequest.objects.select_related("contact", "contact__customer", "handler")


def open_requests(user: Any) -> QuerySet[PrivacyRequest]:
    """Open requests, the nearest deadline first (index ``privacy_open_idx``)."""
    return requests_visible_to(user).filter(status__in=OPEN).order_by("due_at", "id")


def closed_requests(user: Any) -> QuerySet[PrivacyRequest]:
    return requests_visible_to(user).exclude(status__in=OPEN).order_by("-completed_at", "-id")


def request_for(user: Any, pk: int) -> PrivacyRequest:
    found = requests_visible_to(user).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("No such privacy request."))
    return found
