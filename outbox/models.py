"""Emails that must not be lost: written in the transaction that causes them, sent later."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboxMessage(models.Model):
    """One email to deliver. ``key`` names what it is for ("survey-invitation:42") so the
    same email can never be queued twice; ``message_id`` is fixed at creation so a resend
    after a crash carries the same Message-ID and is recognisable as a duplicate.

    ``next_attempt_at`` is both the schedule and the lease: a drain that claims a row moves
    it forward by the lease, so no other drain takes the row while it is being sent, and a
    drain that dies leaves the row due again when the lease runs out."""

    key = models.CharField(_("key"), max_length=200)
    kind = models.CharField(_("kind"), max_length=40)
    to = models.EmailField(_("recipient"), max_length=254)
    subject = models.CharField(_("subject"), max_length=255)
    body_text = models.TextField(_("plain-text body"))
    body_html = models.TextField(_("HTML body"), blank=True)
    # the body held a secret (a one-time link): blank it once the server has the email
    discard_body = models.BooleanField(_("discard body after sending"), default=False)
    message_id = models.CharField(_("Message-ID"), max_length=255)
    # extra headers: In-Reply-To, References, Reply-To, Auto-Submitted (docs/email.md)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    # attachments sent with it (ids of mail.Attachment)
    attachment_ids = models.JSONField(_("attachments"), default=list, blank=True)
    # an automatic message (acknowledgement, notice): counted by the per-address limit
    automatic = models.BooleanField(_("automatic"), default=False)
    # what it is about, for the subject's page (delivery state): ("ticket", 42)
    subject_kind = models.CharField(_("subject kind"), max_length=32, blank=True)
    object_id = models.BigIntegerField(_("object id"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        constraints = [
            models.UniqueConstraint(fields=["key"], name="outbox_message_key_unique"),
            models.UniqueConstraint(fields=["message_id"], name="outbox_message_id_unique"),
        ]
        indexes = [
            # the per-address limit on automatic mail (RFC 3834): an address's last hour
            models.Index(
                fields=["to", "created_at"],
                condition=models.Q(automatic=True),
                name="outbox_automatic_to_idx",
            ),
            models.Index(fields=["subject_kind", "object_id"], name="outbox_subject_idx"),
            # the drain's claim: due pending rows, oldest first
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=models.Q(status="pending"),
                name="outbox_pending_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"
