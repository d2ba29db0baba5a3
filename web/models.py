"""The second factor's audit trail (docs/security.md, "Second factor").

Logins and failed logins are axes' tables (``AccessLog``, ``AccessFailureLog``); what they
cannot say — a device enrolled or removed, a code accepted, a recovery code spent, a code
refused — is a row here, read-only in the Django admin.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TwoFactorEvent(models.Model):
    class Kind(models.TextChoices):
        ENROLLED = "enrolled", _("Authenticator enrolled")
        REMOVED = "removed", _("Authenticator removed")
        VERIFIED = "verified", _("Code accepted")
        RECOVERY_USED = "recovery_used", _("Recovery code used")
        REFUSED = "refused", _("Code refused")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    username = models.CharField(_("user name"), max_length=150)
    kind = models.CharField(_("event"), max_length=20, choices=Kind.choices)
    path = models.CharField(_("path"), max_length=255, blank=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("second-factor event")
        verbose_name_plural = _("second-factor events")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["username", "created_at"], name="web_2fa_event_user_time"),
        ]

    def __str__(self) -> str:
        return f"{self.username}: {self.kind}"
