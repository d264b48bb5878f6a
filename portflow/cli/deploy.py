"""``starter.py deploy ...`` and ``starter.py replay``: upgrading the worker (docs/upgrades.md).

    python starter.py replay                          # replay every port in flight on this tree's code
    python starter.py replay --query "PortStatus = 'exception'"
    python starter.py deploy status                   # current and ramping builds, every version
    python starter.py deploy ramp 10                  # 10% of new ports to this tree's build
    python starter.py deploy current                  # this tree's build takes every port

The build is ``PORTFLOW_WORKER_BUILD_ID`` (or ``portflow-<package version>``) of Worker
Deployment ``PORTFLOW_WORKER_DEPLOYMENT_NAME``, unless ``--build-id`` names another.

Exit codes as the port commands: 0 done; 1 refused (no such build, a port would break on
replay); 2 the server cannot be reached.

Light at import (``starter.py --help`` loads it): the client, the workflows and the
replayer are imported when a command runs.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from portflow.cli.common import console, done, fail, run
from portflow.cli.errors import CliError

app = typer.Typer(help="Worker Deployment versions: status, ramp a build, make it current",
                  no_args_is_help=True, add_completion=False)

BuildId = Annotated[str | None, typer.Option("--build-id", help="The build (default: PORTFLOW_WORKER_BUILD_ID, "
                                                                "or portflow-<package version>)")]


def _run(work):  # noqa: ANN001, ANN202 - same contract as portflow.cli.common.run
    from portflow import deploy

    return run(work, refusals=(deploy.DeployProblem,))


@app.command("status")
def status() -> None:
    """The deployment's current and ramping builds and every version the server knows."""
    from core.settings import get_settings
    from portflow import deploy

    view = _run(deploy.describe)
    mine = deploy.this_build_id()
    out = console()
    out.print(Text(f"Worker Deployment {view.name} on {get_settings().temporal_address}", style="bold"))
    out.print(f"current: {view.current or 'none (unversioned workers take new ports)'}")
    if view.ramping:
        out.print(f"ramping: {view.ramping} at {view.ramp_percent:g}%")
    if view.propagating:
        out.print("the last change is still reaching the task queues (seconds)")
    for row in view.versions:
        created = f"{row.created:%Y-%m-%d %H:%M} UTC" if row.created else "-"
        out.print(f"  {row.build_id:<32} {row.status:<9} created {created}" + ("  <- this tree" if row.build_id == mine else ""))
    if mine not in (v.build_id for v in view.versions):
        out.print(f"this tree's build {mine} has no worker on the server yet (start `python worker.py`)")


@app.command("current")
def current(build_id: BuildId = None) -> None:
    """Make the build current: new ports start on it, ports in flight move to it at their next task."""
    from portflow import deploy

    build = build_id or deploy.this_build_id()
    before = _run(lambda c: deploy.set_current(c, build))
    done(f"build {build} is current (was {before or 'unversioned'})")


@app.command("ramp")
def ramp(
    percent: Annotated[float, typer.Argument(help="Share of new ports for the build, 0 to 100")],
    build_id: BuildId = None,
) -> None:
    """Send PERCENT of new ports (and of in-flight ports at their next task) to the build."""
    from portflow import deploy

    if not 0 <= percent <= 100:
        fail(f"ramp to {percent:g}%: give a percentage from 0 to 100, e.g. `starter.py deploy ramp 10`")
    build = build_id or deploy.this_build_id()
    _run(lambda c: deploy.set_ramping(c, percent, build))
    done(f"build {build} ramping at {percent:g}%; `starter.py deploy current` once it looks right")


def replay(
    query: Annotated[str | None, typer.Option("--query", help="A visibility query (default: every running "
                                                                "PortRequestWorkflow and PortOrderWorkflow)")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Replay at most this many")] = None,
) -> None:
    """Replay the ports in flight on this tree's workflow code: exit 1 when any would break."""
    from portflow import replay as replaying

    q = query if query is not None else replaying.IN_FLIGHT
    if not q.strip():
        fail('--query is empty: give a visibility query, e.g. --query "PortStatus = \'exception\'"')
    async def work(client):  # noqa: ANN001, ANN202
        from temporalio.service import RPCError, RPCStatusCode

        from portflow.cli.errors import translate

        try:
            return await replaying.replay_in_flight(client, q, limit=limit)
        except RPCError as err:
            if err.status == RPCStatusCode.INVALID_ARGUMENT:
                raise CliError(f"the server refused the query {q!r}: {err.message}; fix it (the README's "
                               "'Finding ports' lists working ones)") from err
            raise translate(err, "replay") from err

    report = _run(work)
    out = console()
    out.print(f"query: {q}")
    for r in report.broken:
        out.print(Text(f"BREAKS {r.workflow_id} ({r.workflow_type}, run {r.run_id}): ", style="bold red")
                  .append(r.error, style="red"))
    if not report.results:
        done("no workflow matches the query: nothing to replay")
    elif report.broken:
        fail(f"{len(report.broken)} of {len(report.results)} workflows would break on this code: put the change "
             "behind workflow.patched(...) (docs/upgrades.md) and replay again")
    else:
        n = len(report.results)
        done(f"all {n} workflows replay on this code" if n > 1 else "the 1 workflow replays on this code")


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="deploy")
    main.command("replay")(replay)
