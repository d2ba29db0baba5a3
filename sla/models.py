"""Business calendars; SLA policies and clocks of every process kind join them here."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class BusinessCalendar(models.Model):
    """Opening hours (several windows a day), a time zone and holidays."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC")
    # {"mon": [["09:00", "12:00"], ["13:00", "18:00"]], ...}; a missing day is closed.
    hours = models.JSONField(_("business hours"), default=dict)
    holidays = models.JSONField(_("holidays"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        db_table = "tickets_businesscalendar"  # kept from before the platform (docs/platform.md)
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name


class SlaPolicy(models.Model):
    """Targets of one process kind (``kind``), matched by priority and customer tier, with
    its warning threshold and escalation ladder as data."""

    kind = models.CharField(_("process kind"), max_length=32, default="ticket")
    name = models.CharField(_("name"), max_length=100)
    priority = models.CharField(_("priority"), max_length=8)
    # NULL means "any tier" (API.md); an empty string would be a tier nobody has.
    customer_tier = models.CharField(  # noqa: DJ001
        _("customer tier"), max_length=16, null=True, blank=True
    )
    # {"first_response": 3600, "resolution": 28800}: seconds per target the kind names
    # (processes register their targets' order and labels with sla.kinds).
    targets = models.JSONField(_("targets (s)"), default=dict)
    # xgettext:no-python-format
    warning_percent = models.PositiveSmallIntegerField(_("warning at (% of target)"), default=80)
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("calendar"),
    )
    # [{"at_percent": 100, "target": "resolution", "action": "reassign", "team": 3}, ...]
    escalation = models.JSONField(_("escalation levels"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["priority", "id"]
        db_table = "tickets_slapolicy"  # kept from before the platform (docs/platform.md)
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        indexes = [
            models.Index(fields=["kind", "priority", "is_active"], name="slapolicy_kind_match_idx")
        ]

    def __str__(self) -> str:
        return self.name


class SlaClock(models.Model):
    """The SLA clock of one subject (a ticket, a complaint …). Only ``sla.clock`` writes it:
    start, pause, resume, meet a target, stop, and the ladder's checkpoints.

    ``terms`` is the policy as it was when the clock started (a later edit applies to
    clocks started afterwards); ``targets`` the state of each target; ``next_at`` the
    moment of the next checkpoint (warning, breach, escalation level), which the
    dispatcher sweeps set-wise (docs/sla.md)."""

    kind = models.CharField(_("process kind"), max_length=32)
    object_id = models.BigIntegerField(_("object"))
    policy = models.ForeignKey(
        SlaPolicy,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("SLA policy"),
    )
    terms = models.JSONField(_("terms"), default=dict, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(_("paused (business s)"), default=0)
    # {"first_response": {"due": "…", "met_at": null, "breached": false}, …}
    targets = models.JSONField(_("targets"), default=dict, blank=True)
    # Keys of the checkpoints already handled ("resolution:warning", "level:2", …).
    done = models.JSONField(_("checkpoints done"), default=list, blank=True)
    # The nearest unmet target's due moment (orders the queue); null when none runs.
    due = models.DateTimeField(_("due"), null=True, blank=True)
    warning = models.BooleanField(_("warning fired"), default=False)
    breached = models.BooleanField(_("breached"), default=False)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    # The highest escalation level a supervisor has acknowledged (0: none).
    acknowledged_level = models.PositiveSmallIntegerField(
        _("escalation level acknowledged"), default=0
    )
    next_at = models.DateTimeField(_("next checkpoint"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="slaclock_subject_uniq")
        ]
        indexes = [
            # The dispatcher's claim: due checkpoints, earliest first.
            models.Index(
                fields=["next_at", "id"],
                condition=models.Q(next_at__isnull=False),
                name="slaclock_next_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}"
