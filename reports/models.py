"""Read models of the reports: the complaint rollups (docs/reports.md, "Read model").

Two tables, refreshed together by ``reports.rollup`` for the days whose complaints changed:
``ComplaintRollup`` counts complaints per (grain, period, profile, category, team, channel,
severity) with the regulator targets, extensions, repeats, a fixed histogram of handling
times and the compensation paid per approver level and kind; ``RootCauseRollup`` counts the
decided ones per root cause. Each holds day rows (grain ``d``) and month rows (grain ``m``, the
sum of the month's day rows) so a long period reads a few month rows and its edge days."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import BUCKETS, KINDS, LEVELS, TARGET_COLUMNS


class Grain(models.TextChoices):
    DAY = "d", _("day")
    MONTH = "m", _("month")


class RollupKey(models.Model):
    grain = models.CharField(_("grain"), max_length=1, choices=Grain.choices)
    # The day received (the site's time zone), or the month's first day.
    period = models.DateField(_("period"))
    profile_id = models.IntegerField(_("profile"))
    category_id = models.IntegerField(_("category"))
    team_id = models.IntegerField(_("team"), default=0)  # 0: none
    channel = models.CharField(_("channel"), max_length=16)
    severity = models.CharField(_("severity"), max_length=2)

    class Meta:
        abstract = True


class ComplaintRollup(RollupKey):
    complaints = models.IntegerField(_("complaints"), default=0)
    answered = models.IntegerField(_("answered"), default=0)
    repeats = models.IntegerField(_("repeats"), default=0)
    extended = models.IntegerField(_("complaints extended"), default=0)
    extensions = models.IntegerField(_("extensions"), default=0)

    class Meta:
        verbose_name = _("complaint rollup")
        verbose_name_plural = _("complaint rollups")
        indexes = [models.Index(fields=["grain", "period"], name="complaintrollup_period_idx")]

    def __str__(self) -> str:
        return f"{self.grain} {self.period}"


# Per target: met at all, met by its due time, and breached without being met.
TARGET_FIELDS = [
    f"{short}_{what}"
    for short in TARGET_COLUMNS.values()
    for what in ("met", "on_time", "breached")
]
# The handling-time histogram: h00 … h39, bucket i counting answers below HANDLING_EDGES[i].
HISTOGRAM_FIELDS = [f"h{i:02d}" for i in range(BUCKETS)]
# Compensation paid, per approver level and kind: how many, and the sum in hundredths.
COMPENSATION_FIELDS = [
    f"{level}_{kind}_{what}" for level in LEVELS for kind in KINDS for what in ("n", "cents")
]
for _name in TARGET_FIELDS + HISTOGRAM_FIELDS:
    ComplaintRollup.add_to_class(_name, models.IntegerField(default=0))
for _name in COMPENSATION_FIELDS:
    ComplaintRollup.add_to_class(_name, models.BigIntegerField(default=0))

COUNT_FIELDS = [
    "complaints",
    "answered",
    "repeats",
    "extended",
    "extensions",
    *TARGET_FIELDS,
    *HISTOGRAM_FIELDS,
    *COMPENSATION_FIELDS,
]
KEY_FIELDS = ["profile_id", "category_id", "team_id", "channel", "severity"]


class RootCauseRollup(RollupKey):
    """Decided complaints per root cause (root causes are data: a row each, not a column)."""

    root_cause_id = models.IntegerField(_("root cause"))
    decided = models.IntegerField(_("decided"), default=0)

    class Meta:
        verbose_name = _("complaint root-cause rollup")
        verbose_name_plural = _("complaint root-cause rollups")
        indexes = [models.Index(fields=["grain", "period"], name="rootcauserollup_period_idx")]

    def __str__(self) -> str:
        return f"{self.grain} {self.period}"


ROOT_CAUSE_KEY_FIELDS = [*KEY_FIELDS, "root_cause_id"]
ROOT_CAUSE_COUNT_FIELDS = ["decided"]


class RollupState(models.Model):
    """How far a read model is refreshed: complaints updated before ``watermark`` are in
    it; ``refreshed_at`` is the report's "as of"."""

    name = models.CharField(_("read model"), max_length=32, primary_key=True)
    watermark = models.DateTimeField(_("watermark"), null=True, blank=True)
    refreshed_at = models.DateTimeField(_("refreshed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("read model state")
        verbose_name_plural = _("read model states")

    def __str__(self) -> str:
        return self.name
