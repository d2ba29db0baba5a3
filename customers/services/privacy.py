"""Privacy requests of data subjects under PIPL / GDPR (docs/customers-privacy.md): access,
correction and erasure, each a small process with a statutory deadline on the platform's
SLA clock (kind ``privacy``, target ``answer``).

Every step is one transaction under the request's row lock; emails and file deletions
happen after commit. The process apps' data comes through ``customers.registry``
(``personal_data()``): this module imports no process app.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import services as audit_trail
from audit.models import AuditEvent
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from outbox.models import OutboxMessage
from sla import clock as clocks
from sla.models import SlaClock

from .. import permissions, registry
from ..choices import (
    ContactVerb,
    CustomerKind,
    CustomerVerb,
    Language,
    PreferredChannel,
    PrivacyKind,
    PrivacyStatus,
    PrivacyVerb,
    SuppressionReason,
)
from ..models import (
    Consent,
    Contact,
    ContactPoint,
    Customer,
    LegalHold,
    PrivacyRequest,
    Suppression,
)
from ..phones import InvalidPhone, display_phone, normalise_phone
from . import normalise_email

SLA_KIND = "privacy"
TARGET = "answer"
TARGETS = (TARGET,)
# What erased free text reads as (names, addresses and numbers become "").
PLACEHOLDER = "[erased]"
# The shortest value looked for inside audit values and other people's text: shorter ones
# ("Li") would match unrelated words.
MIN_VALUE_LENGTH = 4
OPEN_STATUSES = (PrivacyStatus.RECEIVED, PrivacyStatus.IN_PROGRESS)
# The contact's fields a correction may change, and how each is cleaned.
CORRECTABLE = ("name", "email", "phone", "title", "language", "birthday", "preferred_channel")
MAX_NOTE = 2000


def deadline_days() -> int:
    """``KEFU_PRIVACY_DEADLINE_DAYS`` (15): PIPL practice; GDPR's one month is longer, so
    15 days meets both (docs/customers-privacy.md)."""
    return int(getattr(settings, "KEFU_PRIVACY_DEADLINE_DAYS", 15))


def warning_percent() -> int:
    return int(getattr(settings, "KEFU_PRIVACY_WARNING_PERCENT", 80))


# --- personal values --------------------------------------------------------------------
def personal_values(contact: Contact) -> list[str]:
    """Every personal value of the contact as it is stored and as it is commonly written:
    name, addresses (and their local parts), numbers (E.164, digits, national digits,
    display form), external id, job title, text custom values, an individual customer's
    name. Longest first, so a scrub replaces the whole before its parts."""
    found: set[str] = set()
    emails = [contact.email, *_point_values(contact, "email")]
    phones = [contact.phone, *_point_values(contact, "phone")]
    for email in emails:
        if email:
            found.add(email)
            found.add(email.split("@", 1)[0])
    for phone in phones:
        if phone:
            digits = re.sub(r"\D", "", phone)
            found.update({phone, digits, display_phone(phone)})
            if phone.startswith("+86") and len(digits) > 2:
                found.add(digits[2:])
    for text in (contact.name, contact.external_id, contact.title):
        if text:
            found.add(text)
    # the parts of a name ("Qiuyue" of "Zhuang Qiuyue"): written alone in notes and audit
    found.update(contact.name.split())
    for value in (contact.custom or {}).values():
        if isinstance(value, str) and value:
            found.add(value)
    customer = contact.customer
    if customer is not None and customer.kind == CustomerKind.INDIVIDUAL and customer.name:
        found.add(customer.name)
    if contact.birthday:
        found.add(contact.birthday.isoformat())
    values = {v.strip() for v in found if _long_enough(v.strip())}
    return sorted(values, key=lambda v: (-len(v), v))


def _long_enough(value: str) -> bool:
    """Long enough to look for inside other text: four characters, or two of a name in
    Chinese characters (庄秋月)."""
    if len(value) >= MIN_VALUE_LENGTH:
        return True
    return len(value) >= 2 and not value.isascii()


def _point_values(contact: Contact, kind: str) -> list[str]:
    return list(contact.points.filter(kind=kind).values_list("value", flat=True))


def _pattern(values: Iterable[str]) -> re.Pattern[str] | None:
    values = [v for v in values if v]
    if not values:
        return None
    return re.compile("|".join(re.escape(v) for v in values), re.IGNORECASE)


def scrub_text(text: str, values: Iterable[str], placeholder: str = PLACEHOLDER) -> str:
    """``text`` with every occurrence of a value (any case) replaced by ``placeholder``."""
    pattern = _pattern(values)
    if pattern is None or not text:
        return text
    return pattern.sub(placeholder, text)


def contains_value(text: str, values: Iterable[str]) -> bool:
    pattern = _pattern(values)
    return bool(pattern and text and pattern.search(text))


def scrub_json(value: Any, values: list[str], placeholder: str = PLACEHOLDER) -> Any:
    """JSON data with every string that equals or contains a value replaced whole."""
    if isinstance(value, str):
        return placeholder if contains_value(value, values) else value
    if isinstance(value, list):
        return [scrub_json(v, values, placeholder) for v in value]
    if isinstance(value, dict):
        return {k: scrub_json(v, values, placeholder) for k, v in value.items()}
    return value


def suppression_hash(address: str) -> str:
    """The non-reversible form a suppressed address takes when its contact is erased: an
    HMAC of the normalised address under the site's secret (the list still matches the
    address if it ever comes back, nobody can read it off the list)."""
    import hmac

    digest = hmac.new(
        settings.SECRET_KEY.encode(), address.strip().lower().encode(), hashlib.sha256
    ).hexdigest()
    return f"sha256:{digest}"


# --- the request ------------------------------------------------------------------------
def _check(actor: Any) -> None:
    if not permissions.can_handle_privacy(actor):
        raise Forbidden(_("Only administrators and managers handle privacy requests."))


def _allocate_number(year: int) -> str:
    """Next ``P-YYYY-NNNNNN`` in the caller's transaction: the year's requests are counted
    under a transaction-level advisory lock (privacy requests are few; no counter table)."""
    if connection.vendor == "postgresql":  # SQLite's IMMEDIATE transactions queue anyway
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x6B656675, year])
    prefix = f"P-{year}-"
    last = (
        PrivacyRequest.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{sequence:06d}"


def _clean_details(kind: str, details: Any) -> dict[str, Any]:
    if details in (None, ""):
        details = {}
    if not isinstance(details, dict):
        raise InvalidInput(_("Check the request."), {"details": [_("Give an object.")]})
    if kind != PrivacyKind.CORRECTION:
        return {}
    if not details:
        raise InvalidInput(
            _("Check the request."), {"details": [_("Name at least one field to correct.")]}
        )
    unknown = sorted(set(details) - set(CORRECTABLE))
    if unknown:
        raise InvalidInput(
            _("Check the request."),
            {"details": [_("These fields cannot be corrected: %s") % ", ".join(unknown)]},
        )
    return {str(k): v for k, v in details.items()}


def record_request(
    actor: Any,
    contact: Contact,
    kind: str,
    details: Any = None,
    received_at: datetime | None = None,
    note: str = "",
) -> PrivacyRequest:
    """A request received (by email, phone, letter): numbered, due in the statutory days,
    its clock started, audited ``privacy.received``."""
    _check(actor)
    if kind not in PrivacyKind.values:
        raise InvalidInput(_("Check the request."), {"kind": [_("Choose a kind.")]})
    if contact.merged_into_id is not None:
        raise Conflict(_("This contact was merged into another; record the request there."))
    if contact.erased_at is not None:
        raise Conflict(_("This contact's personal data has been erased."))
    clean = _clean_details(kind, details)
    if kind == PrivacyKind.CORRECTION:
        _corrected_values(contact, clean)  # refuse a bad value now, not at the end
    now = timezone.now()
    received = received_at or now
    if received > now + timedelta(minutes=5):
        raise InvalidInput(
            _("Check the request."), {"received_at": [_("It cannot be in the future.")]}
        )
    with transaction.atomic():
        request = PrivacyRequest.objects.create(
            number=_allocate_number(received.year),
            kind=kind,
            contact=contact,
            details=clean,
            note=(note or "").strip()[:MAX_NOTE],
            received_at=received,
            due_at=received + timedelta(days=deadline_days()),
            created_by=actor,
        )
        start_clock(request)
        audit_trail.record(
            kind="privacy",
            verb=PrivacyVerb.RECEIVED,
            actor=actor,
            object_id=request.pk,
            customer_id=contact.customer_id,
            contact_id=contact.pk,
            after={
                "number": request.number,
                "kind": kind,
                "due": request.due_at.isoformat(),
                "fields": sorted(clean),
            },
        )
    return request


def start_clock(request: PrivacyRequest) -> SlaClock:
    """The statutory clock: one target (``answer``) of the deadline in calendar time (the
    law counts days, not business hours), warning at ``KEFU_PRIVACY_WARNING_PERCENT``."""
    row = SlaClock(kind=SLA_KIND, object_id=request.pk, policy=None)
    row.terms = {
        "policy_id": None,
        "policy": "statutory",
        "targets": [[TARGET, deadline_days() * 86400]],
        "warning_percent": warning_percent(),
        "escalation": [],
        "calendar": None,
    }
    row.started_at = request.received_at
    clocks.save(row)
    return row


def clock_of(request: PrivacyRequest) -> SlaClock | None:
    return SlaClock.objects.filter(kind=SLA_KIND, object_id=request.pk).first()


def _stop_clock(request: PrivacyRequest, at: datetime) -> None:
    row = SlaClock.objects.select_for_update().filter(kind=SLA_KIND, object_id=request.pk).first()
    if row is None:
        return
    clocks.meet(row, TARGETS, at)
    clocks.stop(row, at)


def _locked(request: PrivacyRequest) -> PrivacyRequest:
    row = (
        PrivacyRequest.objects.select_for_update(of=("self",))
        .select_related("contact", "contact__customer")
        .filter(pk=request.pk)
        .first()
    )
    if row is None:
        raise NotFound(_("No such privacy request."))
    return row


def _require(request: PrivacyRequest, *statuses: str) -> None:
    if request.status not in statuses:
        raise Conflict(
            _("The request is %(status)s; this step is not possible now.")
            % {"status": request.get_status_display()}
        )


def start_request(actor: Any, request: PrivacyRequest) -> PrivacyRequest:
    """A handler takes the request (received → in progress)."""
    _check(actor)
    with transaction.atomic():
        row = _locked(request)
        _require(row, PrivacyStatus.RECEIVED)
        row.status = PrivacyStatus.IN_PROGRESS
        row.handler = actor
        row.save(update_fields=["status", "handler", "updated_at"])
        _audit(actor, row, PrivacyVerb.STARTED, {"status": row.status})
    return row


def refuse_request(actor: Any, request: PrivacyRequest, reason: str) -> PrivacyRequest:
    """Refused with a reason (the data subject is told by the handler); the clock stops."""
    _check(actor)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Check the request."), {"reason": [_("Give the reason.")]})
    with transaction.atomic():
        row = _locked(request)
        _require(row, *OPEN_STATUSES)
        _refuse(actor, row, reason[:MAX_NOTE])
    return row


def _refuse(actor: Any, row: PrivacyRequest, reason: str) -> None:
    now = timezone.now()
    row.status = PrivacyStatus.REFUSED
    row.refusal_reason = reason
    row.completed_at = now
    row.handler = row.handler or actor
    row.save(update_fields=["status", "refusal_reason", "completed_at", "handler", "updated_at"])
    _stop_clock(row, now)
    _audit(actor, row, PrivacyVerb.REFUSED, {"status": row.status, "reason": reason})


def _audit(actor: Any, row: PrivacyRequest, verb: str, after: dict[str, Any]) -> None:
    audit_trail.record(
        kind="privacy",
        verb=verb,
        actor=actor,
        object_id=row.pk,
        customer_id=row.contact.customer_id,
        contact_id=row.contact_id,
        after={"number": row.number, "kind": row.kind, **after},
    )


def complete_request(actor: Any, request: PrivacyRequest) -> PrivacyRequest:
    """Carries the request out by its kind."""
    steps: dict[str, Callable[[Any, PrivacyRequest], PrivacyRequest]] = {
        PrivacyKind.ACCESS: complete_access,
        PrivacyKind.CORRECTION: complete_correction,
        PrivacyKind.ERASURE: complete_erasure,
    }
    return steps[request.kind](actor, request)


def _done(actor: Any, row: PrivacyRequest, after: dict[str, Any]) -> None:
    now = timezone.now()
    row.status = PrivacyStatus.DONE
    row.completed_at = now
    row.handler = row.handler or actor
    row.save(update_fields=["status", "completed_at", "handler", "export", "details", "updated_at"])
    _stop_clock(row, now)
    _audit(actor, row, PrivacyVerb.COMPLETED, {"status": row.status, **after})


# --- access -----------------------------------------------------------------------------
def _json_ready(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _customer_data(customer: Customer | None) -> dict[str, Any] | None:
    if customer is None:
        return None
    return {
        "id": customer.pk,
        "kind": customer.kind,
        "name": customer.name,
        "tier": customer.tier,
        "region": customer.region,
        "industry": customer.industry,
        "tags": customer.tags,
        "external_id": customer.external_id,
        "custom": customer.custom,
        "created_at": customer.created_at,
    }


def build_export(contact: Contact) -> dict[str, Any]:
    """Everything Kefu holds about the contact, machine-readable: the contact, its customer,
    addresses and numbers, consents, legal holds, privacy requests, the audit rows about it,
    and each process app's data (``customers.registry``)."""
    audit_rows = AuditEvent.objects.filter(contact=contact).order_by("created_at", "id")
    data: dict[str, Any] = {
        "format": "kefu.privacy-export.v1",
        "generated_at": timezone.now(),
        "contact": {
            "id": contact.pk,
            "name": contact.name,
            "email": contact.email,
            "phone": contact.phone,
            "title": contact.title,
            "language": contact.language,
            "birthday": contact.birthday,
            "preferred_channel": contact.preferred_channel,
            "external_id": contact.external_id,
            "custom": contact.custom,
            "created_at": contact.created_at,
            "updated_at": contact.updated_at,
        },
        "customer": _customer_data(contact.customer),
        "points": [
            {"kind": p.kind, "value": p.value, "label": p.label}
            for p in ContactPoint.objects.filter(contact=contact).order_by("kind", "id")
        ],
        "consents": [
            {
                "purpose": c.purpose,
                "granted": c.granted,
                "source": c.source,
                "at": c.at,
                "note": c.note,
            }
            for c in Consent.objects.filter(contact=contact).order_by("purpose")
        ],
        "privacy_requests": [
            {
                "number": r.number,
                "kind": r.kind,
                "status": r.status,
                "received_at": r.received_at,
                "completed_at": r.completed_at,
            }
            for r in PrivacyRequest.objects.filter(contact=contact).order_by("received_at", "id")
        ],
        "audit": [
            {
                "kind": e.subject_kind,
                "verb": e.verb,
                "at": e.created_at,
                "before": e.before,
                "after": e.after,
            }
            for e in audit_rows
        ],
    }
    for app in registry.personal_data():
        data[app.name] = app.export(contact)
    ready: dict[str, Any] = _json_ready(data)
    return ready


def complete_access(actor: Any, request: PrivacyRequest) -> PrivacyRequest:
    """Builds the export, stores it on the request, and emails the contact a signed link
    (7 days) after commit; audited ``contact.personal_data_exported`` and
    ``privacy.completed``."""
    from .. import emails

    _check(actor)
    with transaction.atomic():
        row = _locked(request)
        _require(row, *OPEN_STATUSES)
        contact = row.contact
        if not contact.email:
            raise Conflict(_("The contact has no email address to send the link to."))
        export = build_export(contact)
        body = json.dumps(export, ensure_ascii=False, indent=2).encode()
        row.export.save(f"{row.number}.json", ContentFile(body), save=False)
        audit_trail.record(
            kind="contact",
            verb=ContactVerb.PERSONAL_DATA_EXPORTED,
            actor=actor,
            customer_id=contact.customer_id,
            contact_id=contact.pk,
            after={"privacy_request": row.number, "bytes": len(body)},
        )
        _done(actor, row, {"export": row.export.name})
        emails.export_ready(row)
    return row


# --- correction -------------------------------------------------------------------------
def _corrected_values(contact: Contact, details: dict[str, Any]) -> dict[str, Any]:
    """The contact's new values, cleaned like the record's own form; ``InvalidInput`` per
    field otherwise."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email
    from django.utils.dateparse import parse_date

    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for field, raw in details.items():
        value = "" if raw is None else raw
        if not isinstance(value, str):
            errors[field] = [_("Give text.")]
            continue
        value = value.strip()
        if field == "email":
            value = normalise_email(value)
            if value:
                try:
                    validate_email(value)
                except ValidationError:
                    errors[field] = [_("Enter a valid email address.")]
                    continue
                taken = Contact.objects.filter(email__iexact=value).exclude(pk=contact.pk)
                taken = taken.filter(
                    Q(customer_id=contact.customer_id)
                    if contact.customer_id
                    else Q(customer__isnull=True)
                )
                if taken.exists():
                    errors[field] = [_("Another contact has this address.")]
                    continue
        elif field == "phone":
            try:
                value = normalise_phone(value)
            except InvalidPhone as exc:
                errors[field] = [str(exc)]
                continue
        elif field == "birthday":
            if value:
                parsed = parse_date(value) if len(value) == 10 else None
                if parsed is None:
                    errors[field] = [_("Enter a date as YYYY-MM-DD.")]
                    continue
                out[field] = parsed
                continue
            out[field] = None
            continue
        elif field == "language":
            if value not in Language.values:
                errors[field] = [_("Choose a language.")]
                continue
        elif field == "preferred_channel":
            if value and value not in PreferredChannel.values:
                errors[field] = [_("Choose a channel.")]
                continue
        elif field == "name":
            value = value[:200]
        elif field == "title":
            value = value[:100]
        out[field] = value
    if errors:
        raise InvalidInput(_("Check the corrections."), errors)
    return out


def complete_correction(actor: Any, request: PrivacyRequest) -> PrivacyRequest:
    """Applies ``details`` ({field: value}) to the contact, validated; audited
    ``contact.corrected`` with the fields before and after."""
    _check(actor)
    with transaction.atomic():
        row = _locked(request)
        _require(row, *OPEN_STATUSES)
        contact = Contact.objects.select_for_update().get(pk=row.contact_id)
        values = _corrected_values(contact, row.details or {})
        before = {f: getattr(contact, f) for f in values}
        for field, value in values.items():
            setattr(contact, field, value)
        contact.save(update_fields=[*values, "updated_at"])
        audit_trail.record(
            kind="contact",
            verb=ContactVerb.CORRECTED,
            actor=actor,
            customer_id=contact.customer_id,
            contact_id=contact.pk,
            before=_json_ready(before),
            after={**_json_ready(values), "privacy_request": row.number},
        )
        _done(actor, row, {"fields": sorted(values)})
    return row


# --- erasure ----------------------------------------------------------------------------
def hold_reason(contact: Contact) -> str:
    """Why the contact's data must be kept, or "": an active legal hold on the contact or
    its customer, else the first process app's reason (an open complaint)."""
    holds = LegalHold.objects.filter(released_at__isnull=True).filter(
        Q(contact=contact) | Q(customer_id=contact.customer_id)
        if contact.customer_id
        else Q(contact=contact)
    )
    hold = holds.order_by("created_at", "id").first()
    if hold is not None:
        return _("Legal hold: %(reason)s") % {"reason": hold.reason}
    for app in registry.personal_data():
        if app.held is not None:
            reason = app.held(contact)
            if reason:
                return reason
    return ""


def complete_erasure(actor: Any, request: PrivacyRequest) -> PrivacyRequest:
    """Anonymises the contact in place everywhere, or refuses with the hold's reason."""
    _check(actor)
    with transaction.atomic():
        row = _locked(request)
        _require(row, *OPEN_STATUSES)
        contact = (
            Contact.objects.select_for_update(of=("self",))
            .select_related("customer")
            .get(pk=row.contact_id)
        )
        reason = hold_reason(contact)
        if reason:
            _refuse(actor, row, reason)
            return row
        counts = erase_contact(actor, contact, row)
        _done(actor, row, {"rows": counts})
    return row


def erase_contact(actor: Any, contact: Contact, request: PrivacyRequest) -> dict[str, int]:
    """The erasure itself, in the caller's transaction: the process apps' data first (they
    read the contact's values), then suppression, outbox, audit values, other privacy
    requests, the contact and an individual customer. Rows stay: counts and statistics are
    unchanged."""
    values = personal_values(contact)
    addresses = {contact.email, *_point_values(contact, "email")} - {""}
    numbers = {contact.phone, *_point_values(contact, "phone")} - {""}
    counts: dict[str, int] = {}
    for app in registry.personal_data():
        counts[app.name] = app.erase(contact, PLACEHOLDER)
    counts["suppression"] = _hash_suppression(addresses, numbers)
    counts["outbox"] = _erase_outbox(addresses, values)
    files = [
        r.export.name
        for r in PrivacyRequest.objects.filter(contact=contact).exclude(export="")
        if r.export.name
    ]
    PrivacyRequest.objects.filter(contact=contact).update(details={}, export="")
    if request.export:
        request.export = ""
    request.details = {}
    customer = contact.customer
    before = {"customer": customer.pk if customer else None}
    ContactPoint.objects.filter(contact=contact).delete()
    contact.name = contact.email = contact.phone = contact.title = contact.external_id = ""
    contact.birthday = None
    contact.custom = {}
    contact.erased_at = timezone.now()
    contact.save(
        update_fields=[
            "name",
            "email",
            "phone",
            "title",
            "external_id",
            "birthday",
            "custom",
            "erased_at",
            "updated_at",
        ]
    )
    if customer is not None and customer.kind == CustomerKind.INDIVIDUAL:
        customer.name = PLACEHOLDER
        customer.external_id = ""
        customer.custom = {}
        customer.erased_at = contact.erased_at
        customer.save(update_fields=["name", "external_id", "custom", "erased_at", "updated_at"])
        audit_trail.record(
            kind="customer",
            verb=CustomerVerb.ERASED,
            actor=actor,
            customer_id=customer.pk,
            after={"privacy_request": request.number},
        )
    counts["audit"] = _scrub_audit(contact, values)
    audit_trail.record(
        kind="contact",
        verb=ContactVerb.ERASED,
        actor=actor,
        customer_id=contact.customer_id,
        contact_id=contact.pk,
        before=before,
        after={"privacy_request": request.number, "rows": counts},
    )
    if files:
        transaction.on_commit(lambda: _delete_files(files))
    return counts


def _delete_files(names: list[str]) -> None:
    for name in names:
        if name:
            default_storage.delete(name)


def _hash_suppression(addresses: set[str], numbers: set[str]) -> int:
    """Suppressed addresses and numbers of the contact stay suppressed under their hash."""
    changed = 0
    for kind, items in (("email", addresses), ("phone", numbers)):
        for address in items:
            for row in Suppression.objects.filter(kind=kind, address__iexact=address):
                hashed = suppression_hash(address)
                if Suppression.objects.filter(kind=kind, address=hashed).exists():
                    row.delete()
                else:
                    row.address = hashed
                    row.note = ""
                    row.reason = row.reason or SuppressionReason.ERASED
                    row.save(update_fields=["address", "note", "reason", "updated_at"])
                changed += 1
    return changed


def _erase_outbox(addresses: set[str], values: list[str]) -> int:
    """Emails Kefu sent the contact keep their row (delivery counts) without the address
    or the text."""
    if not addresses:
        return 0
    condition = Q()
    for address in addresses:
        condition |= Q(to__iexact=address)
    rows = list(OutboxMessage.objects.filter(condition))
    for message in rows:
        message.to = ""
        message.subject = scrub_text(message.subject, values)
        message.body_text = PLACEHOLDER
        message.body_html = ""
        message.headers = scrub_json(message.headers, values)
        message.last_error = scrub_text(message.last_error, values)
    if rows:
        OutboxMessage.objects.bulk_update(
            rows, ["to", "subject", "body_text", "body_html", "headers", "last_error"]
        )
    return len(rows)


def _scrub_audit(contact: Contact, values: list[str]) -> int:
    """Every string of the before/after values of audit rows about the contact, its
    customer (an individual) or its work that holds one of its values is replaced."""
    if not values:
        return 0
    condition = Q(contact=contact)
    for app in registry.personal_data():
        condition |= app_audit_condition(app.name, contact)
    if contact.customer_id:
        condition |= Q(customer_id=contact.customer_id)
    changed = []
    for event in AuditEvent.objects.filter(condition).only("pk", "before", "after").iterator():
        before = scrub_json(event.before, values)
        after = scrub_json(event.after, values)
        if before != event.before or after != event.after:
            event.before, event.after = before, after
            changed.append(event)
    if changed:
        AuditEvent.objects.bulk_update(changed, ["before", "after"], batch_size=500)
    return len(changed)


# Audit rows of a process app's work about a contact: the apps register a condition
# (``register_audit_scope``) so this module never names their models.
_audit_scopes: dict[str, Callable[[Contact], Q]] = {}


def register_audit_scope(name: str, scope: Callable[[Contact], Q]) -> None:
    _audit_scopes[name] = scope


def app_audit_condition(name: str, contact: Contact) -> Q:
    scope = _audit_scopes.get(name)
    return scope(contact) if scope is not None else Q(pk__in=[])
