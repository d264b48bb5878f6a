"""Support cases' side of the calendar and of Temporal: business-hours targets and the
maintenance window (time zones, so not in the workflow), and opening a case from a port
order idempotently (one case per order and trigger)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from core.calendar import PortCalendar, zone
from core.settings import get_settings
from models.support import CaseDueInput, CaseInput, MaintenanceAnswer, MaintenanceCheck, OpenCaseResult

CASE_WORKFLOW = "SupportCaseWorkflow"


def support_day() -> timedelta:
    s = get_settings()
    return datetime.combine(datetime.min, s.support_hours_end) - datetime.combine(datetime.min, s.support_hours_start)


def due(inp: CaseDueInput, cal: PortCalendar | None = None) -> datetime:
    """``inp.start`` plus ``inp.days`` support days and ``inp.hours`` of business time, in UTC."""
    s = get_settings()
    cal = cal or PortCalendar.from_settings(s)
    return cal.add_business_hours(inp.start, inp.hours + inp.days * support_day(), inp.time_zone,
                                  s.support_hours_start, s.support_hours_end)


@activity.defn(name="case_due")
def case_due(inp: CaseDueInput) -> datetime:
    return due(inp)


def maintenance(at: datetime, cal: PortCalendar | None = None) -> MaintenanceAnswer:
    """Whether ``at`` falls in the monthly maintenance window (``core.calendar``'s, the only
    copy), with that window, or the next one when ``at`` is not inside one."""
    cal = cal or PortCalendar.from_settings()
    local = at.astimezone(zone(cal.maintenance_tz))
    start, end = cal.maintenance_window(local.year, local.month)
    if at >= end:  # this month's window is over: the next one is the one to avoid
        year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
        start, end = cal.maintenance_window(year, month)
    return MaintenanceAnswer(in_window=cal.in_maintenance_window(at), window_start=start, window_end=end)


@activity.defn(name="case_maintenance_check")
def case_maintenance_check(inp: MaintenanceCheck) -> MaintenanceAnswer:
    return maintenance(inp.at.astimezone(UTC))


@activity.defn(name="open_support_case")
async def open_support_case(inp: CaseInput) -> OpenCaseResult:
    """Start the case's workflow under its deterministic id, once: a retry, a second trigger of
    the same kind on the same order, or a case closed already all find the existing case
    (looked up first, and USE_EXISTING / REJECT_DUPLICATE on the start for a race)."""
    s = get_settings()  # the case's settings are the worker's, not the order's
    inp = inp.model_copy(update={"reopen_days": s.case_reopen_days, "support_timezone": s.support_timezone,
                                 "continue_after_events": s.case_continue_after_events})
    client = activity.client()
    try:  # raw describe: nothing to decode, the answer is whether it exists
        await client.workflow_service.describe_workflow_execution(DescribeWorkflowExecutionRequest(
            namespace=client.namespace, execution=WorkflowExecution(workflow_id=inp.case_id)))
        return OpenCaseResult(case_id=inp.case_id, started=False)  # running or closed: that case
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
    try:
        await client.start_workflow(CASE_WORKFLOW, inp, id=inp.case_id, task_queue=activity.info().task_queue,
                                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                                    # no free text: a note may hold a number, and the summary is shown in clear
                                    static_summary=f"{inp.priority.value} support case"
                                    + (f" for port order {inp.order_id}" if inp.order_id else ""))
    except WorkflowAlreadyStartedError:
        return OpenCaseResult(case_id=inp.case_id, started=False)
    return OpenCaseResult(case_id=inp.case_id, started=True)
