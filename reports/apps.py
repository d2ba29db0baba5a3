from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Read models and reports over the platform's and the process apps' tables
    (docs/reports.md)."""

    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from audit import verbs

        from .choices import ReportVerb

        verbs.register("report", ReportVerb.choices)
