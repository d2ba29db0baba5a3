"""viewflow's own admin pages, read-only: a process moves only through Kefu's services (which
lock it, check who may act, audit and push the change), never by editing its rows."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from viewflow.workflow.admin import ProcessAdmin, TaskAdmin
from viewflow.workflow.models import Process, Task


class _ReadOnly:
    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class ReadOnlyProcessAdmin(_ReadOnly, ProcessAdmin):
    pass


class ReadOnlyTaskAdmin(_ReadOnly, TaskAdmin):
    pass


for model, model_admin in ((Process, ReadOnlyProcessAdmin), (Task, ReadOnlyTaskAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
