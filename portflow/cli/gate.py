"""``starter.py gate ...`` and ``starter.py temp-numbers add``: the go-live gate of a port
(issue 17) and the temporary numbers calls are forwarded to while it is pending.

    python starter.py gate show PR-2026-0042
    python starter.py gate done PR-2026-0042 users_trained --by ipm@example.com --note "3 sessions, 41 agents"
    python starter.py gate change-window PR-2026-0042 --from "2027-01-15 18:00" --to "22:00" \\
        --tz America/Denver --approved-by "CAB (CR-2211)"
    python starter.py gate rollback PR-2026-0042 --plan https://wiki.example/rollback/acme
    python starter.py temp-numbers add PR-2026-0042 +13035550188

Exit codes as the port commands: 0 done; 1 refused (the message says what to fix); 2 the
server cannot be reached. Light at import: the client and models load when a command runs.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from portflow.cli.common import By, actor, done, fail, run

app = typer.Typer(help="The go-live gate of a port: show, done, change-window, rollback",
                  no_args_is_help=True, add_completion=False)
temp_app = typer.Typer(help="Temporary numbers calls are forwarded to while a port is pending",
                       no_args_is_help=True, add_completion=False)
Req = Annotated[str, typer.Argument(metavar="REQ", help="Request id, e.g. PR-2026-0042")]


def _pre(check):  # noqa: ANN001, ANN202 - a parser from gate_actions; its CliError ends the command
    from portflow.cli.errors import CliError

    try:
        return check()
    except CliError as err:
        fail(err.message)


def _show(view) -> None:  # noqa: ANN001
    from portflow.cli import render
    from portflow.cli.gate_render import gate_block

    out = render.console()
    out.print(gate_block(view))
    out.print(render.next_line(view.next))


@app.command("show")
def show(port_id: Req, json_output: Annotated[bool, typer.Option("--json", help="The checklist as JSON")] = False) -> None:
    """The checklist: each item, who did it when, the change window, what holds activation."""
    from portflow.cli import gate_actions

    _pre(lambda: gate_actions.request_id_of(port_id))
    view = run(lambda c: gate_actions.cmd_gate_show(c, port_id))
    if json_output:
        import json
        import sys

        held = {o.order_id: o.gate_problems for o in view.orders}
        sys.stdout.write(json.dumps({"request_id": view.request_id, "go_live": view.go_live.model_dump(mode="json"),
                                     "temporary_numbers": view.temporary_numbers, "held": held}, indent=2) + "\n")
        return
    _show(view)


@app.command("done")
def done_item(
    port_id: Req,
    item: Annotated[str, typer.Argument(help="An item id, e.g. users_trained (see `gate show`)")],
    note: Annotated[str, typer.Option("--note", help="What was done: evidence, a link")] = "",
    by: By = None,
) -> None:
    """Record a checklist item done (who, when, note)."""
    from portflow.cli import gate_actions

    _, name = _pre(lambda: (gate_actions.request_id_of(port_id), gate_actions.parse_item(item)))
    view = run(lambda c: gate_actions.cmd_gate_done(c, port_id, name, actor=actor(by), note=note))
    done(f"{view.request_id}: {name} done · {view.go_live.summary() if view.go_live else ''}")


@app.command("change-window")
def change_window(
    port_id: Req,
    start: Annotated[str, typer.Option("--from", metavar="'YYYY-MM-DD HH:MM'", help="Start of the approved window")],
    end: Annotated[str, typer.Option("--to", metavar="'[YYYY-MM-DD ]HH:MM'", help="End of the approved window")],
    tz: Annotated[str, typer.Option("--tz", help="The zone the board approved it in, e.g. America/Denver")],
    approved_by: Annotated[str, typer.Option("--approved-by", help="Who approved: the change board, a name, a CR id")],
    ref: Annotated[str, typer.Option("--ref", help="The change request's id or URL")] = "",
    by: By = None,
) -> None:
    """Record the change board's approved window; it must contain each order's activation time."""
    from portflow.cli import gate_actions

    _pre(lambda: (gate_actions.request_id_of(port_id), gate_actions.parse_window(start, end, tz, approved_by, ref)))
    view = run(lambda c: gate_actions.cmd_gate_window(c, port_id, start=start, end=end, tz=tz,
                                                      approved_by=approved_by, reference=ref, actor=actor(by)))
    w = view.go_live.change_window if view.go_live else None
    done(f"{view.request_id}: change window {w.text() if w else ''} recorded")


@app.command("rollback")
def rollback(
    port_id: Req,
    plan: Annotated[str, typer.Option("--plan", help="The rollback plan: a document reference or a URL")],
    by: By = None,
) -> None:
    """Name the rollback plan."""
    from portflow.cli import gate_actions

    _pre(lambda: gate_actions.request_id_of(port_id))
    view = run(lambda c: gate_actions.cmd_gate_rollback(c, port_id, plan=plan, actor=actor(by)))
    done(f"{view.request_id}: rollback plan {view.go_live.rollback_plan if view.go_live else ''}")


@temp_app.command("add")
def temp_add(
    port_id: Req,
    numbers: Annotated[list[str], typer.Argument(metavar="TN...", help="Temporary DIDs, e.g. +13035550188")],
    by: By = None,
) -> None:
    """Record temporary numbers the customer forwards calls to while the port is pending."""
    from portflow.cli import gate_actions, render

    _pre(lambda: (gate_actions.request_id_of(port_id), gate_actions.parse_temp_numbers(numbers)))
    view = run(lambda c: gate_actions.cmd_temp_numbers_add(c, port_id, numbers, actor=actor(by)))
    done(f"{view.request_id}: {len(view.temporary_numbers)} temporary number(s) recorded")
    render.console().print(Text("the completion mail reminds the customer to remove the forwarding"))


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="gate")
    main.add_typer(temp_app, name="temp-numbers")
    if main.registered_callback is None:  # keep subcommands even if this were the only group
        main.callback()(_group)


def _group() -> None:
    """portflow: number-porting workflows on Temporal."""
