"""The Celery app: Redis broker in production, eager (in-process) in the embedded mode.

``celery -A project beat`` (and ``worker -B``) use ``ops.beat:LeaderScheduler``, set by
``CELERY_BEAT_SCHEDULER`` in the settings: any number of beats may run, the holder of a
lock on the broker's Redis alone sends (docs/operations.md).

Logs (docs/operations.md, "Logs"): a task carries the request id of the request that queued
it in its ``request_id`` header, bound around the task in the worker (project/request_id.py);
with ``KEFU_LOG_FORMAT=json`` the worker's own handlers write JSON too."""

import logging
import os
from typing import Any

from celery import Celery
from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    before_task_publish,
    task_postrun,
    task_prerun,
)

from project import request_id
from project.log_secrets import log_format, use_json_formatter

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("kefu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

before_task_publish.connect(request_id.add_to_task_headers, weak=False)
task_prerun.connect(request_id.bind_for_task, weak=False)
task_postrun.connect(request_id.unbind_after_task, weak=False)


def _json_handlers(logger: logging.Logger | None = None, **_: Any) -> None:
    """The worker replaced the root logger's handlers with its own: JSON on them too."""
    if logger is not None and log_format() == "json":
        use_json_formatter(logger)


after_setup_logger.connect(_json_handlers, weak=False)
after_setup_task_logger.connect(_json_handlers, weak=False)
