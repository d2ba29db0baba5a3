from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process


class TicketProcess(Process):
    """The process of one ticket: a real foreign key to the business row."""

    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="process", verbose_name=_("ticket")
    )

    class Meta:
        verbose_name = _("ticket process")
        verbose_name_plural = _("ticket processes")


class ComplaintProcess(Process):
    """The process of one complaint."""

    complaint = models.OneToOneField(
        "complaints.Complaint",
        on_delete=models.CASCADE,
        related_name="process",
        verbose_name=_("complaint"),
    )

    class Meta:
        verbose_name = _("complaint process")
        verbose_name_plural = _("complaint processes")
