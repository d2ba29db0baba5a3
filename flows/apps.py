from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FlowsConfig(AppConfig):
    name = "flows"
    verbose_name = _("Processes")

    def ready(self) -> None:
        # Adapts viewflow's missing cancel cascade (VIEWFLOW.md §3); calls nothing else.
        from . import boundaries  # noqa: F401
