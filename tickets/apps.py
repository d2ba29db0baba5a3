from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        from audit import verbs

        from .choices import EventVerb

        verbs.register("ticket", EventVerb.choices)
