"""``starter.py status``, ``list`` and ``watch``: reading where ports stand.

``status`` queries the workflows (the source of truth) and prints the page of
``portflow.cli.render``; ``list`` asks Temporal's visibility store through the search
attributes; ``watch`` refreshes the status page every second until the port ends.

Light at import, like every command group: each command imports what it needs when it runs.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from portflow.cli.common import done, fail, limited, parse_date, run
from portflow.cli.errors import CliError, parse_id

if TYPE_CHECKING:
    from portflow.cli.actions import StatusPage


def _check_id(port_id: str) -> None:
    try:
        parse_id(port_id)
    except CliError as err:
        fail(err.message)


def status(
    port_id: Annotated[str, typer.Argument(metavar="ID", help="Request id (PR-2026-0042) or order id (PR-2026-0042-1)")],
    json_output: Annotated[bool, typer.Option("--json", help="Print the status as JSON for machines")] = False,
) -> None:
    """Where a port stands: stage, what it waits for and from whom, until when, and its history."""
    from portflow.cli import actions, render

    _check_id(port_id)
    page = run(lambda c: actions.cmd_status(c, port_id))
    if json_output:
        sys.stdout.write(json.dumps(page.to_json(), indent=2) + "\n")
        return
    out = render.console()
    out.print(render.status_page(page, width=out.width))
    if page.request is not None:
        from portflow.cli.links import customer_link_line

        try:
            out.print(customer_link_line(page.request.request_id), soft_wrap=True)
        except Exception as exc:  # noqa: BLE001 - the status stands without the link
            out.print(f"customer page: no link ({exc})")


def list_ports(
    status_: Annotated[str | None, typer.Option("--status", metavar="STATUS",
                                                   help="A stage, e.g. foc_confirmed or exception")] = None,
    carrier: Annotated[str | None, typer.Option("--carrier", help="A losing carrier, as written in the request")] = None,
    customer: Annotated[str | None, typer.Option("--customer", help="The customer's name, exactly")] = None,
    port_date_before: Annotated[str | None, typer.Option("--port-date-before", metavar="YYYY-MM-DD",
                                                            help="Port date before this day")] = None,
    port_date_after: Annotated[str | None, typer.Option("--port-date-after", metavar="YYYY-MM-DD",
                                                           help="Port date after this day")] = None,
    waiting_on: Annotated[str | None, typer.Option("--waiting-on", metavar="WHO",
                                                      help="customer, signer, pm, carrier, ops or nobody")] = None,
    escalated: Annotated[bool, typer.Option("--escalated", help="Only ports with an escalation")] = False,
    orders: Annotated[bool, typer.Option("--orders", help="List port orders instead of requests")] = False,
    running: Annotated[bool, typer.Option("--running", help="Only ports still in flight")] = False,
    limit: Annotated[int, typer.Option("--limit", help="At most this many")] = 50,
) -> None:
    """Ports by stage, carrier, port date, who they wait on (a visibility query)."""
    from portflow.cli import render
    from portflow.cli.listing import ListFilter, build_query, cmd_list

    carrier, customer = limited(carrier, "--carrier", 200), limited(customer, "--customer", 200)
    f = ListFilter(status=status_, carrier=carrier, customer=customer,
                   port_date_before=parse_date(port_date_before, "--port-date-before"),
                   port_date_after=parse_date(port_date_after, "--port-date-after"),
                   waiting_on=waiting_on, escalated=escalated, orders=orders, running=running)
    try:
        query = build_query(f)
    except CliError as err:
        fail(err.message)
    rows = run(lambda c: cmd_list(c, f, limit=limit))
    render.console().print(render.list_table(rows, query))


def watch(
    port_id: Annotated[str, typer.Argument(metavar="ID", help="Request id or order id")],
    interval: Annotated[float, typer.Option("--interval", min=0.2, help="Seconds between refreshes")] = 1.0,
) -> None:
    """Follow a port live until it ends (exit 0 completed or cancelled, 1 failed)."""
    from rich.live import Live

    from models.status import PortStatus
    from portflow.cli import actions, render

    _check_id(port_id)
    out = render.console()
    if out.is_terminal:
        with Live(console=out, refresh_per_second=4, transient=False) as live:
            page = run(lambda c: actions.cmd_watch(c, port_id, lambda p: live.update(render.watch_page(p, width=out.width)),
                                                   interval=interval))
    else:  # piped: a line whenever the stage or the next step changes
        seen: list[str] = []

        def show(p: StatusPage) -> None:
            view = p.request or p.order
            assert view is not None
            line = f"{view.status.value} · next: {view.next.what} · waiting on {view.next.waiting_on.value}"
            if not seen or seen[-1] != line:
                seen.append(line)
                out.print(f"{p.target}: {line}")

        page = run(lambda c: actions.cmd_watch(c, port_id, show, interval=interval))
        out.print(render.status_page(page, width=out.width))
    final = (page.request or page.order).status  # type: ignore[union-attr]
    if final == PortStatus.FAILED:
        out.print(Text(f"{page.target} failed", style="bold red"))
        raise typer.Exit(1)
    done(f"{page.target} {final.value}")
