from django.db import models
from django.utils.translation import gettext_lazy as _


class AssignmentStrategy(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")
    MANUAL = "manual", _("Manual")


class Presence(models.TextChoices):
    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")
