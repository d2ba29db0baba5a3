"""Who may see an object of a process kind, asked by the platform without importing the
process: each process app registers its rule in ``AppConfig.ready()`` (tickets: the
supervisors, the assignee and the team's members)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Rule = Callable[[Any, int], bool]

_rules: dict[str, Rule] = {}


def register(kind: str, rule: Rule) -> None:
    _rules[kind] = rule


def can_see(user: Any, kind: str, object_id: int) -> bool:
    """True if ``user`` may see object ``object_id`` of ``kind``; an unknown kind is seen by
    nobody."""
    rule = _rules.get(kind)
    return bool(rule and rule(user, object_id))
