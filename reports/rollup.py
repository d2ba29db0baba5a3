"""Refreshing the complaint rollups (docs/reports.md, "Read model").

``refresh_complaint_rollups()`` re-counts every day that holds a complaint changed since
the watermark (its ``updated_at``; the SLA dispatcher's marks bump it too) and the months
of those days, in one transaction under a row lock so two refreshes never interleave. A
Celery beat task runs it every minute; tests and the benchmark call it directly, the
benchmark with ``full=True`` after seeding."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.db.models.functions import TruncDate
from django.utils import timezone

from complaints.models import Complaint

from .choices import HANDLING_EDGES, KINDS, LEVELS, TARGET_COLUMNS
from .models import (
    COUNT_FIELDS,
    KEY_FIELDS,
    ROOT_CAUSE_COUNT_FIELDS,
    ROOT_CAUSE_KEY_FIELDS,
    ComplaintRollup,
    Grain,
    RollupState,
    RootCauseRollup,
)

NAME = "complaints"
# Re-read complaints updated this long before the watermark: a transaction that began
# before the last refresh may commit a row whose updated_at is older than the watermark.
OVERLAP = timedelta(minutes=5)
CHUNK = 5000
COLUMNS = (
    "received_at",
    "profile_id",
    "category_id",
    "team_id",
    "channel",
    "severity",
    "root_cause_id",
    "answered_at",
    "repeat_of_id",
    "extensions_used",
    "compensation_amount",
    "compensation_kind",
    "approved_level",
    "sla_clock__targets",
)
INDEX = {name: i for i, name in enumerate(COUNT_FIELDS)}
TARGET_INDEX = [
    (target, INDEX[f"{short}_met"], INDEX[f"{short}_on_time"], INDEX[f"{short}_breached"])
    for target, short in TARGET_COLUMNS.items()
]
HISTOGRAM_AT = INDEX["h00"]
PAID_AT = {(level, kind): INDEX[f"{level}_{kind}_n"] for level in LEVELS for kind in KINDS}
TABLES: list[tuple[type[models.Model], list[str], list[str]]] = [
    (ComplaintRollup, KEY_FIELDS, COUNT_FIELDS),
    (RootCauseRollup, ROOT_CAUSE_KEY_FIELDS, ROOT_CAUSE_COUNT_FIELDS),
]


@dataclass
class Refreshed:
    days: int
    rows: int
    as_of: datetime


def _local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def _parse(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class DayCounts:
    """The counts of one day's complaints, by rollup key."""

    def __init__(self) -> None:
        self.main: dict[tuple[Any, ...], list[int]] = {}
        self.causes: dict[tuple[Any, ...], int] = {}

    def add(self, row: tuple[Any, ...]) -> None:
        (
            received,
            profile_id,
            category_id,
            team_id,
            channel,
            severity,
            root_cause_id,
            answered,
            repeat_of,
            extensions_used,
            amount,
            kind,
            level,
            targets,
        ) = row
        key = (profile_id, category_id, team_id or 0, channel, severity)
        counts = self.main.get(key)
        if counts is None:
            counts = self.main[key] = [0] * len(COUNT_FIELDS)
        counts[0] += 1
        if answered is not None:
            counts[1] += 1
            seconds = max((answered - received).total_seconds(), 0)
            counts[HISTOGRAM_AT + bisect_right(HANDLING_EDGES, seconds)] += 1
        if repeat_of is not None:
            counts[2] += 1
        if extensions_used:
            counts[3] += 1
            counts[4] += extensions_used
        for target, met_at, on_time_at, breached_at in TARGET_INDEX:
            state = (targets or {}).get(target)
            if not state:
                continue
            met = _parse(state.get("met_at"))
            if met is not None:
                counts[met_at] += 1
                due = _parse(state.get("due"))
                if due is None or met <= due:
                    counts[on_time_at] += 1
            elif state.get("breached"):
                counts[breached_at] += 1
        if amount and (level, kind) in PAID_AT:
            at = PAID_AT[(level, kind)]
            counts[at] += 1
            counts[at + 1] += int(Decimal(amount) * 100)
        if root_cause_id is not None:
            ckey = (*key, root_cause_id)
            self.causes[ckey] = self.causes.get(ckey, 0) + 1

    def rows(self, day: date) -> dict[type[models.Model], list[tuple[Any, ...]]]:
        """The day's rows of each table, as (grain, period, *key, *counts)."""
        return {
            ComplaintRollup: [
                (Grain.DAY.value, day, *key, *counts) for key, counts in self.main.items()
            ],
            RootCauseRollup: [(Grain.DAY.value, day, *key, n) for key, n in self.causes.items()],
        }


def _rows_between(start: datetime, end: datetime) -> Iterator[tuple[Any, ...]]:
    return (
        Complaint.objects.filter(received_at__gte=start, received_at__lt=end)
        .order_by("received_at", "id")
        .values_list(*COLUMNS)
        .iterator(chunk_size=CHUNK)
    )


def _by_day(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[date, DayCounts]]:
    current: date | None = None
    counts = DayCounts()
    for row in rows:
        day = _local_day(row[0])
        if day != current:
            if current is not None:
                yield current, counts
            current, counts = day, DayCounts()
        counts.add(row)
    if current is not None:
        yield current, counts


def _columns(model: type[models.Model], names: list[str]) -> list[str]:
    fields = {f.name: f for f in model._meta.concrete_fields}
    return [str(fields[name].column) for name in names]


def _insert(model: type[models.Model], names: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Writes the rows: PostgreSQL's COPY (a read model is rewritten in bulk; the ORM's
    per-field preparation of ~90 columns cost most of a refresh), bulk_create elsewhere."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in _columns(model, names))
        with connection.cursor() as cursor:
            raw: Any = cursor.cursor  # psycopg's own cursor
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    model._default_manager.bulk_create(
        [model(**dict(zip(names, row, strict=True))) for row in rows], batch_size=500
    )


def _delete(model: type[models.Model], grain: str, periods: list[date]) -> None:
    """A plain DELETE (no per-row signals: a read model has no dependants)."""
    model._default_manager.filter(grain=grain, period__in=periods)._raw_delete(
        using=connection.alias
    )


def _write_days(days: dict[date, DayCounts], wanted: Iterable[date]) -> int:
    periods = sorted(set(wanted))
    written = 0
    for model, keys, counts in TABLES:
        _delete(model, Grain.DAY, periods)
        rows: list[tuple[Any, ...]] = []
        for day in periods:
            if day in days:
                rows += days[day].rows(day)[model]
        _insert(model, ["grain", "period", *keys, *counts], rows)
        written += len(rows)
    return written


def _write_months(months: Iterable[date]) -> None:
    """Each month row is the sum of the month's day rows, summed by the database with one
    ``INSERT … SELECT … GROUP BY`` per table."""
    qn = connection.ops.quote_name
    for first in sorted(set(months)):
        following = (first + timedelta(days=32)).replace(day=1)
        for model, keys, counts in TABLES:
            _delete(model, Grain.MONTH, [first])
            key_columns = [qn(c) for c in _columns(model, keys)]
            count_columns = [qn(c) for c in _columns(model, counts)]
            table = qn(model._meta.db_table)
            sums = ", ".join(f"SUM({c})" for c in count_columns)
            sql = (
                f"INSERT INTO {table} ({qn('grain')}, {qn('period')}, "  # noqa: S608
                f"{', '.join(key_columns + count_columns)}) "
                f"SELECT %s, %s, {', '.join(key_columns)}, {sums} FROM {table} "
                f"WHERE {qn('grain')} = %s AND {qn('period')} >= %s AND {qn('period')} < %s "
                f"GROUP BY {', '.join(key_columns)}"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, [Grain.MONTH.value, first, Grain.DAY.value, first, following])


def refresh_complaint_rollups(*, full: bool = False) -> Refreshed:
    """Re-counts the days whose complaints changed since the last refresh (every day when
    ``full``) and their months; returns how many days and rows it wrote."""
    with transaction.atomic():
        state, _created = RollupState.objects.select_for_update().get_or_create(name=NAME)
        now = timezone.now()
        if full or state.watermark is None:
            for model, _keys, _counts in TABLES:
                model._default_manager.all()._raw_delete(using=connection.alias)
            written = 0
            months: set[date] = set()
            day_count = 0
            for day_count, (day, counts) in enumerate(  # noqa: B007
                _by_day(
                    Complaint.objects.order_by("received_at", "id")
                    .values_list(*COLUMNS)
                    .iterator(chunk_size=CHUNK)
                ),
                start=1,
            ):
                written += _write_days({day: counts}, [day])
                months.add(day.replace(day=1))
            _write_months(months)
        else:
            touched = set(
                Complaint.objects.filter(updated_at__gte=state.watermark - OVERLAP)
                .annotate(day=TruncDate("received_at"))
                .values_list("day", flat=True)
                .distinct()
                .order_by()
            )
            written = 0
            for day in sorted(touched):
                start, end = _day_bounds(day)
                counted = dict(_by_day(_rows_between(start, end)))
                written += _write_days(counted, [day])
            _write_months({day.replace(day=1) for day in touched})
            day_count = len(touched)
        state.watermark = now
        state.refreshed_at = now
        state.save(update_fields=["watermark", "refreshed_at"])
    return Refreshed(days=day_count, rows=written, as_of=now)


def as_of() -> datetime | None:
    """When the complaint rollups were last refreshed (None: never)."""
    state = RollupState.objects.filter(name=NAME).first()
    return state.refreshed_at if state else None
