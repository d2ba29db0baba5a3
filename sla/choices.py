"""The SLA ladder's vocabulary, shared by every process kind."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EscalationAction(models.TextChoices):
    WARN = "warn", _("Warn the assignee")
    NOTIFY_SUPERVISOR = "notify_supervisor", _("Notify the supervisors")
    NOTIFY_MANAGER = "notify_manager", _("Notify the managers")
    RAISE_PRIORITY = "raise_priority", _("Raise the priority")
    REASSIGN = "reassign", _("Reassign to a team")
