"""Writes of consent and of the suppression list (docs/customers-segments.md).

Consent is one row per contact and purpose (the current answer); every change is an audit
row ``contact.consent`` with the answer before and after. An unsubscribe through a signed
link needs no one signed in and is honoured at once; for marketing email it also puts the
address on the suppression list, which no campaign overrides. Bounces and spam complaints
(the mail app's hooks) put addresses there too."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import services as audit
from core.errors import Forbidden, InvalidInput, NotFound

from .. import permissions
from ..choices import ConsentSource, ContactVerb, PointKind, Purpose, SuppressionReason
from ..models import Consent, Contact, Suppression
from ..phones import InvalidPhone, normalise_phone
from . import contacts_with_email, normalise_email

NOTE_MAX_LENGTH = 200


def _state(consent: Consent | None) -> dict[str, Any]:
    if consent is None:
        return {}
    return {
        "purpose": consent.purpose,
        "granted": consent.granted,
        "source": consent.source,
        "at": consent.at.isoformat(),
        "note": consent.note,
    }


def _check_purpose(purpose: str) -> None:
    if purpose not in Purpose.values:
        raise InvalidInput(
            _("Unknown purpose."),
            {"purpose": [_("Use one of: %(values)s.") % {"values": ", ".join(Purpose.values)}]},
        )


def _write_consent(
    contact: Contact,
    purpose: str,
    granted: bool,
    source: str,
    note: str,
    actor: Any,
    verb: str,
) -> tuple[Consent, bool]:
    """Upserts the answer (the row locked); an audit row when it changed. Returns the row
    and whether it changed."""
    # The contact's row is the lock: two answers for the same purpose (a click and a call)
    # are written one after the other, never both inserted.
    Contact.objects.select_for_update().filter(pk=contact.pk).values_list("pk").first()
    current = Consent.objects.filter(contact=contact, purpose=purpose).first()
    if (
        current is not None
        and current.granted == granted
        and current.source == source
        and (current.note == note or verb == ContactVerb.UNSUBSCRIBED)
    ):
        return current, False
    before = _state(current)
    consent = current or Consent(contact=contact, purpose=purpose)
    consent.granted = granted
    consent.source = source
    consent.note = note
    consent.at = timezone.now()
    consent.actor = actor if actor is not None and actor.is_authenticated else None
    consent.save()
    audit.record(
        kind="contact",
        verb=verb,
        actor=actor,
        customer_id=contact.customer_id,
        contact_id=contact.pk,
        before=before,
        after=_state(consent),
    )
    return consent, True


def set_consent(
    actor: Any, contact: Contact, purpose: str, granted: bool, source: str, note: str = ""
) -> Consent:
    """Records ``contact``'s answer for ``purpose`` (``can_record_consent``), audited
    ``contact.consent`` with before and after. Nothing is written when nothing changed."""
    if not permissions.can_record_consent(actor):
        raise Forbidden(_("You may not record consent."))
    _check_purpose(purpose)
    errors: dict[str, list[str]] = {}
    if source not in ConsentSource.values:
        errors["source"] = [
            _("Use one of: %(values)s.") % {"values": ", ".join(ConsentSource.values)}
        ]
    if not isinstance(granted, bool):
        errors["granted"] = [_("Give true or false.")]
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        errors["note"] = [_("At most %(limit)s characters.") % {"limit": NOTE_MAX_LENGTH}]
    if errors:
        raise InvalidInput(_("The consent is not valid."), errors)
    if contact.erased_at is not None or contact.merged_into_id is not None:
        raise NotFound(_("No such contact."))
    with transaction.atomic():
        consent, _changed = _write_consent(
            contact, purpose, granted, source, note, actor, ContactVerb.CONSENT
        )
    return consent


def unsubscribe(contact: Contact, purpose: str) -> bool:
    """The contact withdrew ``purpose`` through a signed link: honoured at once, no one
    signed in. For marketing email the address also goes on the suppression list. Returns
    whether anything changed (a second click changes nothing)."""
    _check_purpose(purpose)
    with transaction.atomic():
        _consent, changed = _write_consent(
            contact,
            purpose,
            False,
            ConsentSource.UNSUBSCRIBE,
            "",
            None,
            ContactVerb.UNSUBSCRIBED,
        )
        if purpose == Purpose.MARKETING_EMAIL and contact.email:
            _row, added = _suppress(
                PointKind.EMAIL,
                normalise_email(contact.email),
                SuppressionReason.UNSUBSCRIBED,
                None,
                "",
            )
            changed = changed or added
    return changed


# --- the suppression list ----------------------------------------------------------------
def normalise_address(kind: str, address: str) -> str:
    """A lower-case address, an E.164 number; ``InvalidInput`` for anything else."""
    if kind == PointKind.EMAIL:
        value = normalise_email(address or "")
        if "@" not in value or len(value) > 254 or any(c.isspace() for c in value):
            raise InvalidInput(
                _("Enter a valid email address."), {"address": [_("Enter a valid email address.")]}
            )
        return value
    if kind == PointKind.PHONE:
        try:
            return normalise_phone(address or "")
        except InvalidPhone as exc:
            raise InvalidInput(
                _("Enter a valid phone number."), {"address": [_("Enter a valid phone number.")]}
            ) from exc
    raise InvalidInput(
        _("Unknown kind."),
        {"kind": [_("Use one of: %(values)s.") % {"values": ", ".join(PointKind.values)}]},
    )


def _owner_of(kind: str, address: str) -> Contact | None:
    rows = (
        contacts_with_email(address)
        if kind == PointKind.EMAIL
        else Contact.objects.filter(phone=address)
    )
    return rows.filter(merged_into__isnull=True).order_by("pk").first()


def _suppress(
    kind: str, address: str, reason: str, actor: Any, note: str
) -> tuple[Suppression, bool]:
    existing = Suppression.objects.filter(kind=kind, address=address).first()
    if existing is not None:
        return existing, False
    row, created = Suppression.objects.get_or_create(
        kind=kind,
        address=address,
        defaults={
            "reason": reason,
            "note": note,
            "created_by": actor if actor is not None and actor.is_authenticated else None,
        },
    )
    if created:
        owner = _owner_of(kind, address)
        audit.record(
            kind="contact",
            verb=ContactVerb.SUPPRESSED,
            actor=actor,
            object_id=row.pk,
            customer_id=owner.customer_id if owner else None,
            contact_id=owner.pk if owner else None,
            after={"kind": kind, "address": address, "reason": reason, "note": note},
        )
    return row, created


def suppress(kind: str, address: str, reason: str, actor: Any, note: str = "") -> Suppression:
    """Puts the address or number on the suppression list (``can_manage_suppression``;
    ``actor`` None: the system — a bounce, a spam complaint). Already there: unchanged."""
    if actor is not None and not permissions.can_manage_suppression(actor):
        raise Forbidden(_("You may not change the suppression list."))
    if reason not in SuppressionReason.values:
        raise InvalidInput(
            _("Unknown reason."),
            {
                "reason": [
                    _("Use one of: %(values)s.") % {"values": ", ".join(SuppressionReason.values)}
                ]
            },
        )
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidInput(
            _("The note is too long."),
            {"note": [_("At most %(limit)s characters.") % {"limit": NOTE_MAX_LENGTH}]},
        )
    address = normalise_address(kind, address)
    with transaction.atomic():
        row, _created = _suppress(kind, address, reason, actor, note)
    return row


def lift_suppression(actor: Any, suppression: Suppression) -> None:
    """Takes the address off the list (``can_manage_suppression``), audited."""
    if not permissions.can_manage_suppression(actor):
        raise Forbidden(_("You may not change the suppression list."))
    with transaction.atomic():
        row = Suppression.objects.select_for_update().filter(pk=suppression.pk).first()
        if row is None:
            raise NotFound(_("No such suppressed address."))
        owner = _owner_of(row.kind, row.address)
        audit.record(
            kind="contact",
            verb=ContactVerb.UNSUPPRESSED,
            actor=actor,
            object_id=row.pk,
            customer_id=owner.customer_id if owner else None,
            contact_id=owner.pk if owner else None,
            before={"kind": row.kind, "address": row.address, "reason": row.reason},
        )
        row.delete()


def record_bounce(address: str) -> Suppression:
    """The mail app's hook: a hard bounce of ``address``."""
    return suppress(PointKind.EMAIL, address, SuppressionReason.BOUNCED, None)


def record_spam_complaint(address: str) -> Suppression:
    """The mail app's hook: the recipient marked a message as spam (a feedback loop)."""
    return suppress(PointKind.EMAIL, address, SuppressionReason.COMPLAINED, None)
