"""Business calendars; SLA policies and clocks of every process kind join them here."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class BusinessCalendar(models.Model):
    """Opening hours (several windows a day), a time zone and holidays."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC")
    # {"mon": [["09:00", "12:00"], ["13:00", "18:00"]], ...}; a missing day is closed.
    hours = models.JSONField(_("business hours"), default=dict)
    holidays = models.JSONField(_("holidays"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        db_table = "tickets_businesscalendar"  # kept from before the platform (docs/platform.md)
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name
