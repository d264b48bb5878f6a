"""The implementation project's calendar: due dates and reminder times as instants (time zones
and holidays cannot run in the workflow sandbox)."""

from __future__ import annotations

from datetime import UTC, datetime, time

from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.calendar import PortCalendar, zone
from models.project import PlanProjectInput, ProjectPlan

DUE_TIME = time(17, 0)  # a milestone is late after the close of business of its due day
REMIND_TIME = time(9, 0)


@activity.defn(name="plan_project")
def plan_project(inp: PlanProjectInput) -> ProjectPlan:
    """Each task is due at 17:00 on its due date in the project's time zone; its reminder goes
    ``reminder_days`` business days before, at 09:00 (none when ``reminder_days`` is 0)."""
    cal = PortCalendar.from_settings()
    try:
        tz = zone(inp.time_zone)
    except ValueError as exc:  # the project file's reader refuses it first; a retry cannot fix it
        raise ApplicationError(str(exc), type="BadTimeZone", non_retryable=True) from None
    due_at: dict[str, datetime] = {}
    remind_at: dict[str, datetime | None] = {}
    for task, day in inp.dues.items():
        due_at[task] = datetime.combine(day, DUE_TIME, tz).astimezone(UTC)
        if inp.reminder_days <= 0:
            remind_at[task] = None
            continue
        remind_day = cal.subtract_business_days(day, inp.reminder_days)
        remind_at[task] = datetime.combine(remind_day, REMIND_TIME, tz).astimezone(UTC)
    return ProjectPlan(due_at=due_at, remind_at=remind_at)
