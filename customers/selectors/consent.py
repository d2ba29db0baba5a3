"""Reads of consent and of the suppression list (docs/customers-segments.md)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.errors import Forbidden, NotFound

from .. import permissions
from ..choices import Purpose
from ..models import Consent, Contact, Suppression
from . import contacts_visible_to


def contact_for_consent(user: Any, pk: int) -> Contact:
    """A contact ``user`` sees (404 otherwise), neither merged away nor erased."""
    contact = contacts_visible_to(user).filter(pk=pk, erased_at__isnull=True).first()
    if contact is None:
        raise NotFound(_("No such contact."))
    return contact


def consents_of(contact: Contact) -> list[dict[str, Any]]:
    """One row per purpose: the recorded answer, or none recorded yet."""
    rows = {c.purpose: c for c in Consent.objects.filter(contact=contact)}
    result: list[dict[str, Any]] = []
    for purpose, label in Purpose.choices:
        consent = rows.get(purpose)
        result.append(
            {
                "purpose": purpose,
                "label": str(label),
                "granted": consent.granted if consent else None,
                "source": consent.source if consent else "",
                "at": consent.at if consent else None,
                "note": consent.note if consent else "",
                "actor": consent.actor_id if consent else None,
            }
        )
    return result


def suppressions_for(user: Any) -> QuerySet[Suppression]:
    if not permissions.can_manage_suppression(user):
        raise Forbidden(_("You may not see the suppression list."))
    return Suppression.objects.all()


def get_suppression(user: Any, pk: int) -> Suppression:
    row = suppressions_for(user).filter(pk=pk).first()
    if row is None:
        raise NotFound(_("No such suppressed address."))
    return row
