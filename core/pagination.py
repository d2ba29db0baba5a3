"""Keyset (cursor) pagination over one ordering field plus the id, NULLs last.

Each page is an index range scan from the cursor, however deep the page:
no OFFSET, no COUNT. Cursors are opaque base64 JSON.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import F, Model, Q, QuerySet
from django.utils.translation import gettext as _

from .errors import InvalidInput


@dataclass(frozen=True)
class Position:
    value: Any
    pk: int
    backwards: bool = False


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next: str | None
    previous: str | None


def encode(position: Position) -> str:
    value = position.value
    if isinstance(value, datetime):
        value = {"dt": value.isoformat()}
    data = {"v": value, "i": position.pk, "b": position.backwards}
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


# The largest id PostgreSQL's bigint holds: a cursor past it would fail in the database.
MAX_ID = 2**63 - 1


def _invalid() -> InvalidInput:
    return InvalidInput(_("Invalid cursor."), {"cursor": [_("Invalid cursor.")]})


def decode(cursor: str) -> Position:
    """The position a cursor names; 400 for anything this module did not write (the value
    is checked against the ordering field where the cursor is used: ``after``, ``before``)."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4))
        data = json.loads(raw.decode())
        value = data["v"]
        if isinstance(value, dict):
            value = datetime.fromisoformat(value["dt"])
        pk, backwards = data["i"], data.get("b", False)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise _invalid() from exc
    if type(pk) is not int or not 0 < pk <= MAX_ID or type(backwards) is not bool:
        raise _invalid()
    return Position(value, pk, backwards)


def check(source: type[Model] | QuerySet[Any], field: str, pos: Position) -> None:
    """400 unless the cursor's value is of the ordering field's kind, so that no forged
    cursor reaches the database as a value it refuses. ``source``: the model, or the
    queryset whose annotation ``field`` may name."""
    value = pos.value
    if value is None:
        return
    model_field = (
        _field(source, field) if isinstance(source, QuerySet) else source._meta.get_field(field)
    )
    kind = model_field.get_internal_type()
    if kind == "DateTimeField":
        valid = isinstance(value, datetime) and value.utcoffset() is not None
    elif kind.endswith(("IntegerField", "AutoField")):
        valid = type(value) is int and -MAX_ID <= value <= MAX_ID
    elif kind in ("CharField", "TextField"):
        max_length = getattr(model_field, "max_length", None) or 10_000
        valid = isinstance(value, str) and "\x00" not in value and len(value) <= max_length
    else:
        valid = False
    if not valid:
        raise _invalid()


def _field(qs: QuerySet[Any], field: str) -> Any:
    """The model field ``field`` names, or the output field of an annotation of that name
    (a column of a joined row, as ``F("sla_clock__due")``), which may be NULL."""
    annotation = qs.query.annotations.get(field)
    if annotation is not None:
        return annotation.output_field
    return qs.model._meta.get_field(field)


def after(qs: QuerySet[Any], field: str, descending: bool, pos: Position) -> QuerySet[Any]:
    """Rows strictly after ``pos`` in the order (field asc/desc NULLS LAST, id same way)."""
    check(qs, field, pos)
    beyond, tie = ("lt", "lt") if descending else ("gt", "gt")
    if pos.value is None:
        return qs.filter(**{f"{field}__isnull": True, f"id__{tie}": pos.pk})
    return qs.filter(
        Q(**{f"{field}__{beyond}": pos.value})
        | Q(**{field: pos.value, f"id__{tie}": pos.pk})
        | Q(**{f"{field}__isnull": True})
    )


def before(qs: QuerySet[Any], field: str, descending: bool, pos: Position) -> QuerySet[Any]:
    """Rows strictly before ``pos`` in the same order."""
    check(qs, field, pos)
    earlier, tie = ("gt", "gt") if descending else ("lt", "lt")
    if pos.value is None:
        return qs.filter(Q(**{f"{field}__isnull": False}) | Q(**{f"id__{tie}": pos.pk}))
    return qs.filter(
        Q(**{f"{field}__{earlier}": pos.value}) | Q(**{field: pos.value, f"id__{tie}": pos.pk})
    )


def ordered(
    qs: QuerySet[Any], field: str, descending: bool, reverse: bool = False
) -> QuerySet[Any]:
    """``field`` then id, NULLs last; a NOT NULL field gets no NULLS clause so that a plain
    (or DESC) index can serve the order without a sort."""
    desc = descending != reverse
    # An annotation may be a LEFT JOIN's column: NULL when the joined row is missing.
    nullable = field in qs.query.annotations or _field(qs, field).null
    nulls = ({"nulls_first": True} if reverse else {"nulls_last": True}) if nullable else {}
    expr = F(field).desc(**nulls) if desc else F(field).asc(**nulls)
    return qs.order_by(expr, "-id" if desc else "id")


def paginate(
    qs: QuerySet[Any], *, field: str, descending: bool, cursor: str | None, limit: int
) -> Page:
    pos = decode(cursor) if cursor else None

    def position(obj: Model, backwards: bool) -> str:
        return encode(Position(getattr(obj, field), obj.pk, backwards))

    if pos is not None and pos.backwards:
        rows = list(
            ordered(before(qs, field, descending, pos), field, descending, True)[: limit + 1]
        )
        more_before = len(rows) > limit
        rows = list(reversed(rows[:limit]))
        nxt = position(rows[-1], False) if rows else None
        prev = position(rows[0], True) if rows and more_before else None
        return Page(rows, nxt, prev)
    base = after(qs, field, descending, pos) if pos is not None else qs
    rows = list(ordered(base, field, descending)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = position(rows[-1], False) if rows and more else None
    prev = position(rows[0], True) if rows and pos is not None else None
    return Page(rows, nxt, prev)
