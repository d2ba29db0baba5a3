"""Reads of the records for the API and the screens: one customer or contact with what its
detail shows, narrowed by who may see it (404 for the rest), and the condition of the
contacts a reader may see for the contact search (docs/customers-records.md)."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from core.errors import NotFound

from .. import permissions, registry
from ..models import Contact, ContactPoint, Contract, Customer, CustomField, LegalHold
from . import contacts_visible_to, customers_visible_to


def get_customer_for(user: Any, customer_id: int) -> Customer:
    """The customer with its owner, group customer, subsidiaries and contracts (and legal
    holds for administrators), or ``NotFound``."""
    prefetch: list[Any] = [
        Prefetch(
            "subsidiaries",
            queryset=Customer.objects.filter(merged_into__isnull=True).order_by("name", "id"),
        ),
        Prefetch("contracts", queryset=Contract.objects.order_by("-starts_on", "id")),
    ]
    if permissions.can_manage_fields(user):
        prefetch.append(Prefetch("legal_holds", queryset=LegalHold.objects.order_by("-id")))
    customer = (
        customers_visible_to(user)
        .select_related("owner", "parent")
        .prefetch_related(*prefetch)
        .filter(pk=customer_id)
        .first()
    )
    if customer is None:
        raise NotFound(_("Customer not found."))
    return customer


def get_contact_for(user: Any, contact_id: int) -> Contact:
    """The contact with its customer and further emails and phones, or ``NotFound``."""
    contact = (
        contacts_visible_to(user)
        .select_related("customer")
        .prefetch_related(Prefetch("points", queryset=ContactPoint.objects.order_by("kind", "id")))
        .filter(pk=contact_id)
        .first()
    )
    if contact is None:
        raise NotFound(_("Contact not found."))
    return contact


def get_legal_hold_for(user: Any, hold_id: int) -> LegalHold:
    if not permissions.can_manage_fields(user):
        raise NotFound(_("Legal hold not found."))
    hold = LegalHold.objects.filter(pk=hold_id).first()
    if hold is None:
        raise NotFound(_("Legal hold not found."))
    return hold


def list_custom_fields(target: str | None = None) -> QuerySet[CustomField]:
    rows = CustomField.objects.order_by("target", "position", "id")
    return rows.filter(target=target) if target else rows


def contacts_visible_q(user: Any) -> Q | None:
    """``contacts_visible_to`` as a condition on ``Contact`` for the contact search: None for
    who sees every contact (the search then reads the index alone; merged-away contacts are
    dropped from its answer by the caller); for an agent a probe per candidate (is its
    customer one they see, or is it a walk-in of their work) that does not read every
    customer they see."""
    live = Q(merged_into__isnull=True)
    if not permissions.is_staff_member(user):
        return Q(pk__in=[])
    if permissions.sees_every_customer(user):
        return None
    seen = Q(Exists(customers_visible_to(user).filter(pk=OuterRef("customer_id"))))
    for rule in registry.contact_rules():
        condition = rule(user)
        if condition is not None:
            seen |= condition
    return live & seen
