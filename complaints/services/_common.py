"""Shared plumbing of complaint services: the flow lock, tasks, audit, versions, the queue."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit import services as audit_services
from audit.models import AuditEvent
from core.errors import Conflict, Forbidden, NotFound
from notifications.schema import EventName
from org.roles import Actor
from processes import runtime
from processes.queue import publish_work_item

from .. import selectors
from ..models import Complaint, ComplaintCounter

KIND = "complaint"


@dataclass
class LockedComplaint:
    complaint: Complaint
    process_pk: int

    def current_task(self) -> Task | None:
        return runtime.current_task(self.process_pk)

    def node(self) -> str | None:
        task = self.current_task()
        return task.flow_task.name if task is not None else None


@contextmanager
def locked_complaint(complaint_id: int, actor: Actor = None) -> Iterator[LockedComplaint]:
    """Holds the complaint's flow lock (one transaction) and yields the fresh complaint;
    with an ``actor``, one who may not see it gets NotFound."""
    try:
        with runtime.locked_process(KIND, complaint_id) as process_pk:
            complaint = Complaint.objects.select_related(
                "customer", "contact", "category", "sla_clock", "profile", "root_cause"
            ).get(pk=complaint_id)
            if actor is not None and not selectors.can_see_complaint(actor, complaint_id):
                raise NotFound(_("Complaint not found."))
            yield LockedComplaint(complaint, process_pk)
    except runtime.UnknownProcess as exc:
        raise NotFound(_("Complaint not found.")) from exc
    except FlowLockFailed as exc:
        raise Conflict(_("The complaint is being changed by someone else; retry.")) from exc


def audit(
    complaint: Complaint,
    actor: Actor,
    verb: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """The complaint's audit row, with its customer for the 360 timeline."""
    return audit_services.record(
        kind=KIND,
        verb=verb,
        actor=actor,
        complaint=complaint,
        customer_id=complaint.customer_id,
        contact_id=complaint.contact_id,
        before=before,
        after=after,
    )


def save_changed(complaint: Complaint, fields: list[str]) -> None:
    """Saves the named fields and bumps the version real-time clients order by."""
    complaint.version += 1
    complaint.save(update_fields=[*dict.fromkeys([*fields, "version", "updated_at"])])


def publish(
    event: EventName,
    complaint: Complaint,
    *,
    previous_assignee_id: int | None = None,
    previous_team_id: int | None = None,
) -> None:
    """Keeps the complaint's work item and announces ``event`` after commit."""
    task_id = selectors.current_task_id(complaint.pk) if selectors.is_waiting(complaint) else None
    publish_work_item(
        event,
        selectors.queue_row(complaint, task_id=task_id),
        waiting=selectors.is_waiting(complaint),
        previous_assignee_id=previous_assignee_id,
        previous_team_id=previous_team_id,
    )


def take(task: Task, actor: Actor) -> Any:
    """The task's activation, given to ``actor`` first when someone else (or nobody) has it."""
    activation = task.flow_task.activation_class(task)
    if actor is not None and getattr(actor, "pk", None) is not None and task.owner_id != actor.pk:
        if task.status == STATUS.NEW:
            activation.assign(actor)
        else:
            activation.reassign(actor)
        activation = task.flow_task.activation_class(task)
    return activation


def complete(task: Task, actor: Actor) -> None:
    """Completes a human task (``handle``, ``approval``, ``review``) as ``actor``."""
    activation = take(task, actor)
    activation.start(None)
    activation.execute()


def run_handle(task: Task) -> None:
    """Runs a waiting handle (``answered``, ``closed``)."""
    activation = task.flow_task.activation_class(task)
    activation.run(None)
    activation.execute()


def require_node(locked: LockedComplaint, *names: str) -> Task:
    task = locked.current_task()
    if task is None or task.flow_task.name not in names:
        raise Conflict(
            _("The complaint is %(status)s; this action is not possible now.")
            % {"status": locked.complaint.get_status_display()}
        )
    return task


def not_about(complaint: Complaint, actor: Actor) -> None:
    """The conflict-of-interest rule: nobody handles or decides a complaint about them."""
    if actor is not None and complaint.about_user_id and complaint.about_user_id == actor.pk:
        raise Forbidden(_("This complaint is about you; someone else must handle it."))


def allocate_number() -> str:
    """Next ``C-YYYY-NNNNNN``: the year's counter row, in its own short transaction (a
    rolled-back intake leaves its number unused)."""
    year = timezone.now().year
    table = ComplaintCounter._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (year, last) VALUES (%s, 1) "  # noqa: S608
            f"ON CONFLICT (year) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [year],
        )
        row = cursor.fetchone()
    assert row is not None
    return f"C-{year}-{row[0]:06d}"


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
