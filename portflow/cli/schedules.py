"""``starter.py schedules ...``: the reminder sweep's Temporal Schedule.

    python starter.py schedules sync                      # create or update it from the settings
    python starter.py schedules show                      # when, paused or not, next and recent runs
    python starter.py schedules trigger                   # a sweep now
    python starter.py schedules pause --note "why"        # no sweeps until unpaused
    python starter.py schedules unpause

Exit codes as the port commands: 0 done; 1 refused (no such schedule, no schedules on the
server, an empty note); 2 the server cannot be reached.

Light at import (``starter.py --help`` loads it): ``portflow.schedules`` and the Temporal
client are imported when a command runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from portflow.cli.common import console, done, fail, run

if TYPE_CHECKING:
    from portflow.schedules import ScheduleView

app = typer.Typer(help="The reminder sweep's Temporal Schedule: sync, show, trigger, pause, unpause",
                  no_args_is_help=True, add_completion=False)


def _run(work):  # noqa: ANN001, ANN202 - same contract as portflow.cli.common.run
    from portflow import schedules

    return run(work, refusals=(schedules.ScheduleProblem,))


def _local(at: datetime) -> str:
    from zoneinfo import ZoneInfo

    from core.settings import get_settings

    tz = ZoneInfo(get_settings().reminder_time_zone)
    return f"{at.astimezone(tz):%a %Y-%m-%d %H:%M %Z} ({at:%H:%M} UTC)"


def _note(value: str, option: str) -> str:
    text = " ".join(value.split())
    if len(text) < 3:
        fail(f"{option} says why, for whoever looks at the schedule next (at least 3 characters), "
             'e.g. --note "carrier portal down until Monday"')
    return text


@app.command("sync")
def sync() -> None:
    """Create the schedule, or update it to the PORTFLOW_REMINDER_* settings (keeps pause and note)."""
    from core.settings import get_settings
    from portflow import schedules

    result = _run(schedules.sync_schedule)
    done(f"schedule {result.schedule_id} {result.outcome}: {result.when}")
    out = console()
    if result.paused:
        out.print(Text(f"paused: {result.note} (python starter.py schedules unpause)", style="yellow"))
    elif result.next_runs:
        out.print(f"next sweep: {_local(result.next_runs[0])}")
    out.print(f"Temporal UI: {schedules.ui_url(get_settings())}")


@app.command("show")
def show() -> None:
    """When the sweep runs, whether it is paused, its next and last runs."""
    from portflow import schedules

    view = _run(schedules.describe_schedule)
    out = console()
    out.print(Text(f"{view.schedule_id} · {view.when}", style="bold"))
    state = Text("paused", style="bold yellow") if view.paused else Text("active", style="bold green")
    out.print(Text("state ").append_text(state).append(f" · {view.note}" if view.note else ""))
    catchup = f"{view.catchup_window.total_seconds() / 3600:g} h" if view.catchup_window else "server default"
    out.print(f"runs {view.workflow} on task queue {view.task_queue} · overlap {view.overlap} · catch-up window {catchup}")
    out.print(f"actions taken {view.actions} · skipped (overlap) {view.skipped_overlap} · "
              f"missed (catch-up window) {view.missed_catchup}")
    if view.next_runs and not view.paused:
        out.print("next: " + "; ".join(_local(t) for t in view.next_runs[:3]))
    for wid in view.running:
        out.print(f"running now: {wid}")
    if view.recent:
        out.print("recent runs:")
        for r in reversed(view.recent):
            out.print(f"  {_local(r.scheduled_at)} · {r.status} · {r.workflow_id}")
    out.print(f"Temporal UI: {view.ui_url}")


@app.command("trigger")
def trigger() -> None:
    """Run a sweep now (even while paused); nothing is sent twice the same day."""
    from core.settings import get_settings
    from portflow import schedules

    _run(schedules.trigger_schedule)
    sid = get_settings().reminder_schedule_id
    done(f"schedule {sid} triggered: a reminder sweep starts now")
    console().print("see it with `python starter.py schedules show` or in the Temporal UI: "
                           f"{schedules.ui_url(get_settings())}")


@app.command("pause")
def pause(
    note: Annotated[str, typer.Option("--note", help="Why, for whoever looks at the schedule next")],
) -> None:
    """Stop the daily sweeps until `unpause` (a trigger still runs one)."""
    from core.settings import get_settings
    from portflow import schedules

    text = _note(note, "--note")
    _run(lambda c: schedules.pause_schedule(c, text))
    done(f"schedule {get_settings().reminder_schedule_id} paused: {text}")


@app.command("unpause")
def unpause(
    note: Annotated[str, typer.Option("--note", help="Why (default: 'unpaused by <PORTFLOW_PM_EMAIL>')")] = "",
) -> None:
    """Resume the daily sweeps."""
    from core.settings import get_settings

    text = _note(note, "--note") if note else f"unpaused by {get_settings().pm_email}"
    view = _run(lambda c: _unpause_and_show(c, text))
    done(f"schedule {view.schedule_id} active again: {view.when}")
    if view.next_runs:
        console().print(f"next sweep: {_local(view.next_runs[0])}")


async def _unpause_and_show(client, note: str) -> ScheduleView:  # noqa: ANN001
    from portflow import schedules

    await schedules.unpause_schedule(client, note)
    return await schedules.describe_schedule(client)


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="schedules")
    if main.registered_callback is None:  # keep subcommands even if this were the only group
        main.callback()(_group)


def _group() -> None:
    """portflow: number-porting workflows on Temporal."""
