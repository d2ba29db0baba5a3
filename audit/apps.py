from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """One audit trail for every subject: work of every process kind and configuration
    (docs/platform.md)."""

    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from . import verbs

        verbs.register_configuration_verbs()
