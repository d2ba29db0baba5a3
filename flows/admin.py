"""viewflow's own admin pages, read-only: a process moves only through Kefu's services (which
lock it, check who may act, audit and push the change), never by editing its rows."""

from __future__ import annotations

from django.contrib import admin
from viewflow.workflow.admin import ProcessAdmin, TaskAdmin
from viewflow.workflow.models import Process, Task

from project.admin_views import ReadOnlyAdmin


class ReadOnlyProcessAdmin(ReadOnlyAdmin, ProcessAdmin):
    pass


class ReadOnlyTaskAdmin(ReadOnlyAdmin, TaskAdmin):
    pass


for model, model_admin in ((Process, ReadOnlyProcessAdmin), (Task, ReadOnlyTaskAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
