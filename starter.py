"""portflow's command line: check, start and steer ports.

    python starter.py check examples/good-request.yaml
    python starter.py start examples/good-request.yaml
    python starter.py status PR-2026-0042
    python starter.py project start examples/project.yaml

Each group of commands lives in ``portflow/cli/``; this file only assembles them.
"""

from __future__ import annotations

import typer

from portflow.cli import apikeys, cases, check, deploy, gate, links, ports, projects, schedules, setup, webhooks

app = typer.Typer(help="portflow: number-porting workflows on Temporal", no_args_is_help=True, add_completion=False)

# Command modules register themselves on `app` with `register(app)`.
for _module in (check, ports, schedules, deploy, setup, links, apikeys, gate, cases, projects, webhooks):
    _module.register(app)


if __name__ == "__main__":
    app()
