from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FlowsConfig(AppConfig):
    """The viewflow Flow classes of every process (flows/ticket.py, …) and nothing else."""

    name = "flows"
    verbose_name = _("Processes")

    def ready(self) -> None:
        from processes import runtime

        from .complaint import ComplaintFlow
        from .models import ComplaintProcess, TicketProcess
        from .ticket import TicketFlow

        runtime.register(runtime.ProcessKind("ticket", TicketFlow, TicketProcess, "ticket"))
        runtime.register(
            runtime.ProcessKind("complaint", ComplaintFlow, ComplaintProcess, "complaint")
        )
