"""The tickets screen (``/tickets/``): every ticket the reader may see, filtered from the
URL's query (so a view can be bookmarked or saved), newest first, by keyset pages; its ES
module (static/web/tickets.js) adds the keyboard and the saved views (``/api/saved-views/``).

docs/tickets.md, "Tickets list and search".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core import configcache
from core.errors import InvalidInput
from org.models import Team
from org.selectors import person_names
from tickets import search
from tickets import selectors as ticket_selectors
from tickets.choices import Priority, TicketStatus
from tickets.models import Category, Ticket

from . import selectors
from .views import _page_config, _render

PAGE_SIZE = 50


def _screen_params(query: QueryDict) -> QueryDict:
    """The query's screen filters alone (the REST list's others, ``q`` say, are not the
    screen's: a saved view could not keep them)."""
    kept = QueryDict(mutable=True)
    for name in search.SCREEN_FILTERS:
        values = [v for v in query.getlist(name) if v != ""]
        if values:
            kept.setlist(name, values)
    return kept


def _link(query: dict[str, str], cursor: str | None = None, *, base: str = "") -> str:
    params = dict(query)
    if cursor:
        params["cursor"] = cursor
    encoded = urlencode(params)
    return (base or reverse("web:tickets")) + (f"?{encoded}" if encoded else "")


def _moment(value: datetime | None) -> dict[str, str] | None:
    """A time as a row shows it (the reader's zone), formatted here: fifty rows of the
    template's ``date`` filter cost more than the rest of the row."""
    if value is None:
        return None
    local = timezone.localtime(value)
    return {"iso": local.isoformat(), "text": local.strftime("%Y-%m-%d %H:%M")}


def _options(choices: Iterable[tuple[Any, Any]], chosen: Any) -> list[dict[str, Any]]:
    return [{"value": v, "label": str(label), "selected": v == chosen} for v, label in choices]


def _rows(
    tickets: list[Ticket], query: dict[str, str], directory: dict[str, dict[int, str]]
) -> list[dict[str, Any]]:
    """What each row shows; the names of teams and assignees from the page's directory (the
    reader's teams and their people), the others read once for the page. The customer
    links to this list narrowed to that customer."""
    teams, people = dict(directory["teams"]), dict(directory["users"])
    if missing := {t.team_id for t in tickets if t.team_id} - set(teams):
        teams |= dict(Team.objects.filter(pk__in=missing).values_list("id", "name"))
    if missing := {t.assignee_id for t in tickets if t.assignee_id} - set(people):
        people |= person_names(get_user_model().objects.filter(pk__in=missing))
    statuses = {value: str(label) for value, label in TicketStatus.choices}
    priorities = {value: str(label) for value, label in Priority.choices}
    base = reverse("web:tickets")
    unassigned = _("Unassigned")
    rows = []
    for ticket in tickets:
        clock = ticket.clock
        rows.append(
            {
                "id": ticket.pk,
                "url": reverse("web:ticket", args=[ticket.pk]),
                "number": ticket.number,
                "subject": ticket.subject,
                "status": ticket.status,
                "status_label": statuses.get(ticket.status, ticket.status),
                "priority": ticket.priority,
                "priority_label": priorities.get(ticket.priority, ticket.priority),
                "customer_id": ticket.customer_id,
                "customer_url": _link({**query, "customer": str(ticket.customer_id)}, base=base),
                "customer": ticket.customer.name if ticket.customer_id and ticket.customer else "",
                "category": ticket.category.name if ticket.category_id and ticket.category else "",
                "team": teams.get(ticket.team_id or 0, ""),
                "assignee": people.get(ticket.assignee_id or 0, "") or unassigned,
                "breached": bool(clock and clock.breached),
                "paused": bool(clock and clock.paused_at),
                "due": _moment(clock.due if clock else None),
                "created": _moment(ticket.created_at),
            }
        )
    return rows


def _customer_chip(user: Any, customer_id: int | None) -> dict[str, Any] | None:
    """The customer filter as the form shows it: the name, if the reader may see it."""
    if customer_id is None:
        return None
    from customers.models import Customer

    name = ""
    if ticket_selectors.can_see_customer(user, customer_id):
        name = Customer.objects.filter(pk=customer_id).values_list("name", flat=True).first() or ""
    return {"id": customer_id, "name": name or _("Customer #%(id)s") % {"id": customer_id}}


def _categories() -> list[tuple[str, str]]:
    """Every category (code, name), kept between requests until configuration changes."""
    return configcache.cached(
        "web.ticket-categories",
        lambda: list(Category.objects.order_by("name").values_list("code", "name")),
    )


@login_required
def tickets(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    errors: dict[str, list[str]] = {}
    page = None
    try:
        filters = search.parse_filters(_screen_params(request.GET))
    except InvalidInput as exc:  # nothing listed: a list under filters nobody asked would mislead
        filters, errors = search.TicketFilters(), exc.errors or {"": [exc.message]}
    query = search.screen_query(filters)
    if not errors:
        cursor = request.GET.get("cursor") or None
        try:
            page = ticket_selectors.list_tickets_page(user, filters, cursor=cursor, limit=PAGE_SIZE)
        except InvalidInput as exc:  # a cursor this screen did not write: the first page
            errors.update(exc.errors)
            page = ticket_selectors.list_tickets_page(user, filters, cursor=None, limit=PAGE_SIZE)
    views = [selectors.saved_view_row(v) for v in selectors.saved_views_for(user)]
    config = _page_config(request, page="tickets")
    directory = config["directory"]
    response = _render(
        request,
        "web/tickets.html",
        config,
        rows=_rows(page.items, query, directory) if page else [],
        filters=filters,
        query=query,
        errors=errors,
        statuses=[
            {"value": v, "label": str(label), "checked": v in filters.statuses}
            for v, label in TicketStatus.choices
        ],
        priorities=_options(Priority.choices, filters.priority),
        teams=_options(sorted(directory["teams"].items(), key=lambda i: i[1]), filters.team),
        people=_options(sorted(directory["users"].items(), key=lambda i: i[1]), filters.assignee),
        categories=_options(_categories(), filters.category),
        customer=_customer_chip(user, filters.customer),
        without_customer=_link({k: v for k, v in query.items() if k != "customer"}),
        next_url=_link(query, page.next) if page and page.next else None,
        previous_url=_link(query, page.previous) if page and page.previous else None,
        saved_views=views,
        current_view=next((v["id"] for v in views if v["query"] == query), None),
        screen={
            "saved_views_url": reverse("web:saved-views"),
            "query": query,
            "strings": {
                "saved": _("Saved the view %(name)s."),
                "replaced": _("Replaced the view %(name)s."),
                "deleted": _("Deleted the view %(name)s."),
                "delete": _("Delete the view %(name)s"),
                "name_required": _("Give the view a name."),
                "error": _("Something went wrong (%(status)s)."),
                "network_error": _("The server could not be reached."),
            },
        },
    )
    if errors:
        response.status_code = 400
    return response
