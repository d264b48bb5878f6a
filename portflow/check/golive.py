"""The check's rules for the ``go_live:`` section and ``temporary_numbers`` (issue 17).

Every problem at once, each at its field path: temporary numbers that are not numbers, are
listed twice or are among the numbers being ported; a ``go_live`` section the model refuses
(an unknown item, an option that is not sup2 or escalate); and a change window that does not
contain the request's activation time, with the reason and what to ask the change board.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from core.text import shorten
from models.golive import ITEM_IDS, ChangeWindow, GoLiveSection, unknown_item, window_problem
from models.numbers import NumberProblem, parse_tn
from portflow.check.rules import Sink

MAX_TEMP_NUMBERS = 50


def _where(loc: tuple[int | str, ...]) -> str:
    out = "go_live"
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith(("function-", "lax-", "json-")):
            out += f".{part}"
    return out


def check_go_live(sink: Sink, data: dict[str, Any], activation_at: datetime | None, ported: list[str]) -> None:
    _temp_numbers(sink, data.get("temporary_numbers"), set(ported))
    section = data.get("go_live")
    if section is None:
        return
    if not isinstance(section, dict):
        sink.error("invalid_field", "go_live", "go_live must be a section (on_not_ready, optional, change_window, "
                   "rollback_plan...): see examples/go-live-request.yaml")
        return
    bad_items = _items(sink, section)
    try:
        spec = GoLiveSection.model_validate(section)
    except ValidationError as exc:
        for e in exc.errors():
            if bad_items and not e["loc"]:
                continue  # the unknown items, reported one by one above
            msg = str(e["msg"]).removeprefix("Value error, ")
            sink.error("invalid_field", _where(e["loc"]), f"{_where(e['loc'])}: {shorten(msg, 300)}")
        spec = None
    _window(sink, section.get("change_window"), activation_at)
    if spec is None:
        return
    temps = data.get("temporary_numbers")
    uat_required = "uat_temp_number" not in spec.optional
    if uat_required and not temps:
        sink.add("warning", "no_temporary_number", "go_live",
                 "UAT on a temporary number is required but no temporary_numbers are given: add them here or "
                 "later with `starter.py temp-numbers add`, or list uat_temp_number under go_live.optional")


def _window(sink: Sink, value: Any, activation_at: datetime | None) -> None:
    """The approved window must contain the activation (its own field errors: the model's)."""
    if not isinstance(value, dict) or activation_at is None:
        return
    try:
        window = ChangeWindow.model_validate(value)
    except ValidationError:
        return
    problem = window_problem(window, activation_at)
    if problem:
        end = "end" if activation_at > window.end else "start"
        sink.error("change_window_misses_activation", f"go_live.change_window.{end}", problem)


def _items(sink: Sink, section: dict[str, Any]) -> bool:
    """Each unknown item of ``required`` and ``optional`` at its own path; True when any."""
    found = False
    for name in ("required", "optional"):
        value = section.get(name)
        entries = [v.strip() for v in value.split(",")] if isinstance(value, str) else value
        if not isinstance(entries, list):
            continue
        for i, item in enumerate(entries):
            if isinstance(item, str) and item not in ITEM_IDS:
                sink.error("unknown_go_live_item", f"go_live.{name}[{i}]", unknown_item(item))
                found = True
    return found


def _temp_numbers(sink: Sink, value: Any, ported: set[str]) -> None:
    if value is None:
        return
    entries = [v for v in value.split(",") if v.strip()] if isinstance(value, str) else value
    if not isinstance(entries, list):
        sink.error("invalid_field", "temporary_numbers", "temporary_numbers must be a list of phone numbers")
        return
    if len(entries) > MAX_TEMP_NUMBERS:
        sink.error("invalid_field", "temporary_numbers",
                   f"{len(entries)} temporary numbers: at most {MAX_TEMP_NUMBERS}")
        return
    seen: set[str] = set()
    for i, raw in enumerate(entries):
        where = f"temporary_numbers[{i}]"
        if not isinstance(raw, (str, int)) or isinstance(raw, bool):
            sink.error("invalid_number", where, f"{where} is not a phone number: write it as (303) 555-0188")
            continue
        try:
            tn = parse_tn(raw)
        except NumberProblem as exc:
            sink.error("invalid_number", where, exc.message)
            continue
        if tn in ported:
            sink.error("temporary_number_ported", where, f"{tn} is one of the numbers being ported: calls are "
                       "forwarded to a different DID while the port is pending")
        elif tn in seen:
            sink.error("duplicate_number", where, f"{tn} is listed twice in temporary_numbers")
        seen.add(tn)
