"""``core.fanout``: as many drains as the backlog needs, within the deployment's limit."""

from __future__ import annotations

from typing import Any

from core.fanout import fan_out


class Queued:
    """Records what would be sent to the broker (the arithmetic is what is tested here; the
    real sends are in the end-to-end tests of timers and the outbox)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def apply_async(self, **options: Any) -> None:
        self.sent.append(options)


def test_runs_follow_the_backlog_within_the_limit() -> None:
    cases = [(0, 0), (1, 1), (100, 1), (101, 2), (350, 4), (10_000, 4)]
    for due, runs in cases:
        task = Queued()
        assert fan_out(task, due=due, batch=100, most=4, expires=5) == runs
        assert task.sent == [{"expires": 5}] * runs
