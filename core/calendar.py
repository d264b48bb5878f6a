"""The port-date calendar: business days, the 3-week lead time and the maintenance window.

Carriers port on business days only: no Saturdays, Sundays, US federal holidays (as observed,
from the ``holidays`` package) or the provider's extra porting holidays
(``PORTFLOW_PORTING_HOLIDAYS``). The customer's documents (CSR and bill) must be complete
``lead_days`` calendar days (21 by default) before the port date. No activation may be
scheduled inside the monthly maintenance window: the third Friday of each month from 22:00
to 04:00 the next morning, Mountain Time.

This module uses :mod:`zoneinfo`, so it belongs in activities, the API and the CLI; workflow
code must not import it (workflows get dates computed by an activity or passed in).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.text import shorten

PORTING_HOLIDAY = "porting holiday"
DEFAULT_ACTIVATION_TIME = time(9, 0)
# The monthly maintenance window (support plan, seed 003): third Friday 22:00 to 04:00.
MAINTENANCE_START = time(22, 0)
MAINTENANCE_END = time(4, 0)


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``, or a ValueError that says what to write instead."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
        raise ValueError(
            f"unknown time zone '{shorten(name, 40)}': use an IANA name such as America/New_York, "
            "America/Chicago, America/Denver or America/Los_Angeles"
        ) from None


def _as_date(d: date) -> date:
    # A datetime is a date too, but which day it is depends on the zone: make callers choose.
    if isinstance(d, datetime):
        raise TypeError(
            f"expected a date, got the datetime {d.isoformat()}: pass .date() in the zone you mean"
        )
    if not isinstance(d, date):
        raise TypeError(f"expected a date, got {type(d).__name__}")
    return d


def _require_aware(at: datetime, what: str) -> datetime:
    if not isinstance(at, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(
            f"{what} {at.isoformat()} has no time zone: give an aware datetime "
            "(for example datetime.now(UTC)), a naive one is ambiguous"
        )
    return at


def third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


class PortCalendar:
    """Which days a carrier ports on, and the times no activation may be scheduled.

    ``extra_holidays`` are the provider's porting holidays on top of the US federal ones;
    ``lead_days`` is the documents-to-port-date lead time in calendar days.
    """

    def __init__(
        self,
        extra_holidays: Iterable[date] = (),
        lead_days: int = 21,
        maintenance_tz: str = "America/Denver",
        default_activation_time: time = DEFAULT_ACTIVATION_TIME,
    ) -> None:
        if lead_days < 0:
            raise ValueError(f"lead_days must be 0 or more, got {lead_days}")
        self.extra_holidays = frozenset(_as_date(d) for d in extra_holidays)
        self.lead_days = lead_days
        self.maintenance_tz = maintenance_tz
        self._maintenance_zone = zone(maintenance_tz)
        self.default_activation_time = default_activation_time
        # Imported here, not with the module: loading the settings validates a time zone with
        # zone() above, and `holidays` costs 0.1-0.2 s (it loads every country to give one).
        import holidays

        # expand=True: years are added on first lookup, so any year works.
        self._federal = holidays.country_holidays("US", expand=True)

    @classmethod
    def from_settings(cls, settings: Any = None) -> PortCalendar:
        """The calendar configured by ``PORTFLOW_PORTING_HOLIDAYS``, ``PORTFLOW_LEAD_TIME_DAYS``,
        ``PORTFLOW_MAINTENANCE_TIMEZONE`` and ``PORTFLOW_DEFAULT_ACTIVATION_TIME``."""
        if settings is None:
            from core.settings import get_settings

            settings = get_settings()
        return cls(
            extra_holidays=settings.porting_holidays,
            lead_days=settings.lead_time_days,
            maintenance_tz=settings.maintenance_timezone,
            default_activation_time=getattr(
                settings, "default_activation_time", DEFAULT_ACTIVATION_TIME
            ),
        )

    def __repr__(self) -> str:
        return (
            f"PortCalendar(lead_days={self.lead_days}, maintenance_tz={self.maintenance_tz!r}, "
            f"extra_holidays={sorted(self.extra_holidays)!r})"
        )

    # --- business days -----------------------------------------------------------------

    def holiday_name(self, d: date) -> str | None:
        """The name of the holiday on ``d`` (federal first), or None on an ordinary day."""
        d = _as_date(d)
        names = self._federal.get_list(d)
        if names:
            return "; ".join(names)
        if d in self.extra_holidays:
            return PORTING_HOLIDAY
        return None

    def is_business_day(self, d: date) -> bool:
        d = _as_date(d)
        return d.weekday() < 5 and self.holiday_name(d) is None

    def next_business_day(self, d: date, include_today: bool = True) -> date:
        """``d`` itself when it is a business day (and ``include_today``), else the next one."""
        d = _as_date(d)
        if not include_today:
            d += timedelta(days=1)
        while not self.is_business_day(d):
            d += timedelta(days=1)
        return d

    def previous_business_day(self, d: date, include_today: bool = True) -> date:
        d = _as_date(d)
        if not include_today:
            d -= timedelta(days=1)
        while not self.is_business_day(d):
            d -= timedelta(days=1)
        return d

    def add_business_days(self, d: date, n: int) -> date:
        """The ``n``-th business day after ``d`` (``d`` itself is not counted); negative ``n`` goes back."""
        d = _as_date(d)
        if n < 0:
            return self.subtract_business_days(d, -n)
        for _ in range(n):
            d = self.next_business_day(d, include_today=False)
        return d

    def subtract_business_days(self, d: date, n: int) -> date:
        """The ``n``-th business day before ``d``; negative ``n`` goes forward."""
        d = _as_date(d)
        if n < 0:
            return self.add_business_days(d, -n)
        for _ in range(n):
            d = self.previous_business_day(d, include_today=False)
        return d

    def business_days_between(self, a: date, b: date) -> int:
        """Business days after ``a`` up to and including ``b`` (negative when ``b`` is before ``a``).

        So ``add_business_days(a, business_days_between(a, b)) == b`` whenever ``b`` is a
        business day, and two dates in the same weekend are 0 apart.
        """
        a, b = _as_date(a), _as_date(b)
        if b < a:
            return -self.business_days_between(b, a)
        count, d = 0, a
        while d < b:
            d += timedelta(days=1)
            count += self.is_business_day(d)
        return count

    # --- business hours (support targets, seed 003) ------------------------------------

    def add_business_hours(self, start: datetime, hours: timedelta, tz: str,
                           opens: time = time(8, 0), closes: time = time(17, 0)) -> datetime:
        """``start`` plus ``hours`` of business time, in UTC: only the hours from ``opens`` to
        ``closes`` (local wall-clock in ``tz``) of business days count, so nights, weekends and
        holidays are skipped. A start outside business hours counts from the next opening; a
        target that ends exactly at closing time is due then, not at the next opening.

        One business day is ``closes - opens`` of business time (9 h by default): a P3 update
        due "1 business day" after Friday 15:00 is due Monday 15:00 (Tuesday after a Monday holiday).
        """
        start = _require_aware(start, "start")
        if not isinstance(hours, timedelta):
            raise TypeError(f"hours must be a timedelta, got {type(hours).__name__}")
        if not opens < closes:
            raise ValueError(f"business hours must open before they close, got {opens.isoformat()}-{closes.isoformat()}")
        if hours <= timedelta(0):
            return start.astimezone(UTC)
        tzinfo = zone(tz)
        local = start.astimezone(tzinfo)
        left = hours
        while True:
            day = local.date()
            if not self.is_business_day(day) or local.time() >= closes:
                local = datetime.combine(self.next_business_day(day, include_today=False), opens, tzinfo)
            elif local.time() < opens:
                local = datetime.combine(day, opens, tzinfo)
            # same tzinfo: wall-clock arithmetic within the day (DST changes happen at night)
            end = datetime.combine(local.date(), closes, tzinfo)
            room = end.replace(tzinfo=None) - local.replace(tzinfo=None)
            if left <= room:
                return (local + left).astimezone(UTC)
            left -= room
            local = datetime.combine(self.next_business_day(local.date(), include_today=False), opens, tzinfo)

    def business_time_between(self, a: datetime, b: datetime, tz: str,
                              opens: time = time(8, 0), closes: time = time(17, 0)) -> timedelta:
        """Business time from ``a`` to ``b`` (zero when ``b`` is not after ``a``): the inverse of
        :meth:`add_business_hours` for checks and reports."""
        a, b = _require_aware(a, "a"), _require_aware(b, "b")
        tzinfo, total = zone(tz), timedelta(0)
        if b <= a:
            return total
        day, last = a.astimezone(tzinfo).date(), b.astimezone(tzinfo).date()
        while day <= last:
            if self.is_business_day(day):
                lo = max(a, datetime.combine(day, opens, tzinfo))
                hi = min(b, datetime.combine(day, closes, tzinfo))
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    # --- lead time -----------------------------------------------------------------------

    def earliest_port_date(self, documents_complete_at: datetime | date) -> date:
        """The first business day at least ``lead_days`` calendar days after the documents are complete.

        An aware datetime counts by its date in UTC: workflows and the database keep UTC, so
        the same instant always gives the same answer whoever asks. A naive datetime is refused.
        """
        if isinstance(documents_complete_at, datetime):
            day = (
                _require_aware(documents_complete_at, "documents_complete_at")
                .astimezone(UTC)
                .date()
            )
        else:
            day = _as_date(documents_complete_at)
        return self.next_business_day(day + timedelta(days=self.lead_days))

    def documents_due(self, port_date: date) -> date:
        """The last day the documents may be complete for ``port_date`` to keep the lead time."""
        return _as_date(port_date) - timedelta(days=self.lead_days)

    # --- maintenance window and activation ----------------------------------------------

    def maintenance_window(self, year: int, month: int) -> tuple[datetime, datetime]:
        """The month's maintenance window, third Friday 22:00 to Saturday 04:00 local, in UTC.

        The local wall-clock times are fixed, so the UTC times follow daylight saving time
        (05:00-11:00 UTC in winter, 04:00-10:00 UTC in summer for America/Denver).
        """
        friday = third_friday(year, month)
        start = datetime.combine(friday, MAINTENANCE_START, self._maintenance_zone)
        end = datetime.combine(friday + timedelta(days=1), MAINTENANCE_END, self._maintenance_zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def in_maintenance_window(self, at: datetime) -> bool:
        """True when ``at`` (an aware datetime) falls inside a window; the end instant is outside."""
        at = _require_aware(at, "the time to check")
        local = at.astimezone(self._maintenance_zone)
        # The window never crosses a month end (the third Friday is the 15th-21st).
        start, end = self.maintenance_window(local.year, local.month)
        return start <= at < end

    def activation_datetime(
        self, port_date: date, activation_time: time | None, tz: str
    ) -> datetime:
        """When the numbers switch over, as an aware UTC datetime.

        ``activation_time`` is local wall-clock time in ``tz``; None means the configured
        default (09:00). Port dates are business days, and daylight-saving changes happen on
        Sundays, so the local time always exists.
        """
        port_date = _as_date(port_date)
        at = activation_time if activation_time is not None else self.default_activation_time
        if at.tzinfo is not None:
            raise ValueError(
                f"activation time {at.isoformat()} must be a local time without a zone: the zone is tz"
            )
        return datetime.combine(port_date, at, zone(tz)).astimezone(UTC)
