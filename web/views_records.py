"""The customer and contact forms (new and edit; docs/customers-records.md).

Server-rendered forms: each POST calls one service of ``customers.services.records``; a
refusal shows the form again with what was typed and each field's problem beside it, and
nothing is saved. Success goes to the customer's 360 page (``/customers/<id>/``). A
contact's further emails and phones are added and removed on its edit page by forms of
their own (plain posts: ``add_point`` / ``remove_point``), beside the contact's form."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import Forbidden, InvalidInput, NotFound
from customers import permissions
from customers.choices import (
    CustomerKind,
    CustomerTier,
    FieldTarget,
    Language,
    PointKind,
    PreferredChannel,
)
from customers.fields import definitions, reader_label
from customers.models import Contact, ContactPoint, Customer
from customers.phones import display_phone
from customers.selectors import customers_visible_to
from customers.selectors.records import get_contact_for, get_customer_for
from customers.services import records as services
from org import roles
from org.selectors import person_name

from .views import _page_config, _render

MENU_LIMIT = 500
CUSTOMER_TEXT = ("name", "region", "industry", "external_id")
CONTACT_TEXT = ("name", "email", "phone", "title", "external_id")


def _may_edit(request: HttpRequest) -> None:
    if not permissions.can_edit_records(request.user):
        raise PermissionDenied(_("You may not change customers and contacts."))


def _id(raw: str) -> int | str | None:
    """A menu's choice: an id, None for none, or the text itself (the service refuses it)."""
    raw = raw.strip()
    if not raw:
        return None
    return int(raw) if raw.isdigit() and len(raw) < 19 else raw


def _custom_rows(
    target: str, values: dict[str, Any], errors: dict[str, list[str]]
) -> list[dict[str, Any]]:
    rows = []
    for field in definitions(target):
        value = values.get(field.key)
        rows.append(
            {
                "key": field.key,
                "name": f"custom.{field.key}",
                "label": reader_label(field),
                "type": field.type,
                "choices": field.choices,
                "required": field.required,
                "value": "" if value is None else value,
                "errors": errors.get(f"custom.{field.key}", []),
            }
        )
    return rows


def _custom_posted(request: HttpRequest, target: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in definitions(target):
        name = f"custom.{field.key}"
        if field.type == "boolean":
            values[field.key] = "yes" if request.POST.get(name) else "no"
        else:
            values[field.key] = request.POST.get(name, "")
    return values


def _problem(errors: dict[str, list[str]], known: tuple[str, ...]) -> str:
    """Errors of no field on the form (shown above it)."""
    others = [
        m
        for k, msgs in errors.items()
        if k not in known and not k.startswith("custom.")
        for m in msgs
    ]
    return " ".join(others)


# --- customers ---------------------------------------------------------------------------
CUSTOMER_FORM_FIELDS = (*CUSTOMER_TEXT, "kind", "tier", "tags", "owner", "parent")


def _owners() -> list[tuple[int, str]]:
    people = (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=roles.ROLES)
        .distinct()
        .order_by("first_name", "last_name", "username")[:MENU_LIMIT]
    )
    return [(p.pk, person_name(p)) for p in people]


def _groups(user: Any, customer: Customer | None) -> list[tuple[int, str]]:
    rows = customers_visible_to(user).filter(kind=CustomerKind.COMPANY)
    if customer is not None and customer.pk:
        rows = rows.exclude(pk=customer.pk)
    found = list(rows.order_by("name", "id").values_list("pk", "name")[:MENU_LIMIT])
    if customer is not None and customer.parent_id and customer.parent_id not in dict(found):
        parent = Customer.objects.filter(pk=customer.parent_id).values_list("pk", "name").first()
        if parent:
            found.insert(0, parent)
    return found


def _customer_values(customer: Customer | None) -> dict[str, Any]:
    if customer is None:
        return {
            "kind": CustomerKind.COMPANY,
            "tier": CustomerTier.STANDARD,
            "tags": "",
            "owner": "",
            "parent": "",
            **dict.fromkeys(CUSTOMER_TEXT, ""),
        }
    return {
        **{k: getattr(customer, k) for k in CUSTOMER_TEXT},
        "kind": customer.kind,
        "tier": customer.tier,
        "tags": ", ".join(customer.tags or []),
        "owner": customer.owner_id or "",
        "parent": customer.parent_id or "",
    }


@login_required
@require_http_methods(["GET", "POST"])
def customer_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _may_edit(request)
    customer: Customer | None = None
    if pk is not None:
        try:
            customer = get_customer_for(request.user, pk)
        except NotFound as exc:
            raise Http404(exc.message) from exc
    values = _customer_values(customer)
    custom_values: dict[str, Any] = dict(customer.custom or {}) if customer else {}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        posted = {k: request.POST.get(k, "") for k in CUSTOMER_FORM_FIELDS}
        data: dict[str, Any] = {k: posted[k] for k in (*CUSTOMER_TEXT, "kind", "tier")}
        data["tags"] = [t for t in posted["tags"].split(",") if t.strip()]
        data["parent"] = _id(posted["parent"])
        if customer is not None or posted["owner"].strip():
            data["owner"] = _id(posted["owner"])
        custom = _custom_posted(request, FieldTarget.CUSTOMER)
        data["custom"] = custom
        try:
            if customer is None:
                saved = services.create_customer(actor=request.user, data=data)
            else:
                saved = services.update_customer(
                    actor=request.user, customer_id=customer.pk, data=data
                )
        except InvalidInput as exc:
            errors = exc.errors
            values = posted
            custom_values = custom
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from exc
        except NotFound as exc:
            raise Http404(exc.message) from exc
        else:
            return HttpResponseRedirect(f"/customers/{saved.pk}/")
    return _render(
        request,
        "web/customers/customer_form.html",
        _page_config(request),
        customer=customer,
        values=values,
        errors=errors,
        problem=_problem(errors, CUSTOMER_FORM_FIELDS),
        custom_fields=_custom_rows(FieldTarget.CUSTOMER, custom_values, errors),
        kinds=CustomerKind.choices,
        tiers=CustomerTier.choices,
        owners=_owners(),
        groups=_groups(request.user, customer),
        status=400 if errors else 200,
    )


# --- contacts ----------------------------------------------------------------------------
CONTACT_FORM_FIELDS = (*CONTACT_TEXT, "customer", "language", "birthday", "preferred_channel")


def _contact_values(contact: Contact | None, customer: Customer | None) -> dict[str, Any]:
    if contact is None:
        return {
            **dict.fromkeys(CONTACT_TEXT, ""),
            "customer": customer.pk if customer else "",
            "language": Language.SIMPLIFIED_CHINESE
            if translation.get_language() == "zh-hans"
            else Language.ENGLISH,
            "birthday": "",
            "preferred_channel": "",
        }
    return {
        **{k: getattr(contact, k) for k in CONTACT_TEXT},
        "phone": display_phone(contact.phone),
        "customer": contact.customer_id or "",
        "language": contact.language,
        "birthday": contact.birthday.isoformat() if contact.birthday else "",
        "preferred_channel": contact.preferred_channel,
    }


POINT_FORM_FIELDS = ("kind", "value", "label")


def _point_rows(contact: Contact | None) -> list[dict[str, Any]]:
    if contact is None or contact.pk is None:
        return []
    kinds = dict(PointKind.choices)
    return [
        {
            "id": p.pk,
            "kind": p.kind,
            "kind_label": kinds.get(p.kind, p.kind),
            "value": p.value,
            "shown": display_phone(p.value) if p.kind == PointKind.PHONE else p.value,
            "label": p.label,
        }
        for p in ContactPoint.objects.filter(contact=contact).order_by("kind", "id")
    ]


def _contact_for(request: HttpRequest, pk: int) -> Contact:
    try:
        return get_contact_for(request.user, pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
@require_http_methods(["GET", "POST"])
def contact_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _may_edit(request)
    contact: Contact | None = None
    customer: Customer | None = None
    try:
        if pk is not None:
            contact = get_contact_for(request.user, pk)
            customer = contact.customer
        else:
            wanted = _id(request.GET.get("customer", ""))
            if isinstance(wanted, int):
                customer = get_customer_for(request.user, wanted)
            elif wanted is not None:
                raise NotFound(_("Customer not found."))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    values = _contact_values(contact, customer)
    custom_values: dict[str, Any] = dict(contact.custom or {}) if contact else {}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        posted = {k: request.POST.get(k, "") for k in CONTACT_FORM_FIELDS}
        data: dict[str, Any] = {
            k: posted[k] for k in (*CONTACT_TEXT, "language", "preferred_channel", "birthday")
        }
        data["customer"] = _id(posted["customer"])
        custom = _custom_posted(request, FieldTarget.CONTACT)
        data["custom"] = custom
        try:
            if contact is None:
                saved = services.create_contact(actor=request.user, data=data)
            else:
                saved = services.update_contact(
                    actor=request.user, contact_id=contact.pk, data=data
                )
        except InvalidInput as exc:
            errors = exc.errors
            values = posted
            custom_values = custom
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from exc
        except NotFound as exc:
            raise Http404(exc.message) from exc
        else:
            if saved.customer_id:
                return HttpResponseRedirect(f"/customers/{saved.customer_id}/")
            return HttpResponseRedirect(f"/contacts/{saved.pk}/edit/")
    return _contact_page(
        request, contact, customer, values, errors, custom_values, status=400 if errors else 200
    )


def _contact_page(
    request: HttpRequest,
    contact: Contact | None,
    customer: Customer | None,
    values: dict[str, Any],
    errors: dict[str, list[str]],
    custom_values: dict[str, Any],
    *,
    point_values: dict[str, str] | None = None,
    point_errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    point_errors = point_errors or {}
    customers = list(
        customers_visible_to(request.user)
        .order_by("name", "id")
        .values_list("pk", "name")[:MENU_LIMIT]
    )
    if customer is not None and customer.pk not in dict(customers):
        customers.insert(0, (customer.pk, customer.name))
    return _render(
        request,
        "web/customers/contact_form.html",
        _page_config(request),
        contact=contact,
        customer=customer,
        values=values,
        errors=errors,
        problem=_problem(errors, CONTACT_FORM_FIELDS),
        custom_fields=_custom_rows(FieldTarget.CONTACT, custom_values, errors),
        customers=customers,
        language_choices=Language.choices,
        channel_choices=PreferredChannel.choices,
        points=_point_rows(contact),
        point_kinds=PointKind.choices,
        point_values=point_values or {"kind": PointKind.EMAIL, "value": "", "label": ""},
        point_errors=point_errors,
        point_problem=_problem(point_errors, POINT_FORM_FIELDS),
        status=status,
    )


# --- a contact's further emails and phones ----------------------------------------------
@login_required
@require_POST
def contact_point_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Adds a further email or phone (normalised and checked by ``add_point``); a refusal
    shows the edit page again with the problem beside the point's fields, nothing saved."""
    _may_edit(request)
    contact = _contact_for(request, pk)
    posted = {k: request.POST.get(k, "") for k in POINT_FORM_FIELDS}
    try:
        point = services.add_point(
            actor=request.user,
            contact_id=contact.pk,
            kind=posted["kind"],
            value=posted["value"],
            label=posted["label"],
        )
    except InvalidInput as exc:
        return _contact_page(
            request,
            contact,
            contact.customer,
            _contact_values(contact, contact.customer),
            {},
            dict(contact.custom or {}),
            point_values=posted,
            point_errors=exc.errors,
            status=400,
        )
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    except NotFound as exc:
        raise Http404(exc.message) from exc
    shown = display_phone(point.value) if point.kind == PointKind.PHONE else point.value
    messages.success(request, _("Added %(value)s.") % {"value": shown})
    return HttpResponseRedirect(f"/contacts/{contact.pk}/edit/#points", status=303)


@login_required
@require_POST
def contact_point_remove(request: HttpRequest, pk: int, point: int) -> HttpResponse:
    _may_edit(request)
    contact = _contact_for(request, pk)
    found = ContactPoint.objects.filter(contact=contact, pk=point).first()
    try:
        services.remove_point(actor=request.user, contact_id=contact.pk, point_id=point)
    except NotFound:
        # removed already (a double click): say so rather than fail
        messages.error(request, _("This email or phone was removed already."))
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    else:
        assert found is not None
        shown = display_phone(found.value) if found.kind == PointKind.PHONE else found.value
        messages.success(request, _("Removed %(value)s.") % {"value": shown})
    return HttpResponseRedirect(f"/contacts/{contact.pk}/edit/#points", status=303)
