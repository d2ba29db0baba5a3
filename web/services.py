"""Writes of the browser screens' own rows: a user's saved views of the tickets screen."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import InvalidInput, NotFound
from tickets.search import MAX_SEARCH_LENGTH, SCREEN_FILTERS, parse_filters, screen_query

from .models import SavedView

MAX_NAME = 80
MAX_VIEWS = 50
MAX_ID = 2**63 - 1


def _clean_name(name: Any) -> str:
    if not isinstance(name, str):
        raise InvalidInput(_("Invalid name."), {"name": [_("A name is text.")]})
    cleaned = " ".join(name.split())  # runs of spaces, tabs and line breaks become one space
    if not cleaned:
        raise InvalidInput(_("A name is required."), {"name": [_("Give the view a name.")]})
    if len(cleaned) > MAX_NAME:
        raise InvalidInput(
            _("Name too long."),
            {"name": [_("At most %(count)s characters.") % {"count": MAX_NAME}]},
        )
    return cleaned


def _clean_query(query: Any) -> dict[str, str]:
    """The screen's filters as the screen would write them; 400 naming what is wrong."""
    if not isinstance(query, Mapping):
        raise InvalidInput(_("Invalid filters."), {"query": [_("Expected an object.")]})
    unknown = sorted(str(key) for key in query if key not in SCREEN_FILTERS)
    if unknown:
        raise InvalidInput(
            _("Unknown filter."),
            {"query": [_("Unknown: %(values)s.") % {"values": ", ".join(unknown)}]},
        )
    for key, value in query.items():
        if not isinstance(value, str) or len(value) > MAX_SEARCH_LENGTH:
            raise InvalidInput(
                _("Invalid filters."),
                {
                    f"query.{key}": [
                        _("Text of at most %(count)s characters.") % {"count": MAX_SEARCH_LENGTH}
                    ]
                },
            )
    try:
        filters = parse_filters(query)
    except InvalidInput as exc:
        raise InvalidInput(
            exc.message, {f"query.{key}": msgs for key, msgs in exc.errors.items()}
        ) from exc
    return screen_query(filters)


def save_view(*, user: Any, name: Any, query: Any) -> tuple[SavedView, bool]:
    """Saves the tickets screen's filters under ``name`` for ``user`` alone; a view of the
    same name is replaced. Returns ``(view, created)``. A user keeps at most 50."""
    cleaned_name = _clean_name(name)
    cleaned_query = _clean_query(query)
    with transaction.atomic():
        # One save per user at a time (the user's row locked), so that the limit and the
        # one-view-per-name rule hold under concurrent saves.
        get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk").get()
        views = SavedView.objects.filter(user=user)
        existing = views.filter(name=cleaned_name).first()
        if existing is not None:
            existing.query = cleaned_query
            existing.save(update_fields=["query", "updated_at"])
            return existing, False
        if views.count() >= MAX_VIEWS:
            raise InvalidInput(
                _("Too many saved views."),
                {"name": [_("Delete a view first: at most %(count)s.") % {"count": MAX_VIEWS}]},
            )
        view = SavedView.objects.create(user=user, name=cleaned_name, query=cleaned_query)
        return view, True


def delete_view(*, user: Any, view_id: int) -> None:
    """Deletes one of ``user``'s views; another user's is answered as an unknown one."""
    if not 1 <= view_id <= MAX_ID:  # the URL takes any digits; no row has such an id
        raise NotFound(_("Saved view not found."))
    with transaction.atomic():
        deleted, _rows = SavedView.objects.filter(user=user, pk=view_id).delete()
    if not deleted:
        raise NotFound(_("Saved view not found."))
