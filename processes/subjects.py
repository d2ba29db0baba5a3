"""What an object of another process kind is, asked by the platform without importing the
process: each process app registers its describer in ``AppConfig.ready()`` (tickets: a
ticket's number, subject, description, customer, contact and assignee). A complaint
escalated from a ticket reads its defaults here, so complaints never import tickets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SubjectFacts:
    number: str
    title: str
    description: str
    customer_id: int | None
    contact_id: int | None
    assignee_id: int | None


Describer = Callable[[int], SubjectFacts | None]

_describers: dict[str, Describer] = {}


def register(kind: str, describe: Describer) -> None:
    _describers[kind] = describe


def describe(kind: str, object_id: int) -> SubjectFacts | None:
    """The facts of object ``object_id`` of ``kind``; None when it does not exist or nobody
    registered the kind. Says nothing about who may see it (``processes.visibility``)."""
    describer = _describers.get(kind)
    return describer(object_id) if describer is not None else None
