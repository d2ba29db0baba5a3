"""The complaint statistics and the regulator register (docs/reports.md).

``complaint_statistics`` reads the rollups only: the full months of the period from the
month rows, its edge days from the day rows, one grouped query per table, the breakdowns
summed here. ``register_rows`` reads the complaints themselves, one row per complaint,
streamed in chunks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone, translation
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from complaints.choices import (
    AuthorityLevel,
    Channel,
    CompensationKind,
    CustomerResponse,
    Outcome,
    Severity,
)
from complaints.models import Complaint, ComplaintCategory, ComplaintProfile, RootCause
from core import configcache
from core.errors import Forbidden, InvalidInput
from core.params import int_value
from org import roles
from org.models import Team

from .choices import HANDLING_EDGES, KINDS, LEVELS, TARGET_COLUMNS
from .models import (
    ANY_ID,
    ANY_TEXT,
    COUNT_FIELDS,
    DIMENSIONS,
    HISTOGRAM_FIELDS,
    ROOT_CAUSE_FIELDS,
    ComplaintRollup,
    Grain,
    RootCauseSlot,
)
from .rollup import COLUMNS as ROLLUP_COLUMNS
from .rollup import DayCounts, as_of

DEFAULT_DAYS = 30
CENT = Decimal("0.01")
MAX_DAYS = 366 * 5


def may_see_reports(user: Any) -> bool:
    """Supervisors, managers, administrators and analysts (read-only) read the reports;
    agents and marketing do not."""
    return roles.is_supervisor(user) or roles.is_manager(user) or roles.is_analyst(user)


def require_reports(user: Any) -> None:
    if not may_see_reports(user):
        raise Forbidden(_("Only supervisors, managers and analysts see the reports."))


@dataclass(frozen=True)
class ReportFilters:
    date_from: date
    date_to: date
    profile: int | None = None
    category: int | None = None
    team: int | None = None
    channel: str | None = None
    severity: str | None = None
    # the handler (the complaint's assignee): counted from the complaints themselves, not
    # the read model, which is kept per team (docs/reports.md, "By agent")
    agent: int | None = None

    def query(self) -> dict[str, str]:
        """The filters as query parameters (links to the exports keep them)."""
        out = {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()}
        for name in ("profile", "category", "team", "channel", "severity", "agent"):
            value = getattr(self, name)
            if value not in (None, ""):
                out[name] = str(value)
        return out

    def as_audit(self) -> dict[str, Any]:
        data = asdict(self)
        data["date_from"] = self.date_from.isoformat()
        data["date_to"] = self.date_to.isoformat()
        return data


def _day(params: Mapping[str, Any], name: str) -> date | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    parsed = None
    try:
        parsed = parse_date(str(raw))
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidInput(
            _("Invalid %(name)s.") % {"name": name},
            {name: [_("Enter a date as YYYY-MM-DD.")]},
        )
    return parsed


def _choice(params: Mapping[str, Any], name: str, allowed: list[str]) -> str | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    if str(raw) not in allowed:
        raise InvalidInput(
            _("Invalid %(name)s.") % {"name": name}, {name: [_("Not one of the choices.")]}
        )
    return str(raw)


def _known(params: Mapping[str, Any], name: str, model: Any) -> int | None:
    value = int_value(params, name)
    if value is not None and not model.objects.filter(pk=value).exists():
        raise InvalidInput(_("Invalid %(name)s.") % {"name": name}, {name: [_("No such one.")]})
    return value


def parse_filters(params: Mapping[str, Any], *, today: date | None = None) -> ReportFilters:
    """The period (``from``, ``to``: dates, both included; the last 30 days by default) and
    the filters; anything malformed is an ``InvalidInput`` naming the field."""
    today = today or timezone.localdate()
    date_to = _day(params, "to") or today
    date_from = _day(params, "from") or date_to - timedelta(days=DEFAULT_DAYS - 1)
    if date_from > date_to:
        raise InvalidInput(
            _("The period ends before it starts."),
            {"from": [_("Must be on or before the end of the period.")]},
        )
    if (date_to - date_from).days >= MAX_DAYS:
        raise InvalidInput(
            _("The period is too long."),
            {"from": [_("A period may span five years at most.")]},
        )
    return ReportFilters(
        date_from=date_from,
        date_to=date_to,
        profile=_known(params, "profile", ComplaintProfile),
        category=_known(params, "category", ComplaintCategory),
        team=_known(params, "team", Team),
        channel=_choice(params, "channel", list(Channel.values)),
        severity=_choice(params, "severity", list(Severity.values)),
        agent=_known(params, "agent", get_user_model()),
    )


# --- statistics -------------------------------------------------------------------------
def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def period_ranges(date_from: date, date_to: date) -> list[tuple[str, date, date]]:
    """The cells that cover ``date_from``..``date_to`` exactly, as (grain, first, last)
    ranges: month cells for the whole months inside it, day cells for the days at either
    edge."""
    first_full = date_from if date_from.day == 1 else _next_month(date_from)
    after_last_full = _month_start(date_to + timedelta(days=1))
    if first_full >= after_last_full:
        return [(Grain.DAY.value, date_from, date_to)]
    last_full = after_last_full - timedelta(days=1)
    ranges = [(Grain.MONTH.value, first_full, _month_start(last_full))]
    if date_from < first_full:
        ranges.append((Grain.DAY.value, date_from, first_full - timedelta(days=1)))
    if after_last_full <= date_to:
        ranges.append((Grain.DAY.value, after_last_full, date_to))
    return ranges


FILTER_DIMENSIONS = {
    "profile": "profile_id",
    "category": "category_id",
    "team": "team_id",
    "channel": "channel",
    "severity": "severity",
}
BREAKDOWNS = {"by_category": "category_id", "by_severity": "severity", "by_channel": "channel"}


def _bit(dimension: str) -> int:
    return 1 << DIMENSIONS.index(dimension)


def _where(filters: ReportFilters, cells: list[tuple[int, str | None]]) -> tuple[str, list[Any]]:
    """The SQL condition of the period's cells of each (mask, free dimension) in ``cells``:
    the mask's dimensions that are filtered hold the filters' values, the free one any
    value, the others the wildcard; every dimension pinned where it can be, so the cell
    index (complaintrollup_dims_idx) reads only the cells the report sums."""
    qn = connection.ops.quote_name
    params: list[Any] = []
    alternatives = []
    for mask, free in cells:
        pinned = [f"{qn('dims')} = %s"]
        params.append(mask)
        for name, column in FILTER_DIMENSIONS.items():
            if column == free:
                continue
            value = getattr(filters, name)
            pinned.append(f"{qn(column)} = %s")
            if value is not None:
                params.append(value)
            else:
                params.append(ANY_TEXT if column in ("channel", "severity") else ANY_ID)
        alternatives.append("(" + " AND ".join(pinned) + ")")
    ranges = []
    for grain, first, last in period_ranges(filters.date_from, filters.date_to):
        ranges.append(f"({qn('grain')} = %s AND {qn('period')} BETWEEN %s AND %s)")
        params += [grain, first, last]
    where = "(" + " OR ".join(alternatives) + ") AND (" + " OR ".join(ranges) + ")"
    return where, params


def _mask(filters: ReportFilters) -> int:
    mask = 0
    for name, column in FILTER_DIMENSIONS.items():
        if getattr(filters, name) is not None:
            mask |= _bit(column)
    return mask


def _query(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


TABLE = ComplaintRollup._meta.db_table


def _sums_sql() -> str:
    qn = connection.ops.quote_name
    return ", ".join(f"SUM({qn(name)})" for name in COUNT_FIELDS)


def percentile(histogram: list[int], share: float) -> float | None:
    """The ``share`` quantile (0..1) read from the handling-time histogram, interpolated
    linearly inside its bucket; the open last bucket gives its lower edge."""
    total = sum(histogram)
    if not total:
        return None
    rank = share * total
    seen = 0
    for index, count in enumerate(histogram):
        if not count:
            continue
        if seen + count >= rank:
            low = HANDLING_EDGES[index - 1] if index else 0
            if index >= len(HANDLING_EDGES):
                return float(low)
            high = HANDLING_EDGES[index]
            return low + (high - low) * max(rank - seen, 0) / count
        seen += count
    return float(HANDLING_EDGES[-1])


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _labels(choices: Any) -> dict[str, str]:
    return {value: str(label) for value, label in choices}


def _breakdown(
    counts: Mapping[Any, int], names: Mapping[Any, tuple[str, str]]
) -> list[dict[str, Any]]:
    """Rows ``{"key", "code", "label", "count"}``, largest first."""
    out = []
    for key, count in counts.items():
        code, label = names.get(key, (str(key), str(key)))
        out.append({"key": key, "code": code, "label": label, "count": count})
    out.sort(key=lambda row: (-row["count"], row["label"]))
    return out


def _names() -> dict[str, Any]:
    """Categories, root causes (code, English and Chinese names) and the root causes'
    counter columns, kept in each process until configuration changes (core.configcache)."""

    def build() -> dict[str, Any]:
        return {
            "categories": {
                pk: (code, name, zh)
                for pk, code, name, zh in ComplaintCategory.objects.values_list(
                    "pk", "code", "name", "name_zh"
                )
            },
            "causes": {
                pk: (code, name, zh)
                for pk, code, name, zh in RootCause.objects.values_list(
                    "pk", "code", "name", "name_zh"
                )
            },
            "slots": dict(RootCauseSlot.objects.values_list("slot", "root_cause_id")),
        }

    return configcache.cached("reports.names", build)


def complaint_statistics(filters: ReportFilters) -> dict[str, Any]:
    """Every figure of the complaint report for the period and filters (docs/reports.md)."""
    names = _names()
    if filters.agent is not None:
        totals, by_category, by_severity, by_channel, by_root_cause = _agent_counts(filters)
    else:
        totals, by_category, by_severity, by_channel = _cube_counts(filters)
        slot_of = names["slots"]
        by_root_cause = {}
        for slot, name in enumerate(ROOT_CAUSE_FIELDS):
            if totals[name]:
                cause = slot_of.get(slot, ANY_ID)
                by_root_cause[cause] = by_root_cause.get(cause, 0) + totals[name]
    return _statistics(filters, names, totals, by_category, by_severity, by_channel, by_root_cause)


Counts = tuple[dict[str, int], dict[int, int], dict[str, int], dict[str, int]]


def _cube_counts(filters: ReportFilters) -> Counts:
    """The totals and the breakdowns by category, severity and channel, from the read
    model: the one cell of the filters and the cells that break them down."""
    qn = connection.ops.quote_name
    mask = _mask(filters)
    where, params = _where(filters, [(mask, None)])
    (sums,) = _query(f"SELECT {_sums_sql()} FROM {qn(TABLE)} WHERE {where}", params)  # noqa: S608
    totals = {name: int(value or 0) for name, value in zip(COUNT_FIELDS, sums, strict=True)}
    masks = {key: mask | _bit(column) for key, column in BREAKDOWNS.items()}
    where, params = _where(
        filters,
        [(wanted, None if wanted == mask else BREAKDOWNS[key]) for key, wanted in masks.items()],
    )
    broken: dict[str, dict[Any, int]] = {key: {} for key in BREAKDOWNS}
    columns = ", ".join(qn(c) for c in ("dims", "category_id", "severity", "channel"))
    for dims, category_id, severity, channel, n in _query(
        f"SELECT {columns}, SUM({qn('complaints')}) FROM {qn(TABLE)} "  # noqa: S608
        f"WHERE {where} GROUP BY {columns}",
        params,
    ):
        values = {"by_category": category_id, "by_severity": severity, "by_channel": channel}
        for key, wanted in masks.items():
            if dims == wanted and n:
                broken[key][values[key]] = broken[key].get(values[key], 0) + int(n)
    return totals, broken["by_category"], broken["by_severity"], broken["by_channel"]


class _CauseCount:
    """Stands in for the read model's root-cause slots when counting one agent's
    complaints: counts each root cause by its id (no slot is given or written)."""

    def __init__(self) -> None:
        self.by_id: dict[int, int] = {}

    def slot(self, root_cause_id: int) -> int:
        self.by_id[root_cause_id] = self.by_id.get(root_cause_id, 0) + 1
        return 0


AgentCounts = tuple[dict[str, int], dict[int, int], dict[str, int], dict[str, int], dict[int, int]]


# Each filter's column of the complaints table (the register and the report by agent).
COMPLAINT_COLUMNS = {
    "profile": "profile_id",
    "category": "category_id",
    "team": "team_id",
    "channel": "channel",
    "severity": "severity",
    "agent": "assignee_id",
}


def _agent_counts(filters: ReportFilters) -> AgentCounts:
    """One handler's figures: grouped in SQL on PostgreSQL (four statements over the
    handler's complaints), counted row by row on SQLite (the embedded mode's small data)."""
    if connection.vendor == "postgresql":
        return _agent_counts_sql(filters)
    return _agent_counts_python(filters)


def _agent_counts_sql(filters: ReportFilters) -> AgentCounts:
    """``_agent_counts_python`` as four grouped statements: the cells by category,
    severity and channel with the counts and targets; the handling-time histogram
    (``width_bucket`` is ``bisect_right`` over the edges); compensation by level and kind;
    root causes. tests/reports/test_statistics.py holds the two equal."""
    qn = connection.ops.quote_name
    clock_table = Complaint._meta.get_field("sla_clock").related_model._meta.db_table
    start, end = _bounds(filters)
    where = ["c.received_at >= %s", "c.received_at < %s", "c.assignee_id = %s"]
    params: list[Any] = [start, end, filters.agent]
    for name, column in COMPLAINT_COLUMNS.items():
        value = None if name == "agent" else getattr(filters, name)
        if value is not None:
            where.append(f"c.{column} = %s")
            params.append(value)
    base = (
        f"FROM {qn(Complaint._meta.db_table)} c LEFT JOIN {qn(clock_table)} k"
        f" ON k.id = c.sla_clock_id WHERE {' AND '.join(where)}"
    )
    target_sql = []
    for target in TARGET_COLUMNS:
        met = f"NULLIF(k.targets->'{target}'->>'met_at', '')"
        due = f"NULLIF(k.targets->'{target}'->>'due', '')"
        target_sql += [
            f"COUNT(*) FILTER (WHERE {met} IS NOT NULL)",
            f"COUNT(*) FILTER (WHERE {met} IS NOT NULL AND"
            f" ({due} IS NULL OR ({met})::timestamptz <= ({due})::timestamptz))",
            f"COUNT(*) FILTER (WHERE {met} IS NULL AND"
            f" k.targets->'{target}'->'breached' = 'true'::jsonb)",
        ]
    totals = dict.fromkeys(COUNT_FIELDS, 0)
    by_category: dict[int, int] = {}
    by_severity: dict[str, int] = {}
    by_channel: dict[str, int] = {}
    cells = _query(
        "SELECT c.category_id, c.severity, c.channel, COUNT(*), COUNT(c.answered_at),"
        " COUNT(c.repeat_of_id), COUNT(*) FILTER (WHERE c.extensions_used > 0),"
        f" COALESCE(SUM(c.extensions_used), 0), {', '.join(target_sql)} {base}"
        " GROUP BY 1, 2, 3",
        params,
    )
    target_fields = [
        f"{short}_{what}"
        for short in TARGET_COLUMNS.values()
        for what in ("met", "on_time", "breached")
    ]
    for category_id, severity, channel, n, *counts in cells:
        by_category[category_id] = by_category.get(category_id, 0) + n
        by_severity[severity] = by_severity.get(severity, 0) + n
        by_channel[channel] = by_channel.get(channel, 0) + n
        named = ["complaints", "answered", "repeats", "extended", "extensions", *target_fields]
        for name, value in zip(named, [n, *counts], strict=True):
            totals[name] += int(value)
    for bucket, n in _query(
        "SELECT WIDTH_BUCKET(GREATEST(EXTRACT(EPOCH FROM c.answered_at - c.received_at),"  # noqa: S608
        f" 0)::float8, %s::float8[]), COUNT(*) {base} AND c.answered_at IS NOT NULL"
        " GROUP BY 1",
        [[float(edge) for edge in HANDLING_EDGES], *params],
    ):
        totals[HISTOGRAM_FIELDS[bucket]] += int(n)
    for level, kind, n, cents in _query(
        "SELECT c.approved_level, c.compensation_kind, COUNT(*),"
        f" COALESCE(SUM(TRUNC(c.compensation_amount * 100)), 0) {base}"
        " AND c.compensation_amount IS NOT NULL AND c.compensation_amount <> 0 GROUP BY 1, 2",
        params,
    ):
        if level in LEVELS and kind in KINDS:
            totals[f"{level}_{kind}_n"] += int(n)
            totals[f"{level}_{kind}_cents"] += int(cents)
    by_root_cause = {
        int(cause): int(n)
        for cause, n in _query(
            f"SELECT c.root_cause_id, COUNT(*) {base} AND c.root_cause_id IS NOT NULL GROUP BY 1",
            params,
        )
    }
    return totals, by_category, by_severity, by_channel, by_root_cause


def _agent_counts_python(filters: ReportFilters) -> AgentCounts:
    """The same figures for one handler's complaints, counted from the complaints received
    in the period (one agent's are a small share of the table: the assignee's index
    finds them) by the read model's own counting (``reports.rollup.DayCounts``)."""
    causes = _CauseCount()
    counts = DayCounts(causes)  # type: ignore[arg-type]
    for row in register_queryset(filters).values_list(*ROLLUP_COLUMNS).iterator(chunk_size=2000):
        counts.add(row)
    sums = [0] * len(COUNT_FIELDS)
    by_category: dict[int, int] = {}
    by_severity: dict[str, int] = {}
    by_channel: dict[str, int] = {}
    for (_profile, category_id, _team, channel, severity), cell in counts.cells.items():
        sums = [a + b for a, b in zip(sums, cell, strict=True)]
        by_category[category_id] = by_category.get(category_id, 0) + cell[0]
        by_severity[severity] = by_severity.get(severity, 0) + cell[0]
        by_channel[channel] = by_channel.get(channel, 0) + cell[0]
    totals = dict(zip(COUNT_FIELDS, sums, strict=True))
    for name in ROOT_CAUSE_FIELDS:  # the slots stood in for ids: by_root_cause holds them
        totals[name] = 0
    return totals, by_category, by_severity, by_channel, causes.by_id


def _statistics(
    filters: ReportFilters,
    names: dict[str, Any],
    totals: dict[str, int],
    by_category: dict[int, int],
    by_severity: dict[str, int],
    by_channel: dict[str, int],
    by_root_cause: dict[int, int],
) -> dict[str, Any]:
    chinese = (translation.get_language() or "").startswith("zh")
    categories = {
        pk: (code, (zh if chinese and zh else en))
        for pk, (code, en, zh) in names["categories"].items()
    }
    causes = {
        pk: (code, (zh if chinese and zh else en)) for pk, (code, en, zh) in names["causes"].items()
    }
    causes[ANY_ID] = ("other", str(_("Other root causes")))
    severities = _labels(Severity.choices)
    channels = _labels(Channel.choices)
    histogram = [totals[name] for name in HISTOGRAM_FIELDS]
    target_labels = {
        "acknowledge": _("Acknowledge"),
        "first_contact": _("First contact"),
        "final_answer": _("Final answer"),
    }
    targets = []
    for target, short in TARGET_COLUMNS.items():
        met, on_time = totals[f"{short}_met"], totals[f"{short}_on_time"]
        breached = totals[f"{short}_breached"]
        decided = met + breached
        targets.append(
            {
                "target": target,
                "label": str(target_labels[target]),
                "decided": decided,
                "within": on_time,
                "late": decided - on_time,
                "share_within": _share(on_time, decided),
            }
        )
    level_labels = _labels(AuthorityLevel.choices)
    kind_labels = _labels(CompensationKind.choices)
    compensation = []
    for level in LEVELS:
        kinds: list[dict[str, Any]] = []
        level_count, level_cents = 0, 0
        for kind in KINDS:
            count, cents = totals[f"{level}_{kind}_n"], totals[f"{level}_{kind}_cents"]
            level_count += count
            level_cents += cents
            kinds.append(
                {
                    "kind": kind,
                    "label": kind_labels[kind],
                    "count": count,
                    "amount": str((Decimal(cents) / 100).quantize(CENT)),
                }
            )
        compensation.append(
            {
                "level": level,
                "label": level_labels[level],
                "count": level_count,
                "amount": str((Decimal(level_cents) / 100).quantize(CENT)),
                "kinds": kinds,
            }
        )
    complaints = totals["complaints"]
    refreshed = as_of()
    median, p90 = percentile(histogram, 0.5), percentile(histogram, 0.9)
    return {
        "as_of": refreshed.isoformat() if refreshed else None,
        "filters": filters.query(),
        "totals": {
            "complaints": complaints,
            "answered": totals["answered"],
            "repeats": totals["repeats"],
            "repeat_rate": _share(totals["repeats"], complaints),
            "extended": totals["extended"],
            "extended_share": _share(totals["extended"], complaints),
            "extensions": totals["extensions"],
        },
        "handling": {
            "answered": totals["answered"],
            "median_seconds": None if median is None else round(median),
            "p90_seconds": None if p90 is None else round(p90),
            "histogram": [
                {
                    "below_seconds": HANDLING_EDGES[i] if i < len(HANDLING_EDGES) else None,
                    "count": n,
                }
                for i, n in enumerate(histogram)
            ],
        },
        "targets": targets,
        "by_category": _breakdown(by_category, categories),
        "by_severity": _breakdown(by_severity, {k: (k, v) for k, v in severities.items()}),
        "by_channel": _breakdown(by_channel, {k: (k, v) for k, v in channels.items()}),
        "by_root_cause": _breakdown(by_root_cause, causes),
        "compensation": compensation,
    }


def statistics_table(stats: Mapping[str, Any]) -> Iterator[list[Any]]:
    """The statistics as rows of a CSV: section, item, figure, value."""
    yield [_("Section"), _("Item"), _("Figure"), _("Value")]
    yield [_("Period"), stats["filters"]["from"], _("to"), stats["filters"]["to"]]
    yield [_("Period"), _("as of"), "", stats["as_of"] or ""]
    for name, value in stats["totals"].items():
        yield [_("Totals"), name, "", value if value is not None else ""]
    handling = stats["handling"]
    yield [_("Handling time"), _("median"), _("seconds"), handling["median_seconds"] or ""]
    yield [_("Handling time"), "p90", _("seconds"), handling["p90_seconds"] or ""]
    for target in stats["targets"]:
        yield [_("Targets"), target["label"], _("decided"), target["decided"]]
        yield [_("Targets"), target["label"], _("within target"), target["within"]]
        share = target["share_within"]
        yield [_("Targets"), target["label"], _("share within"), "" if share is None else share]
    for section, key in (
        (_("By category"), "by_category"),
        (_("By severity"), "by_severity"),
        (_("By channel"), "by_channel"),
        (_("By root cause"), "by_root_cause"),
    ):
        for row in stats[key]:
            yield [section, row["label"], _("complaints"), row["count"]]
    for level in stats["compensation"]:
        for kind in level["kinds"]:
            yield [
                _("Compensation"),
                f"{level['label']} / {kind['label']}",
                _("count"),
                kind["count"],
            ]
            yield [
                _("Compensation"),
                f"{level['label']} / {kind['label']}",
                _("amount"),
                kind["amount"],
            ]


# --- the regulator register -------------------------------------------------------------
def _bounds(filters: ReportFilters) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.combine(filters.date_from, time.min, tzinfo=zone)
    end = datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def register_queryset(filters: ReportFilters) -> Any:
    start, end = _bounds(filters)
    rows = Complaint.objects.filter(received_at__gte=start, received_at__lt=end)
    for name, column in COMPLAINT_COLUMNS.items():
        value = getattr(filters, name)
        if value is not None:
            rows = rows.filter(**{column: value})
    return rows


def register_header() -> list[str]:
    return [
        _("Number"),
        _("Profile"),
        _("Regulator"),
        _("Received"),
        _("Acknowledged"),
        _("First contact"),
        _("Final answer"),
        _("Extensions"),
        _("Extended due"),
        _("Outcome"),
        _("Root cause"),
        _("Compensation"),
        _("Compensation kind"),
        _("Approved at level"),
        _("Customer response"),
        _("Closed"),
    ]


def _moment(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def register_rows(filters: ReportFilters, chunk: int = 2000) -> Iterator[list[Any]]:
    """One row per complaint received in the period, oldest first, as the export writes
    it (text and numbers; the caller neutralises formulas)."""
    profiles = {p.pk: p for p in ComplaintProfile.objects.all()}
    causes = {c.pk: c.label for c in RootCause.objects.all()}
    outcomes = _labels(Outcome.choices)
    kinds = _labels(CompensationKind.choices)
    levels = _labels(AuthorityLevel.choices)
    responses = _labels(CustomerResponse.choices)
    rows = (
        register_queryset(filters)
        .order_by("received_at", "id")
        .values_list(
            "number",
            "profile_id",
            "received_at",
            "acknowledged_at",
            "first_contact_at",
            "answered_at",
            "extensions_used",
            "sla_clock__targets",
            "outcome",
            "root_cause_id",
            "compensation_amount",
            "compensation_kind",
            "approved_level",
            "customer_response",
            "closed_at",
        )
        .iterator(chunk_size=chunk)
    )
    for (
        number,
        profile_id,
        received,
        acknowledged,
        contacted,
        answered,
        extensions,
        targets,
        outcome,
        root_cause_id,
        amount,
        kind,
        level,
        response,
        closed,
    ) in rows:
        profile = profiles.get(profile_id)
        due = ""
        if extensions:
            final = (targets or {}).get("final_answer") or {}
            if final.get("due"):
                due = _moment(datetime.fromisoformat(final["due"]))
        yield [
            number,
            profile.label if profile else "",
            profile.regulator if profile else "",
            _moment(received),
            _moment(acknowledged),
            _moment(contacted),
            _moment(answered),
            extensions,
            due,
            outcomes.get(outcome, outcome),
            causes.get(root_cause_id, "") if root_cause_id else "",
            amount if amount is not None else "",
            kinds.get(kind, kind),
            levels.get(level, level),
            responses.get(response, response),
            _moment(closed),
        ]
