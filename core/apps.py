from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Errors, error codes, pagination and model bases every Kefu app shares.

    The bottom of the platform (docs/platform.md): it imports nothing of Kefu.
    """

    name = "core"
    verbose_name = _("Core")
