"""How much open work each agent holds, over every process kind.

Each process app registers a counter in its ``AppConfig.ready()``: given user ids (or
None for everyone), the number of its open human tasks assigned to each. The agent's
load, which assignment weighs against their capacity and the board shows, is the sum, so
the platform counts complaints, campaigns and tickets alike without importing any of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Value
from django.db.models.functions import Coalesce

Counter = Callable[[list[int] | None], dict[int, int]]
# The same count as one SQL expression over the user of the outer query (``OuterRef("pk")``),
# so that a query of users can carry each one's load (assignment: one statement, not two).
Expression = Callable[[], Any]

_counters: dict[str, Counter] = {}
_expressions: dict[str, Expression] = {}


def register(kind: str, counter: Counter, *, expression: Expression | None = None) -> None:
    """Adds ``kind``'s open work to every agent's load (once per kind; the last one wins);
    ``expression``, when given, counts the same in SQL (``load_expression``)."""
    _counters[kind] = counter
    if expression is not None:
        _expressions[kind] = expression
    else:
        _expressions.pop(kind, None)


def load_expression() -> Any | None:
    """An agent's load as an annotation of a query of users (the sum of every kind's
    expression), or None when some kind counts only in Python (``load_by_agent`` then)."""
    if set(_expressions) != set(_counters):
        return None
    total: Any = Value(0)
    for expression in _expressions.values():
        total = total + Coalesce(expression(), Value(0))
    return total


def load_by_agent(user_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Open work per user id across every registered kind (absent means none)."""
    ids = None if user_ids is None else sorted(set(user_ids))
    loads: dict[int, int] = {}
    for counter in _counters.values():
        for user_id, count in counter(ids).items():
            loads[user_id] = loads.get(user_id, 0) + count
    return loads
