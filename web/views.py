"""The browser screens: login, the agent queue, a ticket, the supervisor board.

Pages are rendered by Django and read through the same selectors as the REST API;
the JavaScript module (static/web/kefu.js) keeps them live over ``/ws/queue/`` and
performs every change through the REST actions, so the browser has no write path of
its own.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from complaints import selectors as complaint_selectors
from complaints import services as complaint_services
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from customers import permissions as customer_permissions
from customers.models import Contact, Customer
from mail import attachments as mail_attachments
from notifications import presence
from org import roles
from org import selectors as org_selectors
from processes import selectors as work_queue
from reports.selectors import may_see_reports
from tickets import permissions, selectors

from . import selectors as selectors_web
from .strings import js_strings


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect("web:login")
    if roles.is_supervisor(user):
        return redirect("web:board")
    if roles.roles_of(user) and not customer_permissions.sees_work_contents(user):
        # Marketing and analysts have no queue: their own screens (docs/customers-roles.md).
        if roles.is_marketing(user):
            return redirect("web:segments")
        if roles.is_analyst(user):
            return redirect("web:report-complaints")
    return redirect("web:queue")


def refused_page(request: HttpRequest, message: str) -> HttpResponse:
    """A screen this role may not use: a page that says so, with where to go (403)."""
    return _render(
        request,
        "web/refused.html",
        _page_config(request, page="refused"),
        message=message,
        status=403,
    )


class ThrottledLoginView(LoginView):
    """Django's session login. Failed logins are counted per address, per account and in
    total, as on every login path (project/logins.py); a locked-out login gets this page
    back with the lockout as its error and 429 (``LoginLockoutMiddleware``)."""

    template_name = "web/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        # A user who needs a second factor is not logged in yet: the code comes next
        # (web/two_factor_views.py, docs/security.md "Second factor").
        from .two_factor_views import second_step

        pending = second_step(self.request, form.get_user(), self.get_success_url())
        return pending or super().form_valid(form)


def _page_config(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    user: Any = request.user
    agent = org_selectors.assignable_agents().filter(pk=user.pk).exists()
    return {
        "me": user.pk,
        # The Online / Away switch is for those who take work (docs/realtime.md).
        "agent": agent,
        "presence": presence.chosen_status(user.pk) if agent else None,
        "teams": roles.team_ids_of(user),
        "supervisor": roles.is_supervisor(user),
        "reports": may_see_reports(user),
        "ws": "/ws/queue/",
        "heartbeat": settings.KEFU_WS_HEARTBEAT,
        "directory": selectors_web.directory_for(user),
        **extra,
    }


def _render(request: HttpRequest, template: str, config: dict[str, Any], **context: Any) -> Any:
    status = context.pop("status", 200)
    return render(
        request,
        template,
        {
            "config": config,
            "strings": js_strings(),
            "is_supervisor": config["supervisor"],
            **context,
        },
        status=status,
    )


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    try:
        work_queue.require_queue(request.user)
    except Forbidden as exc:
        return refused_page(request, exc.message)
    page = work_queue.queue_for(request.user)
    config = _page_config(request, page="queue", rows=page.rows, cursor=page.cursor)
    return _render(request, "web/queue.html", config)


@login_required
def board(request: HttpRequest) -> HttpResponse:
    if not roles.is_supervisor(request.user):
        return refused_page(request, _("Only supervisors see the board."))
    page = work_queue.queue_for(request.user, everything=True)
    config = _page_config(request, page="board", rows=page.rows, cursor=page.cursor)
    return _render(
        request,
        "web/board.html",
        config,
        satisfaction=selectors_web.satisfaction_for(request.user),
        complaints=selectors_web.complaint_counters(),
    )


@login_required
def board_complaints(request: HttpRequest) -> HttpResponse:
    """The board's complaints panel as JSON: the board re-reads it after queue events."""
    if not roles.is_supervisor(request.user):
        raise PermissionDenied(_("Only supervisors see the board."))
    response = JsonResponse(selectors_web.complaint_counters())
    response["Cache-Control"] = "private, no-store"
    return response


def _ticket_for(request: HttpRequest, pk: int) -> Any:
    try:
        return selectors.get_ticket_for(request.user, pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponseBase:
    return _ticket_page(request, _ticket_for(request, pk))


def _ticket_page(
    request: HttpRequest,
    ticket: Any,
    *,
    escalation: dict[str, str] | None = None,
    escalation_errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    contact = Contact.objects.filter(pk=ticket.contact_id).first()
    customer = (
        Customer.objects.filter(pk=ticket.customer_id).first() if ticket.customer_id else None
    )
    tasks = selectors_web.process_tasks(ticket)
    config = _page_config(
        request,
        page="ticket",
        ticket=ticket.pk,
        customer=ticket.customer_id,
        version=ticket.version,
    )
    config["directory"] = selectors_web.history_directory(ticket, config["directory"])
    return _render(
        request,
        "web/ticket.html",
        config,
        ticket=ticket,
        contact=contact,
        customer=customer,
        tasks=tasks,
        actions=permissions.available_actions(request.user, ticket),
        # files of the ticket itself (a web form's); a message's come with the message
        ticket_attachments=[
            a for a in mail_attachments.of_subject("ticket", ticket.pk) if a.message_id is None
        ],
        process_id=tasks[0]["process_id"] if tasks else None,
        linked=selectors_web.linked_to("ticket", ticket.pk),
        escalation_form=selectors_web.escalation_choices(),
        # a ticket is escalated into at most one complaint that is not closed: its link
        escalated_into=complaint_selectors.open_complaint_from_ticket(ticket.pk),
        escalation=escalation or {"impact": "medium", "urgency": "medium"},
        escalation_errors=escalation_errors or {},
        may_escalate=bool(roles.roles_of(request.user)),
        status=status,
    )


ESCALATION_FIELDS = ("category", "impact", "urgency", "desired_outcome")


@login_required
@require_POST
def escalate_ticket(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The ticket page's "Escalate to a complaint": a complaint of the ticket's customer and
    contact, its subject and description, linked both ways; never handled by the ticket's
    assignee (the complaint may be about them). Then the complaint's page."""
    ticket = _ticket_for(request, pk)
    values = {field: request.POST.get(field, "").strip() for field in ESCALATION_FIELDS}
    data = complaint_services.NewComplaint(
        category=values["category"],
        title=ticket.subject,
        description=ticket.description or ticket.subject,
        impact=values["impact"],
        urgency=values["urgency"],
        desired_outcome=values["desired_outcome"],
        channel="ticket",
        customer_id=ticket.customer_id,
        contact_id=ticket.contact_id,
        from_ticket=complaint_services.FromTicket(ticket.pk, ticket.number, ticket.assignee_id),
    )
    try:
        complaint = complaint_services.open_complaint(data=data, actor=request.user)
    except InvalidInput as exc:
        errors = {field: [str(m) for m in msgs] for field, msgs in exc.errors.items()}
        errors.setdefault("form", []).insert(0, exc.message)
        return _ticket_page(
            request, ticket, escalation=values, escalation_errors=errors, status=400
        )
    except Conflict as exc:  # escalated meanwhile: the page shows the complaint instead
        errors = {"form": [exc.message, *exc.errors.get("ticket", [])]}
        return _ticket_page(
            request, ticket, escalation=values, escalation_errors=errors, status=409
        )
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    # 303: a reload of the complaint's page never sends the form again
    response = HttpResponse(status=303)
    if complaint_selectors.can_see_complaint(request.user, complaint.pk):
        response["Location"] = selectors_web.object_url("complaint", complaint.pk)
    else:
        # it went to the complaints team, and it may be about the ticket's own agent
        messages.info(
            request,
            _("Complaint %(number)s went to a team you do not see.") % {"number": complaint.number},
        )
        response["Location"] = reverse("web:ticket", args=[ticket.pk])
    return response


@login_required
def ticket_process(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The ticket's process as a chart, its current step marked, for whoever may see the
    ticket (viewflow's own screens are not served: they know nothing of Kefu's teams)."""
    ticket = _ticket_for(request, pk)
    config = _page_config(request, page="process", ticket=ticket.pk)
    return _render(
        request,
        "web/process.html",
        config,
        ticket=ticket,
        chart=selectors_web.process_chart(ticket),
        sla=selectors_web.sla_ladder(ticket),
    )
