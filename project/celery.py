"""The Celery app: Redis broker in production, eager (in-process) in the embedded mode.

``celery -A project beat`` (and ``worker -B``) use ``ops.beat:LeaderScheduler``, set by
``CELERY_BEAT_SCHEDULER`` in the settings: any number of beats may run, the holder of a
lock on the broker's Redis alone sends (docs/operations.md)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("kefu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
