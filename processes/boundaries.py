"""Cancel the boundary timers of a host task that was cancelled.

viewflow 2.4 disarms a task's boundary events only when the task *finishes*
(``task_finished``); a host cancelled by an interrupting boundary (or by
``activation.cancel()``) sends no signal, so its sibling boundary timers stay
SCHEDULED and fire later on a task that no longer exists (VIEWFLOW.md §3).
This receiver adapts that third-party gap and does nothing else.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS


@receiver(post_save, dispatch_uid="kefu-cancel-orphan-boundaries")
def cancel_orphan_boundaries(sender: Any, instance: Any, **kwargs: Any) -> None:
    if not isinstance(instance, Task) or instance.status != STATUS.CANCELED:
        return
    boundaries = getattr(instance.flow_task, "_boundary_events", None)
    if not boundaries:
        return
    armed = Task._default_manager.filter(
        previous=instance, status__in=[STATUS.NEW, STATUS.SCHEDULED]
    )
    for task in armed:
        if task.flow_task in boundaries:
            activation = task.flow_task.activation_class(task)
            if activation.cancel.can_proceed():
                activation.cancel()
