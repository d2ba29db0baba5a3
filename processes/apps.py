from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProcessesConfig(AppConfig):
    """The work queue of every process kind's open human tasks and the timer dispatcher
    (docs/platform.md, docs/timers.md)."""

    name = "processes"
    verbose_name = _("Processes")

    def ready(self) -> None:
        from org import workload

        # Adapts viewflow's missing cancel cascade (VIEWFLOW.md §3); calls nothing else.
        from . import boundaries  # noqa: F401
        from .selectors import open_work_by_assignee, open_work_of_outer_user

        # Every open human task of every kind counts towards an agent's load.
        workload.register("work_items", open_work_by_assignee, expression=open_work_of_outer_user)
