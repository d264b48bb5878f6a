"""Port dates for test requests: the first business day (the settings' porting calendar)
at least so many days ahead.

``port_date_ahead`` counts from the wall clock; ``port_date_in`` from a time-skipping test
server's clock, which is what a workflow test needs once a test (or an earlier one on the
same server) skipped weeks: a date from the wall clock would lie in the workflow's past.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from temporalio.testing import WorkflowEnvironment

from core.calendar import PortCalendar


def port_date_ahead(days: int = 30, *, today: date | None = None) -> date:
    """The first business day at least ``days`` after ``today`` (the wall clock's by default)."""
    start = today if today is not None else datetime.now(UTC).date()
    return PortCalendar.from_settings().next_business_day(start + timedelta(days=days))


async def port_date_in(env: WorkflowEnvironment, days: int) -> date:
    """The first business day at least ``days`` after today on the test server's clock."""
    return port_date_ahead(days, today=(await env.get_current_time()).date())
