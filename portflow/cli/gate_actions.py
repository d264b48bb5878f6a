"""What the go-live gate and temporary-number commands do, given a Temporal client.

``starter.py gate ...`` and ``starter.py temp-numbers add`` (``portflow.cli.gate``) parse the
command line and call these; a future API calls the same functions. Each sends one update to
the request (its id is its workflow id); the workflow's validator has the last word (the
change window against each order's activation, an item already done...), and its refusal
comes back as :class:`CliError` saying what to fix. The argument parsers here are pure so the
fuzz suite drives them directly.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from temporalio.client import Client

from models.golive import ITEM_IDS, SPECIAL, ChangeWindow, GateDone, GateRollback, GateWindow, TempNumbers, unknown_item
from models.numbers import NumberProblem, parse_tn
from models.workflow import RequestView
from portflow.cli.actions import query_request, send_update
from portflow.cli.errors import CliError, parse_id
from workflows.port_request import PortRequestWorkflow

MAX_NOTE = 2000
MAX_REF = 500
MAX_WHEN = 40


def request_id_of(target: str) -> str:
    request_id, order_id = parse_id(target)
    if order_id is not None:
        raise CliError(f"the go-live gate belongs to the whole request: use {request_id}, not {order_id}")
    return request_id


def parse_item(text: str) -> str:
    item = text.strip().lower().replace("-", "_")
    if item not in ITEM_IDS:
        raise CliError(unknown_item(item))
    if item in SPECIAL:
        raise CliError(f"{item} is recorded with `starter.py {SPECIAL[item]} REQ ...`, which says what was approved")
    return item


def _when(text: str, option: str) -> datetime | time:
    """``2027-01-15 18:00`` (or ``T``), or a bare ``20:00`` (the same day as --from)."""
    value = text.strip()
    if len(value) > MAX_WHEN or not value:
        raise CliError(f"{option} '{value[:MAX_WHEN]}' is not a time: write YYYY-MM-DD HH:MM, e.g. 2027-01-15 18:00")
    try:
        if len(value) <= 5 and ":" in value:
            return time.fromisoformat(value.zfill(5))
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CliError(f"{option} '{value}' is not a time: write YYYY-MM-DD HH:MM, e.g. 2027-01-15 18:00") from None
    if parsed.tzinfo is not None:
        raise CliError(f"{option} '{value}' carries an offset: give the board's wall-clock time and its zone with --tz")
    return parsed


def parse_window(start: str, end: str, tz: str, approved_by: str, reference: str = "") -> ChangeWindow:
    """The change window a PM typed, in ``tz``; a CliError that says what to fix."""
    from pydantic import ValidationError

    from core.calendar import zone

    begin = _when(start, "--from")
    if isinstance(begin, time):
        raise CliError("--from needs the date too: YYYY-MM-DD HH:MM, e.g. 2027-01-15 18:00")
    finish = _when(end, "--to")
    if isinstance(finish, time):  # the same day, or the next when it is earlier (22:00 to 04:00)
        finish = datetime.combine(begin.date(), finish)
        if finish <= begin:
            finish += timedelta(days=1)
    try:
        z = zone(tz.strip())
    except ValueError as exc:
        raise CliError(f"--tz: {exc}") from None
    who = approved_by.strip()
    if not who or len(who) > 254:
        raise CliError("--approved-by says who approved the change (the board, a name or the CR id), "
                       "1 to 254 characters")
    if len(reference.strip()) > MAX_REF:
        raise CliError(f"--ref is longer than {MAX_REF} characters: give the change request's id or URL")
    try:
        return ChangeWindow(start=begin.replace(tzinfo=z), end=finish.replace(tzinfo=z), tz=tz.strip(),
                            approved_by=who, reference=reference.strip())
    except ValidationError as exc:
        raise CliError("; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())) from None


def parse_temp_numbers(raw: list[str]) -> list[str]:
    if not raw:
        raise CliError("give at least one temporary number, e.g. temp-numbers add PR-2026-0042 +13035550188")
    if len(raw) > 50:
        raise CliError(f"{len(raw)} numbers: at most 50 temporary numbers")
    out, problems = [], []
    for text in raw:
        try:
            tn = parse_tn(text)
        except NumberProblem as exc:
            problems.append(exc.message)
            continue
        if tn in out:
            problems.append(f"{text} is listed twice")
        out.append(tn)
    if problems:
        raise CliError("; ".join(problems))
    return out


def _text(value: str, option: str, limit: int) -> str:
    value = value.strip()
    if len(value) > limit:
        raise CliError(f"{option} is {len(value):,} characters long, more than {limit:,}: shorten it")
    return value


async def cmd_gate_show(client: Client, target: str) -> RequestView:
    view = await query_request(client, request_id_of(target))
    if view.go_live is None:
        raise CliError(f"{view.request_id} has no go-live checklist: its request file had no go_live: section")
    return view


async def cmd_gate_done(client: Client, target: str, item: str, *, actor: str, note: str = "") -> RequestView:
    rid = request_id_of(target)
    arg = GateDone(actor=actor, item=parse_item(item), note=_text(note, "--note", MAX_NOTE))
    return await send_update(client, rid, PortRequestWorkflow.gate_done, arg)


async def cmd_gate_window(client: Client, target: str, *, start: str, end: str, tz: str, approved_by: str,
                          actor: str, reference: str = "") -> RequestView:
    rid = request_id_of(target)
    window = parse_window(start, end, tz, approved_by, reference)
    return await send_update(client, rid, PortRequestWorkflow.gate_change_window, GateWindow(actor=actor, window=window))


async def cmd_gate_rollback(client: Client, target: str, *, plan: str, actor: str) -> RequestView:
    rid = request_id_of(target)
    plan = _text(plan, "--plan", MAX_REF)
    if len(plan) < 3:
        raise CliError('--plan names the rollback plan: a document reference or a URL, e.g. --plan "RB-12 (wiki)"')
    return await send_update(client, rid, PortRequestWorkflow.gate_rollback, GateRollback(actor=actor, plan=plan))


async def cmd_temp_numbers_add(client: Client, target: str, numbers: list[str], *, actor: str) -> RequestView:
    rid = request_id_of(target)
    return await send_update(client, rid, PortRequestWorkflow.add_temp_numbers,
                             TempNumbers(actor=actor, numbers=parse_temp_numbers(numbers)))
