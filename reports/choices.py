"""The reports' vocabulary: the handling-time histogram's buckets and the audit verbs."""

from django.db import models
from django.utils.translation import gettext_lazy as _

HOUR = 3600
DAY = 24 * HOUR
# The upper edges (seconds) of the handling-time histogram's buckets: hours up to half a
# day, then one bucket a day up to 30 days, then wider ones; the last bucket is open
# (90 days and more). Percentiles read from it are exact to the bucket (docs/reports.md).
HANDLING_EDGES: tuple[int, ...] = (
    HOUR,
    2 * HOUR,
    4 * HOUR,
    8 * HOUR,
    12 * HOUR,
    *(d * DAY for d in range(1, 31)),
    35 * DAY,
    45 * DAY,
    60 * DAY,
    90 * DAY,
)
BUCKETS = len(HANDLING_EDGES) + 1

# The regulator targets a complaint's clock has, in the order they fall due.
TARGETS = ("acknowledge", "first_contact", "final_answer")
TARGET_COLUMNS = {"acknowledge": "ack", "first_contact": "contact", "final_answer": "final"}

LEVELS = ("handler", "supervisor", "manager")
KINDS = ("refund", "credit", "voucher", "goodwill")


class ReportVerb(models.TextChoices):
    REGISTER_EXPORTED = "register_exported", _("exported the complaint register")
    STATISTICS_EXPORTED = "statistics_exported", _("exported the complaint statistics")
