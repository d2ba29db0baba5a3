"""Read models of the reports: the complaint cube (docs/reports.md, "Read model").

``ComplaintRollup`` holds, for each day (grain ``d``) and month (grain ``m``) and each
subset of the five filter dimensions (profile, category, team, channel, severity; the
``dims`` bit mask), the counts of the complaints received then: regulator targets,
extensions, repeats, a fixed histogram of handling times, compensation per approver level
and kind, decided complaints per root cause. A report reads, per month or edge day of its
period, the one cell of its filters and the cells that break them down by category,
severity and channel: about a thousand narrow reads for a year, whatever the table holds.
``reports.rollup`` refreshes it for the days whose complaints changed."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import BUCKETS, KINDS, LEVELS, TARGET_COLUMNS


class Grain(models.TextChoices):
    DAY = "d", _("day")
    MONTH = "m", _("month")


# The filter dimensions, in the order of their bits in ``dims``.
DIMENSIONS = ("profile_id", "category_id", "team_id", "channel", "severity")
DIMENSIONS_INDEXED = ["dims", *DIMENSIONS]
ALL_DIMS = (1 << len(DIMENSIONS)) - 1
# What a dimension holds in a row that sums over all its values.
ANY_ID = -1
ANY_TEXT = "*"
# Root causes are data: each one used gets one of these count columns (RootCauseSlot); the
# last takes any beyond (docs/reports.md).
ROOT_CAUSE_SLOTS = 32


class ComplaintRollup(models.Model):
    """One cell of the complaint cube: the complaints received in ``period`` whose
    dimensions named by the ``dims`` bits have these values (the others are summed over
    and hold ANY_ID / ANY_TEXT). ``dims`` = ALL_DIMS rows are counted from the complaints;
    the others are sums of those, written by the database."""

    grain = models.CharField(_("grain"), max_length=1, choices=Grain.choices)
    # The day received (the site's time zone), or the month's first day.
    period = models.DateField(_("period"))
    dims = models.SmallIntegerField(_("dimensions"))
    profile_id = models.IntegerField(_("profile"))
    category_id = models.IntegerField(_("category"))
    team_id = models.IntegerField(_("team"))  # 0: none
    channel = models.CharField(_("channel"), max_length=16)
    severity = models.CharField(_("severity"), max_length=2)
    complaints = models.IntegerField(_("complaints"), default=0)
    answered = models.IntegerField(_("answered"), default=0)
    repeats = models.IntegerField(_("repeats"), default=0)
    extended = models.IntegerField(_("complaints extended"), default=0)
    extensions = models.IntegerField(_("extensions"), default=0)

    class Meta:
        verbose_name = _("complaint rollup")
        verbose_name_plural = _("complaint rollups")
        indexes = [
            # the refresh: a day's finest cells
            models.Index(fields=["grain", "dims", "period"], name="complaintrollup_cell_idx"),
            # a report: the cells of its filters, every dimension pinned but one
            models.Index(
                fields=[*DIMENSIONS_INDEXED, "grain", "period"], name="complaintrollup_dims_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.period} {self.dims}"


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
# Decided complaints per root cause, by slot.
ROOT_CAUSE_FIELDS = [f"rc{i:02d}" for i in range(ROOT_CAUSE_SLOTS)]
for _name in TARGET_FIELDS + HISTOGRAM_FIELDS + ROOT_CAUSE_FIELDS:
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
    *ROOT_CAUSE_FIELDS,
]
KEY_FIELDS = list(DIMENSIONS)


class RootCauseSlot(models.Model):
    """Which count column of the rollup a root cause uses (given on first use, kept)."""

    slot = models.PositiveSmallIntegerField(_("slot"), primary_key=True)
    root_cause_id = models.IntegerField(_("root cause"), unique=True)

    class Meta:
        verbose_name = _("root-cause slot")
        verbose_name_plural = _("root-cause slots")

    def __str__(self) -> str:
        return f"{self.slot}: {self.root_cause_id}"


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
