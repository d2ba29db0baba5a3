"""Segments: a saved ``definition`` compiled into one ``Q`` over ``Contact``, its count, its
preview, the contacts of a static list, and who of a set of contacts may be reached for a
purpose (docs/customers-segments.md).

A definition is ``{"all": [item, ...]}`` or ``{"any": [item, ...]}``; an item is a
condition ``{"field", "op", "value"}`` or, one level deep, a group ``{"any": [...]}`` /
``{"all": [...]}`` of conditions. Activity is read from the platform's tables only (the
audit trail, the work queue, surveys): customers imports no process app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Avg, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import InvalidInput, NotFound

from .. import permissions
from ..choices import (
    CustomerKind,
    CustomerTier,
    FieldTarget,
    FieldType,
    Language,
    PointKind,
    PreferredChannel,
    Purpose,
    SegmentKind,
)
from ..fields import clean_value
from ..models import Consent, Contact, ContactPoint, CustomField, Segment, Suppression
from . import contacts_visible_to

PREVIEW_SIZE = 20
MAX_CONDITIONS = 50
MAX_DAYS = 3650
MAX_LIST = 100
# Purposes a contact must have opted in to; the others reach a contact unless refused.
OPT_IN_PURPOSES = frozenset({Purpose.MARKETING_EMAIL, Purpose.PHONE, Purpose.SMS})
EMAIL_PURPOSES = frozenset({Purpose.SERVICE_EMAIL, Purpose.MARKETING_EMAIL})


def live_contacts() -> QuerySet[Contact]:
    """Contacts a segment may hold: neither merged away nor erased."""
    return Contact.objects.filter(merged_into__isnull=True, erased_at__isnull=True)


# --- the fields of the definition language -----------------------------------------------
@dataclass(frozen=True)
class FieldSpec:
    ops: tuple[str, ...]
    # "choice" (one of ``choices``), "text", "bool", "days", "score", "tags"
    kind: str
    choices: tuple[str, ...] = ()


FIELDS: dict[str, FieldSpec] = {
    "customer.tier": FieldSpec(("eq", "ne", "in"), "choice", tuple(CustomerTier.values)),
    "customer.kind": FieldSpec(("eq", "ne", "in"), "choice", tuple(CustomerKind.values)),
    "customer.region": FieldSpec(("eq", "ne", "in", "contains"), "text"),
    "customer.industry": FieldSpec(("eq", "ne", "in", "contains"), "text"),
    "customer.tags": FieldSpec(("in",), "tags"),
    "contact.language": FieldSpec(("eq", "ne", "in"), "choice", tuple(Language.values)),
    "contact.preferred_channel": FieldSpec(
        ("eq", "ne", "in"), "choice", ("", *PreferredChannel.values)
    ),
    "contact.has_email": FieldSpec(("eq",), "bool"),
    "activity.last_ticket_days": FieldSpec(("within",), "days"),
    "activity.no_ticket_days": FieldSpec(("within",), "days"),
    "activity.csat_below": FieldSpec(("lt",), "score"),
    "activity.open_complaint": FieldSpec(("eq",), "bool"),
    "contract.ending_within_days": FieldSpec(("within",), "days"),
}
CUSTOM_OPS: dict[str, tuple[str, ...]] = {
    FieldType.TEXT: ("eq", "ne", "in", "contains"),
    FieldType.NUMBER: ("eq", "ne", "gt", "lt"),
    FieldType.DATE: ("eq", "ne", "gt", "lt"),
    FieldType.BOOLEAN: ("eq", "ne"),
    FieldType.CHOICE: ("eq", "ne", "in"),
}
COLUMNS = {
    "customer.tier": "customer__tier",
    "customer.kind": "customer__kind",
    "customer.region": "customer__region",
    "customer.industry": "customer__industry",
    "contact.language": "language",
    "contact.preferred_channel": "preferred_channel",
}


def field_catalogue() -> list[dict[str, Any]]:
    """The fields, their operators and allowed values, as the editor offers them."""
    rows: list[dict[str, Any]] = [
        {"field": name, "ops": list(spec.ops), "kind": spec.kind, "choices": list(spec.choices)}
        for name, spec in FIELDS.items()
    ]
    for field in CustomField.objects.filter(is_active=True).order_by("target", "position", "id"):
        rows.append(
            {
                "field": f"{field.target}.custom.{field.key}",
                "ops": list(CUSTOM_OPS.get(field.type, ())),
                "kind": f"custom_{field.type}",
                "choices": [str(c) for c in field.choices],
                "label": field.label,
                "label_zh": field.label_zh,
            }
        )
    return rows


# --- compiling ---------------------------------------------------------------------------
class _Errors:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)


def _ids_of_customers_with_ticket_since(days: int) -> QuerySet[Any]:
    from audit.models import AuditEvent

    since = timezone.now() - timedelta(days=days)
    return (
        AuditEvent.objects.filter(
            subject_kind="ticket",
            verb="created",
            customer_id__isnull=False,
            created_at__gte=since,
        )
        .order_by()
        .values("customer_id")
    )


def _ids_of_customers_csat_below(score: float) -> QuerySet[Any]:
    from surveys.choices import Scale
    from surveys.models import SurveyResponse

    return (
        SurveyResponse.objects.filter(
            invitation__scale=Scale.CSAT,
            score__isnull=False,
            invitation__contact__customer_id__isnull=False,
        )
        .order_by()
        .values("invitation__contact__customer_id")
        .annotate(average=Avg("score"))
        .filter(average__lt=score)
        .values("invitation__contact__customer_id")
    )


def _ids_of_customers_with_open_complaint() -> QuerySet[Any]:
    """The work queue has no customer column: the customers' audit rows name the complaints
    created for them, and a complaint is open while it has a work item."""
    from audit.models import AuditEvent
    from processes.models import WorkItem

    open_ids = WorkItem.objects.filter(kind="complaint").values("object_id")
    return (
        AuditEvent.objects.filter(
            subject_kind="complaint",
            verb="created",
            customer_id__isnull=False,
            complaint_id__in=open_ids,
        )
        .order_by()
        .values("customer_id")
    )


def _ids_of_customers_contract_ending(days: int) -> QuerySet[Any]:
    from ..models import Contract

    today = timezone.localdate()
    return (
        Contract.objects.filter(ends_on__gte=today, ends_on__lte=today + timedelta(days=days))
        .order_by()
        .values("customer_id")
    )


def _int_in(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if number != int(number) or not low <= number <= high:
        return None
    return int(number)


def _builtin(name: str, spec: FieldSpec, op: str, value: Any, path: str, err: _Errors) -> Q:
    fail = Q(pk__in=[])
    if spec.kind == "choice" or spec.kind == "text":
        values = value if op == "in" else [value]
        if op == "in" and (not isinstance(value, list) or not value or len(value) > MAX_LIST):
            err.add(path, _("Give a list of 1 to %(n)s values.") % {"n": MAX_LIST})
            return fail
        if not all(isinstance(v, str) for v in values):
            err.add(path, _("Give text values."))
            return fail
        if spec.kind == "choice":
            wrong = [v for v in values if v not in spec.choices]
            if wrong:
                err.add(
                    path,
                    _("Choose one of: %(choices)s.") % {"choices": ", ".join(spec.choices)},
                )
                return fail
        column = COLUMNS[name]
        if op == "eq":
            return Q(**{column: value})
        if op == "ne":
            return ~Q(**{column: value})
        if op == "in":
            return Q(**{f"{column}__in": values})
        if not value.strip():
            err.add(path, _("Give some text."))
            return fail
        return Q(**{f"{column}__icontains": value.strip()})
    if spec.kind == "tags":
        if (
            not isinstance(value, list)
            or not value
            or len(value) > MAX_LIST
            or not all(isinstance(v, str) and v.strip() for v in value)
        ):
            err.add(path, _("Give a list of 1 to %(n)s tags.") % {"n": MAX_LIST})
            return fail
        return Q(customer__tags__has_any_keys=[v.strip() for v in value])
    if spec.kind == "bool":
        if not isinstance(value, bool):
            err.add(path, _("Give true or false."))
            return fail
        if name == "contact.has_email":
            has = ~Q(email="")
        else:
            has = Q(customer_id__in=_ids_of_customers_with_open_complaint())
        return has if value else ~has
    if spec.kind == "days":
        days = _int_in(value, 1, MAX_DAYS)
        if days is None:
            err.add(path, _("Give a whole number of days from 1 to %(n)s.") % {"n": MAX_DAYS})
            return fail
        if name == "activity.last_ticket_days":
            return Q(customer_id__in=_ids_of_customers_with_ticket_since(days))
        if name == "activity.no_ticket_days":
            return ~Q(customer_id__in=_ids_of_customers_with_ticket_since(days))
        return Q(customer_id__in=_ids_of_customers_contract_ending(days))
    # score: CSAT is 1 to 5
    if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 5:
        err.add(path, _("Give a score from 1 to 5."))
        return fail
    return Q(customer_id__in=_ids_of_customers_csat_below(float(value)))


def _custom(
    name: str, fields: dict[str, CustomField], op: str, value: Any, path: str, err: _Errors
) -> Q:
    fail = Q(pk__in=[])
    target, _custom_word, key = name.split(".", 2)
    field = fields.get(f"{target}.{key}")
    if field is None:
        err.add(path.rsplit(".", 1)[0] + ".field", _("No such field."))
        return fail
    allowed = CUSTOM_OPS.get(field.type, ())
    if op not in allowed:
        err.add(
            path.rsplit(".", 1)[0] + ".op",
            _("Use one of: %(values)s.") % {"values": ", ".join(allowed)},
        )
        return fail
    raw = value if op == "in" else [value]
    if op == "in" and (not isinstance(value, list) or not value or len(value) > MAX_LIST):
        err.add(path, _("Give a list of 1 to %(n)s values.") % {"n": MAX_LIST})
        return fail
    cleaned: list[Any] = []
    for item in raw:
        try:
            converted = clean_value(field, item)
        except ValueError as exc:
            err.add(path, str(exc))
            return fail
        if converted is None:
            err.add(path, _("Give a value."))
            return fail
        cleaned.append(converted)
    prefix = "customer__custom__" if target == FieldTarget.CUSTOMER else "custom__"
    column = f"{prefix}{field.key}"
    if op == "eq":
        return Q(**{column: cleaned[0]})
    if op == "ne":
        return Q(**{f"{column}__isnull": False}) & ~Q(**{column: cleaned[0]})
    if op == "in":
        return Q(**{f"{column}__in": cleaned})
    if op == "contains":
        return Q(**{f"{column}__icontains": cleaned[0]})
    return Q(**{f"{column}__{op}": cleaned[0]})


def _condition(item: Any, path: str, fields: dict[str, CustomField], err: _Errors) -> Q:
    fail = Q(pk__in=[])
    if not isinstance(item, dict):
        err.add(path, _("Expected a condition: an object with field, op and value."))
        return fail
    extra = set(item) - {"field", "op", "value"}
    if extra:
        err.add(path, _("Unknown keys: %(keys)s.") % {"keys": ", ".join(sorted(map(str, extra)))})
        return fail
    name, op, value = item.get("field"), item.get("op"), item.get("value")
    if not isinstance(name, str) or not name:
        err.add(f"{path}.field", _("This field is required."))
        return fail
    if not isinstance(op, str) or not op:
        err.add(f"{path}.op", _("This field is required."))
        return fail
    if "value" not in item:
        err.add(f"{path}.value", _("This field is required."))
        return fail
    if name.startswith(("customer.custom.", "contact.custom.")):
        return _custom(name, fields, op, value, f"{path}.value", err)
    spec = FIELDS.get(name)
    if spec is None:
        err.add(f"{path}.field", _("No such field."))
        return fail
    if op not in spec.ops:
        err.add(f"{path}.op", _("Use one of: %(values)s.") % {"values": ", ".join(spec.ops)})
        return fail
    return _builtin(name, spec, op, value, f"{path}.value", err)


def _group(
    node: Any, path: str, fields: dict[str, CustomField], err: _Errors, *, nested: bool
) -> Q:
    if not isinstance(node, dict) or len(node) != 1 or next(iter(node)) not in ("all", "any"):
        err.add(path, _('Expected {"all": [...]} or {"any": [...]}.'))
        return Q(pk__in=[])
    joiner = next(iter(node))
    items = node[joiner]
    where = f"{path}.{joiner}"
    if not isinstance(items, list):
        err.add(where, _("Expected a list of conditions."))
        return Q(pk__in=[])
    if len(items) > MAX_CONDITIONS:
        err.add(where, _("At most %(n)s conditions.") % {"n": MAX_CONDITIONS})
        return Q(pk__in=[])
    parts: list[Q] = []
    for index, item in enumerate(items):
        item_path = f"{where}.{index}"
        if isinstance(item, dict) and ("all" in item or "any" in item):
            if nested:
                err.add(item_path, _("Groups nest one level only."))
                continue
            parts.append(_group(item, item_path, fields, err, nested=True))
        else:
            parts.append(_condition(item, item_path, fields, err))
    if not parts:
        return Q()
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part if joiner == "all" else combined | part
    return combined


def compile_definition(definition: Any) -> Q:
    """The ``Q`` over ``Contact`` a definition means; ``InvalidInput`` with one error per
    condition (``definition.all.2.value``) when it does not hold. An empty definition
    (``{}``) means every contact."""
    if definition in ({}, None):
        return Q()
    fields = {f"{f.target}.{f.key}": f for f in CustomField.objects.filter(is_active=True)}
    err = _Errors()
    q = _group(definition, "definition", fields, err, nested=False)
    if err.errors:
        raise InvalidInput(_("The segment's definition is not valid."), err.errors)
    return q


# --- reading segments --------------------------------------------------------------------
def _check_reader(user: Any) -> None:
    if not (permissions.can_manage_segments(user) or permissions.sees_every_customer(user)):
        raise NotFound(_("No such segment."))


def segments_visible_to(user: Any) -> QuerySet[Segment]:
    """Segments are shared: everyone who manages segments, and the readers of counts
    (analysts), see them all."""
    if not (permissions.can_manage_segments(user) or permissions.sees_every_customer(user)):
        return Segment.objects.none()
    return Segment.objects.all()


def get_segment(user: Any, pk: int) -> Segment:
    segment = segments_visible_to(user).filter(pk=pk).first()
    if segment is None:
        raise NotFound(_("No such segment."))
    return segment


def matching_contacts(user: Any, definition: Any) -> QuerySet[Contact]:
    """The contacts ``user`` may see that ``definition`` selects."""
    q = compile_definition(definition)
    visible = contacts_visible_to(user).values("pk")
    return live_contacts().filter(q).filter(pk__in=visible)


def count_segment(user: Any, definition: Any) -> int:
    _check_reader(user)
    return matching_contacts(user, definition).count()


def preview_segment(user: Any, definition: Any) -> list[Contact]:
    """The first ``PREVIEW_SIZE`` contacts, by id. Only those who see personal data read
    them (analysts see the count only)."""
    if not permissions.can_manage_segments(user):
        raise NotFound(_("No such segment."))
    return list(
        matching_contacts(user, definition).select_related("customer").order_by("pk")[:PREVIEW_SIZE]
    )


def segment_contacts(segment: Segment, user: Any | None = None) -> QuerySet[Contact]:
    """A segment's contacts now: a static list's members, a saved filter's matches (both
    without merged-away and erased contacts), narrowed to ``user``'s contacts when given."""
    if segment.kind == SegmentKind.STATIC:
        from ..models import SegmentMember

        rows = live_contacts().filter(
            pk__in=SegmentMember.objects.filter(segment=segment).values("contact_id")
        )
    else:
        rows = live_contacts().filter(compile_definition(segment.definition))
    if user is not None:
        rows = rows.filter(pk__in=contacts_visible_to(user).values("pk"))
    return rows


def segment_size(segment: Segment, user: Any | None = None) -> int:
    try:
        return segment_contacts(segment, user).count()
    except InvalidInput:  # a custom field it names was removed since
        return 0


# --- who may be reached ------------------------------------------------------------------
def _suppressed(kind: str, column: str) -> Q:
    """The contact's primary address (``column``) or one of its further points of ``kind``
    is on the suppression list."""
    primary = Exists(Suppression.objects.filter(kind=kind, address=Lower(OuterRef(column))))
    points = Exists(
        ContactPoint.objects.filter(contact_id=OuterRef("pk"), kind=kind).filter(
            Exists(Suppression.objects.filter(kind=kind, address=OuterRef("value")))
        )
    )
    return Q(primary) | Q(points)


def reachable_contacts(contacts: QuerySet[Contact], purpose: str) -> QuerySet[Contact]:
    """Those of ``contacts`` a message for ``purpose`` may go to: with an address (email) or
    number (phone, SMS); consent granted (marketing email, phone and SMS need an explicit
    ``Consent(granted=True)``; service email goes unless refused); and — for every purpose
    but service email — none of their addresses or numbers on the suppression list, which
    nothing overrides."""
    if purpose not in Purpose.values:
        raise InvalidInput(
            _("Unknown purpose."),
            {"purpose": [_("Use one of: %(values)s.") % {"values": ", ".join(Purpose.values)}]},
        )
    rows = contacts.filter(merged_into__isnull=True, erased_at__isnull=True)
    consent = Consent.objects.filter(contact_id=OuterRef("pk"), purpose=purpose)
    if purpose in OPT_IN_PURPOSES:
        rows = rows.filter(Exists(consent.filter(granted=True)))
    else:
        rows = rows.exclude(Exists(consent.filter(granted=False)))
    if purpose in EMAIL_PURPOSES:
        rows = rows.exclude(email="")
        if purpose != Purpose.SERVICE_EMAIL:
            rows = rows.exclude(_suppressed(PointKind.EMAIL, "email"))
    else:
        rows = rows.exclude(phone="").exclude(_suppressed(PointKind.PHONE, "phone"))
    return rows
