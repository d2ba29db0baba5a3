"""The one state change of the reports: an export is audited (docs/reports.md, "Exports")."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audit import services as audit
from org.roles import Actor

from .choices import ReportVerb
from .selectors import ReportFilters, require_reports


def record_export(
    *, actor: Actor, verb: ReportVerb, filters: ReportFilters, fmt: str, rows: int
) -> None:
    """Who exported which report, for which period and filters, in which format, how many
    rows: an audit row of kind ``report`` (verbs ``register_exported``,
    ``statistics_exported``)."""
    require_reports(actor)
    after: dict[str, Any] = {"format": fmt, "rows": rows, **filters.as_audit()}
    with transaction.atomic():
        audit.record(kind="report", verb=verb.value, actor=actor, after=after)
