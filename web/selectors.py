"""Reads of the browser screens beyond the REST selectors: the names a page shows for ids,
where a ticket is in its flow, the board's satisfaction panel."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from viewflow.workflow import chart
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit.models import AuditEvent
from complaints.choices import ComplaintStatus, Impact, Urgency
from complaints.models import Complaint, ComplaintCategory
from org import roles
from org.models import Team
from org.selectors import person_name, person_names
from processes import links, runtime
from processes.models import WorkItem
from sla import clock as clocks
from sla.choices import EscalationAction
from sla.models import SlaPolicy
from surveys import selectors as survey_selectors
from tickets.choices import SlaTarget
from tickets.models import Ticket

from .models import SavedView


def directory_for(user: Any) -> dict[str, dict[int, str]]:
    """Names for the ids a queue row carries (assignee, team)."""
    teams = Team.objects.order_by("name")
    if not roles.is_supervisor(user):
        teams = teams.filter(pk__in=roles.team_ids_of(user))
    team_names = dict(teams.values_list("id", "name"))
    team_ids = list(team_names)
    people = get_user_model().objects.filter(
        Q(kefu_teams__in=team_ids) | Q(supervised_teams__in=team_ids) | Q(pk=user.pk)
    )
    return {"users": user_names(people), "teams": team_names}


def user_names(people: Any) -> dict[int, str]:
    """Names for display of everyone in ``people`` (assignable or not: history names all)."""
    return person_names(people.distinct())


def history_directory(ticket: Ticket, directory: dict[str, dict[int, str]]) -> dict[str, Any]:
    """The directory plus the names the ticket's history refers to and the page lacks: actors
    and assignees outside the reader's teams, teams it moved through, its SLA policy."""
    user_ids: set[int] = set()
    team_ids: set[int] = set()
    policy_ids: set[int] = {ticket.sla_policy_id} if ticket.sla_policy_id else set()
    for actor, before, after in AuditEvent.objects.filter(ticket=ticket).values_list(
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
        users |= user_names(get_user_model().objects.filter(pk__in=missing))
    if missing := team_ids - set(teams):
        teams |= dict(Team.objects.filter(pk__in=missing).values_list("id", "name"))
    policies = dict(SlaPolicy.objects.filter(pk__in=policy_ids).values_list("id", "name"))
    return {"users": users, "teams": teams, "policies": policies}


SATISFACTION_DAYS = 30


def satisfaction_for(user: Any) -> dict[str, Any]:
    """The last 30 days of survey results per team, for the board's satisfaction panel."""
    now = timezone.now()
    rows, total = survey_selectors.csat_report(
        user,
        group_by="team",
        since=now - timedelta(days=SATISFACTION_DAYS),
        until=None,
        tz=UTC,
    )
    return {"days": SATISFACTION_DAYS, "rows": rows, "total": total}


# viewflow's own labels are missing from its Simplified Chinese catalogue; Kefu's say the same.
TASK_STATUS_LABELS = {
    STATUS.NEW: _("Waiting"),
    STATUS.ASSIGNED: _("Assigned"),
    STATUS.STARTED: _("In progress"),
    STATUS.SCHEDULED: _("Scheduled"),
    STATUS.DONE: _("Done"),
    STATUS.CANCELED: _("Canceled"),
    STATUS.ERROR: _("Error"),
    STATUS.REVIVED: _("Revived"),
}


def process_tasks(ticket: Ticket) -> list[dict[str, Any]]:
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
            "status_label": TASK_STATUS_LABELS.get(task.status, task.status),
            "owner": person_name(task.owner) if task.owner else "",
            "created": task.created,
            "finished": task.finished,
            "process_id": task.process_id,
        }
        for task in tasks
    ]


def process_chart(ticket: Ticket) -> str:
    """The flow's chart as SVG, each step coloured by the state of this ticket's tasks.
    The markup is viewflow's, drawn from Kefu's own flow definition: nothing in it comes
    from a user."""
    flow_class = runtime.kind("ticket").flow_class
    grid = chart.calc_layout_data(flow_class)
    process_id = (
        Task.objects.filter(process__ticketprocess__ticket_id=ticket.pk)
        .values_list("process_id", flat=True)
        .first()
    )
    if process_id is not None:
        chart.calc_cell_status(flow_class, grid, process_id)
    return mark_safe(chart.grid_to_svg(grid))  # noqa: S308 - generated from the flow class


LADDER_STATES = {
    "done": _("fired"),
    "pending": _("pending"),
    "skipped": _("not needed: target met"),
}


def sla_ladder(ticket: Ticket) -> dict[str, Any] | None:
    """The ticket's SLA clock as the process chart shows it beside the flow: the policy,
    whether the clock runs, and every checkpoint of its ladder (warning, breach, escalation
    levels) with its moment and state. None when the ticket has no clock."""
    clock = ticket.clock
    if clock is None or not clock.terms:
        return None
    targets = dict(SlaTarget.choices)
    actions = dict(EscalationAction.choices)
    kinds = {"warning": _("Warning"), "breach": _("Breach")}
    steps = []
    for step in clocks.ladder(clock):
        if step["kind"] == "level":
            label = str(_("Escalation level %(level)s: %(action)s")) % {
                "level": step["level"],
                "action": actions.get(step["action"], step["action"]),
            }
        else:
            label = str(kinds[step["kind"]])
        steps.append(
            {
                **step,
                "label": label,
                "target_label": str(targets.get(step["target"], step["target"])),
                "state_label": str(LADDER_STATES[step["state"]]),
            }
        )
    if clock.stopped_at is not None:
        running = _("stopped")
    elif clock.paused_at is not None:
        running = _("paused")
    else:
        running = _("running")
    return {"policy": clock.terms.get("policy"), "running": running, "steps": steps}


# The page of an object of each kind (the complaint's page is /complaints/<id>/).
OBJECT_PAGES = {"ticket": "/tickets/{id}/", "complaint": "/complaints/{id}/"}


def object_url(kind: str, object_id: int) -> str:
    return OBJECT_PAGES.get(kind, "/{kind}/{id}/").format(kind=kind, id=object_id)


def linked_to(kind: str, object_id: int) -> list[dict[str, Any]]:
    """The objects linked to this one (``processes.links``), each with its page."""
    return [
        {**row, "url": object_url(row["kind"], row["id"])}
        for row in links.links_of(kind, object_id)
    ]


def escalation_choices() -> dict[str, Any]:
    """What the ticket page's "Escalate to a complaint" form offers: the active categories
    (in the reader's language), impact and urgency."""
    categories = ComplaintCategory.objects.filter(parent__isnull=True, is_active=True)
    return {
        "categories": [(c.code, c.label) for c in categories.order_by("position", "code")],
        "impacts": [(v, str(label)) for v, label in Impact.choices],
        "urgencies": [(v, str(label)) for v, label in Urgency.choices],
    }


def complaint_response_page(access: Any) -> dict[str, Any] | None:
    """What the customer's accept-or-dispute page shows for a link (``complaints.links``):
    the complaint's answer and whether it may still be answered — ``open``; ``answered``
    (this answer was accepted or disputed, or a later one replaced it); ``gone`` (the
    window is over). None when the link names no complaint of that contact."""
    complaint = (
        Complaint.objects.select_related("contact")
        .filter(pk=access.complaint_id, contact_id=access.contact_id)
        .first()
    )
    if complaint is None:
        return None
    answered = (
        complaint.status != ComplaintStatus.AWAITING_CUSTOMER or complaint.disputes != access.answer
    )
    if answered:
        state = "answered"
    elif complaint.response_due_at is not None and timezone.now() > complaint.response_due_at:
        state = "gone"
    else:
        state = "open"
    # What this link's answer became: accepted, disputed (a later answer exists), or silence.
    if complaint.disputes > access.answer:
        recorded = "disputed"
    elif complaint.customer_response:
        recorded = complaint.customer_response
    else:
        recorded = ""
    return {
        "complaint": complaint,
        "language": complaint.contact.language if complaint.contact else "",
        "state": state,
        "recorded": recorded,
    }


COMPLAINT_SEVERITIES = ("S1", "S2", "S3", "S4")


def complaint_counters(now: Any = None) -> dict[str, int]:
    """The board's complaints panel, from the work queue: open complaints per severity,
    overdue (due before now), awaiting approval, breached. One statement, an index scan of
    the work items of kind ``complaint`` (``workitem_object_uniq`` leads with the kind)."""
    now = now or timezone.now()
    counts = WorkItem.objects.filter(kind="complaint").aggregate(
        open=Count("id"),
        **{sev: Count("id", filter=Q(priority=sev)) for sev in COMPLAINT_SEVERITIES},
        overdue=Count("id", filter=Q(due__lt=now)),
        awaiting_approval=Count("id", filter=Q(status="awaiting_approval")),
        breached=Count("id", filter=Q(breached=True)),
    )
    return {key: int(value or 0) for key, value in counts.items()}


def saved_views_for(user: Any) -> QuerySet[SavedView]:
    """The user's own saved views of the tickets screen, by name (nobody sees another's)."""
    return SavedView.objects.filter(user_id=user.pk).order_by("name", "id")


def saved_view_row(view: SavedView) -> dict[str, Any]:
    """A saved view as the REST API and the screen show it: the screen's URL included."""
    query = urlencode(view.query)
    return {
        "id": view.pk,
        "name": view.name,
        "query": view.query,
        "url": reverse("web:tickets") + (f"?{query}" if query else ""),
        "created": view.created_at,
        "updated": view.updated_at,
    }
