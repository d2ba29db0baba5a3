"""What the SLA platform needs of a process kind: its targets and a subject adapter.

A process app registers one ``SlaSubjects`` per kind in its ``AppConfig.ready()``
(tickets: ``tickets/sla.py``). The ladder (``sla.ladder``) decides which checkpoints fire
and writes the clocks, the audit rows and the notifications set-wise; the adapter reads
and changes the subjects it names by key — never one by one unless the work moves
(``reassign`` goes through the flow).

A kind whose subject is driven by another kind's viewflow process (a complaint's approval,
kind ``complaint_approval``, keyed by the complaint) names that kind as ``process_kind``:
the sweep then takes that process's flow lock, so a person acting on the subject and the
ladder never write it at once. Without it, a kind that has no process of its own (a
privacy request) is locked by its clock rows alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class Subject:
    """What the ladder reads of a subject and what it changed (``changed``: the subject's
    fields the adapter saves; ``events``: queue events to announce)."""

    object_id: int
    number: str
    priority: str
    assignee_id: int | None
    team_id: int | None
    customer_id: int | None
    row: Any  # the adapter's own object
    changed: set[str] = field(default_factory=set)
    events: list[str] = field(default_factory=list)
    previous_assignee_id: int | None = None
    previous_team_id: int | None = None
    # A reassign level moved the work to this team (``team_id``/``assignee_id`` already
    # say so); the adapter moves the process's task through the flow in ``save``.
    reassign_to: int | None = None
    # Facts every audit row and notification of the subject's checkpoints carry besides
    # the ladder's own (an approval's approver, amount and limit rule).
    details: dict[str, Any] = field(default_factory=dict)


class SlaSubjects(Protocol):
    @property
    def kind(self) -> str:
        """The process kind (``SlaClock.kind``)."""

    @property
    def target_order(self) -> Sequence[str]:
        """The kind's targets in the order they fall due (the first unmet one is "next")."""

    def load(self, object_ids: Sequence[int], clocks: Mapping[int, Any]) -> dict[int, Subject]:
        """The subjects (their process locks are held by the caller); ``clocks`` are the
        sweep's clocks by object id, which the subjects must read (not a stale copy)."""

    def audit_fields(self, subject: Subject) -> Mapping[str, Any]:
        """The audit row's foreign key to the subject (``{"ticket_id": 7}``)."""

    def supervisors(self, subjects: Sequence[Subject]) -> dict[int, list[int]]:
        """The supervisors to tell about each subject, by object id."""

    def raise_priority(self, subject: Subject) -> str | None:
        """Raises the subject's priority one step in memory; the new priority or None."""

    def save(self, subjects: Sequence[Subject]) -> None:
        """Saves the changed subjects (set-wise), moves the work of those reassigned through
        the flow, and announces their events after commit."""


_kinds: dict[str, SlaSubjects] = {}


def register(subjects: SlaSubjects) -> None:
    _kinds[subjects.kind] = subjects


def get(kind: str) -> SlaSubjects | None:
    return _kinds.get(kind)
