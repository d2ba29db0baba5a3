"""Business-calendar arithmetic for SLA due times.

SLA budgets are measured in *business* time: the clock only runs while the desk is open.
A calendar has an IANA time zone, opening windows per weekday (local wall-clock times) and
whole-day holidays. ``None`` instead of a calendar means 24x7 (plain elapsed time).

Everything here is pure (no Django, no I/O) so it can be unit- and property-tested in
isolation, and all arithmetic works on real elapsed seconds in UTC: opening windows are
converted per local day to UTC spans, which keeps DST days exact and the loops short (one
iteration per local day, never per minute).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "BusinessCalendar",
    "CalendarError",
    "add_business_seconds",
    "business_seconds_between",
    "parse_calendar",
]

DAY_KEYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_ONE_DAY = timedelta(days=1)
_ONE_SECOND = timedelta(seconds=1)
_ONE_MICROSECOND = timedelta(microseconds=1)
_MIDNIGHT = time(0)
_SECONDS_PER_DAY = 86_400
# A calendar closed this many consecutive days would make ``add_business_seconds`` spin for
# ever (e.g. every date listed as a holiday), so we give up with a clear error instead.
_MAX_CLOSED_DAYS = 3 * 366

_TIME_RE = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

Window = tuple[time, time]
Span = tuple[datetime, datetime]


def gettext_noop(message: str) -> str:
    """Marks a message for ``makemessages`` without importing Django (this module is pure)."""
    return message


class CalendarError(ValueError):
    """A calendar definition is invalid or can never open; the message names the culprit.

    ``template`` is the untranslated English message and ``params`` its ``%(name)s`` values,
    so the API layer can render it in the reader's language; ``str()`` is the English text.
    """

    def __init__(self, template: str, **params: object) -> None:
        self.template = template
        self.params = params
        super().__init__(template % params)


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    """Load a zone once: this sits on the hot path of every calculation."""
    if not isinstance(name, str):
        raise CalendarError(
            gettext_noop("unknown time zone %(name)s: expected an IANA name"), name=repr(name)
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise CalendarError(gettext_noop("unknown time zone %(name)s"), name=repr(name)) from exc


def _second_of_day(value: time, *, is_end: bool) -> int:
    """Seconds since local midnight, with an end of 00:00 read as 24:00 (end of the day)."""
    if is_end and value == _MIDNIGHT:
        return _SECONDS_PER_DAY
    return value.hour * 3600 + value.minute * 60 + value.second


def _format_window(window: Window) -> str:
    """Render a window the way people write it, so error messages are recognisable."""
    opens, closes = window
    end = "24:00" if closes == _MIDNIGHT else closes.isoformat(timespec="minutes")
    return f"{opens.isoformat(timespec='minutes')}-{end}"


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours in one time zone; immutable and hashable so it can be cached and shared.

    ``windows`` maps a weekday (0=Monday .. 6=Sunday) to sorted, non-overlapping
    ``(start, end)`` local wall times; an end of ``time(0)`` means midnight at the end of
    that day (24:00). Missing weekdays are closed. ``holidays`` are local dates closed all day.
    """

    tz: str
    windows: Mapping[int, tuple[tuple[time, time], ...]]
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        """Validate and normalise eagerly so a bad calendar fails where it is built."""
        _zone(self.tz)
        normalised: dict[int, tuple[Window, ...]] = {}
        for weekday, day_windows in self.windows.items():
            if type(weekday) is not int or not 0 <= weekday <= 6:
                raise CalendarError(
                    gettext_noop("unknown weekday %(weekday)s: expected 0 (Monday) to 6"),
                    weekday=repr(weekday),
                )
            for window in day_windows:
                if (
                    not isinstance(window, tuple)
                    or len(window) != 2
                    or not all(isinstance(bound, time) for bound in window)
                ):
                    raise CalendarError(
                        gettext_noop("window %(window)s must be a (time, time) pair"),
                        window=repr(window),
                    )
                if any(bound.tzinfo is not None for bound in window):
                    raise CalendarError(
                        gettext_noop("window %(window)s must use naive times"),
                        window=_format_window(window),
                    )
            ordered = tuple(sorted(day_windows))
            previous_end = -1
            for window in ordered:
                opens, closes = window
                start = _second_of_day(opens, is_end=False)
                end = _second_of_day(closes, is_end=True)
                if end <= start:
                    raise CalendarError(
                        gettext_noop("window %(window)s must end after it starts"),
                        window=_format_window(window),
                    )
                if start < previous_end:
                    raise CalendarError(
                        gettext_noop("windows overlap on %(day)s at %(window)s"),
                        day=DAY_KEYS[weekday],
                        window=_format_window(window),
                    )
                previous_end = end
            if ordered:
                normalised[weekday] = ordered
        for holiday in self.holidays:
            if isinstance(holiday, datetime) or not isinstance(holiday, date):
                raise CalendarError(
                    gettext_noop("holiday %(holiday)s must be a datetime.date"),
                    holiday=repr(holiday),
                )
        object.__setattr__(self, "windows", MappingProxyType(normalised))
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    def __hash__(self) -> int:
        """Hash the normalised content (the mapping itself is not hashable)."""
        return hash((self.tz, tuple(sorted(self.windows.items())), self.holidays))


# --------------------------------------------------------------------------- parsing


def _parse_time(day: str, value: object, *, is_end: bool) -> time:
    """Parse strict ``HH:MM``; ``24:00`` only as an end, stored as ``time(0)``."""
    if value == "24:00":
        if is_end:
            return _MIDNIGHT
        raise CalendarError(
            gettext_noop("bad start time '24:00' on %(day)s: 24:00 is only allowed as an end"),
            day=day,
        )
    match = _TIME_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise CalendarError(
            gettext_noop(
                "bad time %(value)s on %(day)s: "
                "expected HH:MM from 00:00 to 23:59 (24:00 as an end)"
            ),
            value=repr(value),
            day=day,
        )
    return time(int(match.group(1)), int(match.group(2)))


def _parse_day(day: str, raw_windows: object) -> tuple[Window, ...]:
    """Parse one day's list of ``[start, end]`` pairs, rejecting empty or overlapping ones."""
    if isinstance(raw_windows, str) or not isinstance(raw_windows, Sequence):
        raise CalendarError(
            gettext_noop("bad hours %(hours)s for %(day)s: expected a list of [start, end] pairs"),
            hours=repr(raw_windows),
            day=day,
        )
    windows: list[Window] = []
    for pair in raw_windows:
        if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise CalendarError(
                gettext_noop("bad window %(window)s on %(day)s: expected a [start, end] pair"),
                window=repr(pair),
                day=day,
            )
        opens = _parse_time(day, pair[0], is_end=False)
        closes = _parse_time(day, pair[1], is_end=True)
        if pair[1] != "24:00" and closes <= opens:
            raise CalendarError(
                gettext_noop("bad window %(window)s on %(day)s: the end must be after the start"),
                window=f"{pair[0]}-{pair[1]}",
                day=day,
            )
        windows.append((opens, closes))
    windows.sort()
    for earlier, later in pairwise(windows):
        if _second_of_day(later[0], is_end=False) < _second_of_day(earlier[1], is_end=True):
            raise CalendarError(
                gettext_noop("overlapping windows on %(day)s: %(first)s and %(second)s"),
                day=day,
                first=_format_window(earlier),
                second=_format_window(later),
            )
    return tuple(windows)


def _parse_holiday(value: object) -> date:
    """Parse a strict ``YYYY-MM-DD`` date (``date.fromisoformat`` alone accepts more)."""
    if not isinstance(value, str) or _DATE_RE.fullmatch(value) is None:
        raise CalendarError(
            gettext_noop("bad holiday %(value)s: expected YYYY-MM-DD"), value=repr(value)
        )
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CalendarError(
            gettext_noop("bad holiday %(value)s: not a real calendar date"), value=repr(value)
        ) from exc


def parse_calendar(
    tz: str, hours: Mapping[str, Sequence[Sequence[str]]], holidays: Sequence[str]
) -> BusinessCalendar:
    """Build a calendar from admin/JSON input, turning every mistake into a CalendarError.

    ``hours`` maps ``"mon"``..``"sun"`` to lists of ``["HH:MM", "HH:MM"]`` (missing day =
    closed, ``"24:00"`` allowed as an end); ``holidays`` are ``"YYYY-MM-DD"`` strings.
    """
    _zone(tz)
    if not isinstance(hours, Mapping):
        raise CalendarError(
            gettext_noop("bad hours %(hours)s: expected a mapping of day names to windows"),
            hours=repr(hours),
        )
    windows: dict[int, tuple[Window, ...]] = {}
    for key, raw_windows in hours.items():
        if not isinstance(key, str) or key not in DAY_KEYS:
            raise CalendarError(
                gettext_noop("unknown day %(day)s: expected one of %(days)s"),
                day=repr(key),
                days=", ".join(DAY_KEYS),
            )
        windows[DAY_KEYS.index(key)] = _parse_day(key, raw_windows)
    if not any(windows.values()):
        raise CalendarError(gettext_noop("calendar has no opening hours on any day"))
    if isinstance(holidays, str) or not isinstance(holidays, Sequence):
        raise CalendarError(
            gettext_noop("bad holidays %(holidays)s: expected a list of YYYY-MM-DD dates"),
            holidays=repr(holidays),
        )
    parsed = frozenset(_parse_holiday(value) for value in holidays)
    return BusinessCalendar(tz=tz, windows=windows, holidays=parsed)


# --------------------------------------------------------------------------- arithmetic


def _utcoffset(value: datetime) -> timedelta:
    """utcoffset() that mypy knows is not None (our datetimes always carry a zone)."""
    offset = value.utcoffset()
    if offset is None:  # pragma: no cover - callers pass ZoneInfo/UTC-aware values only
        raise ValueError(f"{value!r} has no UTC offset")
    return offset


def _gap_end(wall: datetime, before: timedelta, after: timedelta, zone: ZoneInfo) -> datetime:
    """The instant a DST gap ends, for a wall time that falls inside the gap.

    zoneinfo does not expose transitions, so bisect between the two candidate instants;
    this only runs for boundaries inside a gap (a few times a year), so its cost is moot.
    """
    low = (wall - after).replace(tzinfo=UTC)  # still on the old offset
    high = (wall - before).replace(tzinfo=UTC)  # already on the new offset
    while high - low > _ONE_MICROSECOND:
        middle = low + (high - low) // 2
        if _utcoffset(middle.astimezone(zone)) == before:
            low = middle
        else:
            high = middle
    return high


def _to_utc(day: date, wall_time: time, zone: ZoneInfo, *, is_end: bool) -> datetime:
    """Turn a local window boundary into a UTC instant without losing real open time.

    Repeated wall times (clocks went back) resolve to the earlier instant for a start and
    the later one for an end; wall times skipped by a DST gap resolve to the end of the gap.
    """
    wall = datetime.combine(day, wall_time.replace(fold=0))
    first = _utcoffset(wall.replace(tzinfo=zone))
    second = _utcoffset(wall.replace(tzinfo=zone, fold=1))
    if first == second:
        offset = first
    elif first > second:  # ambiguous: the wall time happens twice
        offset = second if is_end else first
    else:  # non-existent: the wall time is skipped
        return _gap_end(wall, first, second, zone)
    return (wall - offset).replace(tzinfo=UTC)


def _day_spans(calendar: BusinessCalendar, zone: ZoneInfo, day: date) -> Iterator[Span]:
    """UTC spans of the windows of one local date (possibly empty or overlapping on DST days)."""
    if day in calendar.holidays:
        return
    for opens, closes in calendar.windows.get(day.weekday(), ()):
        begin = _to_utc(day, opens, zone, is_end=False)
        if closes == _MIDNIGHT:
            end = _to_utc(day + _ONE_DAY, _MIDNIGHT, zone, is_end=True)
        else:
            end = _to_utc(day, closes, zone, is_end=True)
        yield begin, end


def _open_spans(
    calendar: BusinessCalendar, origin: datetime, until: datetime | None
) -> Iterator[Span]:
    """Disjoint, ordered UTC spans of open time from ``origin`` (to ``until`` if given).

    Window starts are monotonic in UTC, so clipping each span at the end of the previous one
    removes the overlaps DST can create (a repeated hour counted by two windows) without
    look-ahead. With no ``until`` the stream is endless unless the calendar stays closed for
    ``_MAX_CLOSED_DAYS`` in a row, which raises CalendarError.
    """
    zone = _zone(calendar.tz)
    # Start a day early: the previous day's window may end after local midnight in UTC terms
    # (24:00 resolved to the later of two repeated midnights).
    day = origin.astimezone(zone).date() - _ONE_DAY
    last_day = None if until is None else until.astimezone(zone).date() + _ONE_DAY
    cursor = origin
    closed_days = 0
    while last_day is None or day <= last_day:
        opened = False
        for begin, end in _day_spans(calendar, zone, day):
            begin = max(begin, cursor)
            if until is not None:
                if begin >= until:
                    return
                end = min(end, until)
            if end > begin:
                opened = True
                cursor = end
                yield begin, end
        if opened:
            closed_days = 0
        elif until is None:
            closed_days += 1
            if closed_days > _MAX_CLOSED_DAYS:
                raise CalendarError(
                    gettext_noop(
                        "calendar %(tz)s has no open time within %(days)s days after %(start)s "
                        "(are all dates holidays?)"
                    ),
                    tz=repr(calendar.tz),
                    days=_MAX_CLOSED_DAYS,
                    start=origin.isoformat(),
                )
        day += _ONE_DAY


def _require_aware(value: datetime, name: str) -> None:
    """Naive datetimes are ambiguous across zones, so refuse them outright."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


def add_business_seconds(
    calendar: BusinessCalendar | None, start: datetime, seconds: int
) -> datetime:
    """The UTC instant at which ``seconds`` of business time have elapsed after ``start``.

    This is how SLA due times are computed. A zero budget is due immediately, so
    ``seconds == 0`` returns ``start`` itself (as UTC) even outside business hours. A budget
    that runs out exactly at closing time is due at closing, not at the next opening.
    """
    _require_aware(start, "start")
    if seconds < 0:
        raise ValueError(f"seconds must be >= 0, got {seconds}")
    origin = start.astimezone(UTC)
    if calendar is None:
        return origin + timedelta(seconds=seconds)
    if not calendar.windows:
        raise CalendarError(
            gettext_noop("calendar %(tz)s has no open window on any weekday"), tz=repr(calendar.tz)
        )
    if seconds == 0:
        return origin
    remaining = timedelta(seconds=seconds)
    for begin, end in _open_spans(calendar, origin, None):
        length = end - begin
        if remaining <= length:
            return begin + remaining
        remaining -= length
    raise AssertionError("unreachable: the span stream is endless or raises")  # pragma: no cover


def business_seconds_between(
    calendar: BusinessCalendar | None, start: datetime, end: datetime
) -> int:
    """Whole business seconds in ``[start, end)``; 0 when ``end <= start``.

    Used to measure what is left of a budget (e.g. when pausing an SLA timer).
    """
    _require_aware(start, "start")
    _require_aware(end, "end")
    origin = start.astimezone(UTC)
    until = end.astimezone(UTC)
    if until <= origin:
        return 0
    if calendar is None:
        return (until - origin) // _ONE_SECOND
    total = timedelta(0)
    for begin, stop in _open_spans(calendar, origin, until):
        total += stop - begin
    return total // _ONE_SECOND
