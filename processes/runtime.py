"""The viewflow runtime every process shares: the registry of process kinds, the flow lock
of one object's process, its current task.

A kind is registered by the app that holds its Flow class (``flows/apps.py`` for the
flows of ``flows/``), so services reach their flow through here and never import it: the
import rule stays one-way (process app → platform ← flows).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection
from viewflow.workflow.context import context
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

ACTIVE_TASK_STATUSES = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


class UnknownProcess(LookupError):
    """The object has no process of that kind (or the kind is not registered)."""


@dataclass(frozen=True)
class ProcessKind:
    """``name`` (the queue's ``kind``), the Flow class, and the process model with the
    name of its one-to-one link to the object (``ticket`` for ``TicketProcess.ticket``)."""

    name: str
    flow_class: Any
    process_model: Any
    subject_field: str

    @property
    def subject_model(self) -> Any:
        """The model of the object the process drives (``Ticket`` for tickets)."""
        return self.process_model._meta.get_field(self.subject_field).related_model


_kinds: dict[str, ProcessKind] = {}


def register(kind: ProcessKind) -> None:
    _kinds[kind.name] = kind


def kind(name: str) -> ProcessKind:
    found = _kinds.get(name)
    if found is None:
        raise UnknownProcess(name)
    return found


def kinds() -> list[ProcessKind]:
    return list(_kinds.values())


def process_pk(name: str, object_id: int) -> int | None:
    """The primary key of the object's process, or None."""
    registered = kind(name)
    pk: int | None = (
        registered.process_model.objects.filter(**{f"{registered.subject_field}_id": object_id})
        .values_list("pk", flat=True)
        .first()
    )
    return pk


@contextmanager
def locked_process(name: str, object_id: int) -> Iterator[int]:
    """Holds the flow lock of the object's process (one transaction) and yields the process
    key. Raises ``UnknownProcess`` when there is none and lets viewflow's
    ``FlowLockFailed`` through when another transaction holds it; callers say what that
    means to a person."""
    pk = process_pk(name, object_id)
    if pk is None:
        raise UnknownProcess(f"{name} {object_id}")
    with kind(name).flow_class.lock(pk):
        yield pk


def current_task(process_id: int) -> Task | None:
    """The process's live wait: its human task or a waiting handle, the newest first."""
    return (
        Task.objects.filter(
            process_id=process_id,
            status__in=ACTIVE_TASK_STATUSES,
            flow_task_type__in=("HUMAN", "FUNCTION"),
        )
        .order_by("-id")
        .first()
    )


def start(name: str, **kwargs: Any) -> Any:
    """Runs the kind's ``start`` node (a ``StartHandle``) with ``kwargs``.

    Inside the caller's transaction, the atomic blocks viewflow nests in a start (the start
    itself, the flow lock, each ``Function`` node) set no savepoint. In viewflow's default
    context every error of a node propagates, so the caller's transaction rolls back as a
    whole and a savepoint never keeps anything. Code the
    nodes run must therefore not catch a database error and go on (a ``get_or_create``
    losing a race fails the start instead of recovering): it fails the whole start, as any
    other error does."""
    run = kind(name).flow_class.start.run
    if not connection.in_atomic_block or not context.propagate_exception:
        return run(**kwargs)
    with _no_savepoints():
        return run(**kwargs)


@contextmanager
def _no_savepoints() -> Iterator[None]:
    """Nested ``transaction.atomic()`` blocks of this connection set no savepoint inside; an
    error leaving one marks the whole transaction for rollback (Django's own rule when a
    backend has no savepoints)."""
    features = connection.features
    before = features.uses_savepoints
    features.uses_savepoints = False
    try:
        yield
    finally:
        features.uses_savepoints = before


def try_lock_many(name: str, object_ids: list[int]) -> set[int]:
    """Takes the flow locks of many objects' processes in one statement, without waiting
    (``FOR UPDATE SKIP LOCKED`` on the rows viewflow's ``select_for_update_lock`` locks),
    in the caller's transaction; returns the object ids whose lock is now held. An object
    whose process is busy (a person acting on it) is left out."""
    if not object_ids:
        return set()
    registered = kind(name)
    link = f"{registered.subject_field}_id"
    rows = (
        registered.process_model.objects.select_for_update(skip_locked=True)
        .filter(**{f"{link}__in": object_ids})
        .values_list(link, flat=True)
    )
    return set(rows)
