"""``starter.py link show|revoke``: the customer's link to a request's self-service page.

    python starter.py link show PR-2026-0042      # a fresh link (valid PORTFLOW_CUSTOMER_LINK_DAYS)
    python starter.py link revoke PR-2026-0042    # every link issued so far stops working

Links are signed, not stored (store/customer_links.py): ``show`` issues a new one each time
(the ones mailed before keep working until they expire), ``revoke`` voids all of them at once.
Both read the database only; Temporal need not be reachable.
"""

from __future__ import annotations

from typing import Annotated

import typer

from portflow.cli.common import By, actor, console, done, fail
from portflow.cli.errors import CliError, parse_id

app = typer.Typer(help="The customer's link to a port's self-service page: show a fresh one, revoke them all",
                  no_args_is_help=True)

RequestArg = Annotated[str, typer.Argument(metavar="REQUEST", help="Request id, e.g. PR-2026-0042")]


def _known_request(port_id: str) -> str:
    try:
        request_id, order_id = parse_id(port_id)
    except CliError as err:
        fail(err.message)
    if order_id is not None:
        fail(f"{order_id} is an order; a customer link belongs to its request: use {request_id}")
    from store.db import ensure_migrated, session_scope
    from store.requests import get_request

    ensure_migrated()
    with session_scope() as s:
        if get_request(session=s, request_id=request_id) is None:
            fail(f"no port {request_id} in this database: check the id with `python starter.py list`")
    return request_id


def customer_link_line(request_id: str) -> str:
    """``customer page: <url> (valid until ...)``, as ``status`` and ``link show`` print it."""
    from store import customer_links

    url = customer_links.link(request_id)
    until = customer_links.expires_at(request_id)
    return f"customer page: {url} (valid until {until:%Y-%m-%d %H:%M} UTC)"


@app.command("show")
def show(request: RequestArg) -> None:
    """Print a fresh link to the request's customer page (send it to the customer contact)."""
    request_id = _known_request(request)
    console().print(customer_link_line(request_id), soft_wrap=True)


@app.command("revoke")
def revoke(request: RequestArg, by: By = None) -> None:
    """Make every link issued so far for the request stop working (e.g. sent to the wrong person)."""
    from store import customer_links

    request_id = _known_request(request)
    who = actor(by)
    generation = customer_links.revoke(request_id, actor=who)
    done(f"revoked every customer link of {request_id} issued so far (by {who}); links issued from now on "
         f"are generation {generation}: `python starter.py link show {request_id}` prints one")


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="link")
