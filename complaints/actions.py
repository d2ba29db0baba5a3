"""Which actions a person may take on a complaint now: what a screen offers. The rules
mirror the services (complaints/services/handling.py), which decide for real and answer
403/409; this only avoids offering dead ends."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from org import roles
from processes import runtime
from sla import clock as clocks

from .choices import AUTHORITY_ORDER, ComplaintStatus
from .models import Complaint, ComplaintPolicy
from .services import authority_of

# Every action, in the order a screen lists them.
ACTION_NAMES = (
    "claim",
    "assign",
    "acknowledge",
    "contact",
    "note",
    "propose",
    "approve",
    "reject",
    "extend",
    "escalate",
    "close",
    "reopen",
)


def current_node(complaint: Complaint) -> str | None:
    """The flow node the complaint waits in (``handle``, ``approval``, ``answered``,
    ``review``, ``closed``), None once archived."""
    process_pk = runtime.process_pk("complaint", complaint.pk)
    task = runtime.current_task(process_pk) if process_pk is not None else None
    return task.flow_task.name if task is not None else None


def _supervises(user: Any) -> bool:
    return roles.is_supervisor(user) or roles.is_manager(user)


def _may_handle(user: Any, complaint: Complaint) -> bool:
    """``handling._may_handle``: the handler, a team member when nobody has it, or a
    supervisor (never the person the complaint is about)."""
    if complaint.about_user_id is not None and complaint.about_user_id == user.pk:
        return False
    if _supervises(user) or complaint.assignee_id == user.pk:
        return True
    return complaint.assignee_id is None and complaint.team_id in roles.team_ids_of(user)


def extensions_allowed(complaint: Complaint) -> int:
    """How many extensions the complaint's clock policy allows."""
    clock = complaint.sla_clock
    if clock is None or clock.policy_id is None:
        return 0
    policy = ComplaintPolicy.objects.filter(sla_policy_id=clock.policy_id).first()
    return len(policy.extensions) if policy is not None else 0


def available_actions(
    user: Any, complaint: Complaint, *, node: str | None, now: Any = None
) -> list[str]:
    now = now or timezone.now()
    about_me = complaint.about_user_id is not None and complaint.about_user_id == user.pk
    handles = _may_handle(user, complaint)
    supervises = _supervises(user)
    allowed: set[str] = {"note"}
    if node == "handle":
        if (
            complaint.assignee_id is None
            and not about_me
            and (roles.is_supervisor(user) or complaint.team_id in roles.team_ids_of(user))
        ):
            allowed.add("claim")
        if supervises:
            allowed.add("assign")
        if handles:
            allowed.add("contact")
            if complaint.acknowledged_at is None:
                allowed.add("acknowledge")
            else:
                allowed.add("propose")
    if node == "approval" and not about_me:
        proposal = complaint.proposals.filter(status="pending").order_by("-id").first()
        if (
            proposal is not None
            and proposal.proposed_by_id != user.pk
            and AUTHORITY_ORDER.index(authority_of(user))
            >= AUTHORITY_ORDER.index(proposal.required_level)
        ):
            allowed |= {"approve", "reject"}
    if (
        supervises
        and not about_me
        and complaint.status
        in (
            ComplaintStatus.RECEIVED,
            ComplaintStatus.INVESTIGATING,
            ComplaintStatus.AWAITING_APPROVAL,
        )
        and complaint.extensions_used < extensions_allowed(complaint)
    ):
        clock = complaint.sla_clock
        due = clocks.target_due(clock, "final_answer") if clock is not None else None
        if due is not None and due > now:
            allowed.add("extend")
    if handles and complaint.status != ComplaintStatus.CLOSED:
        allowed.add("escalate")
    if node == "answered" and handles:
        allowed.add("close")
    if node == "review" and supervises and not about_me and complaint.assignee_id != user.pk:
        allowed.add("close")
    if node == "closed" and handles:
        allowed.add("reopen")
    return [name for name in ACTION_NAMES if name in allowed]
