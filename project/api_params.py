"""Query-parameter parsing and page links shared by every REST view (one error shape)."""

from __future__ import annotations

from rest_framework.request import Request

from core.params import MAX_ID, bool_value, int_value

__all__ = ["ID_SCHEMA", "MAX_ID", "bool_param", "int_param", "page_link"]
# The schema of an id query parameter (drf-spectacular OpenApiParameter ``type``).
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def int_param(request: Request, name: str) -> int | None:
    """A positive integer query parameter, or None when absent; 400 otherwise."""
    return int_value(request.query_params, name)


def bool_param(request: Request, name: str) -> bool | None:
    """true/false (1/0, yes/no), or None when absent; 400 otherwise."""
    return bool_value(request.query_params, name)


def page_link(request: Request, cursor: str | None) -> str | None:
    """This request's URL with ``cursor`` replaced: a next/previous link of a cursor page."""
    if cursor is None:
        return None
    query = request.query_params.copy()
    query["cursor"] = cursor
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
