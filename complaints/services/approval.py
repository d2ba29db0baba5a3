"""A pending approval's own clock and its escalation (docs/complaints.md, "Overdue
approvals").

An approval asked of a supervisor or a manager falls due ``approval_hours`` (wall-clock)
after the proposal. Its clock (``sla.SlaClock`` of kind ``complaint_approval``, keyed by the
complaint: one a complaint, started again for each approval) has one target, ``approval``,
due at the proposal's ``due_at``, and warns at the complaint's policy's warning share. It
starts when the approval is asked and stops when it is approved or rejected.

The platform's SLA ladder fires it set-wise through ``ApprovalSubjects``: at the warning
share the approver is warned; at the due moment the approval is overdue and the approver's
superior level is told — the managers for a supervisor's approval, the administrators (all
managers when there is none) for a manager's — each step audited on the complaint with the
approver, the amount and the limit rule, and the approver's queue row shows it overdue. The
sweep takes the complaint's flow lock (``process_kind``), so an approver deciding and the
ladder never write the complaint at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from core.bulk import update_columns
from org import roles
from processes.queue import most_significant, publish_work_items
from sla import clock as clocks
from sla.kinds import Subject
from sla.models import SlaClock

from .. import selectors
from ..choices import AuthorityLevel, ComplaintStatus, ProposalStatus
from ..models import APPROVAL_KIND, APPROVAL_TARGET, Complaint, Proposal
from ._common import KIND

# The warning share when the complaint's own clock names none (the shipped policies' 80 %).
DEFAULT_WARNING_PERCENT = 80


def start_approval_clock(complaint: Complaint, proposal: Proposal, at: datetime) -> SlaClock:
    """The approval's clock, started at ``at`` (the proposal's moment): its one target falls
    due at ``proposal.due_at`` in wall-clock time (no calendar), its warning at the
    complaint's policy's warning share. The caller holds the complaint's flow lock."""
    assert proposal.due_at is not None
    own = complaint.sla_clock
    warning = (own.terms.get("warning_percent") if own is not None and own.terms else None) or (
        DEFAULT_WARNING_PERCENT
    )
    seconds = max(int((proposal.due_at - at).total_seconds()), 1)
    terms = {
        "policy_id": None,
        "policy": "approval",
        "proposal_id": proposal.pk,
        "required_level": proposal.required_level,
        "targets": [[APPROVAL_TARGET, seconds]],
        "warning_percent": int(warning),
        "escalation": [],
        "calendar": None,
    }
    return clocks.restart(kind=APPROVAL_KIND, object_id=complaint.pk, terms=terms, at=at)


def stop_approval_clock(complaint: Complaint, at: datetime) -> None:
    """The approval was decided (approved or rejected): its target is met (late if after
    its due moment) and the clock stops, so nothing more of it fires."""
    row = (
        SlaClock.objects.select_for_update()
        .filter(kind=APPROVAL_KIND, object_id=complaint.pk, stopped_at__isnull=True)
        .first()
    )
    if row is None:
        return
    clocks.meet(row, [APPROVAL_TARGET], at)
    clocks.stop(row, at)


def superior_level(required_level: str) -> str:
    """Whom an overdue approval of ``required_level`` goes to: a supervisor's to the
    managers, a manager's to the administrators."""
    if required_level == AuthorityLevel.MANAGER:
        return roles.ROLE_ADMINISTRATOR
    return roles.ROLE_MANAGER


def told_role(required_level: str) -> str:
    """The role an overdue approval of ``required_level`` is told to as things stand: the
    superior level, or the managers when nobody active holds it (as the sweep decides)."""
    level = superior_level(required_level)
    if level == roles.ROLE_MANAGER or _people_by_role([level])[level]:
        return level
    return roles.ROLE_MANAGER


def _people_by_role(role_names: list[str]) -> dict[str, list[int]]:
    """Active people of each role (one query)."""
    out: dict[str, set[int]] = {name: set() for name in role_names}
    membership = get_user_model().groups.through.objects
    for name, user_id in membership.filter(
        group__name__in=role_names, user__is_active=True
    ).values_list("group__name", "user_id"):
        out[name].add(user_id)
    return {name: sorted(ids) for name, ids in out.items()}


@dataclass
class _Approval:
    """What a sweep knows of one approval: the complaint, its pending proposal and clock."""

    complaint: Complaint
    proposal: Proposal
    clock: SlaClock
    superiors: list[int]


class ApprovalSubjects:
    """Pending approvals as the SLA ladder sees them (``sla.kinds``, kind
    ``complaint_approval``): the approver is the subject's assignee, the superior level its
    "supervisors"; nothing of the complaint changes but its version and its work item."""

    kind = APPROVAL_KIND
    process_kind = KIND
    target_order = (APPROVAL_TARGET,)

    def load(self, object_ids: Sequence[int], clocks: Mapping[int, SlaClock]) -> dict[int, Subject]:
        complaints = Complaint.objects.select_related("customer", "sla_clock").in_bulk(
            list(object_ids)
        )
        pending: dict[int, Proposal] = {}
        for row in Proposal.objects.filter(
            complaint_id__in=list(object_ids), status=ProposalStatus.PENDING
        ).order_by("id"):
            pending[row.complaint_id] = row  # the latest wins
        people = _people_by_role([roles.ROLE_MANAGER, roles.ROLE_ADMINISTRATOR])
        out: dict[int, Subject] = {}
        for pk, complaint in complaints.items():
            waiting = pending.get(pk)
            clock = clocks.get(pk)
            if (
                waiting is None
                or clock is None
                or complaint.status != ComplaintStatus.AWAITING_APPROVAL
                or clock.terms.get("proposal_id") != waiting.pk
            ):
                continue  # decided meanwhile: its clock was stopped with the decision
            proposal = waiting
            level = superior_level(proposal.required_level)
            superiors = people[level] or people[roles.ROLE_MANAGER]
            superiors = [
                uid
                for uid in superiors
                if uid not in (proposal.approver_id, complaint.about_user_id)
            ]
            amount = proposal.compensation_amount
            out[pk] = Subject(
                object_id=pk,
                number=complaint.number,
                priority=complaint.severity,
                assignee_id=proposal.approver_id,
                team_id=complaint.team_id,
                customer_id=complaint.customer_id,
                row=_Approval(complaint, proposal, clock, superiors),
                details={
                    "proposal": proposal.pk,
                    "approver": proposal.approver_id,
                    "amount": str(amount) if amount is not None else None,
                    "currency": settings.KEFU_CURRENCY,
                    "required_level": proposal.required_level,
                    "rule": proposal.rule,
                    "escalate_to": level if people[level] else roles.ROLE_MANAGER,
                },
            )
        return out

    def audit_fields(self, subject: Subject) -> Mapping[str, Any]:
        approval: _Approval = subject.row
        return {"complaint_id": subject.object_id, "contact_id": approval.complaint.contact_id}

    def supervisors(self, subjects: Sequence[Subject]) -> dict[int, list[int]]:
        return {s.object_id: s.row.superiors for s in subjects}

    def raise_priority(self, subject: Subject) -> str | None:
        return None  # an overdue approval is escalated, the complaint's severity stays

    def save(self, subjects: Sequence[Subject]) -> None:
        """The complaints' versions move and their work items are kept (the approver's row
        now warned or overdue), one statement each; one queue event a complaint."""
        if not subjects:
            return
        now = timezone.now()
        approvals: list[_Approval] = [s.row for s in subjects]
        for approval in approvals:
            approval.complaint.version += 1
            approval.complaint.updated_at = now
        update_columns([a.complaint for a in approvals], ["version", "updated_at"])
        task_ids = selectors.current_task_ids([a.complaint.pk for a in approvals])
        batch = [
            (
                most_significant(subject.events),
                selectors.queue_row(
                    approval.complaint,
                    task_id=task_ids.get(approval.complaint.pk),
                    approval=(approval.proposal, approval.clock),
                ),
                True,
            )
            for subject, approval in zip(subjects, approvals, strict=True)
        ]
        publish_work_items(batch)  # type: ignore[arg-type]
