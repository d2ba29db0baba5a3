from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "mail"
    verbose_name = _("Email")

    def ready(self) -> None:
        from audit import verbs

        # the quarantine's actions (mail.services.retry / discard)
        verbs.register("inbound_email", [("retried", _("retried")), ("discarded", _("discarded"))])
