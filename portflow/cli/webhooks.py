"""``starter.py webhooks ...``: outgoing webhooks for a PM system or ticketing tool.

    python starter.py webhooks subscribe https://pm.example/hooks/portflow --events stage_changed,foc
    python starter.py webhooks subscribe http://127.0.0.1:9000/hook --request PR-2026-0042
    python starter.py webhooks list
    python starter.py webhooks unsubscribe whs_0123456789abcdef
    python starter.py webhooks deliveries [--subscription whs_...]
    python starter.py webhooks redeliver 42               # a failed delivery, once the receiver is fixed

The secret that signs a subscription's deliveries is printed once, by ``subscribe``; keep it
in the receiver (README "Outgoing webhooks" shows how to verify a delivery). These commands
use the database only (no Temporal server), except ``redeliver``, which starts the delivery's
workflow. Exit codes: 0 done; 1 refused (a bad URL, an unknown event type or subscription, a
delivery that is not failed); 2 the database or the server cannot be used.

Light at import (``starter.py --help`` loads it): the store is imported when a command runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer
from rich.table import Table
from rich.text import Text

from portflow.cli.common import By, actor, console, done, fail, run

T = TypeVar("T")

app = typer.Typer(help="Outgoing webhooks: subscribe a URL to port events, list, unsubscribe, see deliveries",
                  no_args_is_help=True, add_completion=False)

Events = Annotated[list[str] | None, typer.Option(
    "--events", "-e", metavar="TYPES",
    help="Event types, comma-separated or repeated: stage_changed, exception, foc, completed, cancelled, "
         "failed, or all (default: all)")]
AsJson = Annotated[bool, typer.Option("--json", help="One JSON document instead of a table")]


def _store(work: Callable[[], T]) -> T:
    """Run a store call; its refusals exit 1 with their message, an unusable database exit 2."""
    import sqlalchemy as sa

    from models.webhooks import SubscriptionProblem
    from store.db import DatabaseBusy, DatabaseUrlError
    from store.vault import VaultKeyError
    from store.webhooks import UnknownSubscription

    try:
        return work()
    except (SubscriptionProblem, UnknownSubscription) as exc:
        fail(str(exc))
    except (DatabaseBusy, DatabaseUrlError, VaultKeyError) as exc:
        fail(str(exc), 2)
    except sa.exc.OperationalError as exc:
        fail(f"cannot use the database: {str(exc.orig)[:200]} (PORTFLOW_DATABASE_URL)", 2)


@app.command("subscribe")
def subscribe(
    url: Annotated[str, typer.Argument(help="The receiver: https://..., or http://localhost / 127.0.0.1")],
    events: Events = None,
    request: Annotated[str | None, typer.Option("--request", "-r", metavar="ID",
                                                help="Only this port request's events")] = None,
    by: By = None,
    as_json: AsJson = False,
) -> None:
    """Subscribe URL to port events; prints the signing secret ONCE."""
    from models.webhooks import check_request_id, check_url, parse_events
    from store import webhooks

    owner = actor(by)
    # checked before the database is touched: a bad argument never creates a row
    clean_url = _store(lambda: check_url(url))
    types = _store(lambda: parse_events(events))
    rid = _store(lambda: check_request_id(request))
    row, secret = _store(lambda: webhooks.subscribe(url=clean_url, events=types, owner=owner, request_id=rid))
    if as_json:
        console().print_json(json.dumps({**_sub_json(row), "secret": secret}))
        return
    done(f"subscribed {row.id}: {row.url}")
    out = console()
    out.print(f"events: {', '.join(row.events)}" + (f" · request {row.request_id}" if row.request_id else ""))
    out.print(Text(f"secret: {secret}", style="bold"))
    out.print("Keep this secret in the receiver now: it is shown only once. Verify each delivery's "
              "Portflow-Signature with it (README, 'Outgoing webhooks').")


@app.command("list")
def list_(
    all_: Annotated[bool, typer.Option("--all", help="Also the removed subscriptions")] = False,
    as_json: AsJson = False,
) -> None:
    """The subscriptions (never their secrets)."""
    from store import webhooks

    rows = _store(lambda: webhooks.subscriptions(include_disabled=all_))
    if as_json:
        console().print_json(json.dumps([_sub_json(r) for r in rows]))
        return
    if not rows:
        console().print("no webhook subscriptions (python starter.py webhooks subscribe URL)")
        return
    table = Table()
    table.add_column("id", no_wrap=True, min_width=len(rows[0].id))  # ids and URLs are copied: never cut
    table.add_column("url", overflow="fold")
    for name in ("events", "request", "owner", "created", "removed"):
        table.add_column(name, overflow="fold")
    for r in rows:
        table.add_row(r.id, r.url, ",".join(r.events), r.request_id or "all", r.owner,
                      f"{r.created_at:%Y-%m-%d %H:%M}", f"{r.disabled_at:%Y-%m-%d %H:%M}" if r.disabled_at else "")
    console().print(table)


@app.command("unsubscribe")
def unsubscribe(sub_id: Annotated[str, typer.Argument(metavar="ID", help="A subscription id (whs_...)")]) -> None:
    """Remove a subscription: nothing more is sent to it (pending deliveries are skipped)."""
    from store import webhooks

    row, skipped = _store(lambda: webhooks.unsubscribe(sub_id))
    done(f"unsubscribed {row.id} ({row.url})" + (f"; {skipped} pending delivery(ies) skipped" if skipped else ""))


@app.command("deliveries")
def deliveries(
    subscription: Annotated[str | None, typer.Option("--subscription", "-s", metavar="ID",
                                                     help="Only this subscription's deliveries")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help="The newest N")] = 50,
    as_json: AsJson = False,
) -> None:
    """The newest deliveries: event, state (pending, delivered, failed, skipped), attempts, last error."""
    from store import webhooks

    rows = _store(lambda: webhooks.deliveries(subscription_id=subscription.strip() if subscription else None,
                                              limit=limit))
    if as_json:
        console().print_json(json.dumps([_delivery_json(d, e) for d, e in rows]))
        return
    if not rows:
        console().print("no webhook deliveries yet")
        return
    table = Table("#")
    table.add_column("subscription", no_wrap=True, min_width=len(rows[0][0].subscription_id))
    table.add_column("event", no_wrap=True, min_width=len(rows[0][1].id))
    for name in ("type", "subject", "state", "attempts", "code", "last error"):
        table.add_column(name, overflow="fold")
    style = {"delivered": "green", "failed": "bold red", "pending": "yellow", "skipped": "dim"}
    for d, e in rows:
        table.add_row(str(d.id), d.subscription_id, e.id, e.type, f"{e.subject} → {e.to_status}",
                      Text(d.state, style=style.get(d.state, "")), str(d.attempts),
                      str(d.last_status_code or ""), (d.last_error or "")[:80])
    console().print(table)


@app.command("redeliver")
def redeliver(delivery_id: Annotated[int, typer.Argument(metavar="DELIVERY", help="A delivery number (#)")],
              by: By = None) -> None:
    """Send a failed delivery again (after the receiver was fixed): a new round of attempts."""
    from activities.webhook_dispatch import redeliver as send_again
    from core.settings import get_settings
    from store.webhooks import CannotRedeliver, check_redeliverable

    who = actor(by)
    try:
        _store(lambda: check_redeliverable(delivery_id))  # refused before the server is needed
    except CannotRedeliver as exc:
        fail(str(exc))
    queue = get_settings().temporal_task_queue
    round_ = run(lambda client: send_again(client, queue, delivery_id, by=who), refusals=(CannotRedeliver,))
    done(f"delivery {delivery_id} is being sent again (round {round_}): python starter.py webhooks deliveries")


def _sub_json(r) -> dict:  # noqa: ANN001
    return {"id": r.id, "url": r.url, "events": r.events, "request_id": r.request_id, "owner": r.owner,
            "created_at": r.created_at.isoformat(), "disabled_at": r.disabled_at.isoformat() if r.disabled_at else None}


def _delivery_json(d, e) -> dict:  # noqa: ANN001
    return {"id": d.id, "subscription_id": d.subscription_id, "event_id": e.id, "event_type": e.type,
            "subject": e.subject, "to_status": e.to_status, "state": d.state, "attempts": d.attempts,
            "last_status_code": d.last_status_code, "last_error": d.last_error,
            "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None}


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="webhooks")
