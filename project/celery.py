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


def _answer_a_collected_transport_with_a_connection_error() -> None:
    """Keeps a worker alive when Redis goes away while a task is running (docs/resilience.md).

    On a lost broker connection Celery 5.7 collects the consumer's connection and then closes
    it again. A channel whose first close failed (Redis gone while its BRPOP was in flight)
    and that still holds unacknowledged messages (an ``acks_late`` task running) then asks the
    collected transport for its connection parameters: an AttributeError, which is no
    connection error, so the worker exits ("Unrecoverable error") instead of reconnecting.
    Raising a connection error there lets Celery ignore it and reconnect; the unacknowledged
    messages stay with Redis (redelivered after the visibility timeout) as on any lost
    connection. tests/ops/test_chaos.py reproduces the crash, and its chaos test restarts
    Redis under a busy worker."""
    import redis
    from kombu.transport import redis as kombu_redis

    channel: Any = kombu_redis.Channel
    connparams = channel._connparams

    def _connparams_of_a_live_transport(self: Any, asynchronous: bool = False) -> Any:
        if self.connection.client is None:
            raise redis.exceptions.ConnectionError("the broker connection was collected")
        return connparams(self, asynchronous)

    channel._connparams = _connparams_of_a_live_transport


_answer_a_collected_transport_with_a_connection_error()
