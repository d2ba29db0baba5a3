"""Complaints as the SLA ladder sees them (``sla.kinds``): warned, marked breached and
escalated set-wise by the platform's dispatcher; a ``raise_priority`` level raises the
severity one step; a ``reassign`` level hands the handling task to the level's team through
the flow, complaint by complaint (docs/complaints.md, "Escalation")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils import timezone

from core.bulk import update_columns
from org.assignment import choose_agent
from org.models import Team
from org.selectors import supervisors_by_team
from processes.queue import most_significant, publish_work_items
from sla.kinds import Subject
from sla.models import SlaClock

from .. import selectors
from ..choices import SEVERITY_ORDER, ComplaintStatus, raised
from ..models import COMPLAINT_TARGETS, Complaint
from ._common import KIND, take


class ComplaintSubjects:
    kind = KIND
    target_order = COMPLAINT_TARGETS

    def load(self, object_ids: Sequence[int], clocks: Mapping[int, SlaClock]) -> dict[int, Subject]:
        rows = Complaint.objects.select_related("customer", "team").in_bulk(list(object_ids))
        out: dict[int, Subject] = {}
        for pk, complaint in rows.items():
            if pk in clocks:
                complaint.sla_clock = clocks[pk]
            out[pk] = Subject(
                object_id=pk,
                number=complaint.number,
                priority=complaint.severity,
                assignee_id=complaint.assignee_id,
                team_id=complaint.team_id,
                customer_id=complaint.customer_id,
                row=complaint,
            )
        return out

    def audit_fields(self, subject: Subject) -> Mapping[str, Any]:
        return {"complaint_id": subject.object_id}

    def supervisors(self, subjects: Sequence[Subject]) -> dict[int, list[int]]:
        by_team = supervisors_by_team(s.team_id for s in subjects)
        return {s.object_id: by_team[s.team_id] for s in subjects}

    def raise_priority(self, subject: Subject) -> str | None:
        if subject.priority not in SEVERITY_ORDER or subject.priority == SEVERITY_ORDER[0]:
            return None
        return raised(subject.priority)

    def save(self, subjects: Sequence[Subject]) -> None:
        now = timezone.now()
        rows: list[Complaint] = []
        for subject in subjects:
            complaint: Complaint = subject.row
            complaint.severity = subject.priority
            if subject.reassign_to is not None:
                _move_work(complaint, subject.reassign_to)
            complaint.version += 1
            complaint.updated_at = now
            rows.append(complaint)
        if not rows:
            return
        update_columns(rows, ["severity", "team_id", "assignee_id", "version", "updated_at"])
        # what the queue rows read, for every complaint of the sweep at once
        task_ids = selectors.current_task_ids([c.pk for c in rows if selectors.is_waiting(c)])
        approvals = selectors.pending_approvals(
            [c.pk for c in rows if c.status == ComplaintStatus.AWAITING_APPROVAL]
        )
        batch = []
        for complaint, subject in zip(rows, subjects, strict=True):
            batch.append(
                (
                    most_significant(subject.events),
                    selectors.queue_row(
                        complaint,
                        task_id=task_ids.get(complaint.pk),
                        approval=approvals.get(complaint.pk, (None, None)),
                    ),
                    selectors.is_waiting(complaint),
                )
            )
        publish_work_items(batch)  # type: ignore[arg-type]


def _move_work(complaint: Complaint, team_id: int) -> None:
    """A reassign level: the team's next agent (never the person complained about) takes
    the handling task; when nobody fits, the task waits unassigned for the team."""
    team = Team.objects.filter(pk=team_id).first()
    complaint.team = team
    exclude = {complaint.about_user_id} if complaint.about_user_id else set()
    agent = choose_agent(team, exclude=exclude)
    complaint.assignee = agent
    task_id = selectors.current_task_id(complaint.pk)
    if task_id is None:
        return
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    task = Task.objects.get(pk=task_id)
    if task.flow_task.name != "handle":
        return
    if agent is not None:
        take(task, agent)
    elif task.status == STATUS.ASSIGNED:
        # nobody fits: the former handler no longer has it, the team's members may take it
        task.flow_task.activation_class(task).unassign()
