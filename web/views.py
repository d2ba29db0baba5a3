"""The browser screens: login, the agent queue, a ticket, the supervisor board.

Pages are rendered by Django and read through the same selectors as the REST API;
the JavaScript module (static/web/kefu.js) keeps them live over ``/ws/queue/`` and
performs every change through the REST actions, so the browser has no write path of
its own.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task

from customers.models import Contact, Customer
from tickets import permissions, selectors
from tickets.errors import NotFound
from tickets.models import SlaPolicy, Team, Ticket, TicketEvent

from . import throttle
from .strings import js_strings


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("web:login")
    if permissions.is_supervisor(request.user):
        return redirect("web:board")
    return redirect("web:queue")


class ThrottledLoginView(LoginView):
    """Django's session login with failed attempts counted per address and user name."""

    template_name = "web/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = request.POST.get("username", "")
        if throttle.is_blocked(request, username):
            form = self.get_form()
            form.errors.clear()
            return self.render_to_response(
                self.get_context_data(
                    form=form,
                    throttled=_("Too many failed attempts. Wait a minute and try again."),
                ),
                status=429,
            )
        response: HttpResponse = super().post(request, *args, **kwargs)
        return response

    def form_invalid(self, form: Any) -> HttpResponse:
        throttle.record_failure(self.request, self.request.POST.get("username", ""))
        return super().form_invalid(form)

    def form_valid(self, form: Any) -> HttpResponse:
        throttle.forget(self.request, self.request.POST.get("username", ""))
        return super().form_valid(form)


def _directory(user: Any) -> dict[str, dict[int, str]]:
    """Names for the ids a queue row carries (assignee, team)."""
    teams = Team.objects.order_by("name")
    if not permissions.is_supervisor(user):
        teams = teams.filter(pk__in=permissions.team_ids_of(user))
    team_names = dict(teams.values_list("id", "name"))
    team_ids = list(team_names)
    people = get_user_model().objects.filter(
        Q(kefu_teams__in=team_ids) | Q(supervised_teams__in=team_ids) | Q(pk=user.pk)
    )
    return {"users": _user_names(people), "teams": team_names}


def _user_names(people: Any) -> dict[int, str]:
    return {
        row["id"]: (f"{row['first_name']} {row['last_name']}".strip() or row["username"])
        for row in people.values("id", "username", "first_name", "last_name").distinct()
    }


def _history_directory(ticket: Ticket, directory: dict[str, dict[int, str]]) -> dict[str, Any]:
    """The directory plus the names the ticket's history refers to and the page lacks: actors
    and assignees outside the reader's teams, teams it moved through, its SLA policy."""
    user_ids: set[int] = set()
    team_ids: set[int] = set()
    policy_ids: set[int] = {ticket.sla_policy_id} if ticket.sla_policy_id else set()
    for actor, before, after in TicketEvent.objects.filter(ticket=ticket).values_list(
        "actor_id", "before", "after"
    ):
        if actor:
            user_ids.add(actor)
        for values in (before or {}, after or {}):
            for key, ids in (
                ("assignee", user_ids),
                ("team", team_ids),
                ("sla_policy", policy_ids),
            ):
                if isinstance(values.get(key), int):
                    ids.add(values[key])
    users, teams = dict(directory["users"]), dict(directory["teams"])
    if missing := user_ids - set(users):
        users |= _user_names(get_user_model().objects.filter(pk__in=missing))
    if missing := team_ids - set(teams):
        teams |= dict(Team.objects.filter(pk__in=missing).values_list("id", "name"))
    policies = dict(SlaPolicy.objects.filter(pk__in=policy_ids).values_list("id", "name"))
    return {"users": users, "teams": teams, "policies": policies}


def _page_config(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    user: Any = request.user
    return {
        "me": user.pk,
        "teams": permissions.team_ids_of(user),
        "supervisor": permissions.is_supervisor(user),
        "ws": "/ws/queue/",
        "heartbeat": settings.KEFU_WS_HEARTBEAT,
        "directory": _directory(user),
        **extra,
    }


def _render(request: HttpRequest, template: str, config: dict[str, Any], **context: Any) -> Any:
    return render(
        request,
        template,
        {
            "config": config,
            "strings": js_strings(),
            "is_supervisor": config["supervisor"],
            **context,
        },
    )


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    page = selectors.queue_for(request.user)
    config = _page_config(request, page="queue", rows=page.rows, cursor=page.cursor)
    return _render(request, "web/queue.html", config)


@login_required
def board(request: HttpRequest) -> HttpResponse:
    if not permissions.is_supervisor(request.user):
        raise PermissionDenied(_("Only supervisors see the board."))
    page = selectors.queue_for(request.user, everything=True)
    config = _page_config(request, page="board", rows=page.rows, cursor=page.cursor)
    return _render(request, "web/board.html", config, satisfaction=_satisfaction(request.user))


SATISFACTION_DAYS = 30


def _satisfaction(user: Any) -> dict[str, Any]:
    """The last 30 days of survey results per team, for the board's satisfaction panel."""
    from datetime import UTC, timedelta

    from django.utils import timezone

    from surveys import selectors as survey_selectors

    now = timezone.now()
    rows, total = survey_selectors.csat_report(
        user,
        group_by="team",
        since=now - timedelta(days=SATISFACTION_DAYS),
        until=None,
        tz=UTC,
    )
    return {"days": SATISFACTION_DAYS, "rows": rows, "total": total}


def _process_tasks(ticket: Ticket) -> list[dict[str, Any]]:
    """Where the ticket is in its flow: the process's tasks, newest last."""
    tasks = (
        Task.objects.filter(process__ticketprocess__ticket_id=ticket.pk)
        .select_related("owner")
        .order_by("created", "pk")
    )
    return [
        {
            "title": task.title,
            "status": task.status,
            "status_label": task.get_status_display(),
            "owner": task.owner.get_username() if task.owner else "",
            "created": task.created,
            "finished": task.finished,
            "process_id": task.process_id,
        }
        for task in tasks
    ]


@login_required
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponseBase:
    try:
        ticket = selectors.get_ticket_for(request.user, pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    contact = Contact.objects.filter(pk=ticket.contact_id).first()
    customer = (
        Customer.objects.filter(pk=ticket.customer_id).first() if ticket.customer_id else None
    )
    tasks = _process_tasks(ticket)
    config = _page_config(
        request,
        page="ticket",
        ticket=ticket.pk,
        customer=ticket.customer_id,
        version=ticket.version,
    )
    config["directory"] = _history_directory(ticket, config["directory"])
    return _render(
        request,
        "web/ticket.html",
        config,
        ticket=ticket,
        contact=contact,
        customer=customer,
        tasks=tasks,
        actions=permissions.available_actions(request.user, ticket),
        process_id=tasks[0]["process_id"] if tasks else None,
    )
