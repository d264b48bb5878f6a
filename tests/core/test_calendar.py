"""The port-date calendar: business days, lead time, maintenance window, activation instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.calendar import PORTING_HOLIDAY, PortCalendar, third_friday
from core.settings import Settings
from tests.settings_helpers import use_settings

DENVER = ZoneInfo("America/Denver")
CAL = PortCalendar()
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2032, 12, 31))
extra_days = st.lists(days, max_size=20)


def _brute_business_day(cal: PortCalendar, d: date) -> bool:
    return d.weekday() < 5 and cal.holiday_name(d) is None


# --- holidays and business days -------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 11, 26), "Thanksgiving Day"),
        (date(2026, 12, 25), "Christmas Day"),
        (date(2027, 1, 18), "Martin Luther King Jr. Day"),
        (date(2026, 7, 3), "Independence Day (observed)"),  # July 4th 2026 is a Saturday
        (date(2027, 7, 5), "Independence Day (observed)"),  # July 4th 2027 is a Sunday
        (date(2027, 6, 18), "Juneteenth National Independence Day (observed)"),
    ],
)
def test_known_federal_holidays_are_named_and_not_business_days(day: date, name: str) -> None:
    assert CAL.holiday_name(day) == name
    assert not CAL.is_business_day(day)


def test_ordinary_days() -> None:
    assert CAL.holiday_name(date(2026, 11, 24)) is None
    assert CAL.is_business_day(date(2026, 11, 24))  # a Tuesday
    assert not CAL.is_business_day(date(2026, 11, 28))  # Saturday
    assert not CAL.is_business_day(date(2026, 11, 29))  # Sunday


def test_porting_holidays_are_added_but_federal_names_win() -> None:
    cal = PortCalendar(extra_holidays=[date(2026, 11, 27), date(2026, 12, 25)])
    assert cal.holiday_name(date(2026, 11, 27)) == PORTING_HOLIDAY == "porting holiday"
    assert not cal.is_business_day(date(2026, 11, 27))
    assert cal.holiday_name(date(2026, 12, 25)) == "Christmas Day"
    assert CAL.is_business_day(date(2026, 11, 27))  # only that calendar has it


def test_a_datetime_is_refused_where_a_date_is_meant() -> None:
    with pytest.raises(TypeError, match="pass .date"):
        CAL.is_business_day(datetime(2026, 11, 24, 10, tzinfo=UTC))


def test_next_business_day_and_include_today() -> None:
    wed = date(2026, 11, 25)
    assert CAL.next_business_day(wed) == wed
    assert CAL.next_business_day(wed, include_today=False) == date(
        2026, 11, 27
    )  # skips Thanksgiving
    assert CAL.next_business_day(date(2026, 12, 25)) == date(
        2026, 12, 28
    )  # Christmas Friday -> Monday


def test_add_subtract_and_count_across_a_holiday_weekend() -> None:
    fri = date(2026, 11, 20)
    # 23, 24, 25, (26 Thanksgiving), 27, (28, 29 weekend), 30
    assert CAL.business_days_between(fri, date(2026, 11, 30)) == 5
    assert CAL.add_business_days(fri, 5) == date(2026, 11, 30)
    assert CAL.subtract_business_days(date(2026, 11, 30), 5) == fri
    assert CAL.add_business_days(fri, -1) == date(2026, 11, 19)
    assert CAL.subtract_business_days(fri, -1) == date(2026, 11, 23)
    assert CAL.business_days_between(date(2026, 11, 30), fri) == -5
    assert CAL.business_days_between(date(2026, 11, 28), date(2026, 11, 29)) == 0


@settings(max_examples=150, deadline=None)
@given(d=days, n=st.integers(min_value=0, max_value=40), extra=extra_days)
def test_add_business_days_lands_on_business_days_and_counts_back(
    d: date, n: int, extra: list[date]
) -> None:
    cal = PortCalendar(extra_holidays=extra)
    later = cal.add_business_days(d, n)
    assert cal.business_days_between(d, later) == n
    if n:
        assert cal.is_business_day(later)
        assert later > d
    if cal.is_business_day(d):
        assert cal.subtract_business_days(later, n) == d


# --- lead time ------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(d=days, lead=st.integers(min_value=0, max_value=45), extra=extra_days)
def test_earliest_port_date_is_the_first_business_day_after_the_lead_time(
    d: date, lead: int, extra: list[date]
) -> None:
    cal = PortCalendar(extra_holidays=extra, lead_days=lead)
    earliest = cal.earliest_port_date(d)
    assert _brute_business_day(cal, earliest)
    assert (earliest - d).days >= lead
    # minimal: no business day between the end of the lead time and the answer
    day = d + timedelta(days=lead)
    while day < earliest:
        assert not _brute_business_day(cal, day)
        day += timedelta(days=1)


@settings(max_examples=150, deadline=None)
@given(port_date=days, lead=st.integers(min_value=0, max_value=45))
def test_documents_due_is_the_last_day_that_keeps_the_lead_time(port_date: date, lead: int) -> None:
    cal = PortCalendar(lead_days=lead)
    due = cal.documents_due(port_date)
    assert (port_date - due).days == lead
    assert cal.earliest_port_date(due) >= port_date
    assert cal.earliest_port_date(due + timedelta(days=1)) > port_date
    if cal.is_business_day(port_date):
        assert cal.earliest_port_date(due) == port_date


def test_earliest_port_date_known_values() -> None:
    # Sunday Nov 22nd 2026 + 21 days = Sunday Dec 13th -> Monday Dec 14th
    assert CAL.earliest_port_date(date(2026, 11, 22)) == date(2026, 12, 14)
    # Dec 4th 2026 + 21 = Christmas Day (Friday) -> Monday Dec 28th
    assert CAL.earliest_port_date(date(2026, 12, 4)) == date(2026, 12, 28)


def test_earliest_port_date_takes_an_aware_datetime_by_its_utc_date() -> None:
    # 23:30 in Los Angeles on Nov 1st is already Nov 2nd in UTC
    late_evening = datetime(2026, 11, 1, 23, 30, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert CAL.earliest_port_date(late_evening) == CAL.earliest_port_date(date(2026, 11, 2))
    with pytest.raises(ValueError, match="no time zone"):
        CAL.earliest_port_date(datetime(2026, 11, 1, 12, 0))


def test_negative_lead_time_is_refused() -> None:
    with pytest.raises(ValueError, match="lead_days"):
        PortCalendar(lead_days=-1)


# --- maintenance window ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "month", "start", "end"),
    [
        # winter, Mountain Standard Time (UTC-7); Jan 1st 2027 is a Friday -> third Friday the 15th
        (
            2027,
            1,
            datetime(2027, 1, 16, 5, 0, tzinfo=UTC),
            datetime(2027, 1, 16, 11, 0, tzinfo=UTC),
        ),
        # March: DST began on the 8th, so the 20th is already MDT (UTC-6)
        (
            2026,
            3,
            datetime(2026, 3, 21, 4, 0, tzinfo=UTC),
            datetime(2026, 3, 21, 10, 0, tzinfo=UTC),
        ),
        (
            2027,
            7,
            datetime(2027, 7, 17, 4, 0, tzinfo=UTC),
            datetime(2027, 7, 17, 10, 0, tzinfo=UTC),
        ),
        # November: DST ended on the 1st, back to MST
        (
            2026,
            11,
            datetime(2026, 11, 21, 5, 0, tzinfo=UTC),
            datetime(2026, 11, 21, 11, 0, tzinfo=UTC),
        ),
        # May 1st 2027 is a Saturday -> third Friday the 21st
        (
            2027,
            5,
            datetime(2027, 5, 22, 4, 0, tzinfo=UTC),
            datetime(2027, 5, 22, 10, 0, tzinfo=UTC),
        ),
    ],
)
def test_maintenance_window_known_months(
    year: int, month: int, start: datetime, end: datetime
) -> None:
    assert CAL.maintenance_window(year, month) == (start, end)
    got_start, got_end = CAL.maintenance_window(year, month)
    assert got_start.tzinfo is UTC and got_end.tzinfo is UTC
    local = got_start.astimezone(DENVER)
    assert (local.weekday(), local.hour) == (4, 22)
    assert got_end.astimezone(DENVER).hour == 4


def test_maintenance_window_edges() -> None:
    start, end = CAL.maintenance_window(2026, 11)
    assert CAL.in_maintenance_window(start)
    assert not CAL.in_maintenance_window(start - timedelta(seconds=1))
    assert CAL.in_maintenance_window(end - timedelta(seconds=1))
    assert not CAL.in_maintenance_window(end)  # 04:00 sharp is open again
    # same instant written in another zone
    assert CAL.in_maintenance_window(
        datetime(2026, 11, 20, 23, 30, tzinfo=ZoneInfo("America/Chicago"))
    )
    # 22:30 on the *second* Friday is an ordinary evening
    assert not CAL.in_maintenance_window(datetime(2026, 11, 13, 22, 30, tzinfo=DENVER))


def test_a_zone_without_daylight_saving_keeps_the_same_utc_window() -> None:
    phoenix = PortCalendar(maintenance_tz="America/Phoenix")
    for month in (1, 7):
        start, end = phoenix.maintenance_window(2027, month)
        assert (start.hour, end.hour) == (5, 11)


def test_in_maintenance_window_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        CAL.in_maintenance_window(datetime(2026, 11, 20, 23, 0))


def test_unknown_maintenance_zone_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mountain'"):
        PortCalendar(maintenance_tz="Mountain")


@settings(max_examples=300, deadline=None)
@given(
    at=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    )
)
def test_in_maintenance_window_matches_the_local_wall_clock_rule(at: datetime) -> None:
    local = at.astimezone(DENVER)
    friday = third_friday(local.year, local.month)
    expected = (local.date() == friday and local.time() >= time(22, 0)) or (
        local.date() == friday + timedelta(days=1) and local.time() < time(4, 0)
    )
    assert CAL.in_maintenance_window(at) is expected


@given(
    year=st.integers(min_value=2000, max_value=2100), month=st.integers(min_value=1, max_value=12)
)
def test_third_friday(year: int, month: int) -> None:
    d = third_friday(year, month)
    assert d.weekday() == 4 and 15 <= d.day <= 21 and (d.year, d.month) == (year, month)


# --- activation -----------------------------------------------------------------------------


def test_activation_datetime_is_local_time_as_utc() -> None:
    at = CAL.activation_datetime(date(2027, 11, 16), time(10, 0), "America/Chicago")
    assert at == datetime(2027, 11, 16, 16, 0, tzinfo=UTC)
    summer = CAL.activation_datetime(date(2027, 7, 13), time(10, 0), "America/Chicago")
    assert summer == datetime(2027, 7, 13, 15, 0, tzinfo=UTC)


def test_activation_defaults_to_nine_local_or_the_configured_time() -> None:
    assert CAL.activation_datetime(date(2027, 11, 16), None, "America/New_York") == datetime(
        2027, 11, 16, 14, 0, tzinfo=UTC
    )
    cal = PortCalendar.from_settings(Settings(default_activation_time=time(6, 30)))
    assert cal.activation_datetime(date(2027, 11, 16), None, "America/New_York") == datetime(
        2027, 11, 16, 11, 30, tzinfo=UTC
    )


def test_activation_refuses_bad_zones_and_aware_times() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'America/Nowhere'"):
        CAL.activation_datetime(date(2027, 11, 16), time(10, 0), "America/Nowhere")
    with pytest.raises(ValueError, match="without a zone"):
        CAL.activation_datetime(date(2027, 11, 16), time(10, 0, tzinfo=UTC), "America/Chicago")


def test_from_settings_reads_holidays_lead_time_and_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    cal = PortCalendar.from_settings(use_settings(
        monkeypatch, PORTING_HOLIDAYS='["2027-03-03"]', LEAD_TIME_DAYS=10, MAINTENANCE_TIMEZONE="America/Phoenix"))
    assert cal.holiday_name(date(2027, 3, 3)) == PORTING_HOLIDAY
    assert cal.lead_days == 10
    assert cal.maintenance_window(2027, 7)[0].hour == 5  # Phoenix: no DST
    assert cal.earliest_port_date(date(2027, 2, 21)) == date(
        2027, 3, 4
    )  # Mar 3rd is the porting holiday
