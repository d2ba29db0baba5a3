from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        from org import workload

        from .selectors import open_work_by_assignee

        workload.register("ticket", open_work_by_assignee)
