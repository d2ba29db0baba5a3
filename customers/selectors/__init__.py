"""Reads of customers and contacts that views share.

The contact search answers an agent typing as a caller speaks: an email address, a phone
number, a name or the customer's name, each matched from its start. Every criterion is its
own index range scan (migration ``0002``): the key is compared byte by byte (PostgreSQL's
``"C"`` collation), so a prefix is a range ``[prefix, successor)`` the index answers in its
own order and stops reading at the limit, whatever the database's collation. Who may see
which contact is the process apps' rule, passed in as a ``Q`` (customers imports no process
app, docs/platform.md)."""

from __future__ import annotations

import re
import sys
from typing import Any

from django.db import connection
from django.db.models import CharField, Func, Q, QuerySet
from django.db.models.functions import Lower

from ..models import Contact, Customer

SEARCH_LIMIT = 20
# How many matches of one criterion a reader's visibility rule is checked on (docs/api.md).
SCAN_LIMIT = 1000
SEARCH_MAX_LENGTH = 100
# A number typed without its country or area code still finds the contact from this many
# digits on (matched from the end of the stored number).
PHONE_SUFFIX_MIN_DIGITS = 7
PHONE_MIN_DIGITS = 3
PHONE_LIKE = re.compile(r"[\d\s()+.\-/]+")
_PHONE_PUNCTUATION = (" ", "-", "+", "(", ")", ".", "/")


class Bytewise(Func):
    """``expression COLLATE "C"``: compared byte by byte, which for UTF-8 is code point
    order, so a prefix is one contiguous range of an index built the same way. SQLite
    compares text that way already (its BINARY collation)."""

    template = '(%(expressions)s) COLLATE "C"'
    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return compiler.compile(self.get_source_expressions()[0])


class PhoneDigits(Func):
    """The digits of a phone number, in the form the digits index holds them."""

    template = "regexp_replace(%(expressions)s, '[^0-9]', '', 'g')"
    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.get_source_expressions()[0])
        for mark in _PHONE_PUNCTUATION:
            sql = f"REPLACE({sql}, '{mark}', '')"
        return sql, params


class Reverse(Func):
    function = "reverse"  # PostgreSQL's; SQLite has none (the embedded mode has no suffix match)
    output_field = CharField()


def email_key() -> Func:
    return Bytewise(Lower("email"))


def name_key() -> Func:
    return Bytewise(Lower("name"))


def customer_name_key() -> Func:
    return Bytewise(Lower("customer__name"))


def phone_key() -> Func:
    return Bytewise(PhoneDigits("phone"))


def phone_reversed_key() -> Func:
    return Bytewise(Reverse(PhoneDigits("phone")))


def successor(prefix: str) -> str | None:
    """The smallest string greater than every string that starts with ``prefix`` (in code
    point order), or None when there is none."""
    chars = list(prefix)
    while chars:
        code = ord(chars[-1]) + 1
        if 0xD800 <= code <= 0xDFFF:  # surrogates are not characters; UTF-8 skips them too
            code = 0xE000
        if code <= sys.maxunicode:
            chars[-1] = chr(code)
            return "".join(chars)
        chars.pop()
    return None


def starts_with(qs: QuerySet[Contact], key: Func, prefix: str) -> QuerySet[Contact]:
    """Rows whose ``key`` starts with ``prefix``, in ``key`` order: an index range scan."""
    qs = qs.alias(search_key=key).filter(search_key__gte=prefix)
    upper = successor(prefix)
    if upper is not None:
        qs = qs.filter(search_key__lt=upper)
    return qs.order_by("search_key", "pk")


def search_contacts(text: str, *, visible: Q | None, limit: int = SEARCH_LIMIT) -> list[Contact]:
    """Contacts whose email, name, phone or customer's name starts with ``text``: at most
    ``limit``, email matches first, then phone, name and customer name matches, each in its
    key's order. ``visible`` restricts to the contacts the reader may see (None: all), among
    the first ``SCAN_LIMIT`` matches of each criterion.

    Digits (with phone punctuation) search the phone from its start, and from its end once
    there are ``PHONE_SUFFIX_MIN_DIGITS``, so ``13800138000`` finds ``+86 138 0013 8000``;
    they also search emails (``13800138000@163.com``). Text with ``@`` searches emails only.
    """
    text = " ".join(text.split())
    if not text:
        return []
    lowered = text.lower()
    phone_like = PHONE_LIKE.fullmatch(text) is not None
    digits = re.sub(r"\D", "", text)
    contacts = Contact.objects.all()

    def matching(key: Func, prefix: str, among: QuerySet[Contact] = contacts) -> QuerySet[Contact]:
        found = starts_with(among, key, prefix)
        if visible is None:
            return found
        # The reader's rule is checked on the first SCAN_LIMIT matches only: a text that
        # many contacts start with ("王") costs the same as any other, and typing more
        # finds the rest.
        candidates = found.values("pk")[:SCAN_LIMIT]
        return starts_with(Contact.objects.filter(visible, pk__in=candidates), key, prefix)

    searches = [matching(email_key(), lowered)]
    if phone_like and len(digits) >= PHONE_MIN_DIGITS:
        searches.append(matching(phone_key(), digits))
        if len(digits) >= PHONE_SUFFIX_MIN_DIGITS and connection.vendor == "postgresql":
            searches.append(matching(phone_reversed_key(), digits[::-1]))
    if not phone_like and "@" not in text:
        searches.append(matching(name_key(), lowered))
        searches.append(
            matching(customer_name_key(), lowered, contacts.filter(customer__isnull=False))
        )

    found: list[int] = []
    for search in searches:
        if len(found) >= limit:
            break
        wanted = limit - len(found)
        # Ids already found may come again from another criterion: read that many more.
        for pk in search.values_list("pk", flat=True)[: wanted + len(found)]:
            if pk not in found:
                found.append(pk)
                if len(found) >= limit:
                    break
    rows = Contact.objects.select_related("customer").in_bulk(found)
    return [rows[pk] for pk in found if pk in rows]


def contact_row(contact: Contact) -> dict[str, Any]:
    """A contact as a search result shows it (docs/api.md, ``GET /api/contacts/``)."""
    customer = contact.customer
    return {
        "id": contact.pk,
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "customer": {"id": customer.pk, "name": customer.name} if customer else None,
    }


def customers_visible_to(user: Any) -> QuerySet[Customer]:
    """The customers ``user`` may see (404 for the rest): every one for supervisors,
    managers, administrators, marketing and analysts; for an agent those of their work (the
    process apps' rules, ``customers.registry``) and the accounts they own. Merged-away
    records are never listed."""
    from .. import permissions, registry

    rows = Customer.objects.filter(merged_into__isnull=True)
    if not permissions.is_staff_member(user):
        return rows.none()
    if permissions.sees_every_customer(user):
        return rows
    seen = Q(owner_id=user.pk)
    for rule in registry.customer_rules():
        condition = rule(user)
        if condition is not None:
            seen |= condition
    return rows.filter(seen)


def contacts_visible_to(user: Any) -> QuerySet[Contact]:
    """Contacts seen with their customer; a walk-in contact (no customer) by those who see
    every customer, or through the process apps' contact rules."""
    from .. import permissions, registry

    rows = Contact.objects.filter(merged_into__isnull=True)
    if not permissions.is_staff_member(user):
        return rows.none()
    if permissions.sees_every_customer(user):
        return rows
    seen = Q(customer__in=customers_visible_to(user).values("pk"))
    for rule in registry.contact_rules():
        condition = rule(user)
        if condition is not None:
            seen |= condition
    return rows.filter(seen)
