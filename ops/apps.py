from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Operations: liveness and readiness probes, Prometheus metrics, beat's leader lock."""

    name = "ops"
    verbose_name = _("Operations")
