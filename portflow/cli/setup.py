"""``starter.py setup``: a fresh namespace made ready for portflow (idempotent).

    python starter.py setup            # database schema, search attributes, reminder schedule
    python starter.py setup --no-migrate

Exit codes as the other commands: 0 ready; 1 something only a person can do (a missing
namespace, a search attribute of the wrong type, Temporal Cloud's search attributes: the exact
``tcld`` command is printed); 2 the server cannot be reached. Deploy images run it as their
``setup`` command (deploy/compose, deploy/k8s). Light at import: the work is in ``portflow.setup``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from portflow.cli.common import console, done, run
from portflow.cli.errors import CliError


def setup(
    migrate: Annotated[bool, typer.Option("--migrate/--no-migrate", help="Bring portflow's database schema up to date")] = True,
) -> None:
    """Make the namespace ready: database schema, search attributes, reminder schedule (safe to re-run)."""
    from core.settings import get_settings
    from portflow import setup as steps

    s = get_settings()

    async def work(client):  # noqa: ANN001, ANN202
        try:
            return await steps.setup(client, s, migrate_db=migrate)
        except steps.SetupProblem as problem:
            raise CliError(str(problem)) from problem

    report = run(work)
    out = console()
    where = f"namespace {s.temporal_namespace} on {s.temporal_address}"
    if migrate:
        out.print("database: schema up to date")
    if report.added:
        out.print(f"search attributes: added {', '.join(report.added)}"
                  + (f"; {len(report.present)} already there" if report.present else ""))
    elif not report.missing_on_cloud:
        out.print(f"search attributes: all {len(report.present)} already there")
    out.print(report.schedule)
    if report.missing_on_cloud:
        err = console(stderr=True)
        err.print(Text(f"error: {where}: Temporal Cloud's API does not add search attributes; add these "
                       f"{len(report.missing_on_cloud)} with Cloud's tools (or in the Cloud UI: Namespaces -> "
                       f"{s.temporal_namespace} -> Search attributes), then run setup again:", style="bold red"))
        err.print(report.cloud_command, soft_wrap=True)
        raise typer.Exit(1)
    done(f"{where} is ready for portflow")


def register(main: typer.Typer) -> None:
    main.command("setup")(setup)
