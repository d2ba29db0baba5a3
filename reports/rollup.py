"""Refreshing the complaint cube (docs/reports.md, "Read model").

``refresh_complaint_rollups()`` re-counts every day that holds a complaint changed since
the watermark (its ``updated_at``; the SLA dispatcher's marks bump it too) and the months
of those days, in one transaction under a row lock so two refreshes never interleave. The
finest cells (every dimension set) are counted here from the complaints and written with
COPY; every coarser cell and every month is summed by the database (``INSERT … SELECT …
GROUP BY``). A Celery beat task runs it every minute; tests and the benchmark call it
directly, the benchmark with ``full=True`` after seeding."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models.functions import TruncDate
from django.utils import timezone

from complaints.models import Complaint

from .choices import HANDLING_EDGES, KINDS, LEVELS, TARGET_COLUMNS
from .models import (
    ALL_DIMS,
    ANY_ID,
    ANY_TEXT,
    COUNT_FIELDS,
    DIMENSIONS,
    ROOT_CAUSE_SLOTS,
    ComplaintRollup,
    Grain,
    RollupState,
    RootCauseSlot,
)

NAME = "complaints"
# Re-read complaints updated this long before the watermark: a transaction that began
# before the last refresh may commit a row whose updated_at is older than the watermark.
OVERLAP = timedelta(minutes=5)
CHUNK = 5000
# Days counted before they are written, in a full rebuild.
BATCH_DAYS = 31
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
ROOT_CAUSE_AT = INDEX["rc00"]
PAID_AT = {(level, kind): INDEX[f"{level}_{kind}_n"] for level in LEVELS for kind in KINDS}
TEXT_DIMENSIONS = {"channel", "severity"}


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


class Slots:
    """Root cause id -> its count column, given on first use; the last slot takes every
    root cause beyond the others."""

    def __init__(self) -> None:
        self.of = dict(RootCauseSlot.objects.values_list("root_cause_id", "slot"))

    def slot(self, root_cause_id: int) -> int:
        found = self.of.get(root_cause_id)
        if found is None:
            used = set(self.of.values())
            free = next((s for s in range(ROOT_CAUSE_SLOTS - 1) if s not in used), None)
            if free is None:
                return ROOT_CAUSE_SLOTS - 1
            RootCauseSlot.objects.create(slot=free, root_cause_id=root_cause_id)
            self.of[root_cause_id] = found = free
        return found


class DayCounts:
    """The finest cells of one day: counts by (profile, category, team, channel, severity)."""

    def __init__(self, slots: Slots) -> None:
        self.cells: dict[tuple[Any, ...], list[int]] = {}
        self.slots = slots

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
        counts = self.cells.get(key)
        if counts is None:
            counts = self.cells[key] = [0] * len(COUNT_FIELDS)
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
            counts[ROOT_CAUSE_AT + self.slots.slot(root_cause_id)] += 1

    def rows(self, day: date) -> list[tuple[Any, ...]]:
        return [
            (Grain.DAY.value, day, ALL_DIMS, *key, *counts) for key, counts in self.cells.items()
        ]


def _rows_between(start: datetime, end: datetime) -> Iterator[tuple[Any, ...]]:
    return (
        Complaint.objects.filter(received_at__gte=start, received_at__lt=end)
        .order_by("received_at", "id")
        .values_list(*COLUMNS)
        .iterator(chunk_size=CHUNK)
    )


def _by_day(rows: Iterable[tuple[Any, ...]], slots: Slots) -> Iterator[tuple[date, DayCounts]]:
    current: date | None = None
    counts = DayCounts(slots)
    for row in rows:
        day = _local_day(row[0])
        if day != current:
            if current is not None:
                yield current, counts
            current, counts = day, DayCounts(slots)
        counts.add(row)
    if current is not None:
        yield current, counts


# --- writing ---------------------------------------------------------------------------
def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


TABLE = ComplaintRollup._meta.db_table
ALL_COLUMNS = ["grain", "period", "dims", *DIMENSIONS, *COUNT_FIELDS]


def _copy(rows: list[tuple[Any, ...]]) -> None:
    """Writes the finest cells: PostgreSQL's COPY (the ORM's per-field preparation of ~140
    columns cost most of a refresh), bulk_create elsewhere."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        columns = ", ".join(_qn(c) for c in ALL_COLUMNS)
        with connection.cursor() as cursor:
            raw: Any = cursor.cursor  # psycopg's own cursor
            with raw.copy(f"COPY {_qn(TABLE)} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    ComplaintRollup.objects.bulk_create(
        [ComplaintRollup(**dict(zip(ALL_COLUMNS, row, strict=True))) for row in rows],
        batch_size=100,
    )


def _execute(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _sums() -> str:
    return ", ".join(f"SUM({_qn(c)})" for c in COUNT_FIELDS)


def _coarser_cells(periods: list[date]) -> None:
    """Every cell with fewer dimensions, for these days: the sums of the finest cells."""
    marks = ", ".join(["%s"] * len(periods))
    counts = ", ".join(_qn(c) for c in COUNT_FIELDS)
    dims = ", ".join(_qn(c) for c in DIMENSIONS)
    for mask in range(ALL_DIMS):
        kept = [d for i, d in enumerate(DIMENSIONS) if mask & (1 << i)]
        select = ", ".join(
            _qn(d) if d in kept else (f"'{ANY_TEXT}'" if d in TEXT_DIMENSIONS else str(ANY_ID))
            for d in DIMENSIONS
        )
        group = ", ".join([_qn("period"), *(_qn(d) for d in kept)])
        _execute(
            f"INSERT INTO {_qn(TABLE)} ({_qn('grain')}, {_qn('period')}, {_qn('dims')}, "  # noqa: S608
            f"{dims}, {counts}) SELECT %s, {_qn('period')}, %s, {select}, {_sums()} "
            f"FROM {_qn(TABLE)} WHERE {_qn('grain')} = %s AND {_qn('dims')} = %s "
            f"AND {_qn('period')} IN ({marks}) GROUP BY {group}",
            [Grain.DAY.value, mask, Grain.DAY.value, ALL_DIMS, *periods],
        )


def _delete_days(periods: list[date]) -> None:
    ComplaintRollup.objects.filter(grain=Grain.DAY, period__in=periods)._raw_delete(
        using=connection.alias
    )


def _write_days(days: dict[date, DayCounts], wanted: Iterable[date]) -> int:
    periods = sorted(set(wanted))
    if not periods:
        return 0
    _delete_days(periods)
    rows: list[tuple[Any, ...]] = []
    for day in periods:
        if day in days:
            rows += days[day].rows(day)
    _copy(rows)
    _coarser_cells(periods)
    return len(rows)


def _write_months(months: Iterable[date]) -> None:
    """Each month's cells are the sums of its days' cells, every mask at once."""
    dims = ", ".join(_qn(c) for c in DIMENSIONS)
    counts = ", ".join(_qn(c) for c in COUNT_FIELDS)
    for first in sorted(set(months)):
        following = (first + timedelta(days=32)).replace(day=1)
        ComplaintRollup.objects.filter(grain=Grain.MONTH, period=first)._raw_delete(
            using=connection.alias
        )
        _execute(
            f"INSERT INTO {_qn(TABLE)} ({_qn('grain')}, {_qn('period')}, {_qn('dims')}, "  # noqa: S608
            f"{dims}, {counts}) SELECT %s, %s, {_qn('dims')}, {dims}, {_sums()} "
            f"FROM {_qn(TABLE)} WHERE {_qn('grain')} = %s AND {_qn('period')} >= %s "
            f"AND {_qn('period')} < %s GROUP BY {_qn('dims')}, {dims}",
            [Grain.MONTH.value, first, Grain.DAY.value, first, following],
        )


def _full_rebuild(slots: Slots) -> tuple[int, int]:
    ComplaintRollup.objects.all()._raw_delete(using=connection.alias)
    written = day_count = 0
    months: set[date] = set()
    batch: dict[date, DayCounts] = {}
    rows = Complaint.objects.order_by("received_at", "id").values_list(*COLUMNS)
    for day, counts in _by_day(rows.iterator(chunk_size=CHUNK), slots):
        batch[day] = counts
        months.add(day.replace(day=1))
        day_count += 1
        if len(batch) >= BATCH_DAYS:
            written += _write_days(batch, batch)
            batch = {}
    written += _write_days(batch, batch)
    _write_months(months)
    return day_count, written


def refresh_complaint_rollups(*, full: bool = False) -> Refreshed:
    """Re-counts the days whose complaints changed since the last refresh (every day when
    ``full``) and their months; returns how many days and finest cells it wrote."""
    with transaction.atomic():
        state, _created = RollupState.objects.select_for_update().get_or_create(name=NAME)
        now = timezone.now()
        slots = Slots()
        if full or state.watermark is None:
            day_count, written = _full_rebuild(slots)
        else:
            touched = sorted(
                set(
                    Complaint.objects.filter(updated_at__gte=state.watermark - OVERLAP)
                    .annotate(day=TruncDate("received_at"))
                    .values_list("day", flat=True)
                    .distinct()
                    .order_by()
                )
            )
            counted: dict[date, DayCounts] = {}
            for day in touched:
                start, end = _day_bounds(day)
                counted.update(_by_day(_rows_between(start, end), slots))
            written = 0
            for at in range(0, len(touched), BATCH_DAYS):
                chunk = touched[at : at + BATCH_DAYS]
                written += _write_days({d: counted[d] for d in chunk if d in counted}, chunk)
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
