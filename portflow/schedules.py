"""The reminder sweep's Temporal Schedule: one definition, synced from settings.

Every business day at ``PORTFLOW_REMINDER_TIME`` in ``PORTFLOW_REMINDER_TIME_ZONE`` the
schedule starts ``ReminderSweepWorkflow`` (``workflows.reminders``). The calendar fires
Monday to Friday; the sweep itself skips holidays (``core.calendar``), which a
calendar spec cannot know. A run still going when the next is due makes the next one skip
(overlap SKIP); a run missed while the server was down still happens if it is at most
``PORTFLOW_REMINDER_CATCHUP_HOURS`` late.

``sync_schedule`` creates the schedule or brings it in line with the settings, keeping
whether it is paused and its note: the worker calls it at start, ``starter.py schedules
sync`` by hand. It is a real schedule on the server, listed on the UI's Schedules page.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleHandle,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from core.settings import Settings, get_settings
from models.reminders import SweepInput

log = logging.getLogger("portflow.schedules")

SWEEP_WORKFLOW = "ReminderSweepWorkflow"
WEEKDAYS = ScheduleRange(1, 5)  # Monday to Friday (0 is Sunday)
SWEEP_TIMEOUT = timedelta(hours=1)  # a stuck sweep ends before it could block tomorrow's (overlap SKIP)
RECENT_SHOWN = 5


class ScheduleProblem(Exception):
    """Something about the schedule a person must act on; the message says what."""


class SchedulesUnsupported(ScheduleProblem):
    """The server has no schedules (the time-skipping test server, very old servers)."""


class NoSchedule(ScheduleProblem):
    pass


@dataclass(frozen=True)
class SyncResult:
    schedule_id: str
    outcome: str  # created, updated, unchanged
    when: str
    paused: bool
    note: str
    next_runs: list[datetime] = field(default_factory=list)


@dataclass(frozen=True)
class RecentRun:
    scheduled_at: datetime
    started_at: datetime
    workflow_id: str
    status: str  # Running, Completed, Failed, ...


@dataclass(frozen=True)
class ScheduleView:
    schedule_id: str
    when: str
    paused: bool
    note: str
    overlap: str
    catchup_window: timedelta | None
    workflow: str
    task_queue: str
    next_runs: list[datetime]
    recent: list[RecentRun]
    running: list[str]
    actions: int
    missed_catchup: int
    skipped_overlap: int
    ui_url: str


def when_text(settings: Settings) -> str:
    return (f"business days (Mon-Fri, holidays skipped) at {settings.reminder_time.strftime('%H:%M')} "
            f"{settings.reminder_time_zone}")


def ui_url(settings: Settings) -> str:
    return (f"{settings.temporal_ui_url.rstrip('/')}/namespaces/{quote(settings.temporal_namespace, safe='')}"
            f"/schedules/{quote(settings.reminder_schedule_id, safe='')}")


def desired_schedule(settings: Settings) -> Schedule:
    """The schedule the settings ask for (its state is for a new schedule only)."""
    at = settings.reminder_time
    when = when_text(settings)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            SWEEP_WORKFLOW,
            SweepInput(),
            id=settings.reminder_schedule_id,  # the server appends each run's time
            task_queue=settings.temporal_task_queue,
            execution_timeout=SWEEP_TIMEOUT,
            static_summary=f"Reminder sweep: {when}",
        ),
        spec=ScheduleSpec(
            calendars=[ScheduleCalendarSpec(
                second=(ScheduleRange(at.second),), minute=(ScheduleRange(at.minute),), hour=(ScheduleRange(at.hour),),
                day_of_week=(WEEKDAYS,), comment="business days; the sweep skips holidays",
            )],
            time_zone_name=settings.reminder_time_zone,
        ),
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.SKIP,
            catchup_window=timedelta(hours=settings.reminder_catchup_hours),
        ),
        state=ScheduleState(note=f"portflow reminder sweep, {when}"),
    )


def _fingerprint(s: Schedule) -> tuple[Any, ...]:
    """What ``sync`` manages, comparable between the settings and the server."""
    a = s.action
    assert isinstance(a, ScheduleActionStartWorkflow)
    calendars = [(tuple(c.second), tuple(c.minute), tuple(c.hour), tuple(c.day_of_month), tuple(c.month),
                  tuple(c.year), tuple(c.day_of_week)) for c in s.spec.calendars]
    return (a.workflow, a.id, a.task_queue, a.execution_timeout, calendars, s.spec.time_zone_name or None,
            list(s.spec.intervals), list(s.spec.cron_expressions), s.policy.overlap, s.policy.catchup_window)


def _translate(err: RPCError, settings: Settings) -> ScheduleProblem | RPCError:
    sid = settings.reminder_schedule_id
    if err.status == RPCStatusCode.UNIMPLEMENTED:
        return SchedulesUnsupported(
            f"the Temporal server at {settings.temporal_address} has no schedules ({err.message}); use a "
            "Temporal server 1.20 or later (the dev server of `make demo` has them)")
    if err.status == RPCStatusCode.NOT_FOUND:
        return NoSchedule(
            f"no schedule {sid} in namespace {settings.temporal_namespace}: create it with "
            "`python starter.py schedules sync` (the worker does at start)")
    return err


async def _call(settings: Settings, coro: Any) -> Any:
    try:
        return await coro
    except RPCError as err:
        problem = _translate(err, settings)
        if problem is err:
            raise
        raise problem from err


def _handle(client: Client, settings: Settings) -> ScheduleHandle:
    return client.get_schedule_handle(settings.reminder_schedule_id)


async def sync_schedule(client: Client, settings: Settings | None = None) -> SyncResult:
    """Create the schedule, or update it to the settings (idempotent; keeps paused and note)."""
    s = settings or get_settings()
    want = desired_schedule(s)
    handle = _handle(client, s)
    outcome = "created"
    try:
        await _call(s, client.create_schedule(s.reminder_schedule_id, want))
    except ScheduleAlreadyRunningError:
        changed: list[bool] = []

        def updater(inp: ScheduleUpdateInput) -> ScheduleUpdate | None:
            current = inp.description.schedule
            changed[:] = [_fingerprint(current) != _fingerprint(want)]
            return ScheduleUpdate(schedule=replace(want, state=current.state)) if changed[0] else None

        await _call(s, handle.update(updater))
        outcome = "updated" if changed and changed[0] else "unchanged"
    desc = await _call(s, handle.describe())
    state = desc.schedule.state
    return SyncResult(schedule_id=s.reminder_schedule_id, outcome=outcome, when=when_text(s), paused=state.paused,
                      note=state.note or "", next_runs=list(desc.info.next_action_times))


async def sync_at_worker_start(client: Client, settings: Settings | None = None) -> SyncResult | None:
    """``sync_schedule`` for a starting worker: a server without schedules, or one that
    refuses, is a warning (the worker still serves the ports), never a crash."""
    s = settings or get_settings()
    try:
        result = await sync_schedule(client, s)
    except SchedulesUnsupported as exc:
        log.warning("reminder schedule not synced: %s; reminders will not be sent", exc)
        return None
    except RPCError as exc:
        log.warning("reminder schedule %s not synced (%s: %s); run `python starter.py schedules sync` "
                    "when the server accepts it", s.reminder_schedule_id, exc.status.name, exc.message)
        return None
    log.info("reminder schedule %s %s: %s%s", result.schedule_id, result.outcome, result.when,
             f" (paused: {result.note})" if result.paused else "")
    return result


async def pause_schedule(client: Client, note: str, settings: Settings | None = None) -> None:
    s = settings or get_settings()
    await _call(s, _handle(client, s).pause(note=note))


async def unpause_schedule(client: Client, note: str, settings: Settings | None = None) -> None:
    s = settings or get_settings()
    await _call(s, _handle(client, s).unpause(note=note))


async def trigger_schedule(client: Client, settings: Settings | None = None) -> None:
    """Start a sweep now (paused or not); a sweep still running makes it skip (overlap SKIP)."""
    s = settings or get_settings()
    await _call(s, _handle(client, s).trigger())


async def describe_schedule(client: Client, settings: Settings | None = None) -> ScheduleView:
    s = settings or get_settings()
    desc = await _call(s, _handle(client, s).describe())
    sched, info = desc.schedule, desc.info
    action = sched.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    recent_actions = list(info.recent_actions)[-RECENT_SHOWN:]
    statuses = await asyncio.gather(*(_run_status(client, r.action) for r in recent_actions))
    recent = [RecentRun(scheduled_at=r.scheduled_at, started_at=r.started_at,
                        workflow_id=getattr(r.action, "workflow_id", "-"), status=st)
              for r, st in zip(recent_actions, statuses, strict=True)]
    calendars = sched.spec.calendars
    if calendars and sched.spec.time_zone_name:
        c = calendars[0]
        days = "Mon-Fri" if tuple(c.day_of_week) == (WEEKDAYS,) else ",".join(str(r.start) for r in c.day_of_week)
        when = (f"{days} at {c.hour[0].start:02d}:{c.minute[0].start:02d} {sched.spec.time_zone_name}"
                + (" (holidays skipped by the sweep)" if days == "Mon-Fri" else ""))
    else:
        when = "not the reminder calendar: run `python starter.py schedules sync`"
    return ScheduleView(
        schedule_id=desc.id, when=when, paused=sched.state.paused, note=sched.state.note or "",
        overlap=sched.policy.overlap.name, catchup_window=sched.policy.catchup_window, workflow=action.workflow,
        task_queue=action.task_queue, next_runs=list(info.next_action_times), recent=recent,
        running=[getattr(r, "workflow_id", "-") for r in info.running_actions], actions=info.num_actions,
        missed_catchup=info.num_actions_missed_catchup_window, skipped_overlap=info.num_actions_skipped_overlap,
        ui_url=ui_url(s),
    )


async def _run_status(client: Client, action: Any) -> str:
    workflow_id = getattr(action, "workflow_id", None)
    if not workflow_id:
        return "-"
    try:
        desc = await client.get_workflow_handle(workflow_id, run_id=action.first_execution_run_id).describe()
    except RPCError:
        return "unknown"
    return desc.status.name.title().replace("_", " ") if desc.status else "-"
