"""The port-date calendar for workflows (holidays and time zones cannot run in the sandbox)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from temporalio import activity

from core.calendar import PortCalendar, zone
from models.golive import GatePlan, GatePlanInput
from models.workflow import PlanDatesInput, PortPlan


@activity.defn(name="plan_dates")
def plan_dates(inp: PlanDatesInput) -> PortPlan:
    """Due date for documents, activation instant and assignment reminders of a port date."""
    cal = PortCalendar.from_settings()
    cal.lead_days = inp.lead_time_days
    tz = zone(inp.time_zone)
    if inp.foc_at is not None:
        port_date = inp.foc_at.astimezone(tz).date()
        activation_at = inp.foc_at.astimezone(UTC)
    else:
        port_date = inp.requested_port_date
        activation_at = cal.activation_datetime(port_date, inp.activation_time, inp.time_zone)
    due_day = cal.documents_due(port_date)
    # documents are due by the end of the due day, in the customer's time zone
    documents_due_at = datetime.combine(due_day + timedelta(days=1), time(0, 0), tz).astimezone(UTC)
    complete = inp.documents_complete_at or inp.now
    earliest = cal.earliest_port_date(complete)
    problems = []
    if not cal.is_business_day(port_date):
        problems.append(f"{port_date} is not a business day ({cal.holiday_name(port_date) or 'weekend'})")
    if port_date < earliest:
        problems.append(f"{port_date} is closer than {inp.lead_time_days} days; earliest is {earliest}")
    in_window = cal.in_maintenance_window(activation_at)
    if in_window:
        problems.append(f"activation {activation_at:%Y-%m-%d %H:%M} UTC falls in the maintenance window")
    reminders = []
    reminder_days = [3, 1]
    for days in reminder_days:
        day = cal.subtract_business_days(port_date, days)
        reminders.append(datetime.combine(day, time(9, 0), tz).astimezone(UTC))
    return PortPlan(
        port_date=port_date,
        port_date_ok=not problems,
        earliest_port_date=earliest,
        documents_due_at=documents_due_at,
        activation_at=activation_at,
        assign_reminders_at=reminders,
        assign_reminder_days=reminder_days,
        business_days_left=max(0, cal.business_days_between(inp.now.astimezone(tz).date(), port_date)),
        in_maintenance_window=in_window,
        problems=problems,
    )


@activity.defn(name="gate_plan")
def gate_plan(inp: GatePlanInput) -> GatePlan:
    """When to warn that a port's go-live gate is not ready (09:00 local, N business days
    before the FOC) and the port date a SUP2 asks for then (M business days after the FOC)."""
    cal = PortCalendar.from_settings()
    tz = zone(inp.time_zone)
    foc_day = inp.foc_at.astimezone(tz).date()
    warn_day = cal.subtract_business_days(foc_day, inp.warn_business_days)
    guard_starts = inp.foc_at - timedelta(hours=inp.guard_hours)
    warn_at = datetime.combine(warn_day, time(9, 0), tz)
    for _ in range(30):  # a SUP2 must still be allowed when the warning comes: before the FOC guard
        if inp.guard_hours <= 0 or warn_at < guard_starts:
            break
        warn_day = cal.previous_business_day(warn_day, include_today=False)
        warn_at = datetime.combine(warn_day, time(9, 0), tz)
    return GatePlan(foc_at=inp.foc_at, warn_at=warn_at.astimezone(UTC),
                    slip_date=cal.add_business_days(foc_day, inp.slip_business_days))
