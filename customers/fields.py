"""Custom fields: the values an administrator's ``CustomField`` definitions allow, checked
and converted to what JSON stores (dates as ISO text, numbers as numbers)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from .choices import FieldType
from .models import CustomField

TEXT_MAX_LENGTH = 500


def definitions(target: str) -> list[CustomField]:
    """The active fields of ``target`` ("customer" or "contact"), in their order."""
    return list(
        CustomField.objects.filter(target=target, is_active=True).order_by("position", "id")
    )


def clean_value(field: CustomField, raw: Any) -> Any:
    """``raw`` as ``field`` stores it; ``ValueError`` with a translated message if it does
    not fit. None or "" clears the value."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if field.type == FieldType.TEXT:
        text = str(raw).strip()
        if len(text) > TEXT_MAX_LENGTH:
            raise ValueError(_("At most %(limit)s characters.") % {"limit": TEXT_MAX_LENGTH})
        return text
    if field.type == FieldType.NUMBER:
        if isinstance(raw, bool):
            raise ValueError(_("Enter a number."))
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation as exc:
            raise ValueError(_("Enter a number.")) from exc
        if not number.is_finite():
            raise ValueError(_("Enter a number."))
        return int(number) if number == number.to_integral_value() else float(number)
    if field.type == FieldType.DATE:
        if isinstance(raw, date):
            return raw.isoformat()
        try:
            return date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError as exc:
            raise ValueError(_("Enter a date as YYYY-MM-DD.")) from exc
    if field.type == FieldType.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "yes", "1", "y", "是"):
            return True
        if text in ("false", "no", "0", "n", "否"):
            return False
        raise ValueError(_("Enter yes or no."))
    if field.type == FieldType.CHOICE:
        text = str(raw).strip()
        if text not in field.choices:
            raise ValueError(
                _("Choose one of: %(choices)s.") % {"choices": ", ".join(map(str, field.choices))}
            )
        return text
    raise ValueError(_("Unknown field type."))


def clean_custom(
    target: str, values: dict[str, Any], *, current: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The record's new ``custom`` (``current`` updated with ``values``) and the errors by
    key (``custom.<key>``): unknown keys, values that do not fit, required fields left empty."""
    fields = {f.key: f for f in definitions(target)}
    result = dict(current or {})
    errors: dict[str, list[str]] = {}
    for key, raw in values.items():
        field = fields.get(key)
        if field is None:
            errors[f"custom.{key}"] = [_("No such field.")]
            continue
        try:
            value = clean_value(field, raw)
        except ValueError as exc:
            errors[f"custom.{key}"] = [str(exc)]
            continue
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    for key, field in fields.items():
        if field.required and result.get(key) in (None, "") and f"custom.{key}" not in errors:
            errors[f"custom.{key}"] = [_("This field is required.")]
    return result, errors


def reader_label(field: CustomField) -> str:
    """The field's label in the reader's language (Chinese when set and read in Chinese)."""
    chinese = (translation.get_language() or "").lower() == "zh-hans"
    return field.label_zh if chinese and field.label_zh else field.label


def labelled_values(target: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    """A record's custom values with their labels and types, in the fields' order; a value
    whose field was retired keeps its label, one no field names shows its key."""
    fields = {f.key: f for f in CustomField.objects.filter(target=target)}
    rows = []
    for key, value in values.items():
        field = fields.get(key)
        label, kind = (reader_label(field), field.type) if field else (key, FieldType.TEXT.value)
        rows.append({"key": key, "label": label, "type": kind, "value": value})
    order = {f.key: (f.position, f.pk) for f in fields.values()}
    rows.sort(key=lambda row: order.get(row["key"], (32768, 0)))
    return rows
