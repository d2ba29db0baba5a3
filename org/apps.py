from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    """Teams, agents, presence, roles and visibility (docs/platform.md)."""

    name = "org"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        from core import configcache

        from . import signals
        from .models import Team

        signals.connect()
        configcache.watch(Team)
