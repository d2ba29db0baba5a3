"""Marking a pair of likely duplicates "not a duplicate", and undoing the mark
(docs/customers-merge.md, "Not a duplicate").

Who may merge may dismiss: the same permission, the same 403. Both records are locked in id
order as a merge locks them, so a dismissal and a merge of the same pair never cross; a
merged-away record cannot be dismissed (409). Dismissing a pair that is already dismissed
changes nothing and answers the existing dismissal; each change is an audit row on both
records."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit.services import record
from core.errors import Conflict, Forbidden, InvalidInput, NotFound

from .. import permissions
from ..choices import ContactVerb, CustomerVerb, FieldTarget
from ..models import Contact, Customer, DismissedPair

REASON_LIMIT = 500


def _may_dismiss(actor: Any) -> None:
    if not permissions.can_merge(actor):
        raise Forbidden(_("You may not review duplicates."))


def _model(target: str) -> type[Contact] | type[Customer]:
    if target == FieldTarget.CONTACT:
        return Contact
    if target == FieldTarget.CUSTOMER:
        return Customer
    raise InvalidInput(
        _("Unknown kind."),
        {"target": [_("Choose one of: %(choices)s.") % {"choices": "contact, customer"}]},
    )


def _reason(raw: Any) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise InvalidInput(_("Invalid reason."), {"reason": [_("Expected text.")]})
    reason = " ".join(raw.split())
    if len(reason) > REASON_LIMIT:
        raise InvalidInput(
            _("Invalid reason."),
            {"reason": [_("At most %(limit)s characters.") % {"limit": REASON_LIMIT}]},
        )
    return reason


def _audit(actor: Any, records: list[Any], verb: str, after: dict[str, Any]) -> None:
    for obj in records:
        if isinstance(obj, Contact):
            record(
                kind="contact",
                verb=verb,
                actor=actor,
                contact_id=obj.pk,
                customer_id=obj.customer_id,
                after=after,
            )
        else:
            record(kind="customer", verb=verb, actor=actor, customer_id=obj.pk, after=after)


def _after(pair: DismissedPair) -> dict[str, Any]:
    return {
        "dismissal": pair.pk,
        "target": pair.target,
        "a": pair.low_id,
        "b": pair.high_id,
        "reason": pair.reason,
    }


def dismiss_pair(
    actor: Any, target: str, a: int, b: int, reason: Any = ""
) -> tuple[DismissedPair, bool]:
    """Marks contacts (``target="contact"``) or customers ``a`` and ``b`` as not duplicates:
    the finder leaves the pair out. Returns the dismissal and whether it is new; a pair
    already dismissed is answered as it is (nothing written)."""
    _may_dismiss(actor)
    model = _model(target)
    if a == b:
        raise InvalidInput(
            _("A record cannot be a duplicate of itself."),
            {"other": [_("Choose another record.")]},
        )
    text = _reason(reason)
    low, high = min(a, b), max(a, b)
    with transaction.atomic():
        rows = {
            row.pk: row
            for row in model.objects.select_for_update().filter(pk__in=[low, high]).order_by("pk")
        }
        if low not in rows or high not in rows:
            raise NotFound(_("Not found."))
        if any(row.merged_into_id is not None for row in rows.values()):
            raise Conflict(_("One of these records has already been merged."))
        found = DismissedPair.objects.filter(target=target, low_id=low, high_id=high).first()
        if found is not None:
            return found, False
        try:
            with transaction.atomic():
                pair = DismissedPair.objects.create(
                    target=target,
                    low_id=low,
                    high_id=high,
                    reason=text,
                    actor=actor if getattr(actor, "is_authenticated", False) else None,
                )
        except IntegrityError:
            # another request dismissed the pair meanwhile: the same answer as a second call
            return DismissedPair.objects.get(target=target, low_id=low, high_id=high), False
        verb = ContactVerb.NOT_DUPLICATE if model is Contact else CustomerVerb.NOT_DUPLICATE
        _audit(actor, [rows[low], rows[high]], verb, _after(pair))
    return pair, True


def restore_pair(actor: Any, dismissal: DismissedPair | int) -> DismissedPair:
    """Undoes a dismissal: the pair is a likely duplicate again (if it still is one). The
    dismissal is deleted; the answer is the row as it was. 404 when it is gone already."""
    _may_dismiss(actor)
    pk = dismissal if isinstance(dismissal, int) else dismissal.pk
    with transaction.atomic():
        pair = DismissedPair.objects.select_for_update().filter(pk=pk).first()
        if pair is None:
            raise NotFound(_("This pair is not marked as not a duplicate."))
        model = _model(pair.target)
        after = _after(pair)
        pair.delete()
        pair.pk = pk
        rows = model.objects.filter(pk__in=[pair.low_id, pair.high_id]).order_by("pk")
        verb = (
            ContactVerb.DUPLICATE_RESTORED if model is Contact else CustomerVerb.DUPLICATE_RESTORED
        )
        _audit(actor, list(rows), verb, after)
    return pair
