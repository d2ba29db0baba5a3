"""The work queue: one row per open human task of every process kind.

A read model, written by each process's services in the transaction of the change
(``processes.queue.publish_work_item``), so ``GET /api/queue/``, the board and the agent
screen read one table whatever the number of kinds. A row exists while its object waits
on a person (a ticket new or open, a complaint being handled, …) and goes when it no
longer does.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkItem(models.Model):
    kind = models.CharField(_("kind"), max_length=32)
    object_id = models.BigIntegerField(_("object"))
    task_id = models.BigIntegerField(_("task"), null=True, blank=True)
    number = models.CharField(_("number"), max_length=32)
    title = models.CharField(_("title"), max_length=200)
    priority = models.CharField(_("priority"), max_length=8)
    status = models.CharField(_("status"), max_length=32)
    team = models.ForeignKey(
        "org.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("team"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assignee"),
    )
    due = models.DateTimeField(_("due"), null=True, blank=True)
    breached = models.BooleanField(_("breached"), default=False)
    warning = models.BooleanField(_("warning"), default=False)
    paused = models.BooleanField(_("paused"), default=False)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    acknowledged = models.BooleanField(_("acknowledged"), default=False)
    customer_tier = models.CharField(_("customer tier"), max_length=16, null=True, blank=True)  # noqa: DJ001
    created = models.DateTimeField(_("created at"))
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("work item")
        verbose_name_plural = _("work items")
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="workitem_object_uniq")
        ]
        indexes = [
            # The queue: mine, my teams' unassigned, a team's, everything — most urgent first.
            models.Index(fields=["assignee", "due", "id"], name="workitem_assignee_idx"),
            models.Index(
                fields=["team", "due", "id"],
                condition=models.Q(assignee__isnull=True),
                name="workitem_team_unassigned_idx",
            ),
            models.Index(fields=["team", "due", "id"], name="workitem_team_idx"),
            models.Index(fields=["due", "id"], name="workitem_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.number}"


class Link(models.Model):
    """Two objects of any kinds that belong together (a ticket escalated into a complaint),
    written both ways so each side reads its links in one index scan without importing the
    other's app."""

    kind = models.CharField(_("kind"), max_length=32)
    object_id = models.BigIntegerField(_("object"))
    other_kind = models.CharField(_("linked kind"), max_length=32)
    other_id = models.BigIntegerField(_("linked object"))
    other_number = models.CharField(_("linked number"), max_length=32)
    relation = models.CharField(_("relation"), max_length=32)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("link")
        verbose_name_plural = _("links")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_id", "other_kind", "other_id"], name="link_uniq"
            )
        ]
        indexes = [models.Index(fields=["kind", "object_id"], name="link_object_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} → {self.other_kind} {self.other_id}"


class RequestKey(models.Model):
    """An ``Idempotency-Key`` a person sent to a process app's endpoint, and what it made
    (``processes.idempotency``): a retried request is answered with that object."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    key = models.CharField(_("key"), max_length=255)
    request_hash = models.CharField(_("request hash"), max_length=64)
    subject_kind = models.CharField(_("kind"), max_length=32)
    # Empty only inside the transaction that claims the key.
    object_id = models.BigIntegerField(_("object"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="requestkey_unique_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.subject_kind} {self.object_id}: {self.key}"
