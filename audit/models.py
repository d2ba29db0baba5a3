"""The audit trail: who did what to which subject, with the fields before and after.

One table for every subject kind. Work of a process kind has a real foreign key to its
object (``ticket`` today; ``complaint`` and the others join as columns when they come), and
every row carries the customer when there is one, so a customer's whole history is one
index scan (``audit_customer_idx``). Configuration (teams, SLA policies, calendars) is
named by ``subject_kind`` and ``object_id``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    subject_kind = models.CharField(_("subject kind"), max_length=32, default="ticket")
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("ticket"),
    )
    complaint = models.ForeignKey(
        "complaints.Complaint",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("complaint"),
    )
    object_id = models.BigIntegerField(_("object"), null=True, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    # The contact a customers-domain event is about (consent, a read of personal data, a
    # privacy request, a merge): a walk-in contact's history and an erasure find it here.
    contact = models.ForeignKey(
        "customers.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("contact"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    verb = models.CharField(_("verb"), max_length=40)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        db_table = "tickets_ticketevent"  # kept from before the platform (docs/platform.md)
        ordering = ["created_at", "id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="ticketevent_ticket_idx"),
            models.Index(
                fields=["complaint", "created_at"],
                condition=models.Q(complaint__isnull=False),
                name="audit_complaint_idx",
            ),
            models.Index(
                fields=["customer", "-created_at", "-id"],
                condition=models.Q(customer__isnull=False),
                name="audit_customer_idx",
            ),
            models.Index(
                fields=["contact", "-created_at", "-id"],
                condition=models.Q(contact__isnull=False),
                name="audit_contact_idx",
            ),
            models.Index(
                fields=["subject_kind", "object_id", "created_at"],
                condition=models.Q(object_id__isnull=False),
                name="audit_subject_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject_kind} {self.ticket_id or self.object_id} {self.verb}"
