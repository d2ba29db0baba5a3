"""Read queries over complaints, each permission-aware (docs/complaints.md, "Who sees what")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task

from core.errors import NotFound
from customers.permissions import sees_work_contents
from org import roles
from processes.runtime import ACTIVE_TASK_STATUSES
from processes.subjects import SubjectFacts
from sla.models import SlaClock

from .choices import QUEUE_STATUSES, ComplaintStatus, ProposalStatus
from .models import APPROVAL_KIND, Complaint, ComplaintProfile, Proposal


def sees_every_complaint(user: Any) -> bool:
    """Supervisors, managers and administrators see every complaint."""
    return roles.is_supervisor(user) or roles.is_manager(user)


def complaints_visible_to(user: Any) -> QuerySet[Complaint]:
    """Agents see the complaints of their teams and those they handle or must approve."""
    rows = Complaint.objects.all()
    if not getattr(user, "is_authenticated", False):
        return rows.none()
    # Marketing and analysts never read complaints, even in a team (docs/customers.md).
    if roles.roles_of(user) and not sees_work_contents(user):
        return rows.none()
    if sees_every_complaint(user):
        return rows
    return rows.filter(
        Q(team_id__in=roles.team_ids_of(user))
        | Q(assignee_id=user.pk)
        | Q(proposals__approver_id=user.pk)
    ).distinct()


def customers_seen_q(user: Any) -> Q | None:
    """The customers an agent's complaints show, as a condition on ``customers.Customer``."""
    if sees_every_complaint(user):
        return None
    mine = (
        Q(team_id__in=roles.team_ids_of(user))
        | Q(assignee_id=user.pk)
        | Q(proposals__approver_id=user.pk)
    )
    return Q(pk__in=Complaint.objects.filter(mine).values("customer_id"))


def walk_in_contacts_seen_q(user: Any) -> Q | None:
    """Walk-in contacts of an agent's complaints, as a condition on ``customers.Contact``."""
    if sees_every_complaint(user):
        return None
    mine = (
        Q(team_id__in=roles.team_ids_of(user))
        | Q(assignee_id=user.pk)
        | Q(proposals__approver_id=user.pk)
    )
    return Q(customer__isnull=True) & Q(pk__in=Complaint.objects.filter(mine).values("contact_id"))


def can_see_complaint(user: Any, complaint_id: int) -> bool:
    """The visibility rule as the platform asks it (``processes.visibility``)."""
    return complaints_visible_to(user).filter(pk=complaint_id).exists()


def visible_complaint_ids(user: Any, complaint_ids: list[int]) -> set[int]:
    """``can_see_complaint`` for a page of complaints, in one query."""
    rows = complaints_visible_to(user).filter(pk__in=complaint_ids)
    return set(rows.values_list("pk", flat=True))


def describe_complaints(complaint_ids: list[int]) -> dict[int, SubjectFacts]:
    """What the platform shows of complaints (``processes.subjects``), in one query."""
    rows = Complaint.objects.filter(pk__in=complaint_ids).only(
        "number", "title", "description", "customer_id", "contact_id", "assignee_id"
    )
    return {
        c.pk: SubjectFacts(
            number=c.number,
            title=c.title,
            description=c.description,
            customer_id=c.customer_id,
            contact_id=c.contact_id,
            assignee_id=c.assignee_id,
        )
        for c in rows
    }


def describe_complaint(complaint_id: int) -> SubjectFacts | None:
    return describe_complaints([complaint_id]).get(complaint_id)


def get_complaint_for(user: Any, complaint_id: int) -> Complaint:
    complaint = (
        complaints_visible_to(user)
        .select_related(
            "customer", "contact", "category", "subcategory", "root_cause", "sla_clock", "profile"
        )
        .filter(pk=complaint_id)
        .first()
    )
    if complaint is None:
        raise NotFound(_("Complaint not found."))
    return complaint


def open_complaint_from_ticket(ticket_id: int) -> Complaint | None:
    """The complaint the ticket was escalated into that is not closed yet, or None: a
    ticket has at most one (``services.open_complaint``)."""
    return (
        Complaint.objects.filter(ticket_id=ticket_id)
        .exclude(status=ComplaintStatus.CLOSED)
        .only("id", "number", "status")
        .order_by("-id")
        .first()
    )


def default_profile() -> ComplaintProfile | None:
    return (
        ComplaintProfile.objects.filter(is_default=True).order_by("id").first()
        or ComplaintProfile.objects.order_by("id").first()
    )


def pending_proposal(complaint: Complaint) -> Proposal | None:
    return complaint.proposals.filter(status="pending").order_by("-id").first()


def approval_clock(complaint_id: int) -> SlaClock | None:
    """The clock of the complaint's approval (the latest one asked; stopped once decided)."""
    return SlaClock.objects.filter(kind=APPROVAL_KIND, object_id=complaint_id).first()


def pending_approvals(
    complaint_ids: list[int],
) -> dict[int, tuple[Proposal | None, SlaClock | None]]:
    """``pending_proposal`` and ``approval_clock`` of many complaints in two queries."""
    if not complaint_ids:
        return {}
    proposals: dict[int, Proposal] = {}
    for proposal in Proposal.objects.filter(
        complaint_id__in=complaint_ids, status=ProposalStatus.PENDING
    ).order_by("id"):
        proposals[proposal.complaint_id] = proposal  # the latest wins
    waiting = {
        row.object_id: row
        for row in SlaClock.objects.filter(kind=APPROVAL_KIND, object_id__in=complaint_ids)
    }
    return {pk: (proposals.get(pk), waiting.get(pk)) for pk in complaint_ids}


def approval_overdue(clock: SlaClock | None) -> bool:
    """The running approval clock's due moment has passed (breached by the ladder or not
    yet swept)."""
    if clock is None or clock.stopped_at is not None:
        return False
    return clock.breached or (clock.due is not None and clock.due <= timezone.now())


def history_label(subject_kind: str, verb: str) -> str:
    """How an audit row of the complaint's history reads: an approval's clock rows by their
    own verbs (``complaint_approval``), every other row as the complaint's."""
    from audit import verbs

    kind = subject_kind if subject_kind == APPROVAL_KIND else "complaint"
    return verbs.label(kind, verb)


def answer_number(complaint: Complaint) -> int:
    """Which final answer the complaint's latest is, from 0: each decided or approved
    proposal was one. The respond link carries it, so the link of an earlier answer (before
    a dispute or a reopen) cannot answer a later one."""
    answers = complaint.proposals.filter(
        status__in=[ProposalStatus.APPROVED, ProposalStatus.DECIDED]
    ).count()
    return max(answers - 1, 0)


def current_task_id(complaint_id: int) -> int | None:
    task_id: int | None = (
        Task.objects.filter(
            process__complaintprocess__complaint_id=complaint_id,
            status__in=ACTIVE_TASK_STATUSES,
            flow_task_type="HUMAN",
        )
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return task_id


def queue_row(
    complaint: Complaint,
    *,
    task_id: int | None,
    approval: tuple[Proposal | None, SlaClock | None] | None = None,
) -> dict[str, Any]:
    """The complaint's queue row (API.md), times as datetimes. While it awaits approval the
    row names the approver and the approval's due moment, warned and breached as the
    approval's own clock is; otherwise the SLA clock's. ``approval`` is the pending proposal
    and the approval's clock when the caller read them already (a sweep of the ladder)."""
    clock = complaint.sla_clock
    assignee_id = complaint.assignee_id
    due = clock.due if clock is not None else None
    breached = bool(clock and clock.breached)
    warning = bool(clock and clock.warning)
    if complaint.status == ComplaintStatus.AWAITING_APPROVAL:
        proposal, waiting = (
            approval
            if approval is not None
            else (pending_proposal(complaint), approval_clock(complaint.pk))
        )
        if proposal is not None:
            assignee_id = proposal.approver_id
            due = proposal.due_at
        if waiting is not None and waiting.stopped_at is None:
            breached = breached or waiting.breached
            warning = warning or waiting.warning
    elif complaint.status == ComplaintStatus.QUALITY_REVIEW:
        # the reviewer whose task it is (none chosen: offered to the supervisors)
        assignee_id = (
            Task.objects.filter(pk=task_id).values_list("owner_id", flat=True).first()
            if task_id is not None
            else None
        )
    tier = complaint.customer.tier if complaint.customer_id and complaint.customer else None
    return {
        "kind": "complaint",
        "object_id": complaint.pk,
        "task_id": task_id,
        "number": complaint.number,
        "title": complaint.title[:200],
        "priority": complaint.severity,
        "status": complaint.status,
        "assignee": assignee_id,
        "team": complaint.team_id,
        "due": due,
        "breached": breached,
        "warning": warning,
        "paused": False,
        "escalation_level": clock.escalation_level if clock is not None else 0,
        "acknowledged": bool(clock and clock.acknowledged_level >= clock.escalation_level),
        "customer_tier": tier,
        "created": complaint.received_at,
        "version": complaint.version,
    }


def current_task_ids(complaint_ids: list[int]) -> dict[int, int]:
    """``current_task_id`` of many complaints in one query: complaint id → task id."""
    out: dict[int, int] = {}
    for complaint_id, task_id in (
        Task.objects.filter(
            process__complaintprocess__complaint_id__in=complaint_ids,
            status__in=ACTIVE_TASK_STATUSES,
            flow_task_type="HUMAN",
        )
        .order_by("id")
        .values_list("process__complaintprocess__complaint_id", "id")
    ):
        out[complaint_id] = task_id  # the latest wins
    return out


def is_waiting(complaint: Complaint) -> bool:
    return complaint.status in QUEUE_STATUSES


def customer_history(
    *, customer_id: int | None, contact_id: int | None, exclude_id: int | None = None
) -> dict[str, Any]:
    """What intake shows: the customer's earlier complaints (newest first) and open tickets
    (through the platform's work queue, so complaints never import tickets)."""
    from processes.models import WorkItem

    if customer_id is None and contact_id is None:
        return {"complaints": [], "open_work": []}
    mine = Q(customer_id=customer_id) if customer_id is not None else Q(contact_id=contact_id)
    earlier = Complaint.objects.filter(mine).select_related("category").order_by("-received_at")
    if exclude_id is not None:
        earlier = earlier.exclude(pk=exclude_id)
    complaints = [
        {
            "id": c.pk,
            "number": c.number,
            "title": c.title,
            "category": c.category.code,
            "severity": c.severity,
            "status": c.status,
            "received_at": c.received_at,
        }
        for c in earlier[:20]
    ]
    open_work: list[dict[str, Any]] = []
    if customer_id is not None:
        from audit.models import AuditEvent

        # Open work of any kind whose customer this is: the work queue holds no customer,
        # so the customer's audit rows name the objects (one index scan, newest first).
        recent = (
            AuditEvent.objects.filter(customer_id=customer_id, verb="created")
            .exclude(subject_kind="complaint")
            .order_by("-created_at", "-id")
            .values_list("subject_kind", "ticket_id", "object_id")[:200]
        )
        keys = {(kind, ticket_id or object_id) for kind, ticket_id, object_id in recent}
        ids_by_kind: dict[str, list[int]] = {}
        for kind, object_id in keys:
            if object_id is not None:
                ids_by_kind.setdefault(kind, []).append(object_id)
        for kind, ids in ids_by_kind.items():
            for item in WorkItem.objects.filter(kind=kind, object_id__in=ids).order_by("due"):
                open_work.append(
                    {
                        "kind": item.kind,
                        "id": item.object_id,
                        "number": item.number,
                        "title": item.title,
                        "status": item.status,
                        "priority": item.priority,
                    }
                )
    return {"complaints": complaints, "open_work": open_work}


def find_repeat(
    *, customer_id: int | None, contact_id: int | None, category_id: int, window_days: int
) -> Complaint | None:
    """The latest complaint of the same customer (or contact) and category within the
    window: the new one is a repeat of it."""
    if customer_id is None and contact_id is None:
        return None
    since = timezone.now() - timedelta(days=window_days)
    mine = Q(customer_id=customer_id) if customer_id is not None else Q(contact_id=contact_id)
    return (
        Complaint.objects.filter(mine, category_id=category_id, received_at__gte=since)
        .order_by("-received_at")
        .first()
    )
