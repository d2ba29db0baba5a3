"""Celery beat with a leader lock: run two or more, one sends (docs/operations.md).

Every beat process competes for one Redis key on the broker's Redis (``SET NX PX``);
the holder renews it while it ticks and alone sends due entries; the others poll and
take over when the key expires (a crash) or is deleted (a clean stop). The holder also
writes a heartbeat key that ``/readyz`` reads. Without a Redis broker (the embedded
mode) there is nothing to share and every scheduler sends.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from typing import Any

from celery.beat import PersistentScheduler, Scheduler
from django.conf import settings

from core.redis import sentinel_master

logger = logging.getLogger(__name__)

LOCK_KEY = "kefu:beat:lock"
HEARTBEAT_KEY = "kefu:beat:heartbeat"

# Takes the lock when it is free, renews it when this holder has it; 1 = we hold it.
_ACQUIRE_OR_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == false then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


def lock_seconds() -> float:
    return float(getattr(settings, "KEFU_BEAT_LOCK_SECONDS", 5.0))


def redis_url(app: Any) -> str | None:
    """The broker's Redis, or None when the broker is no Redis (embedded mode)."""
    url = str(app.conf.broker_url or "")
    return url if url.startswith(("redis://", "rediss://", "unix://")) else None


def read_heartbeat(client: Any) -> dict[str, Any] | None:
    raw = client.get(HEARTBEAT_KEY)
    if not raw:
        return None
    try:
        value: dict[str, Any] = json.loads(raw)
    except ValueError:
        return None
    return value


class LeaderLockMixin:
    """Mixed into a celery beat ``Scheduler``: ticks only while holding the leader lock."""

    app: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.is_leader = False
        self._announced = False
        self._checked_at = 0.0
        self._client: Any = None
        self._ttl = lock_seconds()
        # standbys look for a free lock this often; the leader renews at the same pace
        self.poll_interval = min(1.0, self._ttl / 5)
        super().__init__(*args, **kwargs)

    def _redis(self) -> Any:
        if self._client is None:
            self._client = sentinel_master(timeout=self.poll_interval)
        if self._client is None:
            url = redis_url(self.app)
            if url is None:
                return None
            import redis

            self._client = redis.Redis.from_url(
                url, socket_timeout=self.poll_interval, socket_connect_timeout=self.poll_interval
            )
        return self._client

    def holds_lock(self) -> bool:
        """Acquires or renews the lock (at most every ``poll_interval``); True if ours."""
        client = self._redis()
        if client is None:
            self.is_leader = True
            return True
        now = time.monotonic()
        if self.is_leader and now - self._checked_at < self.poll_interval:
            return True
        try:
            held = bool(
                client.eval(_ACQUIRE_OR_RENEW, 1, LOCK_KEY, self.holder, int(self._ttl * 1000))
            )
            if held:
                client.set(
                    HEARTBEAT_KEY,
                    json.dumps(
                        {
                            "holder": self.holder,
                            "hostname": socket.gethostname(),
                            "pid": os.getpid(),
                            "at": time.time(),
                        }
                    ),
                    ex=max(60, int(self._ttl * 12)),
                )
        except Exception:  # Redis away: nobody can prove leadership, so nobody sends
            logger.exception("beat: the leader lock cannot be checked; not sending")
            held = False
            self._client = None
        if held != self.is_leader or not self._announced:
            self._announced = True
            logger.warning(
                "beat %s: %s", self.holder, "now the active beat" if held else "standing by"
            )
        self.is_leader = held
        self._checked_at = now
        return held

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self.holds_lock():
            return self.poll_interval
        interval: float = super().tick(*args, **kwargs)  # type: ignore[misc]
        return min(interval, self.poll_interval)

    def release(self) -> None:
        client = self._redis()
        if client is None or not self.is_leader:
            return
        try:
            client.eval(_RELEASE, 1, LOCK_KEY, self.holder)
        except Exception:
            logger.warning("beat: could not release the leader lock; it expires by itself")
        self.is_leader = False

    def close(self) -> None:
        # a clean stop hands over at once instead of after the lock's TTL
        self.release()
        super().close()  # type: ignore[misc]


class LeaderScheduler(LeaderLockMixin, PersistentScheduler):
    """``app.conf.beat_scheduler`` of Kefu (project/celery.py): the default scheduler with
    its schedule file, sending only while it holds the leader lock."""


class MemoryLeaderScheduler(LeaderLockMixin, Scheduler):
    """The same without a schedule file (tests, or beats on read-only disks)."""
