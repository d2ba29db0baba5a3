"""What an object of another process kind is, asked by the platform without importing the
process: each process app registers its describer in ``AppConfig.ready()`` (tickets: a
ticket's number, subject, description, customer, contact and assignee). A complaint
escalated from a ticket reads its defaults here, so complaints never import tickets."""

from __future__ import annotations

from collections.abc import Callable, Iterable
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
# ids -> the facts of those that exist (one query for a page of objects).
ManyDescriber = Callable[[list[int]], dict[int, SubjectFacts]]

_describers: dict[str, Describer] = {}
_many_describers: dict[str, ManyDescriber] = {}


def register(kind: str, describe: Describer, many: ManyDescriber | None = None) -> None:
    _describers[kind] = describe
    if many is not None:
        _many_describers[kind] = many


def describe(kind: str, object_id: int) -> SubjectFacts | None:
    """The facts of object ``object_id`` of ``kind``; None when it does not exist or nobody
    registered the kind. Says nothing about who may see it (``processes.visibility``)."""
    describer = _describers.get(kind)
    return describer(object_id) if describer is not None else None


def describe_many(kind: str, object_ids: Iterable[int]) -> dict[int, SubjectFacts]:
    """The facts of each existing object among ``object_ids`` of ``kind``: one query when
    the kind registered a batch describer, else ``describe`` for each."""
    ids = sorted(set(object_ids))
    if not ids:
        return {}
    many = _many_describers.get(kind)
    if many is not None:
        return many(ids)
    found = {pk: describe(kind, pk) for pk in ids}
    return {pk: facts for pk, facts in found.items() if facts is not None}
