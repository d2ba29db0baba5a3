"""Two beat schedulers on one real Redis: only the lock holder sends, the other takes over
when the holder stops renewing (a crash) or releases (a clean stop)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.conf import settings

from ops.beat import HEARTBEAT_KEY, LOCK_KEY, MemoryLeaderScheduler
from project.celery import app

pytestmark = [pytest.mark.redis]

QUEUE = "kefu-beat-lock-test"


class RecordingScheduler(MemoryLeaderScheduler):
    """Sends its one probe entry to the real broker and notes each send."""

    def __init__(self, name: str, sent: list[tuple[str, float]], **kwargs: Any) -> None:
        self.name = name
        self.sent = sent
        super().__init__(**kwargs)

    def setup_schedule(self) -> None:
        # one probe entry every 0.1 s instead of the project's beat_schedule
        probe = {"task": "ops.probe", "schedule": 0.1, "options": {"queue": QUEUE, "expires": 30}}
        self.merge_inplace({"probe": probe})  # type: ignore[dict-item]

    def apply_async(self, entry: Any, producer: Any = None, advance: bool = True, **kw: Any) -> Any:
        result = super().apply_async(entry, producer, advance, **kw)
        if entry.name == "probe":
            self.sent.append((self.name, time.monotonic()))
        return result


def make(name: str, sent: list[tuple[str, float]]) -> RecordingScheduler:
    return RecordingScheduler(name, sent, app=app)


def run(schedulers: list[RecordingScheduler], seconds: float, until: Any = None) -> list[set[str]]:
    """Beat's own loop over several schedulers: tick each, wait for the soonest next tick.
    Returns, per round, the names that held the lock; stops early once ``until()``."""
    leaders = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        waits = [s.tick() for s in schedulers]
        leaders.append({s.name for s in schedulers if s.is_leader})
        if until is not None and until():
            break
        time.sleep(max(0.0, min(waits)))
    return leaders


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(LOCK_KEY, HEARTBEAT_KEY, QUEUE)
    yield client
    client.delete(LOCK_KEY, HEARTBEAT_KEY, QUEUE)
    client.close()


def test_only_the_holder_sends_and_the_other_takes_over(broker: Any, settings: Any) -> None:
    settings.KEFU_BEAT_LOCK_SECONDS = 1.0
    sent: list[tuple[str, float]] = []
    first, second = make("first", sent), make("second", sent)

    rounds = run([first, second], 2.0)
    assert all(len(held) <= 1 for held in rounds)
    assert {name for name, _ in sent} == {"first"}
    assert len(sent) >= 10  # a 0.1 s entry over 2 s
    assert broker.llen(QUEUE) == len(sent)
    assert broker.get(LOCK_KEY).decode() == first.holder

    # the holder stops ticking, as if killed: the lock expires and the other takes over
    crashed_at = time.monotonic()
    run([second], 5.0, until=lambda: second.is_leader)
    takeover = time.monotonic() - crashed_at
    assert second.is_leader
    assert 0.5 <= takeover <= 2.0, takeover
    rounds = run([first, second], 1.0)
    # the old holder wakes up (a long pause, not a death): it finds the lock taken, sends nothing
    assert all(held == {"second"} for held in rounds)
    after = [name for name, at in sent if at > crashed_at]
    assert after and set(after) == {"second"}

    # a clean stop releases the lock: the other takes over at its next look, not after the TTL
    second.close()
    stopped_at = time.monotonic()
    run([first], 3.0, until=lambda: first.is_leader)
    assert first.is_leader
    assert time.monotonic() - stopped_at < 0.5
    first.close()
    assert broker.get(LOCK_KEY) is None


def test_without_a_redis_broker_every_scheduler_sends(settings: Any) -> None:
    """The embedded mode: the broker is in memory, there is nothing to share a lock on."""
    from celery import Celery

    embedded = Celery("embedded", broker="memory://")
    scheduler = MemoryLeaderScheduler(app=embedded, schedule={})
    assert scheduler.holds_lock()
    assert scheduler.is_leader
