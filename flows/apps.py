from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FlowsConfig(AppConfig):
    """The viewflow Flow classes of every process (flows/ticket.py, …) and nothing else."""

    name = "flows"
    verbose_name = _("Processes")
