"""The customers screens (docs/customers-360.md): the list with its filters and search, a
customer's 360 page (facts, contacts, contracts, tiles at a glance, one timeline) and a
contact's page. Reads go through ``customers.selectors`` (404 for what the reader may not
see); the timeline's older pages come from the API (``static/web/customer-360.js``).

Analysts not granted ``customers.view_personal_data`` see contacts' personal fields as
"***"; marketing and analysts see the timeline's kinds, verbs and times only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from core.errors import InvalidInput
from core.pagination import paginate
from customers import permissions
from customers.choices import CustomerKind, CustomerTier, FieldTarget, Purpose
from customers.fields import labelled_values
from customers.models import Consent, ContactPoint, Contract, Customer
from customers.phones import display_phone
from customers.selectors import contacts_visible_to, customers_visible_to
from customers.selectors.lists import customers_matching
from customers.selectors.overview import CONTRACT_DAYS, overview_for
from customers.selectors.timeline import (
    TimelinePage,
    contact_timeline_for,
    kind_label,
    timeline_for,
)
from customers.services.records import record_personal_data_viewed
from org.selectors import person_name

from .views import _page_config, _render

PAGE_SIZE = 25
TIMELINE_SIZE = 25
MASK = permissions.MASK
# A contact's page records one read of personal data per reader and contact this often.
LIST_FILTERS = ("q", "kind", "tier", "region", "industry", "tag")


def _staff_only(user: Any) -> None:
    if not permissions.is_staff_member(user):
        raise PermissionDenied(_("Only staff see customers."))


def _masked(user: Any, value: str) -> str:
    if not value:
        return ""
    return value if permissions.sees_personal_data(user) else MASK


def _custom_rows(target: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    """The record's custom fields with their labels in the reader's language."""
    rows = labelled_values(target, values)
    for row in rows:
        if isinstance(row["value"], bool):
            row["value"] = _("Yes") if row["value"] else _("No")
    return rows


def _consents(contact_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each contact's answer per purpose (granted, refused or not asked), one query."""
    found: dict[tuple[int, str], bool] = {
        (c.contact_id, c.purpose): c.granted
        for c in Consent.objects.filter(contact_id__in=contact_ids)
    }
    return {
        pk: [
            {"purpose": value, "label": label, "granted": found.get((pk, value))}
            for value, label in Purpose.choices
        ]
        for pk in contact_ids
    }


def _timeline_context(page: TimelinePage, api: str) -> dict[str, Any]:
    return {"entries": page.entries, "next": page.next or "", "api": api}


@login_required
def customers_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    _staff_only(user)
    filters = {name: request.GET.get(name, "").strip() for name in LIST_FILTERS}
    mine = request.GET.get("mine") == "1"
    params: dict[str, Any] = {k: v for k, v in filters.items() if v}
    if mine:
        params["owner"] = "me"
    errors: dict[str, Any] = {}
    try:
        rows = customers_matching(user, params).select_related("owner")
        page = paginate(
            rows, field="name", descending=False, cursor=request.GET.get("cursor"), limit=PAGE_SIZE
        )
    except InvalidInput as exc:
        errors = dict(exc.errors or {})
        page = paginate(
            customers_visible_to(user).none(), field="name", descending=False, cursor=None, limit=1
        )
    query = {k: v for k, v in filters.items() if v}
    if mine:
        query["mine"] = "1"
    base = reverse("web:customers")

    def link(cursor: str | None) -> str:
        return f"{base}?{urlencode({**query, 'cursor': cursor})}" if cursor else ""

    items = [
        {
            "id": c.pk,
            "url": reverse("web:customer", args=[c.pk]),
            "name": c.name,
            "kind": c.get_kind_display(),
            "tier": c.get_tier_display(),
            "region": c.region,
            "industry": c.industry,
            "tags": c.tags,
            "owner": person_name(c.owner) if c.owner else "",
        }
        for c in page.items
    ]
    return _render(
        request,
        "web/customers/list.html",
        _page_config(request, page="customers"),
        rows=items,
        filters=filters,
        mine=mine,
        errors=errors,
        kinds=CustomerKind.choices,
        tiers=CustomerTier.choices,
        next_url=link(page.next),
        previous_url=link(page.previous),
        can_create=permissions.can_edit_records(user),
        can_export=permissions.can_export(user),
        export_filters=params,
    )


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    _staff_only(user)
    customer = customers_visible_to(user).select_related("owner", "parent").filter(pk=pk).first()
    if customer is None:
        raise Http404(_("Customer not found."))
    visible = customers_visible_to(user)
    parent = (
        customer.parent
        if customer.parent_id and visible.filter(pk=customer.parent_id).exists()
        else None
    )
    subsidiaries = list(visible.filter(parent=customer).order_by("name", "id")[:50])
    contacts = list(
        contacts_visible_to(user).filter(customer=customer).order_by("name", "id")[:100]
    )
    consents = _consents([c.pk for c in contacts])
    contact_rows = [
        {
            "id": c.pk,
            "url": reverse("web:contact", args=[c.pk]),
            "name": _masked(user, c.name) or _("(no name)"),
            "email": _masked(user, c.email),
            "phone": _masked(user, display_phone(c.phone) if c.phone else ""),
            "title": c.title,
            "language": c.get_language_display(),
            "consents": consents[c.pk],
        }
        for c in contacts
    ]
    glance = overview_for(user, customer.pk)
    page = timeline_for(user, customer.pk, None, TIMELINE_SIZE)
    return _render(
        request,
        "web/customers/customer.html",
        _page_config(request, page="customer"),
        customer=customer,
        owner=person_name(customer.owner) if customer.owner else "",
        parent=parent,
        subsidiaries=subsidiaries,
        custom=_custom_rows(FieldTarget.CUSTOMER, customer.custom or {}),
        contacts=contact_rows,
        contracts=Contract.objects.filter(customer=customer).order_by("-starts_on", "id"),
        glance=glance,
        open_work=[
            {"kind": kind, "label": kind_label(kind), "count": n}
            for kind, n in glance.open_work.items()
        ],
        contract_days=CONTRACT_DAYS,
        can_edit=permissions.can_edit_records(user),
        edit_url=f"/customers/{customer.pk}/edit/",
        new_contact_url=f"/contacts/new/?customer={customer.pk}",
        timeline=_timeline_context(page, f"/api/customers/{customer.pk}/timeline/"),
    )


@login_required
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    _staff_only(user)
    contact = contacts_visible_to(user).select_related("customer").filter(pk=pk).first()
    if contact is None:
        raise Http404(_("Contact not found."))
    personal = permissions.sees_personal_data(user)
    if personal:
        record_personal_data_viewed(actor=user, contact=contact)
    points = [
        {
            "kind": p.get_kind_display(),
            "value": _masked(user, display_phone(p.value) if p.kind == "phone" else p.value),
            "label": p.label,
        }
        for p in ContactPoint.objects.filter(contact=contact).order_by("kind", "id")
    ]
    customer: Customer | None = contact.customer
    page = contact_timeline_for(user, contact.pk, None, TIMELINE_SIZE)
    return _render(
        request,
        "web/customers/contact.html",
        _page_config(request, page="contact"),
        contact=contact,
        name=_masked(user, contact.name) or _("(no name)"),
        email=_masked(user, contact.email),
        phone=_masked(user, display_phone(contact.phone) if contact.phone else ""),
        birthday=(contact.birthday.isoformat() if personal else MASK) if contact.birthday else "",
        customer=customer,
        points=points,
        consents=_consents([contact.pk])[contact.pk],
        can_edit=permissions.can_edit_records(user),
        can_record_consent=permissions.can_record_consent(user),
        custom=_custom_rows(FieldTarget.CONTACT, contact.custom or {}) if personal else [],
        timeline=_timeline_context(page, f"/api/contacts/{contact.pk}/timeline/"),
    )
