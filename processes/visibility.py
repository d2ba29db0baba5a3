"""Who may see an object of a process kind, asked by the platform without importing the
process: each process app registers its rule in ``AppConfig.ready()`` (tickets: the
supervisors, the assignee and the team's members)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

Rule = Callable[[Any, int], bool]
# user, ids -> the ids among them the user may see (one query for a page of objects).
ManyRule = Callable[[Any, list[int]], set[int]]

_rules: dict[str, Rule] = {}
_many_rules: dict[str, ManyRule] = {}


def register(kind: str, rule: Rule, many: ManyRule | None = None) -> None:
    _rules[kind] = rule
    if many is not None:
        _many_rules[kind] = many


def can_see(user: Any, kind: str, object_id: int) -> bool:
    """True if ``user`` may see object ``object_id`` of ``kind``; an unknown kind is seen by
    nobody."""
    rule = _rules.get(kind)
    return bool(rule and rule(user, object_id))


def visible_ids(user: Any, kind: str, object_ids: Iterable[int]) -> set[int]:
    """The ids among ``object_ids`` of ``kind`` that ``user`` may see: one query when the
    kind registered a batch rule, else ``can_see`` for each."""
    ids = sorted(set(object_ids))
    if not ids:
        return set()
    many = _many_rules.get(kind)
    if many is not None:
        return set(many(user, ids)) & set(ids)
    return {pk for pk in ids if can_see(user, kind, pk)}


def kinds() -> set[str]:
    """The process kinds that registered a visibility rule (work: tickets, complaints, …)."""
    return set(_rules)
