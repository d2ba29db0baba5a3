"""Tests for sla.calendars: business-time arithmetic behind SLA due times.

Everything is pure: no database, no current time. Expected instants are spelled out in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from sla.calendars import (
    BusinessCalendar,
    CalendarError,
    add_business_seconds,
    business_seconds_between,
    parse_calendar,
)

NEW_YORK = ZoneInfo("America/New_York")
SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = 3600
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def office(tz: str = "UTC", holidays: tuple[str, ...] = ()) -> BusinessCalendar:
    """Mon-Fri 09:00-18:00."""
    return parse_calendar(tz, {day: [["09:00", "18:00"]] for day in WEEKDAYS}, list(holidays))


def lunch_office(tz: str = "UTC") -> BusinessCalendar:
    """Mon-Fri 09:00-12:00 and 13:00-18:00."""
    hours = {day: [["13:00", "18:00"], ["09:00", "12:00"]] for day in WEEKDAYS}
    return parse_calendar(tz, hours, [])


# --------------------------------------------------------------------------- 24x7 (None)


def test_24x7_add_is_plain_elapsed_time_in_utc() -> None:
    # given a start in Shanghai local time
    start = datetime(2026, 5, 16, 22, 0, tzinfo=SHANGHAI)
    # when 90 minutes are added with no calendar
    due = add_business_seconds(None, start, 90 * 60)
    # then it is 90 real minutes later, expressed in UTC
    assert due == utc(2026, 5, 16, 15, 30)
    assert due.tzinfo is UTC


def test_24x7_add_counts_real_seconds_across_dst() -> None:
    # given noon the day before New York springs forward
    start = datetime(2026, 3, 7, 12, 0, tzinfo=NEW_YORK)
    # when one day of seconds is added
    due = add_business_seconds(None, start, 24 * HOUR)
    # then 24 real hours pass (13:00 EDT on the wall, not 12:00)
    assert due == utc(2026, 3, 8, 17, 0)


def test_24x7_between_counts_all_seconds() -> None:
    start = utc(2026, 5, 16, 10, 0)
    assert business_seconds_between(None, start, start + timedelta(days=2, seconds=5)) == 172_805


def test_24x7_between_is_zero_when_end_not_after_start() -> None:
    start = utc(2026, 5, 16, 10, 0)
    assert business_seconds_between(None, start, start) == 0
    assert business_seconds_between(None, start, start - timedelta(hours=1)) == 0


def test_24x7_between_floors_partial_seconds() -> None:
    start = utc(2026, 5, 16, 10, 0)
    assert business_seconds_between(None, start, start + timedelta(milliseconds=2500)) == 2


# --------------------------------------------------------------------------- one window a day


def test_start_inside_window_finishes_same_day() -> None:
    # given Monday 10:00 inside Mon-Fri 09:00-18:00
    start = utc(2026, 5, 11, 10, 0)
    # when two business hours are added
    due = add_business_seconds(office(), start, 2 * HOUR)
    # then it is due at 12:00 the same day
    assert due == utc(2026, 5, 11, 12, 0)


def test_start_inside_window_carries_over_to_next_day() -> None:
    # given Monday 17:00 (one hour before closing)
    start = utc(2026, 5, 11, 17, 0)
    # when three business hours are added
    due = add_business_seconds(office(), start, 3 * HOUR)
    # then one hour is used Monday and two on Tuesday morning
    assert due == utc(2026, 5, 12, 11, 0)


def test_start_before_opening_counts_from_opening() -> None:
    due = add_business_seconds(office(), utc(2026, 5, 11, 6, 30), HOUR)
    assert due == utc(2026, 5, 11, 10, 0)


def test_start_after_closing_counts_from_next_opening() -> None:
    due = add_business_seconds(office(), utc(2026, 5, 11, 19, 0), HOUR)
    assert due == utc(2026, 5, 12, 10, 0)


def test_start_on_weekend_counts_from_monday() -> None:
    # given Saturday 10:00
    start = utc(2026, 5, 16, 10, 0)
    # when one business hour is added
    due = add_business_seconds(office(), start, HOUR)
    # then it is due Monday 10:00
    assert due == utc(2026, 5, 18, 10, 0)


def test_budget_ending_at_closing_is_due_at_closing_not_next_opening() -> None:
    due = add_business_seconds(office(), utc(2026, 5, 11, 17, 0), HOUR)
    assert due == utc(2026, 5, 11, 18, 0)


def test_friday_afternoon_rolls_over_weekend() -> None:
    due = add_business_seconds(office(), utc(2026, 5, 15, 16, 0), 4 * HOUR)
    assert due == utc(2026, 5, 18, 11, 0)


def test_five_business_days_is_same_time_next_week() -> None:
    due = add_business_seconds(office(), utc(2026, 5, 13, 11, 15), 5 * 9 * HOUR)
    assert due == utc(2026, 5, 20, 11, 15)


def test_zero_budget_outside_hours_is_due_immediately() -> None:
    # given Saturday, outside business hours
    start = datetime(2026, 5, 16, 10, 0, tzinfo=SHANGHAI)
    # when nothing is added
    due = add_business_seconds(office("Asia/Shanghai"), start, 0)
    # then the same instant is returned (in UTC), not Monday's opening
    assert due == start
    assert due.tzinfo is UTC


def test_zero_budget_inside_hours_is_start() -> None:
    start = utc(2026, 5, 11, 10, 0, 0)
    assert add_business_seconds(office(), start, 0) == start


def test_between_counts_only_open_time() -> None:
    # Mon 17:00 -> Tue 10:00 = 1h Monday + 1h Tuesday
    assert business_seconds_between(office(), utc(2026, 5, 11, 17), utc(2026, 5, 12, 10)) == 7200


def test_between_over_a_full_week_is_five_days() -> None:
    start = utc(2026, 5, 11, 0, 0)
    assert business_seconds_between(office(), start, start + timedelta(days=7)) == 5 * 9 * HOUR


def test_between_entirely_outside_hours_is_zero() -> None:
    # Saturday morning to Sunday night
    assert business_seconds_between(office(), utc(2026, 5, 16, 8), utc(2026, 5, 17, 23)) == 0


def test_between_is_half_open_interval() -> None:
    # [17:59:59, 18:00:00) holds exactly one open second
    cal = office()
    assert business_seconds_between(cal, utc(2026, 5, 11, 17, 59, 59), utc(2026, 5, 11, 18)) == 1
    assert business_seconds_between(cal, utc(2026, 5, 11, 18), utc(2026, 5, 11, 18, 0, 1)) == 0


# --------------------------------------------------------------------------- several windows


def test_lunch_break_is_skipped() -> None:
    # given Monday 11:00 with a 12:00-13:00 lunch break
    start = utc(2026, 5, 11, 11, 0)
    # when two business hours are added
    due = add_business_seconds(lunch_office(), start, 2 * HOUR)
    # then one hour before lunch and one after: 14:00
    assert due == utc(2026, 5, 11, 14, 0)
    assert business_seconds_between(lunch_office(), start, due) == 2 * HOUR


def test_start_during_lunch_counts_from_afternoon_window() -> None:
    due = add_business_seconds(lunch_office(), utc(2026, 5, 11, 12, 30), 1)
    assert due == utc(2026, 5, 11, 13, 0, 1)


def test_morning_budget_ending_at_lunch_is_due_at_lunch() -> None:
    due = add_business_seconds(lunch_office(), utc(2026, 5, 11, 9, 0), 3 * HOUR)
    assert due == utc(2026, 5, 11, 12, 0)


def test_lunch_day_is_eight_business_hours() -> None:
    assert business_seconds_between(lunch_office(), utc(2026, 5, 11), utc(2026, 5, 12)) == 8 * HOUR


# --------------------------------------------------------------------------- holidays


def test_holiday_closes_the_whole_local_date() -> None:
    # given Wednesday 30 Sep 2026 17:00 in Shanghai and National Day holidays 1-7 Oct
    holidays = tuple(f"2026-10-0{day}" for day in range(1, 8))
    cal = office("Asia/Shanghai", holidays)
    start = datetime(2026, 9, 30, 17, 0, tzinfo=SHANGHAI)
    # when two business hours are added
    due = add_business_seconds(cal, start, 2 * HOUR)
    # then one hour on Wednesday and the rest on Thursday 8 Oct (10:00 local = 02:00 UTC)
    assert due == utc(2026, 10, 8, 2, 0)
    assert business_seconds_between(cal, start, due) == 2 * HOUR


def test_holiday_uses_local_date_not_utc_date() -> None:
    # Monday 2026-05-11 is a holiday in Shanghai; 2026-05-11 01:00 UTC is 09:00 local on it
    cal = office("Asia/Shanghai", ("2026-05-11",))
    due = add_business_seconds(cal, utc(2026, 5, 11, 1, 0), HOUR)
    assert due == utc(2026, 5, 12, 2, 0)  # Tuesday 10:00 local


def test_calendar_closed_two_years_still_finds_next_opening() -> None:
    # given every date of 2026 and 2027 declared a holiday
    first = date(2026, 1, 1)
    days = [(first + timedelta(days=n)).isoformat() for n in range(730)]
    cal = parse_calendar("UTC", {"mon": [["09:00", "10:00"]]}, days)
    # when one second is added on New Year's Day 2026
    due = add_business_seconds(cal, utc(2026, 1, 1), 1)
    # then it lands on the first Monday of 2028
    assert due == utc(2028, 1, 3, 9, 0, 1)


def test_calendar_closed_for_more_than_three_years_raises() -> None:
    # given every Monday for four years is a holiday on a Monday-only calendar
    first_monday = date(2026, 1, 5)
    mondays = [(first_monday + timedelta(weeks=n)).isoformat() for n in range(4 * 53)]
    cal = parse_calendar("UTC", {"mon": [["09:00", "17:00"]]}, mondays)
    # then adding time gives up instead of looping for ever
    with pytest.raises(CalendarError, match="no open time within"):
        add_business_seconds(cal, utc(2026, 1, 1), 1)
    # and measuring a closed period is simply zero
    assert business_seconds_between(cal, utc(2026, 1, 1), utc(2029, 1, 1)) == 0


def test_calendar_without_any_window_raises() -> None:
    cal = BusinessCalendar(tz="UTC", windows={})
    with pytest.raises(CalendarError, match="no open window on any weekday"):
        add_business_seconds(cal, utc(2026, 5, 11), HOUR)
    assert business_seconds_between(cal, utc(2026, 5, 11), utc(2026, 6, 11)) == 0


# --------------------------------------------------------------------------- time zones


def test_shanghai_start_before_local_opening() -> None:
    # given Sunday 23:00 UTC = Monday 07:00 in Shanghai
    start = utc(2026, 5, 10, 23, 0)
    # when one business hour is added
    due = add_business_seconds(office("Asia/Shanghai"), start, HOUR)
    # then Monday 10:00 local = 02:00 UTC
    assert due == utc(2026, 5, 11, 2, 0)


def test_shanghai_afternoon_rolls_to_next_local_morning() -> None:
    # Monday 16:00 local (08:00 UTC) + 4h = 2h Monday + 2h Tuesday -> Tuesday 11:00 local
    due = add_business_seconds(office("Asia/Shanghai"), utc(2026, 5, 11, 8, 0), 4 * HOUR)
    assert due == utc(2026, 5, 12, 3, 0)


def test_new_york_friday_afternoon_to_monday() -> None:
    # Friday 16:00 EDT (20:00 UTC) + 3h = 2h Friday + 1h Monday -> Monday 10:00 EDT
    due = add_business_seconds(office("America/New_York"), utc(2026, 7, 10, 20, 0), 3 * HOUR)
    assert due == utc(2026, 7, 13, 14, 0)


def test_start_zone_does_not_matter_only_the_instant() -> None:
    cal = office("America/New_York")
    in_shanghai = datetime(2026, 7, 11, 4, 0, tzinfo=SHANGHAI)
    in_utc = utc(2026, 7, 10, 20, 0)
    assert in_shanghai == in_utc
    assert add_business_seconds(cal, in_shanghai, HOUR) == add_business_seconds(cal, in_utc, HOUR)


# --------------------------------------------------------------------------- DST


def sunday_night_shift(start: str, end: str) -> BusinessCalendar:
    return parse_calendar("America/New_York", {"sun": [[start, end]]}, [])


def test_spring_forward_window_lasts_two_real_hours() -> None:
    # given Sun 01:00-04:00 New York; on 2026-03-08 clocks jump 02:00 EST -> 03:00 EDT
    cal = sunday_night_shift("01:00", "04:00")
    saturday = utc(2026, 3, 7, 12, 0)
    # then the window opens 01:00 EST = 06:00 UTC and closes 04:00 EDT = 08:00 UTC
    assert add_business_seconds(cal, saturday, 1) == utc(2026, 3, 8, 6, 0, 1)
    assert add_business_seconds(cal, saturday, HOUR) == utc(2026, 3, 8, 7, 0)
    assert add_business_seconds(cal, saturday, 2 * HOUR) == utc(2026, 3, 8, 8, 0)
    # and the third hour is taken from the next Sunday (01:00 EDT = 05:00 UTC)
    assert add_business_seconds(cal, saturday, 3 * HOUR) == utc(2026, 3, 15, 6, 0)
    assert business_seconds_between(cal, saturday, utc(2026, 3, 9)) == 2 * HOUR


def test_fall_back_window_lasts_four_real_hours() -> None:
    # given Sun 01:00-04:00 New York; on 2026-11-01 clocks go back 02:00 EDT -> 01:00 EST
    cal = sunday_night_shift("01:00", "04:00")
    saturday = utc(2026, 10, 31, 12, 0)
    # then the window opens at the first 01:00 (EDT, 05:00 UTC) and closes 04:00 EST (09:00 UTC)
    assert add_business_seconds(cal, saturday, 1) == utc(2026, 11, 1, 5, 0, 1)
    assert add_business_seconds(cal, saturday, 2 * HOUR) == utc(2026, 11, 1, 7, 0)
    assert add_business_seconds(cal, saturday, 4 * HOUR) == utc(2026, 11, 1, 9, 0)
    assert business_seconds_between(cal, saturday, utc(2026, 11, 2)) == 4 * HOUR


def test_ordinary_sunday_window_lasts_three_hours() -> None:
    cal = sunday_night_shift("01:00", "04:00")
    assert business_seconds_between(cal, utc(2026, 6, 6), utc(2026, 6, 8)) == 3 * HOUR


def test_window_start_in_spring_gap_opens_when_gap_ends() -> None:
    # 02:30 does not exist on 2026-03-08: the window opens at 03:00 EDT = 07:00 UTC
    cal = sunday_night_shift("02:30", "05:00")
    assert add_business_seconds(cal, utc(2026, 3, 7), 1) == utc(2026, 3, 8, 7, 0, 1)
    assert business_seconds_between(cal, utc(2026, 3, 7), utc(2026, 3, 9)) == 2 * HOUR


def test_window_end_in_spring_gap_closes_when_gap_ends() -> None:
    # 00:00 EST (05:00 UTC) until the nonexistent 02:30, i.e. 03:00 EDT = 07:00 UTC
    cal = sunday_night_shift("00:00", "02:30")
    assert add_business_seconds(cal, utc(2026, 3, 7), 2 * HOUR) == utc(2026, 3, 8, 7, 0)
    assert business_seconds_between(cal, utc(2026, 3, 7), utc(2026, 3, 9)) == 2 * HOUR


def test_window_inside_spring_gap_is_empty() -> None:
    # 02:10-02:50 never happens on 2026-03-08; the next Sunday has it in full
    cal = sunday_night_shift("02:10", "02:50")
    assert business_seconds_between(cal, utc(2026, 3, 7), utc(2026, 3, 9)) == 0
    assert add_business_seconds(cal, utc(2026, 3, 7), 60) == utc(2026, 3, 15, 6, 11)


def test_ambiguous_window_start_uses_first_occurrence() -> None:
    # 01:30 happens twice on 2026-11-01; the window opens at the first (EDT, 05:30 UTC)
    # and closes at 03:00 EST = 08:00 UTC
    cal = sunday_night_shift("01:30", "03:00")
    assert add_business_seconds(cal, utc(2026, 10, 31), 1) == utc(2026, 11, 1, 5, 30, 1)
    assert business_seconds_between(cal, utc(2026, 10, 31), utc(2026, 11, 2)) == 9000


def test_ambiguous_window_end_uses_second_occurrence() -> None:
    # 00:00 EDT (04:00 UTC) until the second 01:30 (EST, 06:30 UTC)
    cal = sunday_night_shift("00:00", "01:30")
    assert add_business_seconds(cal, utc(2026, 10, 31), 9000) == utc(2026, 11, 1, 6, 30)
    assert business_seconds_between(cal, utc(2026, 10, 31), utc(2026, 11, 2)) == 9000


def test_adjacent_windows_sharing_an_ambiguous_boundary_are_not_double_counted() -> None:
    # 00:00-01:30 ends 06:30 UTC but 01:30-03:00 starts 05:30 UTC: the repeated hour is
    # open once, so the night is 04:00-08:00 UTC = 4 hours
    hours = {"sun": [["00:00", "01:30"], ["01:30", "03:00"]]}
    cal = parse_calendar("America/New_York", hours, [])
    assert business_seconds_between(cal, utc(2026, 10, 31), utc(2026, 11, 2)) == 4 * HOUR
    assert add_business_seconds(cal, utc(2026, 10, 31), 4 * HOUR) == utc(2026, 11, 1, 8, 0)


def test_window_ending_at_repeated_midnight_covers_start_on_next_local_date() -> None:
    # Havana falls back 01:00 CDT -> 00:00 CST on 2026-11-01, so Sunday 00:00-01:00 happens
    # twice; Saturday's 22:00-24:00 window closes at the second midnight (05:00 UTC)
    cal = parse_calendar("America/Havana", {"sat": [["22:00", "24:00"]]}, [])
    havana = ZoneInfo("America/Havana")
    # given a start at the first 00:30 (CDT, 04:30 UTC), already on Sunday's local date
    start = datetime(2026, 11, 1, 0, 30, tzinfo=havana)
    # then Saturday's window still has half an hour left
    assert business_seconds_between(cal, start, utc(2026, 11, 2)) == 1800
    assert add_business_seconds(cal, start, 1800) == utc(2026, 11, 1, 5, 0)
    # and the whole Saturday window lasts three real hours
    assert business_seconds_between(cal, utc(2026, 10, 31), utc(2026, 11, 2)) == 3 * HOUR


def test_office_hours_keep_local_time_across_dst() -> None:
    # Friday 2026-03-06 17:00 EST (22:00 UTC) + 2h -> Monday 2026-03-09 10:00 EDT (14:00 UTC)
    due = add_business_seconds(office("America/New_York"), utc(2026, 3, 6, 22, 0), 2 * HOUR)
    assert due == utc(2026, 3, 9, 14, 0)


def test_skipped_calendar_day_is_closed() -> None:
    # Samoa skipped Friday 2011-12-30 entirely; a Friday-only desk reopens the next Friday
    apia = ZoneInfo("Pacific/Apia")
    cal = parse_calendar("Pacific/Apia", {"fri": [["09:00", "17:00"]]}, [])
    start = datetime(2011, 12, 29, 18, 0, tzinfo=apia)
    due = add_business_seconds(cal, start, HOUR)
    assert due == datetime(2012, 1, 6, 10, 0, tzinfo=apia)


# --------------------------------------------------------------------------- midnight windows


def night_desk() -> BusinessCalendar:
    """Friday evening into Saturday night, plus Sunday late into Monday early."""
    hours = {
        "fri": [["18:00", "24:00"]],
        "sat": [["00:00", "02:00"]],
        "sun": [["22:00", "24:00"]],
        "mon": [["00:00", "06:00"]],
    }
    return parse_calendar("Asia/Shanghai", hours, [])


def test_window_ending_at_midnight_continues_into_next_day() -> None:
    # Friday 23:00 Shanghai (15:00 UTC) + 2h: 1h to midnight, 1h of Saturday -> Sat 01:00 local
    due = add_business_seconds(night_desk(), utc(2026, 5, 15, 15, 0), 2 * HOUR)
    assert due == utc(2026, 5, 15, 17, 0)


def test_overnight_coverage_is_continuous() -> None:
    cal = night_desk()
    friday_six_pm = datetime(2026, 5, 15, 18, 0, tzinfo=SHANGHAI)
    # the whole Fri 18:00 -> Sat 02:00 shift is 8 hours
    assert add_business_seconds(cal, friday_six_pm, 8 * HOUR) == utc(2026, 5, 15, 18, 0)
    # and one more second is taken on Sunday at 22:00 local
    assert add_business_seconds(cal, friday_six_pm, 8 * HOUR + 1) == utc(2026, 5, 17, 14, 0, 1)


def test_overnight_coverage_wraps_from_sunday_to_monday() -> None:
    cal = night_desk()
    sunday_ten_pm = datetime(2026, 5, 17, 22, 0, tzinfo=SHANGHAI)
    monday_six_am = datetime(2026, 5, 18, 6, 0, tzinfo=SHANGHAI)
    assert business_seconds_between(cal, sunday_ten_pm, monday_six_am) == 8 * HOUR
    assert add_business_seconds(cal, sunday_ten_pm, 8 * HOUR) == monday_six_am


def test_full_day_window_is_24_hours() -> None:
    cal = parse_calendar("UTC", {"wed": [["00:00", "24:00"]]}, [])
    assert business_seconds_between(cal, utc(2026, 5, 11), utc(2026, 5, 18)) == 24 * HOUR


# --------------------------------------------------------------------------- pause / resume


def resume(cal: BusinessCalendar, due: datetime, paused: datetime, resumed: datetime) -> datetime:
    """Pause/resume as the SLA code does it: keep the remaining business budget."""
    remaining = business_seconds_between(cal, paused, due)
    return add_business_seconds(cal, resumed, remaining)


def test_pause_over_weekend_keeps_remaining_budget() -> None:
    # given a ticket due Monday 12:00, paused Friday 17:00 (1h Fri + 3h Mon remaining)
    cal = office()
    due = utc(2026, 5, 18, 12, 0)
    paused = utc(2026, 5, 15, 17, 0)
    remaining = business_seconds_between(cal, paused, due)
    assert remaining == 4 * HOUR
    # when it is resumed Sunday evening (no business time passed while paused)
    resumed = utc(2026, 5, 17, 20, 0)
    new_due = resume(cal, due, paused, resumed)
    # then the whole budget is still there: due Monday 13:00
    assert new_due == utc(2026, 5, 18, 13, 0)
    assert business_seconds_between(cal, resumed, new_due) == remaining


def test_pause_entirely_outside_hours_does_not_move_due() -> None:
    # paused Friday 18:30 (closed), resumed Monday 08:00 (still closed)
    cal = office()
    due = utc(2026, 5, 18, 12, 0)
    new_due = resume(cal, due, utc(2026, 5, 15, 18, 30), utc(2026, 5, 18, 8, 0))
    assert new_due == due


def test_pause_over_holiday_keeps_remaining_budget() -> None:
    # given Mon-Fri Shanghai hours with Thursday 2026-05-14 a holiday
    cal = office("Asia/Shanghai", ("2026-05-14",))
    paused = datetime(2026, 5, 13, 17, 0, tzinfo=SHANGHAI)  # Wednesday
    due = add_business_seconds(cal, paused, 3 * HOUR)  # 1h Wed + 2h Fri -> Fri 11:00 local
    assert due == utc(2026, 5, 15, 3, 0)
    # when resumed Thursday (the holiday) at noon
    new_due = resume(cal, due, paused, datetime(2026, 5, 14, 12, 0, tzinfo=SHANGHAI))
    # then all three hours are spent on Friday: 09:00-12:00 local
    assert new_due == utc(2026, 5, 15, 4, 0)


# --------------------------------------------------------------------------- argument checks


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="start must be a timezone-aware datetime"):
        add_business_seconds(office(), datetime(2026, 5, 11, 9, 0), HOUR)
    with pytest.raises(ValueError, match="start must be a timezone-aware datetime"):
        add_business_seconds(None, datetime(2026, 5, 11, 9, 0), HOUR)


def test_naive_datetimes_refused_by_between() -> None:
    aware = utc(2026, 5, 11, 9, 0)
    naive = datetime(2026, 5, 11, 10, 0)
    with pytest.raises(ValueError, match="start must be a timezone-aware datetime"):
        business_seconds_between(office(), naive, aware)
    with pytest.raises(ValueError, match="end must be a timezone-aware datetime"):
        business_seconds_between(office(), aware, naive)
    with pytest.raises(ValueError, match="end must be a timezone-aware datetime"):
        business_seconds_between(None, aware, naive)


def test_negative_seconds_are_refused() -> None:
    with pytest.raises(ValueError, match="seconds must be >= 0, got -1"):
        add_business_seconds(office(), utc(2026, 5, 11), -1)
    with pytest.raises(ValueError, match="seconds must be >= 0"):
        add_business_seconds(None, utc(2026, 5, 11), -5)


# --------------------------------------------------------------------------- parse_calendar


def test_parse_sorts_windows_and_maps_days() -> None:
    # given unsorted windows, a 24:00 end and holidays with a duplicate
    hours = {"fri": [["18:00", "24:00"], ["09:00", "12:00"]], "mon": [["09:00", "18:00"]]}
    cal = parse_calendar("Asia/Shanghai", hours, ["2026-10-01", "2026-10-02", "2026-10-01"])
    # then windows are sorted per weekday index and 24:00 is stored as time(0)
    assert cal.tz == "Asia/Shanghai"
    assert dict(cal.windows) == {
        0: ((time(9), time(18)),),
        4: ((time(9), time(12)), (time(18), time(0))),
    }
    assert cal.holidays == frozenset({date(2026, 10, 1), date(2026, 10, 2)})


def test_parse_allows_adjacent_windows_and_empty_days() -> None:
    hours = {"mon": [["09:00", "12:00"], ["12:00", "13:00"]], "tue": []}
    cal = parse_calendar("UTC", hours, [])
    assert dict(cal.windows) == {0: ((time(9), time(12)), (time(12), time(13)))}
    assert business_seconds_between(cal, utc(2026, 5, 11), utc(2026, 5, 12)) == 4 * HOUR


def test_equal_calendars_are_equal_and_hash_alike() -> None:
    first = parse_calendar("UTC", {"mon": [["13:00", "18:00"], ["09:00", "12:00"]]}, [])
    second = parse_calendar("UTC", {"mon": [["09:00", "12:00"], ["13:00", "18:00"]]}, [])
    assert first == second
    assert hash(first) == hash(second)
    assert len({first, second}) == 1


@pytest.mark.parametrize(
    ("tz", "message"),
    [
        ("Mars/Olympus_Mons", "unknown time zone 'Mars/Olympus_Mons'"),
        ("", "unknown time zone ''"),
        ("../etc/passwd", "unknown time zone '../etc/passwd'"),
        ("America", "unknown time zone 'America'"),
    ],
)
def test_parse_rejects_unknown_zone(tz: str, message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        parse_calendar(tz, {"mon": [["09:00", "18:00"]]}, [])


@pytest.mark.parametrize("day", ["monday", "Mon", "mo", "weekday"])
def test_parse_rejects_unknown_day(day: str) -> None:
    with pytest.raises(CalendarError, match=f"unknown day '{day}': expected one of mon, tue"):
        parse_calendar("UTC", {day: [["09:00", "18:00"]]}, [])


@pytest.mark.parametrize(
    ("window", "bad"),
    [
        (["9:00", "18:00"], "'9:00'"),
        (["09:00", "18:60"], "'18:60'"),
        (["25:00", "26:00"], "'25:00'"),
        (["0900", "1800"], "'0900'"),
        (["09:00:00", "18:00"], "'09:00:00'"),
        (["09:00", "24:01"], "'24:01'"),
        (["09:00", ""], "''"),
        (["09:00", " 18:00"], "' 18:00'"),
        (["09:00", 1800], "1800"),
        (["\uff10\uff19:\uff10\uff10", "18:00"], "'\uff10\uff19:\uff10\uff10'"),
    ],
)
def test_parse_rejects_bad_time_format(window: list[object], bad: str) -> None:
    with pytest.raises(CalendarError, match=f"bad time {bad} on tue: expected HH:MM"):
        parse_calendar("UTC", {"tue": [window]}, [])  # type: ignore[list-item]


def test_parse_rejects_24_00_as_start() -> None:
    with pytest.raises(CalendarError, match="bad start time '24:00' on sat"):
        parse_calendar("UTC", {"sat": [["24:00", "24:00"]]}, [])


@pytest.mark.parametrize(
    ("start", "end"), [("10:00", "09:00"), ("09:00", "09:00"), ("09:00", "00:00")]
)
def test_parse_rejects_end_not_after_start(start: str, end: str) -> None:
    with pytest.raises(
        CalendarError, match=f"bad window {start}-{end} on wed: the end must be after the start"
    ):
        parse_calendar("UTC", {"wed": [[start, end]]}, [])


@pytest.mark.parametrize(
    ("windows", "message"),
    [
        ([["09:00", "12:00"], ["11:00", "13:00"]], "09:00-12:00 and 11:00-13:00"),
        ([["11:00", "13:00"], ["09:00", "12:00"]], "09:00-12:00 and 11:00-13:00"),
        ([["09:00", "18:00"], ["09:00", "18:00"]], "09:00-18:00 and 09:00-18:00"),
        ([["09:00", "18:00"], ["10:00", "11:00"]], "09:00-18:00 and 10:00-11:00"),
        ([["20:00", "24:00"], ["23:00", "23:30"]], "20:00-24:00 and 23:00-23:30"),
    ],
)
def test_parse_rejects_overlapping_windows(windows: list[list[str]], message: str) -> None:
    with pytest.raises(CalendarError, match=f"overlapping windows on thu: {message}"):
        parse_calendar("UTC", {"thu": windows}, [])


@pytest.mark.parametrize("window", [["09:00"], ["09:00", "12:00", "13:00"], "09:00", []])
def test_parse_rejects_window_that_is_not_a_pair(window: object) -> None:
    with pytest.raises(
        CalendarError, match=r"bad window .* on mon: expected a \[start, end\] pair"
    ):
        parse_calendar("UTC", {"mon": [window]}, [])  # type: ignore[list-item]


def test_parse_rejects_day_value_that_is_not_a_list() -> None:
    with pytest.raises(CalendarError, match="bad hours '09:00-18:00' for mon"):
        parse_calendar("UTC", {"mon": "09:00-18:00"}, [])


def test_parse_rejects_hours_that_are_not_a_mapping() -> None:
    with pytest.raises(CalendarError, match="expected a mapping of day names"):
        parse_calendar("UTC", [["09:00", "18:00"]], [])  # type: ignore[arg-type]


@pytest.mark.parametrize("hours", [{}, {"mon": [], "sun": []}])
def test_parse_rejects_calendar_without_hours(hours: dict[str, list[list[str]]]) -> None:
    with pytest.raises(CalendarError, match="calendar has no opening hours on any day"):
        parse_calendar("UTC", hours, [])


@pytest.mark.parametrize(
    ("holiday", "message"),
    [
        ("2026/10/01", "bad holiday '2026/10/01': expected YYYY-MM-DD"),
        ("20261001", "bad holiday '20261001': expected YYYY-MM-DD"),
        ("2026-1-1", "bad holiday '2026-1-1': expected YYYY-MM-DD"),
        ("2026-10-01T00:00", "bad holiday '2026-10-01T00:00': expected YYYY-MM-DD"),
        ("", "bad holiday '': expected YYYY-MM-DD"),
        ("2026-02-30", "bad holiday '2026-02-30': not a real calendar date"),
        ("2026-13-01", "bad holiday '2026-13-01': not a real calendar date"),
    ],
)
def test_parse_rejects_bad_holiday(holiday: str, message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        parse_calendar("UTC", {"mon": [["09:00", "18:00"]]}, ["2026-01-01", holiday])


def test_parse_rejects_holidays_given_as_one_string() -> None:
    with pytest.raises(CalendarError, match="bad holidays '2026-10-01': expected a list"):
        parse_calendar("UTC", {"mon": [["09:00", "18:00"]]}, "2026-10-01")


def test_calendar_error_is_a_value_error() -> None:
    assert issubclass(CalendarError, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tz": "Nowhere/Town", "windows": {}}, "unknown time zone 'Nowhere/Town'"),
        ({"tz": "UTC", "windows": {7: ((time(9), time(10)),)}}, "unknown weekday 7"),
        (
            {"tz": "UTC", "windows": {0: ((time(10), time(9)),)}},
            "window 10:00-09:00 must end after it starts",
        ),
        (
            {"tz": "UTC", "windows": {0: ((time(9), time(12)), (time(11), time(13)))}},
            "windows overlap on mon at 11:00-13:00",
        ),
        ({"tz": "UTC", "windows": {0: (("09:00", "10:00"),)}}, "must be a \\(time, time\\) pair"),
        (
            {"tz": "UTC", "windows": {}, "holidays": frozenset({datetime(2026, 1, 1)})},
            "must be a datetime.date",
        ),
    ],
)
def test_direct_construction_is_validated(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        BusinessCalendar(**kwargs)  # type: ignore[arg-type]


def test_calendar_is_immutable() -> None:
    cal = office()
    with pytest.raises(AttributeError):
        cal.tz = "Asia/Shanghai"  # type: ignore[misc]
    with pytest.raises(TypeError):
        cal.windows[5] = ((time(9), time(10)),)  # type: ignore[index]


# --------------------------------------------------------------------------- properties

ZONES = (
    "UTC",
    "Asia/Shanghai",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "America/Santiago",  # DST transitions at local midnight
    "America/Havana",  # falls back from 01:00 to a repeated midnight hour
    "Asia/Kathmandu",  # +05:45
)
FIXED_OFFSET_ZONES = ("UTC", "Asia/Shanghai", "Asia/Kolkata", "Asia/Kathmandu")


def _wall(minute: int) -> time:
    """Minute of the day to a wall time; 1440 (24:00) becomes time(0)."""
    return time(0) if minute == 1440 else time(minute // 60, minute % 60)


@st.composite
def calendars(draw: st.DrawFn, zones: tuple[str, ...] = ZONES, step: int = 1) -> BusinessCalendar:
    """Random calendars: up to 3 windows a day on a `step`-minute grid, some holidays."""
    tz = draw(st.sampled_from(zones))
    windows: dict[int, tuple[tuple[time, time], ...]] = {}
    for weekday in range(7):
        ticks = draw(st.lists(st.integers(0, 1440 // step), unique=True, max_size=6))
        bounds = sorted(tick * step for tick in ticks)
        pairs = zip(bounds[0::2], bounds[1::2], strict=False)
        windows[weekday] = tuple((_wall(opens), _wall(closes)) for opens, closes in pairs)
    assume(any(windows.values()))
    holidays = draw(st.frozensets(st.dates(date(2025, 12, 1), date(2027, 12, 31)), max_size=30))
    return BusinessCalendar(tz=tz, windows=windows, holidays=holidays)


starts = st.datetimes(
    min_value=datetime(2026, 1, 1),
    max_value=datetime(2027, 12, 31),
    timezones=st.sampled_from([UTC, NEW_YORK, SHANGHAI]),
)
whole_second_starts = starts.map(lambda value: value.replace(microsecond=0))
budgets = st.integers(min_value=0, max_value=60 * 24 * HOUR)


@settings(max_examples=200, deadline=None)
@given(cal=calendars(), start=starts, seconds=budgets)
def test_property_between_undoes_add(cal: BusinessCalendar, start: datetime, seconds: int) -> None:
    due = add_business_seconds(cal, start, seconds)
    assert due.tzinfo is UTC
    assert due >= start
    assert business_seconds_between(cal, start, due) == seconds


@settings(max_examples=200, deadline=None)
@given(cal=calendars(), start=starts, first=budgets, second=budgets)
def test_property_add_is_strictly_monotonic(
    cal: BusinessCalendar, start: datetime, first: int, second: int
) -> None:
    low, high = sorted((first, second))
    earlier = add_business_seconds(cal, start, low)
    later = add_business_seconds(cal, start, high)
    if low == high:
        assert earlier == later
    else:
        assert earlier < later
        assert business_seconds_between(cal, earlier, later) == high - low


@settings(max_examples=200, deadline=None)
@given(
    cal=calendars(),
    start=whole_second_starts,
    gaps=st.tuples(st.integers(0, 20 * 24 * HOUR), st.integers(0, 20 * 24 * HOUR)),
)
# Found by Hypothesis: the second 01:00 of New York's fall-back night.
@example(cal=None, start=datetime(2026, 11, 1, 1, 0, fold=1, tzinfo=NEW_YORK), gaps=(0, 3600))
def test_property_between_is_additive(
    cal: BusinessCalendar | None, start: datetime, gaps: tuple[int, int]
) -> None:
    # Instants, not wall times: an aware datetime plus a timedelta is wall-clock arithmetic
    # and drops ``fold`` (01:30 of the repeated hour in New York plus 0 s is an hour earlier).
    middle = start.astimezone(UTC) + timedelta(seconds=gaps[0])
    end = middle + timedelta(seconds=gaps[1])
    whole = business_seconds_between(cal, start, end)
    parts = business_seconds_between(cal, start, middle) + business_seconds_between(
        cal, middle, end
    )
    assert whole == parts
    assert 0 <= whole <= gaps[0] + gaps[1]


@settings(max_examples=200, deadline=None)
@given(
    cal=calendars(),
    start=whole_second_starts,
    paused_for=st.integers(0, 10 * 24 * HOUR),
    budget=budgets,
)
def test_property_pause_keeps_remaining_budget(
    cal: BusinessCalendar, start: datetime, paused_for: int, budget: int
) -> None:
    # whole-second instants keep every span exact, so no budget is lost to flooring
    due = add_business_seconds(cal, start, budget)
    # in UTC: wall-clock arithmetic on a zoned start would drop its ``fold`` (see above)
    paused = start.astimezone(UTC) + timedelta(seconds=(due - start) // timedelta(seconds=2))
    remaining = business_seconds_between(cal, paused, due)
    resumed = paused + timedelta(seconds=paused_for)
    new_due = add_business_seconds(cal, resumed, remaining)
    assert business_seconds_between(cal, resumed, new_due) == remaining
    assert new_due >= due


def _open_quarters_brute_force(cal: BusinessCalendar, start: datetime, quarters: int) -> int:
    """Reference: test every 15-minute slot's local wall time against the windows."""
    zone = ZoneInfo(cal.tz)

    def is_open(instant: datetime) -> bool:
        local = instant.astimezone(zone)
        if local.date() in cal.holidays:
            return False
        minute = local.hour * 60 + local.minute
        for opens, closes in cal.windows.get(local.weekday(), ()):
            end = 1440 if closes == time(0) else closes.hour * 60 + closes.minute
            if opens.hour * 60 + opens.minute <= minute < end:
                return True
        return False

    return sum(is_open(start + timedelta(minutes=15 * n)) for n in range(quarters))


@settings(max_examples=200, deadline=None)
@given(
    cal=calendars(zones=FIXED_OFFSET_ZONES, step=15),
    slot=st.integers(0, 2 * 366 * 96),
    quarters=st.integers(0, 14 * 96),
)
def test_property_between_matches_brute_force(
    cal: BusinessCalendar, slot: int, quarters: int
) -> None:
    # on a 15-minute grid in zones without DST, every slot is either fully open or closed
    start = utc(2026, 1, 1) + timedelta(minutes=15 * slot)
    end = start + timedelta(minutes=15 * quarters)
    expected = _open_quarters_brute_force(cal, start, quarters) * 15 * 60
    assert business_seconds_between(cal, start, end) == expected
