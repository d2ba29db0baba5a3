"""Samples pg_stat_activity while load runs: how many backends of the bench database
are running a query, waiting on a lock, or idle inside a transaction."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from .env import DATABASE_URL, DB_NAME


@dataclass
class Activity:
    samples: int
    states: Counter[str]
    blocked: Counter[str] = field(default_factory=Counter)

    def average(self, key: str) -> float:
        return self.states.get(key, 0) / self.samples if self.samples else 0.0

    def describe(self, limit: int = 6) -> str:
        if not self.samples:
            return "no samples"
        parts = [f"{k} {v / self.samples:.2f}" for k, v in self.states.most_common(limit)]
        return ", ".join(parts)

    def blocked_statements(self, limit: int = 3) -> str:
        """The statements that waited on a lock, by how often they were seen waiting."""
        total = sum(self.blocked.values())
        if not total:
            return "none"
        return "; ".join(
            f"`{q}` ({v * 100 // total} %)" for q, v in self.blocked.most_common(limit)
        )


class ActivitySampler:
    """Use as a context manager around the measured window."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.result = Activity(0, Counter())

    def __enter__(self) -> ActivitySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        import psycopg

        states: Counter[str] = Counter()
        blocked: Counter[str] = Counter()
        samples = 0
        with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
            while not self._stop.is_set():
                rows = conn.execute(
                    "SELECT state, wait_event_type, wait_event, left(query, 60) "
                    "FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend'",
                    [DB_NAME],
                ).fetchall()
                samples += 1
                for state, wait_type, wait_event, query in rows:
                    if state == "active":
                        if wait_type == "Lock":
                            states[f"waiting on lock ({wait_event})"] += 1
                            blocked[" ".join(query.split())[:60]] += 1
                        elif wait_type in ("IO", "LWLock", "IPC"):
                            states[f"active, {wait_type}:{wait_event}"] += 1
                        else:
                            states["running a query"] += 1
                    elif state == "idle in transaction":
                        states["idle in transaction (app working)"] += 1
                self._stop.wait(self.interval)
        self.result = Activity(samples, states, blocked)
