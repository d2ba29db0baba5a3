"""Query-parameter parsing and page links shared by every REST view (one error shape)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.request import Request

from core.errors import InvalidInput

# The largest id PostgreSQL's bigint holds; a larger one is refused before any query.
MAX_ID = 2**63 - 1
# The schema of an id query parameter (drf-spectacular OpenApiParameter ``type``).
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def int_param(request: Request, name: str) -> int | None:
    """A positive integer query parameter, or None when absent; 400 otherwise."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError as exc:
        raise InvalidInput(
            _("Invalid %(name)s.") % {"name": name}, {name: [_("Must be an integer.")]}
        ) from exc
    if not 1 <= value <= MAX_ID:
        raise InvalidInput(
            _("Invalid %(name)s.") % {"name": name}, {name: [_("Must be a positive integer.")]}
        )
    return value


def bool_param(request: Request, name: str) -> bool | None:
    """true/false (1/0, yes/no), or None when absent; 400 otherwise."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    lowered = raw.lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    raise InvalidInput(
        _("Invalid %(name)s.") % {"name": name}, {name: [_("Must be true or false.")]}
    )


def page_link(request: Request, cursor: str | None) -> str | None:
    """This request's URL with ``cursor`` replaced: a next/previous link of a cursor page."""
    if cursor is None:
        return None
    query = request.query_params.copy()
    query["cursor"] = cursor
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
