"""Writes of the records: customers, contacts and their further emails and phones,
contracts, legal holds and custom field definitions (docs/customers-records.md).

Each function checks the actor may (``customers.permissions``; a record the actor may not
see is a 404), validates every field it is given and answers all the bad ones at once
(``InvalidInput`` naming each field), writes in one transaction, and leaves one audit row
with only the fields that changed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import services as audit
from core.errors import Conflict, Forbidden, InvalidInput, NotFound

from .. import permissions
from ..choices import (
    ContactVerb,
    ContractKind,
    CustomerKind,
    CustomerTier,
    CustomerVerb,
    FieldTarget,
    FieldType,
    Language,
    PointKind,
    PreferredChannel,
)
from ..fields import clean_custom
from ..models import Contact, ContactPoint, Contract, Customer, CustomField, LegalHold
from ..phones import InvalidPhone, normalise_phone
from ..selectors import contacts_visible_to, customers_visible_to
from . import contacts_with_email, normalise_email

Errors = dict[str, list[str]]

CUSTOMER_FIELDS = (
    "kind",
    "name",
    "tier",
    "region",
    "industry",
    "tags",
    "owner",
    "parent",
    "external_id",
    "custom",
)
CONTACT_FIELDS = (
    "customer",
    "name",
    "email",
    "phone",
    "title",
    "language",
    "birthday",
    "preferred_channel",
    "external_id",
    "custom",
)
CONTRACT_FIELDS = ("kind", "name", "reference", "starts_on", "ends_on", "auto_renew", "value")
FIELD_FIELDS = ("target", "key", "label", "label_zh", "type", "choices", "required", "position")

TAG_MAX_LENGTH = 32
TAGS_MAX = 20
# A group customer's chain of parents is followed this far (a deeper one is refused).
HIERARCHY_MAX_DEPTH = 20
CHOICES_MAX = 100
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


# --- shared helpers ----------------------------------------------------------------------
def _refuse(errors: Errors) -> None:
    if errors:
        raise InvalidInput(_("Some fields are not valid."), errors)


def _unknown(data: Mapping[str, Any], allowed: tuple[str, ...], errors: Errors) -> None:
    for key in data:
        if key not in allowed:
            errors[key] = [_("No such field.")]


def _text(
    data: Mapping[str, Any],
    name: str,
    limit: int,
    errors: Errors,
    *,
    required: bool = False,
) -> str | None:
    """The stripped text of ``name`` (None when absent); an error when too long, not text,
    or empty but required."""
    if name not in data:
        if required:
            errors[name] = [_("This field is required.")]
        return None
    raw = data[name]
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        errors[name] = [_("Enter text.")]
        return None
    text = " ".join(raw.split()) if name != "email" else raw.strip()
    if required and not text:
        errors[name] = [_("This field is required.")]
        return None
    if len(text) > limit:
        errors[name] = [_("At most %(limit)s characters.") % {"limit": limit}]
        return None
    return text


def _choice(
    data: Mapping[str, Any],
    name: str,
    allowed: list[str],
    errors: Errors,
    *,
    required: bool = False,
    blank: bool = False,
) -> str | None:
    if name not in data:
        if required:
            errors[name] = [_("This field is required.")]
        return None
    value = data[name]
    if value in (None, "") and blank:
        return ""
    if value not in allowed:
        errors[name] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(allowed)}]
        return None
    return str(value)


def _date(raw: Any) -> date:
    if isinstance(raw, date):
        return raw
    if not isinstance(raw, str):
        raise ValueError
    return date.fromisoformat(raw.strip())


def _snapshot(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The audited values of ``names``: foreign keys as ids, dates and amounts as text."""
    found: dict[str, Any] = {}
    for name in names:
        field = obj._meta.get_field(name)
        value = getattr(obj, field.attname)
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, list):
            value = list(value)
        elif isinstance(value, dict):
            value = dict(value)
        found[name] = value
    return found


def _changes(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    changed = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


def _save(obj: Any, unique_errors: Mapping[str, tuple[str, str]]) -> None:
    """Saves ``obj`` in a savepoint; a unique constraint another request won meanwhile is the
    same field error the checks before give (never a 500)."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        text = str(exc)
        for constraint, (field, message) in unique_errors.items():
            if constraint in text:
                raise InvalidInput(_("Some fields are not valid."), {field: [message]}) from exc
        raise


def _may_edit(actor: Any) -> None:
    if not permissions.can_edit_records(actor):
        raise Forbidden(_("You may not change customers and contacts."))


def _may_manage(actor: Any) -> None:
    if not permissions.can_manage_fields(actor):
        raise Forbidden(_("Only administrators may do this."))


def _customer_for_edit(actor: Any, customer_id: int, *, lock: bool = True) -> Customer:
    rows = customers_visible_to(actor).filter(pk=customer_id)
    if lock:
        rows = rows.select_for_update(of=("self",))
    customer = rows.first()
    if customer is None:
        raise NotFound(_("Customer not found."))
    return customer


def _contact_for_edit(actor: Any, contact_id: int) -> Contact:
    contact = (
        contacts_visible_to(actor).filter(pk=contact_id).select_for_update(of=("self",)).first()
    )
    if contact is None:
        raise NotFound(_("Contact not found."))
    return contact


# --- customers ---------------------------------------------------------------------------
def normalise_tags(raw: Any, errors: Errors) -> list[str] | None:
    """Tags as stored: short texts, whitespace collapsed, lower case, each once, in order."""
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = raw.split(",")
    if not isinstance(raw, list | tuple):
        errors["tags"] = [_("Enter a list of tags.")]
        return None
    tags: list[str] = []
    for item in raw:
        if not isinstance(item, str):
            errors["tags"] = [_("Each tag is a short text.")]
            return None
        tag = " ".join(item.split()).lower()
        if not tag:
            continue
        if len(tag) > TAG_MAX_LENGTH:
            errors["tags"] = [
                _("A tag has at most %(limit)s characters.") % {"limit": TAG_MAX_LENGTH}
            ]
            return None
        if tag not in tags:
            tags.append(tag)
    if len(tags) > TAGS_MAX:
        errors["tags"] = [_("At most %(limit)s tags.") % {"limit": TAGS_MAX}]
        return None
    return tags


def _owner(raw: Any, errors: Errors) -> tuple[bool, int | None]:
    if raw in (None, ""):
        return True, None
    user = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        user = get_user_model().objects.filter(pk=raw, is_active=True).first()
    if user is None or not permissions.is_staff_member(user):
        errors["owner"] = [_("Choose a member of staff.")]
        return False, None
    return True, user.pk


def _parent(actor: Any, customer: Customer, raw: Any, errors: Errors) -> tuple[bool, int | None]:
    """The group customer ``customer`` may belong to: one the actor sees, a company, neither
    the customer itself nor one of its own subsidiaries (a cycle)."""
    if raw in (None, ""):
        return True, None
    if not isinstance(raw, int) or isinstance(raw, bool):
        errors["parent"] = [_("No such customer.")]
        return False, None
    if customer.pk is not None and raw == customer.pk:
        errors["parent"] = [_("A customer cannot be its own group customer.")]
        return False, None
    parent = customers_visible_to(actor).filter(pk=raw).first()
    if parent is None:
        errors["parent"] = [_("No such customer.")]
        return False, None
    if parent.kind != CustomerKind.COMPANY:
        errors["parent"] = [_("A group customer is a company.")]
        return False, None
    if customer.pk is not None:
        seen: set[int] = set()
        current: int | None = parent.parent_id
        for _step in range(HIERARCHY_MAX_DEPTH + 1):
            if current is None:
                break
            if current == customer.pk or current in seen:
                errors["parent"] = [_("This would make the group its own subsidiary.")]
                return False, None
            seen.add(current)
            current = Customer.objects.filter(pk=current).values_list("parent_id", flat=True)[0]
        else:
            errors["parent"] = [_("The group hierarchy is too deep.")]
            return False, None
    return True, parent.pk


def _apply_keys(
    record: Customer | Contact,
    data: Mapping[str, Any],
    target: str,
    errors: dict[str, list[str]],
    *,
    creating: bool,
) -> None:
    """The external id (unique among the target's records) and the custom field values of a
    customer or a contact, checked into ``errors``."""
    external_id = _text(data, "external_id", 64, errors)
    if external_id is not None:
        record.external_id = external_id
        taken = type(record).objects.filter(external_id=external_id).exclude(pk=record.pk)
        if external_id and taken.exists():
            errors["external_id"] = [
                _("Another customer has this external id.")
                if target == FieldTarget.CUSTOMER
                else _("Another contact has this external id.")
            ]
    if "custom" in data or creating:
        raw = data.get("custom") or {}
        if not isinstance(raw, dict):
            errors["custom"] = [_("Enter an object of field values.")]
        else:
            custom, custom_errors = clean_custom(target, raw, current=record.custom)
            errors.update(custom_errors)
            record.custom = custom


def _apply_customer(
    actor: Any, customer: Customer, data: Mapping[str, Any], *, creating: bool
) -> None:
    errors: Errors = {}
    _unknown(data, CUSTOMER_FIELDS, errors)
    kind = _choice(data, "kind", list(CustomerKind.values), errors, required=creating)
    if kind is not None:
        customer.kind = kind
    name = _text(data, "name", 200, errors, required=creating)
    if name is not None:
        if not name:
            errors["name"] = [_("This field is required.")]
        customer.name = name
    tier = _choice(data, "tier", list(CustomerTier.values), errors)
    if tier is not None:
        customer.tier = tier
    for field in ("region", "industry"):
        value = _text(data, field, 64, errors)
        if value is not None:
            setattr(customer, field, value)
    if "tags" in data:
        tags = normalise_tags(data["tags"], errors)
        if tags is not None:
            customer.tags = tags
    if "owner" in data:
        ok, owner_id = _owner(data["owner"], errors)
        if ok:
            customer.owner_id = owner_id
    if "parent" in data:
        ok, parent_id = _parent(actor, customer, data["parent"], errors)
        if ok:
            customer.parent_id = parent_id
    _apply_keys(customer, data, FieldTarget.CUSTOMER, errors, creating=creating)
    _refuse(errors)


_CUSTOMER_UNIQUE = {
    "customer_external_id_uniq": ("external_id", "Another customer has this external id."),
}


def _customer_unique() -> dict[str, tuple[str, str]]:
    return {k: (f, _(m)) for k, (f, m) in _CUSTOMER_UNIQUE.items()}


def create_customer(*, actor: Any, data: Mapping[str, Any]) -> Customer:
    """A new customer. An agent who names no owner becomes the owner, so that the customer
    they create is one they see (docs/customers-records.md)."""
    _may_edit(actor)
    with transaction.atomic():
        customer = Customer()
        _apply_customer(actor, customer, data, creating=True)
        if (
            customer.owner_id is None
            and "owner" not in data
            and not permissions.sees_every_customer(actor)
        ):
            customer.owner_id = actor.pk
        _save(customer, _customer_unique())
        audit.record(
            kind="customer",
            verb=CustomerVerb.CREATED,
            actor=actor,
            customer_id=customer.pk,
            after=_snapshot(customer, CUSTOMER_FIELDS),
        )
    return customer


def update_customer(*, actor: Any, customer_id: int, data: Mapping[str, Any]) -> Customer:
    """Changes the fields ``data`` names; an audit row with the ones that changed."""
    _may_edit(actor)
    with transaction.atomic():
        customer = _customer_for_edit(actor, customer_id)
        before = _snapshot(customer, CUSTOMER_FIELDS)
        _apply_customer(actor, customer, data, creating=False)
        old, new = _changes(before, _snapshot(customer, CUSTOMER_FIELDS))
        if new:
            _save(customer, _customer_unique())
            audit.record(
                kind="customer",
                verb=CustomerVerb.CHANGED,
                actor=actor,
                customer_id=customer.pk,
                before=old,
                after=new,
            )
    return customer


# --- contacts ----------------------------------------------------------------------------
def _email(raw: Any, field: str, errors: Errors) -> str | None:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        errors[field] = [_("Enter a valid email address.")]
        return None
    email = normalise_email(raw)
    if not email:
        return ""
    if len(email) > 254:
        errors[field] = [_("At most %(limit)s characters.") % {"limit": 254}]
        return None
    try:
        validate_email(email)
    except ValidationError:
        errors[field] = [_("Enter a valid email address.")]
        return None
    return email


def _phone(raw: Any, field: str, errors: Errors) -> str | None:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        errors[field] = [_("This is not a phone number.")]
        return None
    try:
        return normalise_phone(raw)
    except InvalidPhone as exc:
        errors[field] = [str(exc)]
        return None


def _apply_contact(
    actor: Any, contact: Contact, data: Mapping[str, Any], *, creating: bool
) -> None:
    errors: Errors = {}
    _unknown(data, CONTACT_FIELDS, errors)
    if "customer" in data:
        raw = data["customer"]
        if raw in (None, ""):
            contact.customer = None
        elif not isinstance(raw, int) or isinstance(raw, bool):
            errors["customer"] = [_("No such customer.")]
        else:
            customer = customers_visible_to(actor).filter(pk=raw).first()
            if customer is None:
                errors["customer"] = [_("No such customer.")]
            else:
                contact.customer = customer
    for field, limit in (("name", 200), ("title", 100)):
        value = _text(data, field, limit, errors)
        if value is not None:
            setattr(contact, field, value)
    if "email" in data:
        email = _email(data["email"], "email", errors)
        if email is not None:
            contact.email = email
    if "phone" in data:
        phone = _phone(data["phone"], "phone", errors)
        if phone is not None:
            contact.phone = phone
    language = _choice(data, "language", list(Language.values), errors)
    if language is not None:
        contact.language = language
    channel = _choice(data, "preferred_channel", list(PreferredChannel.values), errors, blank=True)
    if channel is not None:
        contact.preferred_channel = channel
    if "birthday" in data:
        raw = data["birthday"]
        if raw in (None, ""):
            contact.birthday = None
        else:
            try:
                birthday = _date(raw)
            except ValueError:
                errors["birthday"] = [_("Enter a date as YYYY-MM-DD.")]
            else:
                if birthday > timezone.localdate():
                    errors["birthday"] = [_("A birthday cannot be in the future.")]
                elif birthday.year < 1900:
                    errors["birthday"] = [_("Enter a date after 1900.")]
                else:
                    contact.birthday = birthday
    _apply_keys(contact, data, FieldTarget.CONTACT, errors, creating=creating)
    if (
        creating
        and contact.customer_id is None
        and "customer" not in errors
        and not permissions.sees_every_customer(actor)
    ):
        # An agent sees a walk-in contact only through their work: one they created here
        # would vanish from their sight at once (tickets' intake creates walk-ins).
        errors["customer"] = [_("Choose the contact's customer.")]
    if not errors and not (contact.name or contact.email or contact.phone):
        errors["name"] = [_("Give the contact a name, an email address or a phone number.")]
    if "email" not in errors and contact.email:
        same = contacts_with_email(contact.email)
        if contact.customer_id is None:
            same = same.filter(customer__isnull=True)
        else:
            same = same.filter(customer_id=contact.customer_id)
        if same.exclude(pk=contact.pk).exists():
            errors["email"] = [
                _("A contact of this customer already has this address.")
                if contact.customer_id
                else _("A contact without a customer already has this address.")
            ]
    _refuse(errors)


_CONTACT_UNIQUE = {
    "contact_email_unique_per_customer": (
        "email",
        "A contact of this customer already has this address.",
    ),
    "contact_email_unique_without_customer": (
        "email",
        "A contact without a customer already has this address.",
    ),
    "contact_external_id_uniq": ("external_id", "Another contact has this external id."),
}


def _contact_unique() -> dict[str, tuple[str, str]]:
    return {k: (f, _(m)) for k, (f, m) in _CONTACT_UNIQUE.items()}


def _contact_audit_ids(contact: Contact) -> dict[str, Any]:
    return {"customer_id": contact.customer_id, "contact_id": contact.pk}


def create_contact(*, actor: Any, data: Mapping[str, Any]) -> Contact:
    """A new contact, of a customer the actor sees or of none (a walk-in)."""
    _may_edit(actor)
    with transaction.atomic():
        contact = Contact()
        _apply_contact(actor, contact, data, creating=True)
        _save(contact, _contact_unique())
        audit.record(
            kind="contact",
            verb=ContactVerb.CREATED,
            actor=actor,
            after=_snapshot(contact, CONTACT_FIELDS),
            **_contact_audit_ids(contact),
        )
    return contact


def update_contact(*, actor: Any, contact_id: int, data: Mapping[str, Any]) -> Contact:
    """Changes the fields ``data`` names; moving a contact to another customer needs the
    actor to see that customer too."""
    _may_edit(actor)
    with transaction.atomic():
        contact = _contact_for_edit(actor, contact_id)
        before = _snapshot(contact, CONTACT_FIELDS)
        _apply_contact(actor, contact, data, creating=False)
        old, new = _changes(before, _snapshot(contact, CONTACT_FIELDS))
        if new:
            _save(contact, _contact_unique())
            audit.record(
                kind="contact",
                verb=ContactVerb.CHANGED,
                actor=actor,
                before=old,
                after=new,
                **_contact_audit_ids(contact),
            )
    return contact


def _points(contact: Contact) -> list[dict[str, str]]:
    return [
        {"kind": p.kind, "value": p.value}
        for p in ContactPoint.objects.filter(contact=contact).order_by("kind", "id")
    ]


def add_point(
    *, actor: Any, contact_id: int, kind: str, value: str, label: str = ""
) -> ContactPoint:
    """A further email address or phone number of a contact, normalised like the primary
    ones; one the contact already has (as primary or further) is refused."""
    _may_edit(actor)
    errors: Errors = {}
    if kind not in PointKind.values:
        errors["kind"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(PointKind.values)}
        ]
        _refuse(errors)
    normalised = (
        _email(value, "value", errors)
        if kind == PointKind.EMAIL
        else _phone(value, "value", errors)
    )
    if normalised == "" and "value" not in errors:
        errors["value"] = [_("This field is required.")]
    label = " ".join(str(label or "").split())
    if len(label) > 32:
        errors["label"] = [_("At most %(limit)s characters.") % {"limit": 32}]
    with transaction.atomic():
        contact = _contact_for_edit(actor, contact_id)
        _refuse(errors)
        assert normalised is not None
        primary = contact.email if kind == PointKind.EMAIL else contact.phone
        taken = ContactPoint.objects.filter(contact=contact, kind=kind, value=normalised)
        if normalised == primary or taken.exists():
            _refuse({"value": [_("The contact already has this address or number.")]})
        before = _points(contact)
        point = ContactPoint(contact=contact, kind=kind, value=normalised, label=label)
        _save(
            point,
            {"contactpoint_uniq": ("value", _("The contact already has this address or number."))},
        )
        audit.record(
            kind="contact",
            verb=ContactVerb.CHANGED,
            actor=actor,
            before={"points": before},
            after={"points": _points(contact)},
            **_contact_audit_ids(contact),
        )
    return point


def remove_point(*, actor: Any, contact_id: int, point_id: int) -> None:
    _may_edit(actor)
    with transaction.atomic():
        contact = _contact_for_edit(actor, contact_id)
        point = ContactPoint.objects.filter(contact=contact, pk=point_id).first()
        if point is None:
            raise NotFound(_("No such email or phone of this contact."))
        before = _points(contact)
        point.delete()
        audit.record(
            kind="contact",
            verb=ContactVerb.CHANGED,
            actor=actor,
            before={"points": before},
            after={"points": _points(contact)},
            **_contact_audit_ids(contact),
        )


# --- contracts ---------------------------------------------------------------------------
def _apply_contract(contract: Contract, data: Mapping[str, Any], *, creating: bool) -> None:
    errors: Errors = {}
    _unknown(data, CONTRACT_FIELDS, errors)
    kind = _choice(data, "kind", list(ContractKind.values), errors)
    if kind is not None:
        contract.kind = kind
    name = _text(data, "name", 200, errors, required=creating)
    if name is not None:
        if not name:
            errors["name"] = [_("This field is required.")]
        contract.name = name
    reference = _text(data, "reference", 64, errors)
    if reference is not None:
        contract.reference = reference
    for field in ("starts_on", "ends_on"):
        if field not in data:
            if field == "starts_on" and creating:
                errors[field] = [_("This field is required.")]
            continue
        raw = data[field]
        if raw in (None, ""):
            if field == "starts_on":
                errors[field] = [_("This field is required.")]
            else:
                contract.ends_on = None
            continue
        try:
            setattr(contract, field, _date(raw))
        except ValueError:
            errors[field] = [_("Enter a date as YYYY-MM-DD.")]
    if "auto_renew" in data:
        if not isinstance(data["auto_renew"], bool):
            errors["auto_renew"] = [_("Enter true or false.")]
        else:
            contract.auto_renew = data["auto_renew"]
    if "value" in data:
        raw = data["value"]
        if raw in (None, ""):
            contract.value = None
        else:
            try:
                amount = Decimal(str(raw).strip())
            except InvalidOperation:
                amount = Decimal("NaN")
            if isinstance(raw, bool) or not amount.is_finite():
                errors["value"] = [_("Enter a number.")]
            elif amount < 0 or amount >= Decimal("1e12"):
                errors["value"] = [_("Enter an amount from 0 to 999,999,999,999.99.")]
            else:
                contract.value = amount.quantize(Decimal("0.01"))
    if (
        "starts_on" not in errors
        and "ends_on" not in errors
        and contract.ends_on is not None
        and contract.starts_on is not None
        and contract.ends_on < contract.starts_on
    ):
        errors["ends_on"] = [_("A contract ends on or after the day it starts.")]
    _refuse(errors)


def add_contract(*, actor: Any, customer_id: int, data: Mapping[str, Any]) -> Contract:
    _may_edit(actor)
    with transaction.atomic():
        customer = _customer_for_edit(actor, customer_id)
        contract = Contract(customer=customer)
        _apply_contract(contract, data, creating=True)
        contract.save()
        audit.record(
            kind="customer",
            verb=CustomerVerb.CONTRACT_ADDED,
            actor=actor,
            customer_id=customer.pk,
            object_id=contract.pk,
            after={"contract": contract.pk, **_snapshot(contract, CONTRACT_FIELDS)},
        )
    return contract


def _contract_for_edit(actor: Any, customer_id: int, contract_id: int) -> Contract:
    customer = _customer_for_edit(actor, customer_id)
    contract = (
        Contract.objects.filter(customer=customer, pk=contract_id).select_for_update().first()
    )
    if contract is None:
        raise NotFound(_("Contract not found."))
    return contract


def update_contract(
    *, actor: Any, customer_id: int, contract_id: int, data: Mapping[str, Any]
) -> Contract:
    _may_edit(actor)
    with transaction.atomic():
        contract = _contract_for_edit(actor, customer_id, contract_id)
        before = _snapshot(contract, CONTRACT_FIELDS)
        _apply_contract(contract, data, creating=False)
        old, new = _changes(before, _snapshot(contract, CONTRACT_FIELDS))
        if new:
            contract.save()
            audit.record(
                kind="customer",
                verb=CustomerVerb.CONTRACT_CHANGED,
                actor=actor,
                customer_id=contract.customer_id,
                object_id=contract.pk,
                before={"contract": contract.pk, **old},
                after={"contract": contract.pk, **new},
            )
    return contract


def remove_contract(*, actor: Any, customer_id: int, contract_id: int) -> None:
    _may_edit(actor)
    with transaction.atomic():
        contract = _contract_for_edit(actor, customer_id, contract_id)
        before = {"contract": contract.pk, **_snapshot(contract, CONTRACT_FIELDS)}
        contract.delete()
        audit.record(
            kind="customer",
            verb=CustomerVerb.CONTRACT_REMOVED,
            actor=actor,
            customer_id=customer_id,
            object_id=contract_id,
            before=before,
        )


# --- legal holds -------------------------------------------------------------------------
def place_legal_hold(
    *,
    actor: Any,
    reason: str,
    customer_id: int | None = None,
    contact_id: int | None = None,
) -> LegalHold:
    """Data an erasure must keep while the hold lasts (administrators)."""
    _may_manage(actor)
    errors: Errors = {}
    text = _text({"reason": reason}, "reason", 300, errors, required=True)
    if (customer_id is None) == (contact_id is None):
        errors["customer"] = [_("Name a customer or a contact.")]
    _refuse(errors)
    with transaction.atomic():
        customer: Customer | None = None
        contact: Contact | None = None
        if customer_id is not None:
            customer = _customer_for_edit(actor, customer_id)
        else:
            assert contact_id is not None
            contact = _contact_for_edit(actor, contact_id)
        hold = LegalHold.objects.create(
            customer=customer, contact=contact, reason=text or "", created_by=actor
        )
        if customer is not None:
            audit.record(
                kind="customer",
                verb=CustomerVerb.LEGAL_HOLD,
                actor=actor,
                customer_id=customer.pk,
                object_id=hold.pk,
                after={"legal_hold": hold.pk, "reason": hold.reason},
            )
        else:
            assert contact is not None
            audit.record(
                kind="contact",
                verb=ContactVerb.LEGAL_HOLD,
                actor=actor,
                object_id=hold.pk,
                after={"legal_hold": hold.pk, "reason": hold.reason},
                **_contact_audit_ids(contact),
            )
    return hold


def release_legal_hold(*, actor: Any, hold_id: int) -> LegalHold:
    _may_manage(actor)
    with transaction.atomic():
        hold = LegalHold.objects.select_for_update().filter(pk=hold_id).first()
        if hold is None:
            raise NotFound(_("Legal hold not found."))
        if hold.released_at is not None:
            raise Conflict(_("This legal hold is already released."))
        hold.released_at = timezone.now()
        hold.save(update_fields=["released_at", "updated_at"])
        ids: dict[str, Any] = {"customer_id": hold.customer_id, "contact_id": hold.contact_id}
        audit.record(
            kind="customer" if hold.customer_id else "contact",
            verb=CustomerVerb.LEGAL_HOLD_RELEASED
            if hold.customer_id
            else ContactVerb.LEGAL_HOLD_RELEASED,
            actor=actor,
            object_id=hold.pk,
            before={"released_at": None},
            after={"legal_hold": hold.pk, "released_at": hold.released_at.isoformat()},
            **ids,
        )
    return hold


# --- custom fields -----------------------------------------------------------------------
def _has_values(target: str, key: str) -> bool:
    model: Any = Customer if target == FieldTarget.CUSTOMER else Contact
    return bool(model.objects.filter(custom__has_key=key).exists())


def _apply_field(field: CustomField, data: Mapping[str, Any], *, creating: bool) -> None:
    errors: Errors = {}
    _unknown(data, (*FIELD_FIELDS, "is_active"), errors)
    in_use = not creating and _has_values(field.target, field.key)
    target = _choice(data, "target", list(FieldTarget.values), errors, required=creating)
    if target is not None and target != field.target:
        if in_use:
            errors["target"] = [_("Records hold values of this field: it cannot move.")]
        else:
            field.target = target
    key = _text(data, "key", 40, errors, required=creating)
    if key is not None and key != field.key:
        if not KEY_PATTERN.match(key):
            errors["key"] = [
                _("Lower-case letters, digits and underscores, starting with a letter.")
            ]
        elif in_use:
            errors["key"] = [_("Records hold values under this key: it cannot change.")]
        else:
            field.key = key
    for name, limit in (("label", 100), ("label_zh", 100)):
        value = _text(data, name, limit, errors, required=creating and name == "label")
        if value is not None:
            if name == "label" and not value:
                errors[name] = [_("This field is required.")]
            setattr(field, name, value)
    kind = _choice(data, "type", list(FieldType.values), errors, required=creating)
    if kind is not None and kind != field.type:
        if in_use:
            errors["type"] = [_("Records hold values of this field: its type cannot change.")]
        else:
            field.type = kind
    if "choices" in data:
        raw = data["choices"]
        if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
            errors["choices"] = [_("Enter a list of texts.")]
        else:
            choices: list[str] = []
            for item in raw:
                text = " ".join(item.split())
                if text and text not in choices:
                    choices.append(text)
            if len(choices) > CHOICES_MAX or any(len(c) > 100 for c in choices):
                errors["choices"] = [_("At most 100 choices of 100 characters each.")]
            else:
                field.choices = choices
    for name in ("required", "is_active"):
        if name in data:
            if not isinstance(data[name], bool):
                errors[name] = [_("Enter true or false.")]
            else:
                setattr(field, name, data[name])
    if "position" in data:
        raw = data["position"]
        if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw <= 32767:
            errors["position"] = [_("Enter a whole number from 0 to 32767.")]
        else:
            field.position = raw
    if "type" not in errors and "choices" not in errors:
        if field.type == FieldType.CHOICE and not field.choices:
            errors["choices"] = [_("A choice field needs its choices.")]
        elif field.type != FieldType.CHOICE and field.choices:
            field.choices = []
    if not errors and field.target and field.key:
        taken = CustomField.objects.filter(target=field.target, key=field.key)
        if taken.exclude(pk=field.pk).exists():
            errors["key"] = [_("Another field has this key.")]
    _refuse(errors)


def save_custom_field(
    *, actor: Any, data: Mapping[str, Any], field_id: int | None = None
) -> CustomField:
    """Defines a custom field, or changes one (administrators). Its key, target and type
    are fixed once records hold values of it: the values would be lost or no longer fit."""
    _may_manage(actor)
    with transaction.atomic():
        if field_id is None:
            field = CustomField()
        else:
            found = CustomField.objects.select_for_update().filter(pk=field_id).first()
            if found is None:
                raise NotFound(_("Custom field not found."))
            field = found
        names = (*FIELD_FIELDS, "is_active")
        before = _snapshot(field, names) if field_id is not None else {}
        _apply_field(field, data, creating=field_id is None)
        after = _snapshot(field, names)
        if field_id is None:
            _save(field, {"customfield_key_uniq": ("key", _("Another field has this key."))})
            audit.record(
                kind="customer",
                verb=CustomerVerb.FIELD_DEFINED,
                actor=actor,
                object_id=field.pk,
                after=after,
            )
            return field
        old, new = _changes(before, after)
        if new:
            _save(field, {"customfield_key_uniq": ("key", _("Another field has this key."))})
            audit.record(
                kind="customer",
                verb=CustomerVerb.FIELD_CHANGED,
                actor=actor,
                object_id=field.pk,
                before=old,
                after=new,
            )
    return field


def retire_custom_field(*, actor: Any, field_id: int) -> CustomField:
    """Hides a field from forms and checks; the values records hold stay (a field is never
    deleted, so a retired one can come back with them)."""
    _may_manage(actor)
    with transaction.atomic():
        field = CustomField.objects.select_for_update().filter(pk=field_id).first()
        if field is None:
            raise NotFound(_("Custom field not found."))
        if field.is_active:
            field.is_active = False
            field.save(update_fields=["is_active", "updated_at"])
            audit.record(
                kind="customer",
                verb=CustomerVerb.FIELD_RETIRED,
                actor=actor,
                object_id=field.pk,
                before={"is_active": True},
                after={"is_active": False},
            )
    return field


# --- reads of personal data --------------------------------------------------------------
PERSONAL_DATA_VIEW_WINDOW = 600


def record_personal_data_viewed(*, actor: Any, contact: Contact) -> bool:
    """One audit row when a member of staff reads a contact's personal data, at most one per
    user and contact in ``PERSONAL_DATA_VIEW_WINDOW`` seconds (the cache remembers the
    last). True when a row was written."""
    from django.core.cache import cache

    if not permissions.sees_personal_data(actor):
        return False
    key = f"customers:pd-viewed:{actor.pk}:{contact.pk}"
    if not cache.add(key, 1, PERSONAL_DATA_VIEW_WINDOW):
        return False
    try:
        with transaction.atomic():
            audit.record(
                kind="contact",
                verb=ContactVerb.PERSONAL_DATA_VIEWED,
                actor=actor,
                **_contact_audit_ids(contact),
            )
    except Exception:
        cache.delete(key)
        raise
    return True


# --- checks without a write (the admin's forms) ------------------------------------------
def check_customer(*, actor: Any, customer_id: int | None, data: Mapping[str, Any]) -> None:
    """``InvalidInput`` with what ``create_customer`` / ``update_customer`` would refuse in
    ``data``; nothing is written (the admin's form shows the problems by field)."""
    customer = Customer() if customer_id is None else Customer.objects.get(pk=customer_id)
    _apply_customer(actor, customer, data, creating=customer_id is None)


def check_contact(*, actor: Any, contact_id: int | None, data: Mapping[str, Any]) -> None:
    contact = Contact() if contact_id is None else Contact.objects.get(pk=contact_id)
    _apply_contact(actor, contact, data, creating=contact_id is None)


def check_custom_field(*, field_id: int | None, data: Mapping[str, Any]) -> None:
    field = CustomField() if field_id is None else CustomField.objects.get(pk=field_id)
    _apply_field(field, data, creating=field_id is None)
