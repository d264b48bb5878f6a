"""Business-hours arithmetic for the P3/P4 support targets (seed 003): nights, weekends and
holidays do not count, on the port calendar's holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from activities.support import due, maintenance
from core.calendar import PortCalendar
from models.support import CaseDueInput

DEN = ZoneInfo("America/Denver")
TZ = "America/Denver"
H = timedelta(hours=1)
CAL = PortCalendar(extra_holidays=[date(2027, 3, 17)])


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=DEN)


def add(start: datetime, hours: timedelta) -> datetime:
    return CAL.add_business_hours(start, hours, TZ).astimezone(DEN)


def test_within_one_day() -> None:
    assert add(local(2027, 3, 2, 9, 30), 4 * H) == local(2027, 3, 2, 13, 30)  # Tuesday


def test_the_night_is_skipped() -> None:
    # Tuesday 15:00 + 4 business hours: 2 h today, 2 h from Wednesday 08:00
    assert add(local(2027, 3, 2, 15, 0), 4 * H) == local(2027, 3, 3, 10, 0)


def test_a_start_at_night_counts_from_the_next_opening() -> None:
    assert add(local(2027, 3, 2, 22, 0), 4 * H) == local(2027, 3, 3, 12, 0)
    assert add(local(2027, 3, 3, 6, 0), 4 * H) == local(2027, 3, 3, 12, 0)


def test_the_weekend_is_skipped() -> None:
    # Friday 15:00 + 1 business day (9 h) = Monday 15:00; Saturday counts from Monday 08:00
    assert add(local(2027, 3, 5, 15, 0), 9 * H) == local(2027, 3, 8, 15, 0)
    assert add(local(2027, 3, 6, 11, 0), 4 * H) == local(2027, 3, 8, 12, 0)


def test_holidays_are_skipped_federal_and_porting() -> None:
    # Friday 2027-01-15 16:00 + 4 h: Monday 2027-01-18 is MLK day -> Tuesday 11:00
    assert add(local(2027, 1, 15, 16, 0), 4 * H) == local(2027, 1, 19, 11, 0)
    # a provider's porting holiday (Wednesday 2027-03-17) is skipped too
    assert add(local(2027, 3, 16, 9, 0), 18 * H) == local(2027, 3, 19, 9, 0)


def test_a_target_ending_at_closing_time_is_due_then() -> None:
    assert add(local(2027, 3, 2, 8, 0), 9 * H) == local(2027, 3, 2, 17, 0)


def test_across_a_daylight_saving_change() -> None:
    # DST starts Sunday 2027-03-14: Friday 16:00 MST + 2 h = Monday 09:00 MDT (15:00 UTC)
    got = CAL.add_business_hours(local(2027, 3, 12, 16, 0), 2 * H, TZ)
    assert got == datetime(2027, 3, 15, 15, 0, tzinfo=UTC)


def test_other_hours_and_zero() -> None:
    start = local(2027, 3, 2, 19, 0)
    assert CAL.add_business_hours(start, 2 * H, TZ, time(7, 0), time(19, 0)).astimezone(DEN) == local(2027, 3, 3, 9, 0)
    assert CAL.add_business_hours(start, timedelta(0), TZ) == start.astimezone(UTC)


def test_bad_input_says_what_to_fix() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        CAL.add_business_hours(datetime(2027, 3, 2, 9), H, TZ)
    with pytest.raises(ValueError, match="unknown time zone"):
        CAL.add_business_hours(local(2027, 3, 2, 9), H, "Mars/Olympus")
    with pytest.raises(ValueError, match="open before they close"):
        CAL.add_business_hours(local(2027, 3, 2, 9), H, TZ, time(17, 0), time(8, 0))


def test_p3_and_p4_targets_through_the_activity_helper() -> None:
    # P4 opened Friday 16:30 MT before a Monday holiday (Presidents' Day 2027-02-15):
    # first response 1 business day -> Tuesday 16:30; update 2 business days -> Thursday 16:30
    opened = local(2027, 2, 12, 16, 30)
    first = due(CaseDueInput(start=opened, days=1, time_zone=TZ), CAL)
    assert first.astimezone(DEN) == local(2027, 2, 16, 16, 30)
    assert due(CaseDueInput(start=first, days=2, time_zone=TZ), CAL).astimezone(DEN) == local(2027, 2, 18, 16, 30)
    # P3 4 business hours from Saturday: Monday... a holiday, so Tuesday 12:00
    assert due(CaseDueInput(start=local(2027, 2, 13, 10, 0), hours=4 * H, time_zone=TZ), CAL).astimezone(DEN) \
        == local(2027, 2, 16, 12, 0)


def test_maintenance_window_comes_from_the_calendar() -> None:
    # March 2027: third Friday is the 19th, 22:00 MDT = 04:00 UTC on the 20th
    inside = maintenance(local(2027, 3, 19, 23, 0), CAL)
    assert inside.in_window and inside.window_start == datetime(2027, 3, 20, 4, 0, tzinfo=UTC)
    assert (inside.window_start, inside.window_end) == CAL.maintenance_window(2027, 3)
    outside = maintenance(local(2027, 3, 20, 4, 0), CAL)  # the end instant is outside
    assert not outside.in_window and outside.window_start == CAL.maintenance_window(2027, 4)[0]


instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC))


@given(instants, st.integers(min_value=0, max_value=60 * 9 * 5))
def test_business_time_added_is_business_time_between(start: datetime, minutes: int) -> None:
    span = timedelta(minutes=minutes)
    end = CAL.add_business_hours(start, span, TZ)
    assert end >= start
    assert CAL.business_time_between(start, end, TZ) == span
    loc = end.astimezone(DEN)
    if minutes:  # a target always falls inside business hours of a business day
        assert CAL.is_business_day(loc.date()) and time(8, 0) < loc.time() <= time(17, 0)
