"""Likely duplicate contacts and customers (docs/customers-merge.md).

Each record gets its normalised keys in SQL (a lower-case address, an E.164 number, a name
without case, spaces and punctuation, a Latin name's words in order); records sharing a key
are paired by joining the keys on themselves, set-wise in the database, one page of pairs at
a time in (first id, second id) order. Merged-away records are left out, and so is a key
shared by more than ``CROWD`` records (``info@…``, a switchboard number): it says nothing about
any two of them. So is a pair someone marked "not a duplicate" (``DismissedPair``)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from core.errors import Forbidden
from core.pagination import Page, Position, decode, encode, paginate

from .. import permissions
from ..choices import FieldTarget
from ..models import Contact, ContactPoint, Customer, DismissedPair

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
CROWD = 50
# A name of Latin letters (and spaces, punctuation): its words are also compared sorted,
# so "Li Lei" and "Lei Li" match; a Chinese name is compared as written.
LATIN_NAME = r"^[A-Za-z\u00C0-\u024F[:space:][:punct:]]+$"
NORMAL_NAME = "regexp_replace(lower({col}), '[[:space:][:punct:]]+', '', 'g')"
SORTED_NAME = (
    "array_to_string(ARRAY(SELECT w FROM regexp_split_to_table(lower({col}), "
    "'[[:space:][:punct:]]+') AS w WHERE w <> '' ORDER BY w), ' ')"
)


_SEPARATORS = re.compile(r"[\s\W_]+")
_LATIN_NAME = re.compile(r"[A-Za-z\u00C0-\u024F\s\W_]+")


@dataclass(frozen=True)
class Pair:
    a: int
    b: int
    reasons: list[str]


@dataclass(frozen=True)
class PairPage:
    pairs: list[Pair]
    next: str | None


def _cursor(cursor: str | None) -> tuple[int, int]:
    if not cursor:
        return (0, 0)
    pos: Position = decode(cursor)
    if type(pos.value) is not int or pos.value < 0:
        from core.errors import InvalidInput

        raise InvalidInput(_("Invalid cursor."), {"cursor": [_("Invalid cursor.")]})
    return (pos.value, pos.pk)


def _dismissed(target: str) -> frozenset[tuple[int, int]]:
    """The pairs of ``target`` records marked not duplicates, as ``(low, high)``."""
    rows = DismissedPair.objects.filter(target=target).values_list("low_id", "high_id")
    return frozenset((int(a), int(b)) for a, b in rows)


def _python_pairs(
    keys: Iterable[tuple[int, str, str]],
    cursor: str | None,
    limit: int,
    dismissed: frozenset[tuple[int, int]] = frozenset(),
) -> PairPage:
    """The same pairing in Python, for the embedded mode (SQLite has neither the regular
    expressions nor the arrays the SQL uses; it holds a laptop's few hundred records).
    ``dismissed`` pairs are left out, as the SQL's ``NOT EXISTS`` does."""
    after = _cursor(cursor)
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    groups: dict[tuple[str, str], set[int]] = defaultdict(set)
    for pk, reason, key in keys:
        if key:
            groups[(reason, key)].add(pk)
    found: dict[tuple[int, int], set[str]] = defaultdict(set)
    for (reason, _key), ids in groups.items():
        if 2 <= len(ids) <= CROWD:
            ordered = sorted(ids)
            for i, a in enumerate(ordered):
                for b in ordered[i + 1 :]:
                    found[(a, b)].add(reason)
    rows = sorted(pair for pair in found if pair > after and pair not in dismissed)[: limit + 1]
    pairs = [Pair(a, b, sorted(found[(a, b)])) for a, b in rows[:limit]]
    nxt = encode(Position(pairs[-1].a, pairs[-1].b)) if len(rows) > limit and pairs else None
    return PairPage(pairs, nxt)


def _normal_name(name: str) -> str:
    return _SEPARATORS.sub("", name.lower())


def _sorted_name(name: str) -> str:
    return " ".join(sorted(w for w in _SEPARATORS.split(name.lower()) if w))


def _pairs(
    keys_sql: str, params: list[Any], target: str, cursor: str | None, limit: int
) -> PairPage:
    after = _cursor(cursor)
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    dismissed = DismissedPair._meta.db_table
    sql = f"""
        WITH keys AS ({keys_sql}),
        counted AS (
            SELECT id, reason, k, count(*) OVER (PARTITION BY reason, k) AS n
            FROM (SELECT DISTINCT id, reason, k FROM keys WHERE k <> '') AS d
        ),
        shared AS (SELECT id, reason, k FROM counted WHERE n BETWEEN 2 AND %s)
        SELECT x.id, y.id, array_agg(DISTINCT x.reason ORDER BY x.reason)
        FROM shared x JOIN shared y ON x.reason = y.reason AND x.k = y.k AND x.id < y.id
        WHERE (x.id, y.id) > (%s, %s)
          AND NOT EXISTS (
            SELECT 1 FROM {dismissed} d
            WHERE d.target = %s AND d.low_id = x.id AND d.high_id = y.id
          )
        GROUP BY x.id, y.id
        ORDER BY x.id, y.id
        LIMIT %s
    """  # noqa: S608 - only constants are formatted in
    with connection.cursor() as db:
        db.execute(sql, [*params, CROWD, after[0], after[1], str(target), limit + 1])
        rows = db.fetchall()
    pairs = [Pair(a, b, list(reasons)) for a, b, reasons in rows[:limit]]
    nxt = encode(Position(pairs[-1].a, pairs[-1].b)) if len(rows) > limit and pairs else None
    return PairPage(pairs, nxt)


def _check(user: Any) -> None:
    if not permissions.can_merge(user):
        raise Forbidden(_("You may not review duplicates."))


def contact_pairs(user: Any, *, cursor: str | None = None, limit: int = PAGE_SIZE) -> PairPage:
    """Pairs of contacts with the same address (primary or further), the same number, or
    the same name within one customer (walk-in contacts count as one customer)."""
    _check(user)
    if connection.vendor != "postgresql":
        return _python_pairs(_contact_keys(), cursor, limit, _dismissed(FieldTarget.CONTACT))
    contact = Contact._meta.db_table
    point = Contact.points.field.model._meta.db_table
    live = "merged_into_id IS NULL"
    owner = "coalesce(customer_id, 0)::text || ':' || "
    keys = f"""
        SELECT id, 'email' AS reason, lower(email) AS k FROM {contact}
            WHERE {live} AND email <> ''
        UNION ALL
        SELECT c.id, 'email', lower(p.value) FROM {point} p JOIN {contact} c ON c.id = p.contact_id
            WHERE c.{live} AND p.kind = 'email'
        UNION ALL
        SELECT id, 'phone', phone FROM {contact} WHERE {live} AND phone <> ''
        UNION ALL
        SELECT c.id, 'phone', p.value FROM {point} p JOIN {contact} c ON c.id = p.contact_id
            WHERE c.{live} AND p.kind = 'phone'
        UNION ALL
        SELECT id, 'name', {owner}{NORMAL_NAME.format(col="name")} FROM {contact}
            WHERE {live} AND {NORMAL_NAME.format(col="name")} <> ''
        UNION ALL
        SELECT id, 'name', {owner}{SORTED_NAME.format(col="name")} FROM {contact}
            WHERE {live} AND name ~ %s AND {NORMAL_NAME.format(col="name")} <> ''
    """  # noqa: S608 - only constants are formatted in
    return _pairs(keys, [LATIN_NAME], FieldTarget.CONTACT, cursor, limit)


def customer_pairs(user: Any, *, cursor: str | None = None, limit: int = PAGE_SIZE) -> PairPage:
    """Pairs of customers with the same name (without case, spaces, punctuation; a Latin
    name's words in any order) or the same external id once its punctuation and case are
    set aside (``CRM-0042`` and ``crm0042``). A shared email domain is not enough."""
    _check(user)
    if connection.vendor != "postgresql":
        return _python_pairs(_customer_keys(), cursor, limit, _dismissed(FieldTarget.CUSTOMER))
    table = Customer._meta.db_table
    live = "merged_into_id IS NULL"
    keys = f"""
        SELECT id, 'name' AS reason, {NORMAL_NAME.format(col="name")} AS k FROM {table}
            WHERE {live}
        UNION ALL
        SELECT id, 'name', {SORTED_NAME.format(col="name")} FROM {table}
            WHERE {live} AND name ~ %s
        UNION ALL
        SELECT id, 'external_id', regexp_replace(lower(external_id), '[^[:alnum:]]+', '', 'g')
            FROM {table} WHERE {live} AND external_id <> ''
    """  # noqa: S608 - only constants are formatted in
    return _pairs(keys, [LATIN_NAME], FieldTarget.CUSTOMER, cursor, limit)


def dismissed_pairs(
    user: Any, *, target: str | None = None, cursor: str | None = None, limit: int = PAGE_SIZE
) -> Page:
    """Pairs marked not duplicates, newest first, keyset-paged; ``target`` narrows to
    contacts or customers."""
    _check(user)
    rows = DismissedPair.objects.select_related("actor")
    if target is not None:
        rows = rows.filter(target=target)
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    return paginate(rows, field="created_at", descending=True, cursor=cursor, limit=limit)


def dismissal_of(target: str, a: int, b: int) -> DismissedPair | None:
    """The dismissal of the pair ``a``/``b`` (in either order), if it is dismissed."""
    low, high = min(a, b), max(a, b)
    return DismissedPair.objects.filter(target=target, low_id=low, high_id=high).first()


def _contact_keys() -> Iterator[tuple[int, str, str]]:
    live = Contact.objects.filter(merged_into__isnull=True)
    for pk, email, phone, name, customer_id in live.values_list(
        "pk", "email", "phone", "name", "customer_id"
    ):
        if email:
            yield pk, "email", email.lower()
        if phone:
            yield pk, "phone", phone
        owner = f"{customer_id or 0}:"
        if _normal_name(name):
            yield pk, "name", owner + _normal_name(name)
            if _LATIN_NAME.fullmatch(name):
                yield pk, "name", owner + _sorted_name(name)
    points = ContactPoint.objects.filter(contact__merged_into__isnull=True)
    for pk, kind, value in points.values_list("contact_id", "kind", "value"):
        yield pk, kind, value.lower() if kind == "email" else value


def _customer_keys() -> Iterator[tuple[int, str, str]]:
    live = Customer.objects.filter(merged_into__isnull=True)
    for pk, name, external_id in live.values_list("pk", "name", "external_id"):
        yield pk, "name", _normal_name(name)
        if _LATIN_NAME.fullmatch(name):
            yield pk, "name", _sorted_name(name)
        if external_id:
            yield pk, "external_id", re.sub(r"[\W_]+", "", external_id.lower())
