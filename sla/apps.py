from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    """Business calendars and the SLA clock of any subject (docs/platform.md)."""

    name = "sla"
    verbose_name = _("Service levels")

    def ready(self) -> None:
        from core import configcache

        from .models import BusinessCalendar, SlaPolicy

        configcache.watch(SlaPolicy, BusinessCalendar)
