"""The one module that talks to the channel layer; ``*/events.py`` are its only callers.

Pushes leave after commit. With a Redis channel layer each process keeps one
publisher thread running an event loop, so every push reuses that loop's
Redis connections instead of paying for a new loop and connection per
``async_to_sync`` call (≈30 ms per ticket intake, measured). Pushes are
best-effort by design: a client that missed one resyncs through
``GET /api/queue/`` (API.md), and every event carries the ticket's version.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import threading
from collections.abc import Iterable
from concurrent.futures import Future
from contextlib import suppress
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

from . import latency
from .schema import QueueEvent

logger = logging.getLogger(__name__)

SUPERVISORS_GROUP = "supervisors"


def agent_group(user_id: int) -> str:
    return f"agent.{user_id}"


def team_group(team_id: int) -> str:
    return f"team.{team_id}"


# Any message for consumers: a dict whose "type" names the consumer's handler.
Message = QueueEvent | dict[str, Any]


def _label(message: Message) -> str:
    return str(message.get("event") or message.get("type"))


async def _send_to_groups(layer: Any, groups: list[str], event: Message) -> None:
    results = await asyncio.gather(
        *(layer.group_send(group, event) for group in groups), return_exceptions=True
    )
    for group, result in zip(groups, results, strict=True):
        if isinstance(result, BaseException):
            logger.error("Could not push %s to %s: %r", _label(event), group, result)


# In the embedded mode the in-memory layer lives in the serving process's event loop;
# pushes from other threads (the timer dispatcher, sync views) are handed to that loop.
_serving_loop: asyncio.AbstractEventLoop | None = None


def register_serving_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Called by consumers: the loop whose in-memory queues the sockets read."""
    global _serving_loop
    _serving_loop = loop


class _Publisher:
    """A daemon event loop per process (re-created after a fork) owning the layer's connections.

    One consumer drains a queue, so events leave in the order they were committed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[Any, list[str], Message, Future[None]]] | None = None
        self._pid = 0
        self._drainer: asyncio.Task[None] | None = None
        self._last: Future[None] | None = None

    def _start(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue[Any]]:
        with self._lock:
            if self._loop is None or self._pid != os.getpid() or not self._loop.is_running():
                loop = asyncio.new_event_loop()
                queue: asyncio.Queue[Any] = asyncio.Queue()
                started = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    self._drainer = loop.create_task(self._drain(queue))
                    loop.call_soon(started.set)
                    loop.run_forever()

                threading.Thread(target=run, name="kefu-realtime", daemon=True).start()
                started.wait(timeout=5)
                self._loop, self._queue, self._pid = loop, queue, os.getpid()
            assert self._queue is not None
            return self._loop, self._queue

    @staticmethod
    async def _drain(queue: asyncio.Queue[Any]) -> None:
        while True:
            layer, groups, event, done = await queue.get()
            try:
                await _send_to_groups(layer, groups, event)
            finally:
                done.set_result(None)

    def submit(self, layer: Any, groups: list[str], event: Message) -> Future[None]:
        loop, queue = self._start()
        done: Future[None] = Future()
        loop.call_soon_threadsafe(queue.put_nowait, (layer, groups, event, done))
        self._last = done
        return done

    def wait(self, timeout: float) -> None:
        """Blocks until every push submitted so far has left (the queue is FIFO)."""
        last = self._last
        if last is not None and self._pid == os.getpid():
            last.result(timeout=timeout)


_publisher = _Publisher()


def wait_for_pending(timeout: float = 5.0) -> None:
    """Waits for this process's queued pushes: at exit, and where a test needs a quiet layer."""
    _publisher.wait(timeout)


def _deliver_before_exit() -> None:
    with suppress(Exception):
        wait_for_pending(2.0)


atexit.register(_deliver_before_exit)


def push(groups: Iterable[str], event: Message) -> Future[None] | None:
    """Sends ``event`` to ``groups`` now; returns the pending send if it runs in the background."""
    layer = get_channel_layer()
    if layer is None:
        return None
    targets = sorted(set(groups))
    event = latency.stamp(dict(event))  # push latency starts here (docs/operations.md)
    if isinstance(layer, InMemoryChannelLayer):
        loop = _serving_loop
        if loop is not None and loop.is_running():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is not loop:
                # Thread-safe hand-over to the loop that owns the layer's queues.
                return asyncio.run_coroutine_threadsafe(
                    _send_to_groups(layer, targets, event), loop
                )
        try:
            async_to_sync(_send_to_groups)(layer, targets, event)
        except Exception:  # a push must never break the write that caused it
            logger.exception("Could not push %s", _label(event))
        return None
    return _publisher.submit(layer, targets, event)


def send_event_on_commit(groups: Iterable[str], event: Message) -> None:
    """Push ``event`` to ``groups`` once the surrounding transaction commits."""
    targets = list(groups)
    transaction.on_commit(lambda: push(targets, event))


def notification_message(notification_id: int) -> dict[str, Any]:
    """Tells a user's sockets that notification ``notification_id`` exists (they render it)."""
    return {"type": "notification.created", "id": notification_id}


def presence_message(agent: dict[str, Any]) -> dict[str, Any]:
    """Tells supervisors' sockets an agent's presence or load changed."""
    return {"type": "presence.changed", "agent": agent}


def access_message(revoked: Iterable[str] = ()) -> dict[str, Any]:
    """Tells a user's sockets that their access changed: each re-reads its groups, and closes
    if its user or credential is gone. ``revoked`` names credentials (``auth.credential_digest``)
    that are gone even if the database does not show it yet (a session being logged out)."""
    return {"type": "access.changed", "revoked": sorted(set(revoked))}


def access_changed_on_commit(user_ids: Iterable[int], revoked: Iterable[str] = ()) -> None:
    """After commit, every socket of ``user_ids`` re-reads its access (docs/security.md)."""
    groups = [agent_group(user_id) for user_id in sorted(set(user_ids))]
    if groups:
        send_event_on_commit(groups, access_message(revoked))
