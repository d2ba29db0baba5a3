"""Teams and agents: who works, in which team, with what skills, capacity and presence."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import AssignmentStrategy, Presence


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="kefu_teams", blank=True, verbose_name=_("members")
    )
    supervisors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="supervised_teams",
        blank=True,
        verbose_name=_("supervisors"),
    )
    calendar = models.ForeignKey(
        "sla.BusinessCalendar",
        verbose_name=_("calendar"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="teams",
    )
    assignment = models.CharField(
        _("assignment"),
        max_length=16,
        choices=AssignmentStrategy.choices,
        default=AssignmentStrategy.ROUND_ROBIN,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        db_table = "tickets_team"  # kept from before the platform (docs/platform.md)
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class AgentProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="agent_profile",
        verbose_name=_("user"),
    )
    skills = models.JSONField(_("skills"), default=list, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), default=20)
    presence = models.CharField(
        _("presence"), max_length=16, choices=Presence.choices, default=Presence.OFFLINE
    )
    last_assigned_at = models.DateTimeField(_("last assigned at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["user_id"]
        db_table = "tickets_agentprofile"  # kept from before the platform
        verbose_name = _("agent profile")
        verbose_name_plural = _("agent profiles")

    def __str__(self) -> str:
        return f"{self.user_id} ({self.presence})"
