"""How much open work each agent holds, over every process kind.

Each process app registers a counter in its ``AppConfig.ready()``: given user ids (or
None for everyone), the number of its open human tasks assigned to each. The agent's
load, which assignment weighs against their capacity and the board shows, is the sum, so
the platform counts complaints, campaigns and tickets alike without importing any of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

Counter = Callable[[list[int] | None], dict[int, int]]

_counters: dict[str, Counter] = {}


def register(kind: str, counter: Counter) -> None:
    """Adds ``kind``'s open work to every agent's load (once per kind; the last one wins)."""
    _counters[kind] = counter


def load_by_agent(user_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Open work per user id across every registered kind (absent means none)."""
    ids = None if user_ids is None else sorted(set(user_ids))
    loads: dict[int, int] = {}
    for counter in _counters.values():
        for user_id, count in counter(ids).items():
            loads[user_id] = loads.get(user_id, 0) + count
    return loads
