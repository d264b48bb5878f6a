"""``starter.py`` commands that start and steer ports: start, attach, sign, approve,
carrier-event, amend, assign, expedite, cancel, verify (status, list and watch are in
``portflow.cli.watching``; ``register`` adds them all).

Each command parses its options, connects (``portflow.temporal.connect``, per
``PORTFLOW_TEMPORAL_*``), and calls its ``cmd_*`` function in ``portflow.cli.actions``.
Exit codes: 0 done; 1 refused (the message says what to fix: a validator's refusal, an
unknown id, a request file the check refuses); 2 the server cannot be reached, or a file
cannot be read.

``starter.py`` imports this module for ``--help`` and ``check`` too, so it stays light: each
command imports the Temporal client, the models and the store when it runs.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from portflow.cli.common import By, actor, done, fail, limited, model, parse_date, run
from portflow.cli.errors import CliError, order_id_of, parse_id

if TYPE_CHECKING:
    from models.workflow import OrderView


def _order_arg(text: str) -> str:
    try:
        return order_id_of(text)
    except CliError as err:
        fail(err.message)


def _request_arg(text: str) -> str:
    try:
        return parse_id(text)[0]
    except CliError as err:
        fail(err.message)


def _text(value: str, option: str, example: str) -> str:
    from portflow.cli import actions

    try:
        return actions.check_text(value, option, example)
    except CliError as err:
        fail(err.message)


def _show_order(view: OrderView) -> None:
    from portflow.cli import render

    out = render.console()
    out.print(Text(f"{view.order_id} is now ", style="bold").append_text(render.status_text(view.status)))
    out.print(render.next_line(view.next))


class AttachKind(str, Enum):
    csr = "csr"
    bill = "bill"
    other = "other"


# --------------------------------------------------------------------------- start
def start(
    request_file: Annotated[Path, typer.Argument(help="The request: .yaml/.yml or .csv (what `check` reads)")],
    expedite: Annotated[str | None, typer.Option("--expedite", metavar="REASON",
                                                    help="Waive the 3-week lead time, saying why")] = None,
    by: By = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Follow the port live until it ends")] = False,
    allow_unknown_fields: Annotated[bool, typer.Option(
        "--allow-unknown-fields", help="Start although keys no field matches are in the file (they are ignored)")] = False,
) -> None:
    """Start a port from a request file: the same check as `check` first, then the workflow."""
    from portflow.check import FileProblem
    from portflow.cli import actions, render
    from portflow.cli.check import render as render_check
    from portflow.cli.files import StartRefused, plan_start

    out = render.console()
    try:
        plan = plan_start(request_file, expedite=expedite, allow_unknown_fields=allow_unknown_fields)
    except FileProblem as problem:
        fail(f"cannot read {problem.path}: {problem.message} [{problem.code}]", 2)
    except StartRefused as refused:
        render_check(refused.report, out)
        fail(f"not started: {request_file} does not pass the check (fix the errors above"
              + (", or record an expedite with --expedite REASON if only the lead time is short)"
                 if any(p.code == "lead_time" for p in refused.report.errors) and not expedite else ")"))
    for p in plan.waived:
        out.print(Text(f"lead time waived by the expedite ({expedite}): {p.message}", style="yellow"))
    request = plan.request

    from portflow.cli.starting import StartUnconfirmed, report

    async def work(client):
        req = request
        if not plan.has_own_id:
            req = request.model_copy(update={"id": await actions.fresh_request_id(client)})
            out.print(f"new request id: [bold]{req.id}[/bold]")
        try:
            return req, await actions.cmd_start(client, req, base_dir=plan.base_dir, actor=actor(by), expedite=expedite)
        except StartUnconfirmed as unconfirmed:
            return req, unconfirmed

    request, view = run(work)
    if isinstance(view, StartUnconfirmed):
        report(request, view)
        return
    if view.status.value == "failed":
        why = view.timeline[-1].reason if view.timeline else "see the Temporal UI"
        fail(f"{request.id} was refused at intake: {why.removeprefix('intake refused: ')}")
    parts = request.order_parts()
    orders = ", ".join(f"{p.order_id} ({p.carrier}{', toll-free RespOrg change' if p.toll_free else ''})" for p in parts)
    done(f"started {request.id}: {request.customer.name}, {len(request.all_numbers)} numbers in "
          f"{len(parts)} order(s): {orders}")
    out.print(Text("stage ", style="bold").append_text(render.status_text(view.status)))
    out.print(render.next_line(view.next))
    if view.ui_url:
        out.print(f"Temporal UI: {view.ui_url}")
    out.print(f"follow it: python starter.py watch {request.id}   ·   python starter.py status {request.id}")
    if wait:
        from portflow.cli.watching import watch

        watch(request.id)


# --------------------------------------------------------------------------- documents, LOA
def attach(
    port_id: Annotated[str, typer.Argument(metavar="ID", help="Request id (PR-2026-0042) or order id")],
    file: Annotated[Path, typer.Argument(help="The document (PDF, image or text)")],
    kind: Annotated[AttachKind, typer.Option("--kind", help="What it is: csr, bill or other")],
    order: Annotated[str | None, typer.Option("--order", metavar="ORDER_ID",
                                                 help="The order it belongs to (default: all orders)")] = None,
    by: By = None,
) -> None:
    """Attach a document (CSR, bill, other) to a request or to one of its orders."""
    from models.request import DocumentKind
    from portflow.cli import actions, render

    _request_arg(port_id)
    if order is not None:
        _order_arg(order)
    if not file.is_file():
        fail(f"{file} is not a readable file: check the path", 2)
    view = run(lambda c: actions.cmd_attach(c, port_id, file, DocumentKind(kind.value), actor=actor(by),
                                            order_id=order.strip().upper() if order else None))
    done(f"attached {kind.value.upper()} {file.name} to {view.request_id}")
    if view.missing_documents:
        render.console().print(Text("still missing: " + ", ".join(view.missing_documents), style="yellow"))
    else:
        render.console().print("documents complete")
    render.console().print(render.next_line(view.next))


def sign(
    order_id: Annotated[str, typer.Argument(help="Order id, e.g. PR-2026-0042-1")],
    name: Annotated[str | None, typer.Option("--name", help="The signer's full name, as on the LOA")] = None,
    decline: Annotated[str | None, typer.Option("--decline", metavar="REASON", help="Refuse to sign, saying why")] = None,
    force: Annotated[bool, typer.Option("--force", help="Sign although the name differs from the LOA's signer")] = False,
) -> None:
    """Sign (or decline) an order's LOA with the local e-signature."""
    from portflow.cli import actions, order_actions

    target = _order_arg(order_id)
    if (name is None) == (decline is None):
        fail('give either --name "Signer Name" to sign or --decline REASON to refuse')
    name, decline = limited(name, "--name", 200), limited(decline, "--decline")

    async def work(client):
        event, ack = await order_actions.cmd_sign(client, target, name=name, decline=decline, force=force)
        return event, ack, await actions.settle_order(client, target, ack.status)

    event, ack, view = run(work)
    what = f"signed by {event.signer_name}" if event.status.value == "completed" else f"declined: {event.reason}"
    again = " (already recorded: nothing changed)" if ack.duplicate else ""
    done(f"LOA of {event.order_id} {what}{again}")
    _show_order(view)


def approve(
    order_id: Annotated[str, typer.Argument(help="Order id, e.g. PR-2026-0042-1")],
    note: Annotated[str, typer.Option("--note", help="A note for the timeline")] = "",
    by: By = None,
) -> None:
    """Approve an order's submission to the carrier (when review before submission is on)."""
    from portflow.cli import actions, order_actions

    target = _order_arg(order_id)
    note = limited(note, "--note") or ""

    async def work(client):
        view = await order_actions.cmd_approve(client, target, actor=actor(by), note=note)
        return await actions.settle_order(client, target, view.status.value)

    view = run(work)
    done(f"{view.order_id} approved for submission to {view.carrier}")
    _show_order(view)


def activate(
    order_id: Annotated[str, typer.Argument(help="Order id, e.g. PR-2026-0042-1")],
    reason: Annotated[str, typer.Option("--reason", help="Why now, for the timeline")] = "customer ready",
    by: By = None,
) -> None:
    """Activate a fast-port order now, inside the carrier's activation window (else it activates at the FOC)."""
    from portflow.cli import order_actions

    target = _order_arg(order_id)

    async def work(client):
        return await order_actions.cmd_activate(client, target, actor=actor(by), reason=reason)

    view = run(work)
    if view is None:
        done(f"{target}: activation asked for; see `python starter.py status {target}`")
        return
    done(f"{view.order_id} activated on demand: {view.status.value}")
    _show_order(view)


def carrier_event(
    order_id: Annotated[str, typer.Argument(help="Order id, e.g. PR-2026-0042-1")],
    carrier_order_id: Annotated[str | None, typer.Option("--carrier-order-id", help="The carrier's order id")] = None,
    foc: Annotated[str | None, typer.Option("--foc", metavar="DATETIME",
                                               help="FOC with its offset, e.g. 2026-12-21T09:00-05:00")] = None,
    reject: Annotated[str | None, typer.Option("--reject", metavar="CODE", help="Rejection code, e.g. BTN_ATN_MISMATCH")] = None,
    text: Annotated[str, typer.Option("--text", help="The carrier's words for the rejection")] = "",
    completed: Annotated[bool, typer.Option("--completed", help="The carrier says the numbers ported")] = False,
    cancelled: Annotated[bool, typer.Option("--cancelled", help="The carrier confirms the cancel (SUP1)")] = False,
    activation_failed: Annotated[bool, typer.Option("--activation-failed",
                                                    help="The carrier says the activation failed")] = False,
    note: Annotated[str, typer.Option("--note", help="A note for the timeline")] = "",
    by: By = None,
) -> None:
    """Record what the carrier told you about an order (FOC, rejection, completion, cancel)."""
    from portflow.cli import actions, order_actions

    target = _order_arg(order_id)
    note = limited(note, "--note") or ""
    try:
        order_actions.check_carrier_answer(carrier_order_id=carrier_order_id, foc=foc, reject_code=reject,
                                           reject_text=text, completed=completed, cancelled=cancelled,
                                           activation_failed=activation_failed)
    except CliError as err:
        fail(err.message)

    async def work(client):
        event, ack = await order_actions.cmd_carrier_event(
            client, target, actor=actor(by), carrier_order_id=carrier_order_id, foc=foc, reject_code=reject,
            reject_text=text, completed=completed, note=note, cancelled=cancelled,
            activation_failed=activation_failed)
        return event, ack, await actions.settle_order(client, target, ack.status)

    event, ack, view = run(work)
    again = " (already recorded: nothing changed)" if ack.duplicate else ""
    done(f"{event.order_id}: recorded '{event.state.raw_status}'{again}")
    _show_order(view)


def amend(
    order_id: Annotated[str, typer.Argument(help="Order id, e.g. PR-2026-0042-1")],
    reason: Annotated[str, typer.Option("--reason", help="Why (goes to the timeline and the carrier)")],
    signer_name: Annotated[str | None, typer.Option("--signer-name")] = None,
    signer_title: Annotated[str | None, typer.Option("--signer-title")] = None,
    signer_email: Annotated[str | None, typer.Option("--signer-email")] = None,
    btn: Annotated[str | None, typer.Option("--btn", help="The account's billing telephone number")] = None,
    new_btn: Annotated[str | None, typer.Option("--new-btn", help="Partial port: the account's new BTN")] = None,
    street: Annotated[str | None, typer.Option("--street")] = None,
    line2: Annotated[str, typer.Option("--line2")] = "",
    city: Annotated[str | None, typer.Option("--city")] = None,
    state: Annotated[str | None, typer.Option("--state")] = None,
    postal_code: Annotated[str | None, typer.Option("--postal-code")] = None,
    account_number: Annotated[bool, typer.Option("--account-number", help="Prompt for a new account number (hidden)")] = False,
    pin: Annotated[bool, typer.Option("--pin", help="Prompt for a new PIN / passcode (hidden)")] = False,
    port_date: Annotated[str | None, typer.Option("--port-date", metavar="YYYY-MM-DD")] = None,
    remove: Annotated[list[str] | None, typer.Option("--remove", metavar="TN", help="A number to drop (repeatable)")] = None,
    entity_name: Annotated[str | None, typer.Option("--entity-name", help="The customer's name exactly as on the bill")] = None,
    port_type: Annotated[str | None, typer.Option("--port-type", metavar="full|partial")] = None,
    remaining: Annotated[str | None, typer.Option("--remaining", metavar="keep|disconnect",
                                                  help="Partial port: what happens to the numbers that stay")] = None,
    new_loa: Annotated[bool, typer.Option("--new-loa", help="Have the signer sign a new LOA with the corrections")] = False,
    by: By = None,
) -> None:
    """Correct an order: signer, BTN, address, account number, PIN, port date, numbers, name, port type."""
    from models.request import Address, Signer
    from models.workflow import OrderView
    from portflow.cli import order_actions

    target = _order_arg(order_id)
    reason = _text(reason, "--reason", "BTN corrected from the CSR")
    signer_model = address_model = None
    signer = [signer_name, signer_title, signer_email]
    if any(signer):
        if not all(signer):
            missing = [o for o, v in zip(("--signer-name", "--signer-title", "--signer-email"), signer) if not v]
            fail(f"a corrected signer needs name, title and e-mail: add {', '.join(missing)}")
        signer_model = model(Signer, name=signer_name, title=signer_title, email=signer_email)
    address = [street, city, state, postal_code]
    if any(address) or line2:
        if not all(address):
            missing = [o for o, v in zip(("--street", "--city", "--state", "--postal-code"), address) if not v]
            fail(f"a corrected service address needs every line: add {', '.join(missing)}")
        address_model = model(Address, street=street, line2=line2, city=city, state=(state or "").upper(),
                              postal_code=postal_code)
    new_date = parse_date(port_date, "--port-date")
    secret_account = _secret("new account number") if account_number else None
    secret_pin = _secret("new PIN / passcode") if pin else None
    try:  # the rules the API applies too (portflow.cli.order_actions.build_amend)
        change = order_actions.build_amend(
            actor=actor(by), order_id=target, reason=reason, signer=signer_model, service_address=address_model,
            btn=btn, new_btn=new_btn, account_number=secret_account, pin=secret_pin, port_date=new_date,
            remove_numbers=remove, entity_name=entity_name, port_type=port_type, remaining_numbers=remaining,
            new_loa=new_loa, label=lambda path: order_actions.CLI_LABELS.get(path, path))
    except CliError as err:
        fail(err.message)
    view = run(lambda c: order_actions.cmd_amend(c, change))
    if view is None:
        done(f"{change.order_id}: amendment accepted; it applies when the order's current step ends")
    elif isinstance(view, OrderView):
        done(f"{change.order_id} amended ({', '.join(change.changed_fields())})")
        _show_order(view)
    else:
        done(f"{change.order_id} amended before its order starts ({', '.join(change.changed_fields())}): "
             "the order will start with it")


def _secret(what: str) -> str:
    value = typer.prompt(what.capitalize(), hide_input=True, confirmation_prompt=True).strip()
    if not value:
        fail(f"the {what} is empty")
    return value


# --------------------------------------------------------------------------- request steps
def assign(
    port_id: Annotated[str, typer.Argument(metavar="ID", help="Request id (or one of its order ids)")],
    tn: Annotated[list[str] | None, typer.Option("--tn", metavar="TN", help="A number (repeatable, with --to)")] = None,
    to: Annotated[list[str] | None, typer.Option("--to", metavar="WHO", help="Who gets the --tn at the same place")] = None,
    resource_account: Annotated[bool, typer.Option("--resource-account",
                                                   help="They go to resource accounts (auto attendant, queue)")] = False,
    file: Annotated[Path | None, typer.Option("--file", metavar="CSV", help="Columns tn,to[,kind]")] = None,
    by: By = None,
) -> None:
    """Assign ported numbers to users or resource accounts (Service Control)."""
    from portflow.cli import actions, render
    from portflow.cli.files import read_assignments

    tns, whos = list(tn or []), list(to or [])
    if file is not None and (tns or whos):
        fail("give the numbers either with --tn/--to or with --file, not both")
    default_kind = "resource_account" if resource_account else "user"
    if file is not None:
        try:
            groups = read_assignments(file, default_kind)
        except CliError as err:
            fail(err.message, 2 if err.message.startswith("cannot read") else 1)
    else:
        if not tns:
            fail("nothing to assign: give --tn NUMBER --to WHO (repeatable) or --file CSV")
        if len(tns) != len(whos):
            fail(f"{len(tns)} --tn but {len(whos)} --to: give one --to after each --tn")
        if len(set(tns)) != len(tns):
            fail("a number is given twice with --tn")
        groups = {default_kind: dict(zip(tns, whos))}
    for who in (w for g in groups.values() for w in g.values()):
        limited(who, "--to" if file is None else f"a `to` cell of {file}", 254)

    _request_arg(port_id)

    async def work(client):  # one update per kind of assignee
        views = [await actions.cmd_assign(client, port_id, g, actor=actor(by), kind=k) for k, g in groups.items()]
        tns = {actions.normalize_tn(t) for g in groups.values() for t in g}
        return views[-1].request_id, await actions.settle_assignments(client, views[-1].request_id, tns)

    request_id, page = run(work)
    count = sum(len(g) for g in groups.values())
    done(f"assigned {count} number(s) of {request_id}")
    left = [n.tn for o in page.orders.values() for n in o.numbers
            if n.assigned_to is None and n.state not in ("released", "not_portable")]
    if left:
        render.console().print(Text(f"still unassigned: {', '.join(render.national(t) for t in left)}", style="yellow"))
    else:
        render.console().print("every number is assigned")


def expedite(
    port_id: Annotated[str, typer.Argument(metavar="ID", help="Request id, e.g. PR-2026-0042")],
    reason: Annotated[str, typer.Option("--reason", help="Why the 3-week lead time is waived")],
    port_date: Annotated[str | None, typer.Option("--port-date", metavar="YYYY-MM-DD", help="A new port date")] = None,
    by: By = None,
) -> None:
    """Record an expedite: the documents lead time is waived (optionally with a new date)."""
    from portflow.cli import actions, render

    _request_arg(port_id)
    reason = _text(reason, "--reason", "the customer moves offices on the 20th")
    new_date = parse_date(port_date, "--port-date")
    view = run(lambda c: actions.cmd_expedite(c, port_id, actor=actor(by), reason=reason, port_date=new_date))
    done(f"{view.request_id} expedited: port date {view.port_date}")
    render.console().print(render.next_line(view.next))


def cancel(
    port_id: Annotated[str, typer.Argument(metavar="ID_OR_ORDER", help="A request id (every order) or one order id")],
    reason: Annotated[str, typer.Option("--reason", help="Why the port is cancelled")],
    by: By = None,
) -> None:
    """Cancel a port before activation (voids the LOA, SUP1 to the carrier, numbers released)."""
    from portflow.cli import actions

    _request_arg(port_id)
    reason = _text(reason, "--reason", "the customer stays with the carrier")
    view = run(lambda c: actions.cmd_cancel(c, port_id, actor=actor(by), reason=reason))
    target = port_id.strip().upper()
    if view is None:
        done(f"{target}: cancel accepted; waiting for the carrier to confirm (see `python starter.py status {target}`)")
    else:
        done(f"{target} is {view.status.value}")


def verify(
    order_id: Annotated[str, typer.Argument(help="Order id, e.g. PR-2026-0042-1")],
    ok: Annotated[bool, typer.Option("--ok/--failed", help="Did test calls in and out work?")],
    notes: Annotated[str, typer.Option("--notes", help="What was tested")],
    by: By = None,
) -> None:
    """Confirm (or fail) test calls after the numbers ported."""
    from portflow.cli import order_actions

    _order_arg(order_id)
    notes = _text(notes, "--notes", "test calls in and out from 3 numbers")
    view = run(lambda c: order_actions.cmd_verify(c, order_id, actor=actor(by), ok=ok, notes=notes))
    target = order_id.strip().upper()
    if view is None:
        done(f"{target}: verification recorded")
    else:
        done(f"{target} is {view.status.value}")


def register(app: typer.Typer) -> None:
    from portflow.cli import watching

    for name, fn in (("start", start), ("attach", attach), ("sign", sign), ("approve", approve), ("activate", activate),
                     ("carrier-event", carrier_event), ("amend", amend), ("assign", assign),
                     ("expedite", expedite), ("cancel", cancel), ("verify", verify),
                     ("status", watching.status), ("list", watching.list_ports), ("watch", watching.watch)):
        app.command(name)(fn)
    if app.registered_callback is None:  # keep subcommands even if this were the only group
        app.callback()(_group)


def _group() -> None:
    """portflow: number-porting workflows on Temporal."""
