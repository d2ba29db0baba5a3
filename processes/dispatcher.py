"""Kefu's timer dispatcher: the SLA ladder's due clocks, set-wise (``sla.ladder``), and
viewflow's due timer tasks (auto-close, reopen window), each under its flow lock.

viewflow's own ``fire_due_timers`` walks every due timer in one loop, one
transaction each, and cannot be shared between workers (about 100 timers/s,
VIEWFLOW.md §3). Here a sweep claims up to ``batch`` due timers with
``SELECT … FOR UPDATE SKIP LOCKED`` — so several workers drain the same
backlog without ever taking the same timer — and fires each in a savepoint
under its flow lock, taken without waiting: a timer whose process is busy
(an agent acting on the ticket) is left for the next sweep.
"""

from __future__ import annotations

import logging
import time
from contextlib import suppress

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.lock import SelectForUpdateLock, lock_scope
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from sla import ladder

logger = logging.getLogger(__name__)

# One attempt, no sleeping: a dispatcher never waits for a busy process.
_TRY_ONCE = SelectForUpdateLock(nowait=True, attempts=1)


def due_timers_count(cap: int = 10_000) -> int:
    """Due viewflow timers and due SLA clocks (each capped at ``cap``)."""
    now = timezone.now()
    timers = (
        Task.objects.filter(flow_task_type="TIMER", status=STATUS.SCHEDULED, scheduled__lte=now)[
            :cap
        ]
        .values("pk")
        .count()
    )
    return timers + ladder.due_count(cap, now)


def fire_batch(batch: int | None = None) -> tuple[int, int]:
    """Claims up to ``batch`` due timers and fires them; returns (claimed, fired)."""
    size = batch or settings.KEFU_TIMER_BATCH
    now = timezone.now()
    fired = 0
    with transaction.atomic():
        claimed = list(
            Task.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(flow_task_type="TIMER", status=STATUS.SCHEDULED, scheduled__lte=now)
            .order_by("scheduled", "pk")[:size]
        )
        for task in claimed:
            if _fire(task):
                fired += 1
    return len(claimed), fired


def _fire(task: Task) -> bool:
    flow_class = task.flow_task.flow_class
    try:
        with transaction.atomic(), lock_scope(_TRY_ONCE, flow_class, task.process_id):
            task.refresh_from_db()
            activation = task.flow_task.activation_class(task)
            start = getattr(activation, "start", None)
            if start is None or not start.can_proceed():
                return False
            activation.start()
            activation.execute()
            return True
    except FlowLockFailed:
        logger.info("Timer %s: its process is busy; next sweep", task.pk)
    except Exception:  # one broken flow must not stop the sweep
        logger.exception("Timer %s failed to fire", task.pk)
    return False


def drain(*, batch: int | None = None, budget_seconds: float = 10.0) -> int:
    """Fires due SLA checkpoints and due timers batch after batch until none is left or
    the budget is spent; returns how many SLA checkpoints and timers fired."""
    deadline = time.monotonic() + budget_seconds
    size = batch or settings.KEFU_TIMER_BATCH
    total = 0
    clocks_left = timers_left = True
    while time.monotonic() < deadline and (clocks_left or timers_left):
        if clocks_left:
            clock_batch = settings.KEFU_SLA_BATCH
            claimed, fired = ladder.fire_batch(clock_batch)
            total += fired
            # a full batch of busy subjects fires nothing: the next sweep takes them
            clocks_left = claimed >= clock_batch and fired > 0
        if timers_left:
            claimed, fired = fire_batch(size)
            total += fired
            timers_left = claimed >= size
    return total


def run_forever(interval: float = 1.0, stop: object | None = None) -> None:
    """The embedded server's dispatcher thread: one sweep a second."""
    import threading

    stop_event = stop if isinstance(stop, threading.Event) else threading.Event()
    while not stop_event.is_set():
        started = time.monotonic()
        try:
            drain(budget_seconds=interval * 5)
        except Exception:
            logger.exception("Timer sweep failed")
        finally:
            with suppress(Exception):
                connection.close()
        stop_event.wait(max(0.0, interval - (time.monotonic() - started)))
