from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Read models and reports over the platform's and the process apps' tables
    (docs/reports.md)."""

    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from audit import verbs
        from complaints.models import RootCause
        from core import configcache

        from .choices import ReportVerb
        from .models import RootCauseSlot

        verbs.register("report", ReportVerb.choices)
        # the report's names of categories and root causes (reports.selectors._names)
        configcache.watch(RootCause, RootCauseSlot)
