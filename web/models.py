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


class SavedView(models.Model):
    """A user's named filters of the tickets screen (private to them): the query string
    the screen reads, kept as its parameters (``tickets.search.SCREEN_FILTERS``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="saved_views",
    )
    name = models.CharField(_("name"), max_length=80)
    query = models.JSONField(_("filters"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="web_saved_view_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.name}"
