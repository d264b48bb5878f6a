"""Date rules of the offline check: the requested port date, the lead time, the activation time.

A port date must be a business day (no weekend, US federal or porting holiday), not in the
past, and at least the lead time (21 days) after the documents are complete: from
``documents_complete_on`` when the request gives it, otherwise from the day of the check.
The activation instant (activation time, or the default, in the request's time zone) must
fall outside the monthly maintenance window. See :mod:`core.calendar`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from core.calendar import PortCalendar, zone
from core.text import shorten
from portflow.check.rules import Sink


@dataclass
class DateFacts:
    """What the report shows about dates, whatever the problems."""

    earliest_port_date: date
    requested_port_date: date | None = None
    documents_due: date | None = None
    activation_at: datetime | None = None  # UTC
    time_zone: str | None = None


def _parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _parse_time(value: Any) -> time | None:
    if isinstance(value, time):
        return value
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*", str(value))
    if not m or int(m[1]) > 23 or int(m[2]) > 59 or int(m[3] or 0) > 59:
        return None
    return time(int(m[1]), int(m[2]), int(m[3] or 0))


def _day(d: date) -> str:
    return f"{d:%a} {d.isoformat()}"


class DateRules:
    def __init__(
        self,
        sink: Sink,
        calendar: PortCalendar,
        today: date,
        data: dict[str, Any],
        default_time_zone: str,
    ) -> None:
        self.sink = sink
        self.calendar = calendar
        self.today = today
        self.data = data
        self.default_time_zone = default_time_zone

    def check(self, normalized: dict[str, Any]) -> DateFacts:
        """Report the date problems; put the parsed date and time into ``normalized``."""
        cal, today = self.calendar, self.today
        docs_day = today
        if "documents_complete_on" in self.data:
            parsed = _parse_date(self.data["documents_complete_on"])
            if parsed is None:
                self.sink.error(
                    "invalid_date",
                    "documents_complete_on",
                    "documents_complete_on must be a date "
                    "written YYYY-MM-DD: the day the CSR and bill were (or will be) complete",
                )
            else:
                docs_day = parsed
        earliest = max(
            cal.earliest_port_date(docs_day), cal.next_business_day(today + timedelta(days=1))
        )
        facts = DateFacts(earliest_port_date=earliest)
        if "documents_complete_on" in self.data:
            since = (
                f"after the documents were complete (documents_complete_on {docs_day.isoformat()})"
            )
        else:
            since = f"from today ({today.isoformat()}), the earliest the documents can be complete"
        raw = self.data.get("requested_port_date")
        requested = None if raw in (None, "") else _parse_date(raw)
        if raw in (None, ""):
            self.sink.error(
                "missing_port_date",
                "requested_port_date",
                "requested_port_date is missing: give the "
                f"desired port date as YYYY-MM-DD; the earliest that works is {_day(earliest)}",
            )
        elif requested is None:
            self.sink.error(
                "invalid_date",
                "requested_port_date",
                f"requested_port_date '{shorten(raw, 40)}' is not a date: write "
                f"it as YYYY-MM-DD (no time); the earliest that works is {_day(earliest)}",
            )
        self._activation(normalized, requested, facts)
        if requested is None:
            return facts
        normalized["requested_port_date"] = requested
        facts.requested_port_date = requested
        facts.documents_due = cal.documents_due(requested)
        where = "requested_port_date"
        if requested < today:
            self.sink.error(
                "date_in_past",
                where,
                f"the requested port date {_day(requested)} is in the past "
                f"(today is {today.isoformat()}): the earliest date that works is {_day(earliest)}",
            )
        else:
            suggestion = cal.next_business_day(max(requested, earliest))
            if requested.weekday() >= 5:
                self.sink.error(
                    "weekend_date",
                    where,
                    f"the requested port date {_day(requested)} is a "
                    f"{requested:%A}: carriers port on business days only; pick one such as {_day(suggestion)}",
                )
            elif (name := cal.holiday_name(requested)) is not None:
                self.sink.error(
                    "holiday_date",
                    where,
                    f"the requested port date {_day(requested)} is {name}, "
                    f"not a porting day: pick another business day such as {_day(suggestion)}",
                )
            if requested < earliest:
                days = (requested - docs_day).days
                self.sink.error(
                    "lead_time",
                    where,
                    f"the requested port date {_day(requested)} is only {days} day(s) "
                    f"{since}, less than the {cal.lead_days}-day lead time: the earliest date that works "
                    f"is {_day(earliest)} (or a PM records an expedite)",
                )
        return facts

    def _activation(
        self, normalized: dict[str, Any], requested: date | None, facts: DateFacts
    ) -> None:
        """Activation time and zone are checked on their own; the window needs a valid date too."""
        tz = str(self.data.get("time_zone") or self.default_time_zone)
        activation: time | None = None
        usable = True
        if self.data.get("activation_time") not in (None, ""):
            activation = _parse_time(self.data["activation_time"])
            if activation is None:
                usable = False
                self.sink.error(
                    "invalid_time",
                    "activation_time",
                    f"activation_time '{shorten(self.data['activation_time'], 40)}' "
                    "is not a time: write it as HH:MM in 24-hour local time, e.g. 10:00",
                )
            else:
                normalized["activation_time"] = activation
        try:
            local = zone(tz)
        except ValueError as exc:
            self.sink.error("invalid_time_zone", "time_zone", str(exc))
            return
        if not usable or requested is None:
            return
        at = self.calendar.activation_datetime(requested, activation, tz)
        facts.activation_at, facts.time_zone = at, tz
        if self.calendar.in_maintenance_window(at):
            mountain = at.astimezone(zone(self.calendar.maintenance_tz))
            start, end = self.calendar.maintenance_window(mountain.year, mountain.month)
            shown = activation or self.calendar.default_activation_time
            which = "activation_time" if activation else "the default activation time"
            self.sink.error(
                "maintenance_window",
                "activation_time" if activation else "requested_port_date",
                f"{which} {shown:%H:%M} {tz} on {_day(requested)} falls inside the monthly maintenance "
                f"window ({start.astimezone(local):%a %H:%M} to {end.astimezone(local):%a %H:%M} {tz}; "
                f"third Friday 22:00-04:00 {self.calendar.maintenance_tz}): activate before "
                f"{start.astimezone(local):%H:%M} {tz} or pick another date",
            )
