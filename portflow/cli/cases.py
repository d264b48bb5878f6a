"""``starter.py case ...``: support cases after go-live (seed 003).

    python starter.py case open --customer "Acme Dental" --contact lee@acme.example --priority P3 \\
        --summary "voicemail light stays off for one user" [--request PR-2026-0042] [--language es]
    python starter.py case status case-2026-0001 [--json]
    python starter.py case list [--state in_progress] [--priority P1]
    python starter.py case respond|update|wait|resolve|reopen|close case-2026-0001 --by EMAIL --note "..."
    python starter.py case priority case-2026-0001 --to P2 --by EMAIL [--note "..."]
    python starter.py case plan-change case-2026-0001 --at 2027-03-19T23:00-06:00 --note "SBC firmware"

Exit codes as the port commands: 0 done; 1 refused (the message says what to fix); 2 the server
cannot be reached. Light at import: the client and the models load when a command runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from portflow.cli.common import By, actor, console, done, run

if TYPE_CHECKING:
    from models.support import CaseView

app = typer.Typer(help="Support cases after go-live: open, respond, update, resolve, reopen, close",
                  no_args_is_help=True, add_completion=False)

Note = Annotated[str, typer.Option("--note", help="What was done or said (mailed to the customer)")]
CaseArg = Annotated[str, typer.Argument(metavar="CASE", help="The case id, e.g. case-2026-0001")]


def _run(work):  # noqa: ANN001, ANN202 - same contract as portflow.cli.common.run
    from portflow.cases import CaseProblem

    return run(work, refusals=(CaseProblem,))


def _fmt(at) -> str:  # noqa: ANN001
    if at is None:
        return "-"
    from zoneinfo import ZoneInfo

    from core.settings import get_settings

    tz = get_settings().support_timezone
    return f"{at.astimezone(ZoneInfo(tz)):%a %Y-%m-%d %H:%M %Z} ({at:%H:%M} UTC)"


def _show(view: CaseView, *, history: bool = False) -> None:
    out = console()
    out.print(Text(f"{view.case_id} · {view.priority.value} · {view.state.value}", style="bold"))
    out.print(f"{view.customer_name}: {view.summary}")
    out.print(f"target: {view.target}")
    if view.order_id:
        out.print(f"port order {view.order_id} ({view.trigger or 'linked'})")
    elif view.request_id:
        out.print(f"port request {view.request_id}")
    if view.state.value == "new":
        out.print(f"first response due {_fmt(view.first_response_due)}")
    if view.next_update_due:
        out.print(f"next update due {_fmt(view.next_update_due)}")
    if view.reopen_until:
        out.print(f"may be reopened until {_fmt(view.reopen_until)}")
    out.print(f"updates {view.updates} · reopened {view.reopened} · escalations {len(view.escalations)}")
    if view.escalations:
        out.print(Text(f"last escalation: {view.escalations[-1]}", style="yellow"))
    for ch in view.planned_changes:
        style = "bold red" if ch.in_maintenance_window else ""
        flag = "IN THE MAINTENANCE WINDOW" if ch.in_maintenance_window else "outside the maintenance window"
        out.print(Text(f"change planned {_fmt(ch.at)} ({flag}): {ch.note}", style=style))
    if history:
        for ev in view.history:
            out.print(f"  {ev.at:%Y-%m-%d %H:%M} UTC · {ev.action} · {ev.by} · {ev.state.value}"
                      f"{' · ' + ev.note if ev.note else ''}")


@app.command("open")
def open_(
    priority: Annotated[str, typer.Option("--priority", help="P1 site down, P2 several users, P3 one user, P4 minor")],
    summary: Annotated[str, typer.Option("--summary", help="What is wrong, in a sentence")],
    customer: Annotated[str | None, typer.Option("--customer", help="The customer's name")] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="The customer's e-mail for updates")] = None,
    request: Annotated[str | None, typer.Option("--request", help="The port request the case is about")] = None,
    language: Annotated[str | None, typer.Option("--language", help="en, es, pt or fr (default: the port's, or en)")]
    = None,
    by: By = None,
) -> None:
    """Open a support case; the customer gets its number and targets by mail."""
    from portflow import cases

    who = actor(by)
    view = _run(lambda c: cases.open_case(c, customer=customer, priority=priority, summary=summary, opened_by=who,
                                          request_id=request, contact=contact, language=language))
    done(f"opened {view.case_id} ({view.priority.value})")
    _show(view)


@app.command("status")
def status(case: CaseArg, as_json: Annotated[bool, typer.Option("--json", help="The whole view as JSON")] = False) -> None:
    """A case's state, targets, escalations, planned changes and history."""
    from portflow import cases

    view = _run(lambda c: cases.status(c, case))
    if as_json:
        typer.echo(view.model_dump_json(indent=2))
        return
    _show(view, history=True)


@app.command("list")
def list_(
    state: Annotated[str | None, typer.Option("--state", help="new, in_progress, waiting_on_customer, resolved, closed")]
    = None,
    priority: Annotated[str | None, typer.Option("--priority", help="P1..P4")] = None,
) -> None:
    """Cases, newest first: id, priority, state, next deadline, escalated."""
    from portflow import cases

    rows = _run(lambda c: cases.list_cases(c, state=state, priority=priority))
    out = console()
    if not rows:
        out.print("no cases")
        return
    for r in rows:
        flag = " ESCALATED" if r["escalated"] else ""
        out.print(f"{r['case_id']}  {r['priority']}  {r['state']}  next {_fmt(r['next_deadline'])}{flag}")


def _mover(action: str, doc: str):  # noqa: ANN202
    def command(case: CaseArg, note: Note, by: By = None) -> None:
        from portflow import cases

        who = actor(by)
        view = _run(lambda c: cases.act(c, case, action, by=who, note=note))
        done(f"{view.case_id}: {action} recorded, now {view.state.value}")
        _show(view)

    command.__doc__ = doc
    return command


@app.command("priority")
def priority(case: CaseArg, to: Annotated[str, typer.Option("--to", help="The new priority, P1..P4")],
             note: Annotated[str, typer.Option("--note", help="Why")] = "", by: By = None) -> None:
    """Change a case's priority: its targets follow."""
    from portflow import cases

    who = actor(by)
    view = _run(lambda c: cases.act(c, case, "priority", by=who, note=note, priority=to))
    done(f"{view.case_id} is now {view.priority.value}")
    _show(view)


@app.command("plan-change")
def plan_change(case: CaseArg, at: Annotated[str, typer.Option("--at", help="When, ISO 8601 with offset")],
                note: Note, by: By = None) -> None:
    """Record a change planned for a time; one inside the monthly maintenance window is flagged."""
    from portflow import cases

    who = actor(by)
    view = _run(lambda c: cases.act(c, case, "plan_change", by=who, note=note, at=at))
    ch = view.planned_changes[-1]
    if ch.in_maintenance_window:
        console().print(Text(f"warning: {_fmt(ch.at)} is inside the maintenance window {_fmt(ch.window_start)} to "
                             f"{_fmt(ch.window_end)}: plan it outside", style="bold red"))
    done(f"{view.case_id}: change planned for {_fmt(ch.at)}")


for _name, _doc in (("respond", "The first response: an agent picks the case up."),
                    ("update", "A progress update to the customer (also after they answered)."),
                    ("wait", "Waiting on the customer: no update due until they answer (2 business days)."),
                    ("resolve", "Resolved: the customer may reopen within PORTFLOW_CASE_REOPEN_DAYS."),
                    ("reopen", "Reopen a resolved case (within the reopen window)."),
                    ("close", "Close the case.")):
    app.command(_name)(_mover(_name, _doc))


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="case")
    if main.registered_callback is None:
        main.callback()(_group)


def _group() -> None:
    """portflow: number-porting workflows on Temporal."""
