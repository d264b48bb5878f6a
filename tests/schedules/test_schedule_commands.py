"""``starter.py schedules`` on a dev server: sync keeps a pause, show tells the state, and
a worker starting against a server without schedules only warns."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import ScheduleActionStartWorkflow, ScheduleOverlapPolicy
from temporalio.testing import WorkflowEnvironment

from core.settings import get_settings
from devtools import servers
from models.reminders import SweepInput, SweepResult
from portflow import schedules
from tests.polling import eventually
from tests.schedules.conftest import Sweeps, cli

SATURDAY_NOON_NY = datetime(2026, 3, 21, 16, 0, tzinfo=UTC)


async def test_pause_note_survives_sync_and_unpause_shows_the_next_run(sweeps: Sweeps) -> None:
    handle = sweeps.client.get_schedule_handle(sweeps.schedule_id)
    code, out = await cli("show")
    assert code == 1
    assert f"no schedule {sweeps.schedule_id} in namespace default: create it with `python starter.py schedules sync`" in out

    result = await schedules.sync_schedule(sweeps.client)
    assert result.outcome == "created" and not result.paused
    desc = await handle.describe()
    spec, policy, action = desc.schedule.spec, desc.schedule.policy, desc.schedule.action
    assert spec.time_zone_name == "America/New_York"
    cal = spec.calendars[0]
    assert [r.start for r in cal.hour] == [9] and [r.start for r in cal.minute] == [0]
    assert [(r.start, r.end) for r in cal.day_of_week] == [(1, 5)]
    assert policy.overlap == ScheduleOverlapPolicy.SKIP and policy.catchup_window == timedelta(hours=4)
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert action.workflow == "ReminderSweepWorkflow" and action.task_queue == sweeps.task_queue
    ny = ZoneInfo("America/New_York")
    for nxt in desc.info.next_action_times:
        local = nxt.astimezone(ny)
        assert local.weekday() < 5 and (local.hour, local.minute) == (9, 0)

    code, out = await cli("pause", "--note", "  carrier portal down until Monday ")
    assert code == 0 and f"schedule {sweeps.schedule_id} paused: carrier portal down until Monday" in out
    code, out = await cli("pause", "--note", " ")
    assert code == 1 and "--note says why" in out

    # a new time in the settings: sync updates the calendar, the pause and its note stay
    sweeps.configure(REMINDER_TIME="07:30", REMINDER_CATCHUP_HOURS="2")
    code, out = await cli("sync")
    assert code == 0, out
    assert f"schedule {sweeps.schedule_id} updated: business days (Mon-Fri, holidays skipped) at 07:30" in out
    assert "paused: carrier portal down until Monday (python starter.py schedules unpause)" in out
    desc = await handle.describe()
    assert desc.schedule.state.paused and desc.schedule.state.note == "carrier portal down until Monday"
    assert [r.start for r in desc.schedule.spec.calendars[0].minute] == [30]
    assert desc.schedule.policy.catchup_window == timedelta(hours=2)
    code, out = await cli("show")
    assert code == 0 and "state paused · carrier portal down until Monday" in out
    assert "Mon-Fri at 07:30 America/New_York (holidays skipped by the sweep)" in out
    assert "catch-up window 2 h" in out and "next:" not in out

    code, out = await cli("unpause")
    assert code == 0 and f"schedule {sweeps.schedule_id} active again: Mon-Fri at 07:30 America/New_York" in out
    assert "next sweep: " in out and ":30 E" in out  # EST or EDT, at 07:30 local
    desc = await handle.describe()
    assert not desc.schedule.state.paused and desc.schedule.state.note == f"unpaused by {get_settings().pm_email}"
    code, out = await cli("sync")
    assert code == 0 and "unchanged" in out


async def test_a_trigger_runs_a_sweep_while_paused_and_a_weekend_sweep_sends_nothing(sweeps: Sweeps) -> None:
    sweeps.fix_clock(SATURDAY_NOON_NY)
    await schedules.sync_schedule(sweeps.client)
    await schedules.pause_schedule(sweeps.client, "holiday week")
    async with sweeps.workers():
        code, out = await cli("trigger")
        assert code == 0, out
        desc = await eventually(lambda: schedules.describe_schedule(sweeps.client),
                                lambda v: v.recent and v.recent[-1].status == "Completed", what="the sweep")
    handle = sweeps.client.get_workflow_handle(desc.recent[-1].workflow_id, result_type=SweepResult)
    result = await handle.result()
    assert result.skipped == "2026-03-21 is not a business day in America/New_York (Saturday): no reminders"
    assert result.sent == [] and sweeps.outbox() == []
    assert desc.paused and desc.actions == 1
    # the sweep counted from the run's nominal time, which the schedule gives it
    scheduled = [e.activity_task_scheduled_event_attributes async for e in handle.fetch_history_events()
                 if e.HasField("activity_task_scheduled_event_attributes")]
    assert [a.activity_type.name for a in scheduled] == ["plan_reminders"]
    (payload,) = await sweeps.client.data_converter.decode(scheduled[0].input.payloads, [SweepInput])
    assert payload.scheduled_at == desc.recent[-1].scheduled_at.replace(microsecond=0)  # kept to the second
    code, out = await cli("show")
    assert code == 0 and f"· Completed · {desc.recent[-1].workflow_id}" in out


async def test_worker_start_creates_the_schedule_and_only_warns_without_schedules(
    sweeps: Sweeps, caplog: pytest.LogCaptureFixture
) -> None:
    created = await schedules.sync_at_worker_start(sweeps.client)
    assert created is not None and created.outcome == "created"
    again = await schedules.sync_at_worker_start(sweeps.client)
    assert again is not None and again.outcome == "unchanged"

    caplog.set_level(logging.WARNING, logger="portflow.schedules")
    async with await servers.time_skipping_env() as old:
        assert await schedules.sync_at_worker_start(old.client) is None
        with pytest.raises(schedules.SchedulesUnsupported, match="has no schedules"):
            await schedules.trigger_schedule(old.client)
    assert "reminder schedule not synced" in caplog.text and "has no schedules" in caplog.text
