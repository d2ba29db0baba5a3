"""The filters of the customers and contacts lists, shared by the REST lists, the screens
and the exports ("export any list, the filters applied"): query parameters in, the rows the
user may see and asked for out, or ``InvalidInput`` naming the bad parameter.

Customers: ``q`` (name: from its start, or anywhere in it — Chinese names are searched by
any part, "芳" finds "王芳"), ``kind``, ``tier``, ``region``, ``industry``, ``tag``,
``owner`` (a user id or ``me``), ``parent`` (a group customer's subsidiaries).
Contacts: ``q`` (name, email or phone digits, anywhere), ``customer``, ``language``,
``preferred_channel``, and the customer's ``tier``, ``region`` and ``tag``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from core.errors import InvalidInput
from core.params import int_value

from ..choices import CustomerKind, CustomerTier, Language, PreferredChannel
from ..models import Contact, Customer
from . import contacts_visible_to, customers_visible_to

Q_MAX_LENGTH = 100
CUSTOMER_FILTERS = ("q", "kind", "tier", "region", "industry", "tag", "owner", "parent")
CONTACT_FILTERS = (
    "q",
    "customer",
    "language",
    "preferred_channel",
    "tier",
    "region",
    "tag",
)


def _text(params: Mapping[str, Any], name: str, limit: int = Q_MAX_LENGTH) -> str:
    raw = params.get(name)
    text = " ".join(str(raw).split()) if raw is not None else ""
    if len(text) > limit:
        raise InvalidInput(
            _("Invalid %(name)s.") % {"name": name},
            {name: [_("At most %(limit)s characters.") % {"limit": limit}]},
        )
    return text


def _choice(params: Mapping[str, Any], name: str, allowed: list[str]) -> str:
    value = _text(params, name)
    if value and value not in allowed:
        raise InvalidInput(
            _("Invalid %(name)s.") % {"name": name},
            {name: [_("Choose one of: %(choices)s.") % {"choices": ", ".join(allowed)}]},
        )
    return value


def with_tag(rows: QuerySet[Any], field: str, tag: str) -> QuerySet[Any]:
    """The rows whose ``field`` (a JSON list of tags) holds ``tag``: JSON containment on
    PostgreSQL; SQLite, which has none, matches the quoted tag in the JSON text."""
    if connection.vendor == "postgresql":
        return rows.filter(**{f"{field}__contains": [tag]})
    return rows.alias(tags_text=Cast(field, TextField())).filter(
        tags_text__contains=json.dumps(tag)
    )


def customers_matching(user: Any, params: Mapping[str, Any]) -> QuerySet[Customer]:
    """The customers ``user`` may see that match the list's filters."""
    rows = customers_visible_to(user)
    q = _text(params, "q")
    if q:
        rows = rows.filter(Q(name__icontains=q) | Q(external_id__iexact=q))
    kind = _choice(params, "kind", list(CustomerKind.values))
    if kind:
        rows = rows.filter(kind=kind)
    tier = _choice(params, "tier", list(CustomerTier.values))
    if tier:
        rows = rows.filter(tier=tier)
    for name in ("region", "industry"):
        value = _text(params, name, 64)
        if value:
            rows = rows.filter(**{name: value})
    tag = _text(params, "tag", 64)
    if tag:
        rows = with_tag(rows, "tags", tag)
    owner = params.get("owner")
    if owner == "me":
        rows = rows.filter(owner_id=user.pk)
    elif owner not in (None, ""):
        rows = rows.filter(owner_id=int_value(params, "owner"))
    parent = int_value(params, "parent")
    if parent is not None:
        rows = rows.filter(parent_id=parent)
    return rows


def contacts_matching(user: Any, params: Mapping[str, Any]) -> QuerySet[Contact]:
    """The contacts ``user`` may see that match the list's filters."""
    rows = contacts_visible_to(user)
    q = _text(params, "q")
    if q:
        condition = Q(name__icontains=q) | Q(email__icontains=q.lower())
        digits = re.sub(r"\D", "", q)
        if len(digits) >= 3 and re.fullmatch(r"[\d\s()+.\-/]+", q):
            condition |= Q(phone__contains=digits)
        rows = rows.filter(condition)
    customer = int_value(params, "customer")
    if customer is not None:
        rows = rows.filter(customer_id=customer)
    language = _choice(params, "language", list(Language.values))
    if language:
        rows = rows.filter(language=language)
    channel = _choice(params, "preferred_channel", list(PreferredChannel.values))
    if channel:
        rows = rows.filter(preferred_channel=channel)
    tier = _choice(params, "tier", list(CustomerTier.values))
    if tier:
        rows = rows.filter(customer__tier=tier)
    region = _text(params, "region", 64)
    if region:
        rows = rows.filter(customer__region=region)
    tag = _text(params, "tag", 64)
    if tag:
        rows = with_tag(rows, "customer__tags", tag)
    return rows
