"""``python starter.py check REQUEST_FILE``: the offline check, as a readable report.

Exit codes: 0 the request can be started (notes and warnings allowed), 1 it cannot (at least
one error), 2 the file cannot be read or parsed (or the command line is wrong).

``starter.py`` imports this module for every command, ``--help`` included, so the check
itself (pydantic models, phonenumbers, YAML) is imported when ``check`` runs.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

if TYPE_CHECKING:
    from rich.table import Table

    from portflow.check import CheckReport

EXIT_OK, EXIT_NOT_READY, EXIT_UNREADABLE = 0, 1, 2
# By severity (portflow.check.Severity, a StrEnum: its members are these strings).
_STYLE = {"error": "bold red", "warning": "yellow", "note": "cyan"}
_SECTION_TITLE = {
    "file": "file",
    "request": "customer & people",
    "date": "port date",
    "accounts": "accounts",
    "numbers": "numbers",
}


def _console(stderr: bool = False) -> Console:
    # Error lines go out unwrapped (soft wrap) so they stay greppable; tables wrap in cells.
    console = Console(stderr=stderr, highlight=False, soft_wrap=stderr)
    if not console.is_terminal:  # piped or captured: don't squeeze the tables into 80 columns
        console.width = max(console.width, 120)
    return console


def _parse_today(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"'{value}' is not a date: write it as YYYY-MM-DD, e.g. 2027-10-01"
        ) from None


def _day(d: date | None) -> str:
    return f"{d:%a} {d.isoformat()}" if d else "-"


def _summary(report: CheckReport) -> Table:
    from rich.table import Table

    from core.calendar import zone

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("customer", Text(report.customer or "-"))
    grid.add_row("requested port date", _day(report.requested_port_date))
    grid.add_row("earliest workable date", Text(_day(report.earliest_port_date), style="bold"))
    grid.add_row("documents (CSR, bill) due", _day(report.documents_due))
    if report.activation_at is not None and report.time_zone:
        local = report.activation_at.astimezone(zone(report.time_zone))
        grid.add_row(
            "activation", f"{local:%H:%M} {report.time_zone} ({report.activation_at:%H:%M} UTC)"
        )
    numbers = sum(len(a.numbers) for a in report.accounts)
    toll_free = sum(len(a.toll_free) for a in report.accounts)
    grid.add_row(
        "accounts / numbers",
        f"{len(report.accounts)} account(s), {numbers} number(s), {toll_free} toll-free",
    )
    return grid


def _account_title(report: CheckReport, index: int) -> Text:
    from core.phone import format_national

    account = report.accounts[index]
    btn = format_national(account.btn) if account.btn else "no valid BTN"
    title = f"order {account.index + 1} - {account.carrier or '(no carrier)'} - {account.port_type} port - BTN {btn}"
    if account.port_type == "partial":
        title += f" - remaining: {account.remaining_numbers or '?'}"
        if account.new_btn:
            title += f", new BTN {format_national(account.new_btn)}"
    return Text(title, style="bold")


# An account with more entries than this shows its problems and its first and last entries;
# the ok entries between are counted in one row (``check --all`` lists every entry). A table of
# 10,000 rows helps nobody and took rich 6 seconds to draw.
SHOWN_ENTRIES = 20
_EDGE = 5
# The same for problems: at most this many rows of wrong entries per account and of problems
# per section (a file of 10,000 wrong numbers took 10 s to draw); --all or --json lists all.
SHOWN_PROBLEMS = 50


def _shown_entries(entries: list, show_all: bool) -> list:
    """The entries to draw, with a (count, wrong) pair standing for a run of ``count`` entries
    left out, ``wrong`` of them with a problem."""
    if show_all or len(entries) <= SHOWN_ENTRIES:
        return list(entries)
    keep = {i for i, e in enumerate(entries) if e.problem}
    keep = set(sorted(keep)[:SHOWN_PROBLEMS])
    keep.update(range(_EDGE))
    keep.update(range(len(entries) - _EDGE, len(entries)))
    shown: list = []
    skipped = wrong = 0
    for i, entry in enumerate(entries):
        if i in keep:
            if skipped:
                shown.append((skipped, wrong))
                skipped = wrong = 0
            shown.append(entry)
        else:
            skipped += 1
            wrong += bool(entry.problem)
    if skipped:
        shown.append((skipped, wrong))
    return shown


def _account_table(report: CheckReport, index: int, show_all: bool = False) -> Table:
    from rich.table import Table

    account = report.accounts[index]
    table = Table(show_lines=False)
    table.add_column("entry", overflow="fold")
    table.add_column("numbers (E.164)", overflow="fold")
    table.add_column("count", justify="right")
    table.add_column("route", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for entry in _shown_entries(account.entries, show_all):
        if isinstance(entry, tuple):
            count, wrong = entry
            table.add_row(
                Text(f"... {count} more", style="dim"), Text("(check --all lists them)", style="dim"),
                str(count), "",
                Text(f"{wrong} wrong", style="bold red") if wrong else Text("ok", style="green"),
            )
            continue
        if not entry.numbers:
            shown = "-"
        elif len(entry.numbers) == 1:
            shown = entry.numbers[0]
        else:
            shown = f"{entry.numbers[0]} .. {entry.numbers[-1]}"
        route = Text("toll-free: RespOrg", style="cyan") if entry.toll_free else Text("carrier")
        status = (
            Text(entry.problem, style="bold red") if entry.problem else Text("ok", style="green")
        )
        table.add_row(Text(entry.entry), shown, str(len(entry.numbers)), route, status)
    return table


def _problems_table(report: CheckReport, section: str, show_all: bool = False) -> Table:
    from rich.table import Table

    title = f"problems: {_SECTION_TITLE.get(section, section)}"
    table = Table(title=Text(title, style="bold"), title_justify="left", expand=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("where", overflow="fold", max_width=30)
    table.add_column("problem and what to fix", overflow="fold", ratio=1)
    problems = [p for p in report.problems if p.section == section]
    for problem in problems if show_all else problems[:SHOWN_PROBLEMS]:
        where = Text(problem.where)
        if problem.line:
            where.append(f"\nline {problem.line}", style="dim")
        what = Text(problem.code, style=_STYLE[problem.severity])
        what.append(f"\n{problem.message}")
        table.add_row(Text(str(problem.severity), style=_STYLE[problem.severity]), where, what)
    if not show_all and len(problems) > SHOWN_PROBLEMS:
        more = problems[SHOWN_PROBLEMS:]
        codes = ", ".join(sorted({p.code for p in more}))
        table.add_row(Text("...", style="dim"), Text(f"{len(more)} more", style="dim"),
                      Text(f"{codes} (check --all or --json lists every one)", style="dim"))
    return table


def render(report: CheckReport, console: Console, show_all: bool = False) -> None:
    from portflow.check import SECTIONS, Severity

    console.print(
        Text(f"portflow check: {report.source} (as of {report.today.isoformat()})", style="bold")
    )
    console.print(_summary(report))
    for i in range(len(report.accounts)):
        console.print()
        console.print(_account_title(report, i))
        console.print(_account_table(report, i, show_all))
    console.print()
    sections = {p.section for p in report.problems}
    for section in [s for s in SECTIONS if s in sections] + sorted(sections - set(SECTIONS)):
        console.print(_problems_table(report, section, show_all))
        console.print()
    counts = ", ".join(f"{report.count(s)} {s}(s)" for s in Severity)
    if report.ok:
        console.print(Text(f"READY: this request can be started ({counts})", style="bold green"))
    else:
        console.print(
            Text(f"NOT READY: fix the errors above and check again ({counts})", style="bold red")
        )


def check(
    request_file: Annotated[
        Path, typer.Argument(help="The request: .yaml/.yml or .csv (see examples/)")
    ],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON for machines")
    ] = False,
    today: Annotated[
        str | None,
        typer.Option(
            "--today",
            metavar="YYYY-MM-DD",
            help="Check as if today were this date (lead time, past dates)",
        ),
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="List every entry of every account (long requests are shortened)")
    ] = False,
    allow_unknown_fields: Annotated[
        bool,
        typer.Option(
            "--allow-unknown-fields",
            help="Warn about keys no field matches instead of refusing them (they are ignored)",
        ),
    ] = False,
) -> None:
    """Check a port request file offline: every problem, the numbers per account, the earliest workable date.

    Exit 0 when the request can be started, 1 when it cannot, 2 when the file cannot be read.
    """
    from portflow.check import FileProblem, check_request_file

    as_of = _parse_today(today)
    try:
        report = check_request_file(
            request_file, today=as_of, allow_unknown_fields=allow_unknown_fields
        )
    except FileProblem as problem:
        if json_output:
            payload = {
                "ok": False,
                "source": problem.path,
                "file_problem": {"code": problem.code, "message": problem.message},
            }
            sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        else:
            console = _console(stderr=True)
            console.print(
                Text(
                    f"cannot check {problem.path}: {problem.message} [{problem.code}]",
                    style="bold red",
                )
            )
        raise typer.Exit(EXIT_UNREADABLE) from None
    if json_output:
        sys.stdout.write(report.to_json() + "\n")
    else:
        render(report, _console(), show_all)
    raise typer.Exit(report.exit_code)


def _group() -> None:
    """portflow: number-porting workflows on Temporal."""


def register(app: typer.Typer) -> None:
    app.command("check")(check)
    # Typer runs an app with a single command and no callback as that command, which would
    # turn `starter.py check FILE` into `starter.py FILE` while check is the only group
    # written. A callback keeps the app a group of subcommands whatever is registered.
    if app.registered_callback is None:
        app.callback()(_group)
