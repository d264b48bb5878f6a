"""When a case's next target falls: P1/P2 count every hour (plain UTC arithmetic here), P3/P4
count business hours on the port calendar (holidays, weekends, nights), which needs time
zones, so an activity computes them (``activities/support.py``) and history keeps the answer."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.support import TARGETS, CaseDueInput, Priority
    from workflows.common import LOCAL, act

# seed 003: a case waiting on a customer who does not answer for two business days closes
NO_ANSWER_DAYS = 2


async def business(start: datetime, tz: str, *, hours: timedelta = timedelta(0), days: int = 0) -> datetime:
    """``start`` plus business time (``days`` support days and ``hours``), by the activity."""
    return await act("case_due", CaseDueInput(start=start, hours=hours, days=days, time_zone=tz), datetime,
                     summary=f"business time: {days} day(s) {hours} after {start:%Y-%m-%d %H:%M} UTC", retry=LOCAL)


async def first_response(priority: Priority, opened: datetime, tz: str) -> datetime:
    t = TARGETS[priority]
    if not t.business:
        return opened + t.first_response
    return await business(opened, tz, hours=t.first_response, days=t.first_days)


async def next_update(priority: Priority, since: datetime, tz: str) -> datetime:
    t = TARGETS[priority]
    if not t.business:
        return since + t.update_every
    return await business(since, tz, hours=t.update_every, days=t.update_days)


async def no_answer(since: datetime, tz: str) -> datetime:
    return await business(since, tz, days=NO_ANSWER_DAYS)
