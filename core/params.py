"""Reading ids and flags out of query parameters (a REST request's, a screen's GET), with
the one error shape: absent gives None, anything malformed an ``InvalidInput`` naming it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from core.errors import InvalidInput

# The largest id PostgreSQL's bigint holds; a larger one is refused before any query.
MAX_ID = 2**63 - 1


def int_value(params: Mapping[str, Any], name: str) -> int | None:
    """A positive integer, or None when absent."""
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(str(raw))
    except ValueError as exc:
        raise InvalidInput(
            _("Invalid %(name)s.") % {"name": name}, {name: [_("Must be an integer.")]}
        ) from exc
    if not 1 <= value <= MAX_ID:
        raise InvalidInput(
            _("Invalid %(name)s.") % {"name": name}, {name: [_("Must be a positive integer.")]}
        )
    return value


def bool_value(params: Mapping[str, Any], name: str) -> bool | None:
    """true/false (1/0, yes/no), or None when absent."""
    raw = params.get(name)
    if raw in (None, ""):
        return None
    lowered = str(raw).lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    raise InvalidInput(
        _("Invalid %(name)s.") % {"name": name}, {name: [_("Must be true or false.")]}
    )
