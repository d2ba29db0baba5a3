from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "mail"
    verbose_name = _("Email")

    def ready(self) -> None:
        from audit import verbs
        from core import configcache

        from . import personal_data
        from .models import Mailbox

        # the quarantine's actions (mail.services.retry / discard)
        verbs.register("inbound_email", [("retried", _("retried")), ("discarded", _("discarded"))])
        # own_addresses() keeps the mailboxes' addresses until a mailbox changes; the
        # poller's own record of a round is not a change
        configcache.watch(
            Mailbox,
            state_fields=(
                "last_polled_at",
                "failing_since",
                "last_error",
                "last_error_at",
                "updated_at",
            ),
        )
        personal_data.register()
