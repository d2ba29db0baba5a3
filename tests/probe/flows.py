"""A host task with two boundary timers: the interrupting one falls due first."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.flow.views import UpdateProcessView


class BoundaryProbeFlow(flow.Flow):
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle().Next(this.host)
    host = (
        flow.View(UpdateProcessView.as_view(fields=[]))
        .OnTimeout(timedelta(hours=1), this.remind, interrupting=False)
        .OnTimeout(timedelta(minutes=1), this.take_over)
        .Next(this.end)
    )
    remind = flow.Function(this.nothing).Next(this.reminded)
    reminded = flow.End()
    take_over = flow.Function(this.nothing).Next(this.end)
    end = flow.End()

    def nothing(self, activation: Any) -> None:
        return None
