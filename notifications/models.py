from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """An in-app notification (escalation, assignment, mention) for one user."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=32)
    # Parameters of the message; the text is rendered in the reader's language.
    data = models.JSONField(_("data"), default=dict, blank=True)
    # What it is about: a kind of the work queue (``ticket`` …) and its id; screens link to it.
    subject_kind = models.CharField(_("subject kind"), max_length=32, blank=True, default="")
    object_id = models.BigIntegerField(_("object"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread_idx",
            )
        ]

    def __str__(self) -> str:
        return str(self.title)

    @property
    def title(self) -> str:
        from .messages import render_title

        return render_title(self.kind, self.data, self.subject_kind)


class PresenceChoice(models.Model):
    """What an agent chose with the Online / Away switch. It is the user's, not a socket's:
    every page and tab shows it, and it holds until they switch again."""

    class Status(models.TextChoices):
        ONLINE = "online", _("Online")
        AWAY = "away", _("Away")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="presence_choice",
        verbose_name=_("user"),
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.ONLINE
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("presence choice")
        verbose_name_plural = _("presence choices")

    def __str__(self) -> str:
        return f"{self.user_id} ({self.status})"


class Connection(models.Model):
    """One WebSocket of a user; an agent is present while one of theirs is live.

    A socket that closed still counts for a short grace period (``closed_at``), so going
    from one Kefu page to the next — the old page's socket closes, the new one's opens a
    moment later — is not leaving."""

    channel_name = models.CharField(_("channel name"), max_length=200, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="socket_connections",
        verbose_name=_("user"),
    )
    connected_at = models.DateTimeField(_("connected at"), auto_now_add=True)
    # Refreshed by the client's heartbeat; a socket silent for too long counts as dead.
    last_seen = models.DateTimeField(_("last seen"), db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["user_id", "id"]
        verbose_name = _("connection")
        verbose_name_plural = _("connections")

    def __str__(self) -> str:
        state = "closed" if self.closed_at else "open"
        return f"{self.user_id} {self.channel_name} ({state})"
