"""Reading a port request file (YAML or CSV) into plain data, with the line of each field.

YAML (``.yaml``, ``.yml``; ``.json`` too, JSON being YAML) mirrors :class:`models.request.PortRequest`;
see ``examples/good-request.yaml``. It is read by :mod:`portflow.check.yaml_reader`, which
refuses what a request never needs (aliases, tags, deep nesting, huge values, files over
4 MB, control characters) and turns YAML 1.1's surprises off (``0123`` stays text).

CSV has one row per number (or range) and a header row. Required columns: ``carrier``,
``account_number``, ``btn``, ``number``. Optional columns, per account: ``pin``, ``port_type``,
``remaining_numbers``, ``new_btn``, and the service address ``street``, ``line2``, ``city``,
``state``, ``postal_code``, ``country``. Header names are case-insensitive and spaces count
as underscores (``Account Number`` works). Rows with the same carrier and account number
form one account; its per-account columns may be filled on one row only or repeated, but
rows that disagree are an error. The request's own fields come from ``# key: value`` lines
above the header, which a PM can type into the first cells of a spreadsheet::

    # customer: Acme Dental Group
    # language: en
    # contact_name: Dana Whitfield
    # contact_email: dana@acmedental.example
    # contact_phone: (312) 555-0142
    # signer_name: Robert Acme
    # signer_title: CFO
    # signer_email: robert@acmedental.example
    # requested_port_date: 2027-11-16
    # activation_time: 10:00
    # time_zone: America/Chicago
    carrier,account_number,pin,btn,port_type,street,city,state,postal_code,number

Other ``#`` lines are comments. Documents are attached later, not named in a CSV. The file
must be UTF-8 (Excel: "CSV UTF-8"); commas, semicolons or tabs separate the cells.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from portflow.check.yaml_reader import MAX_FILE_BYTES, FileProblem, decode, parse_yaml, shorten

REQUIRED_COLUMNS = ("carrier", "account_number", "btn", "number")
ACCOUNT_COLUMNS = (
    "carrier",
    "account_number",
    "pin",
    "btn",
    "port_type",
    "remaining_numbers",
    "new_btn",
)
ADDRESS_COLUMNS = ("street", "line2", "city", "state", "postal_code", "country")
COLUMN_ALIASES = {
    "tn": "number",
    "numbers": "number",
    "zip": "postal_code",
    "zip_code": "postal_code",
}
# ``# key: value`` preamble keys of a CSV -> where they go in the request.
PREAMBLE_KEYS: dict[str, tuple[str, ...]] = {
    "id": ("id",),
    "customer": ("customer", "name"),
    "language": ("customer", "language"),
    "contact_name": ("contact", "name"),
    "contact_email": ("contact", "email"),
    "contact_phone": ("contact", "phone"),
    "signer_name": ("signer", "name"),
    "signer_title": ("signer", "title"),
    "signer_email": ("signer", "email"),
    "requested_port_date": ("requested_port_date",),
    "documents_complete_on": ("documents_complete_on",),
    "activation_time": ("activation_time",),
    "time_zone": ("time_zone",),
    "notes": ("notes",),
    "pm_email": ("pm_email",),
    "temporary_numbers": ("temporary_numbers",),
    "go_live_on_not_ready": ("go_live", "on_not_ready"),
    "go_live_optional": ("go_live", "optional"),
    "go_live_required": ("go_live", "required"),
    "go_live_warn_business_days": ("go_live", "warn_business_days"),
    "go_live_slip_business_days": ("go_live", "slip_business_days"),
    "go_live_rollback_plan": ("go_live", "rollback_plan"),
    "go_live_change_window_start": ("go_live", "change_window", "start"),
    "go_live_change_window_end": ("go_live", "change_window", "end"),
    "go_live_change_window_tz": ("go_live", "change_window", "tz"),
    "go_live_change_window_approved_by": ("go_live", "change_window", "approved_by"),
}
_PREAMBLE = re.compile(r"^#\s*([A-Za-z][A-Za-z0-9_ ]*?)\s*:\s*(.*?)\s*$")


@dataclass
class LoadedFile:
    """A request file as plain data, ready for :func:`portflow.check.check_request_data`."""

    data: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)  # field path -> line in the file
    kind: str = "yaml"
    # (severity, code, where, message) found while reading, e.g. duplicate YAML keys.
    problems: list[tuple[str, str, str, str]] = field(default_factory=list)


# --- YAML ----------------------------------------------------------------------------------


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def _walk(
    node: Node, path: str, lines: dict[str, int], problems: list[tuple[str, str, str, str]]
) -> None:
    if len(path) > 300:
        return  # deeper than any request field: no line numbers (and no quadratic path copies)
    if isinstance(node, MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, ScalarNode) else "?"
            line = key_node.start_mark.line + 1
            child = _path(path, key)
            if key in seen:
                problems.append(
                    (
                        "error",
                        "duplicate_key",
                        child,
                        (
                            f"'{shorten(key, 40)}' is written twice (lines {seen[key]} and {line}); only the "
                            "last one would count: merge them into one"
                        ),
                    )
                )
            seen[key] = line
            lines[child] = line
            _walk(value_node, child, lines, problems)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            child = _path(path, i)
            lines[child] = item.start_mark.line + 1
            _walk(item, child, lines, problems)


def load_yaml(text: str, source: str) -> LoadedFile:
    node, data = parse_yaml(text, source)
    if data is None:
        raise FileProblem(
            "empty", source, "the file is empty: start from examples/good-request.yaml"
        )
    if not isinstance(data, dict):
        raise FileProblem(
            "not_a_request",
            source,
            f"the file holds a {type(data).__name__}, not a port request: a request is a mapping with "
            "customer, contact, signer, requested_port_date and accounts (see examples/good-request.yaml)",
        )
    loaded = LoadedFile(data=data, kind="yaml")
    _walk(node, "", loaded.lines, loaded.problems)
    return loaded


# --- CSV -----------------------------------------------------------------------------------


def _column(name: str) -> str:
    key = re.sub(r"[\s\-]+", "_", name.strip().lower())
    return COLUMN_ALIASES.get(key, key)


def csv_hint(where: str) -> str:
    """Where a field lives in a CSV, for messages about a missing or wrong field."""
    keys = [k for k, path in PREAMBLE_KEYS.items() if ".".join(path) == where or path[0] == where]
    if keys:
        return "in a CSV: " + ", ".join(f"a '# {k}: ...' line" for k in keys) + " above the header"
    field_name = where.rsplit(".", 1)[-1]
    if ".service_address" in where:
        cols = (
            [field_name]
            if field_name in ADDRESS_COLUMNS
            else ["street", "city", "state", "postal_code"]
        )
        return "in a CSV: the " + ", ".join(cols) + " column(s)"
    if where.startswith("accounts[") and field_name in ACCOUNT_COLUMNS:
        return f"in a CSV: the {field_name} column"
    return ""


def _set(data: dict[str, Any], keys: tuple[str, ...], value: str) -> None:
    for k in keys[:-1]:
        data = data.setdefault(k, {})
    data[keys[-1]] = value


def load_csv(text: str, source: str) -> LoadedFile:
    raw_lines = text.splitlines()
    data: dict[str, Any] = {}
    loaded = LoadedFile(data=data, kind="csv")
    # The header is the first line that is neither blank nor a '#' line; its separator
    # (comma, semicolon or tab: spreadsheets differ by locale) applies to the preamble too.
    header_at = next(
        (
            i
            for i, line in enumerate(raw_lines)
            if line.strip(' \t,;"') and not line.lstrip(' "').startswith("#")
        ),
        None,
    )
    if header_at is None:
        raise FileProblem(
            "empty",
            source,
            "no header row: the first line that is not a '# key: value' line must name the "
            f"columns {', '.join(REQUIRED_COLUMNS)}",
        )
    delimiter = max(",;\t", key=raw_lines[header_at].count)
    for i, line in enumerate(raw_lines[:header_at]):
        cells = next(csv.reader([line], delimiter=delimiter), [])
        while cells and not cells[-1].strip():
            cells.pop()
        m = _PREAMBLE.match(delimiter.join(cells).strip())
        if not m:
            continue  # a blank line or a plain comment
        key, value = _column(m[1]), m[2]
        if key in PREAMBLE_KEYS:
            _set(data, PREAMBLE_KEYS[key], value)
            loaded.lines[".".join(PREAMBLE_KEYS[key])] = i + 1
        else:
            close = difflib.get_close_matches(key, list(PREAMBLE_KEYS), n=1)
            fix = (
                f"did you mean '# {close[0]}:'?"
                if close
                else f"the preamble keys are {', '.join(PREAMBLE_KEYS)}"
            )
            loaded.lines[key] = i + 1
            loaded.problems.append(
                (
                    "error",
                    "unknown_field",
                    key,
                    f"'# {shorten(m[1], 40)}:' is not a request field: {fix}",
                )
            )
    body = "\n".join(raw_lines[header_at:])
    try:
        reader = csv.reader(io.StringIO(body), delimiter=delimiter, strict=True)
        rows = [(reader.line_num + header_at, row) for row in reader]
    except csv.Error as exc:
        raise FileProblem(
            "bad_csv", source, f"not valid CSV ({exc}): check the quotes on that row"
        ) from None
    header = [_column(c) for c in rows[0][1]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise FileProblem(
            "bad_csv",
            source,
            f"the header row (line {header_at + 1}) lacks the column(s) {', '.join(missing)}; "
            f"it must name {', '.join(REQUIRED_COLUMNS)} (see examples/good-request.csv)",
        )
    known = set(ACCOUNT_COLUMNS) | set(ADDRESS_COLUMNS) | {"number"}
    for name in header:
        if name and name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            loaded.lines[name] = header_at + 1
            loaded.problems.append(
                (
                    "error",
                    "unknown_column",
                    name,
                    f"column '{shorten(name, 40)}' is not a request field"
                    + (f": did you mean '{close[0]}'?" if close else ""),
                )
            )
    accounts: list[dict[str, Any]] = []
    by_key: dict[tuple[str, str], int] = {}
    for line_no, row in rows[1:]:
        cells = {
            name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(header) if name
        }
        if not any(cells.values()):
            continue
        key = (cells.get("carrier", "").lower(), cells.get("account_number", ""))
        if key not in by_key:
            by_key[key] = len(accounts)
            accounts.append({"numbers": []})
            loaded.lines[f"accounts[{by_key[key]}]"] = line_no
        index = by_key[key]
        account, prefix = accounts[index], f"accounts[{index}]"
        for name in ACCOUNT_COLUMNS + ADDRESS_COLUMNS:
            value = cells.get(name, "")
            if not value:
                continue
            target = (
                account.setdefault("service_address", {}) if name in ADDRESS_COLUMNS else account
            )
            where = (
                f"{prefix}.service_address.{name}"
                if name in ADDRESS_COLUMNS
                else f"{prefix}.{name}"
            )
            if name not in target:
                target[name] = value
                loaded.lines[where] = line_no
            elif target[name] != value:
                shown = (
                    ""
                    if name in ("pin", "account_number")
                    else f" ('{shorten(target[name], 40)}' and '{shorten(value, 40)}')"
                )
                loaded.problems.append(
                    (
                        "error",
                        "csv_conflict",
                        where,
                        (
                            f"rows {loaded.lines[where]} and {line_no} of the same account give "
                            f"different {name}{shown}: keep one value"
                        ),
                    )
                )
        loaded.lines[f"{prefix}.numbers[{len(account['numbers'])}]"] = line_no
        account["numbers"].append(cells.get("number", ""))
    data["accounts"] = accounts
    return loaded


# --- files ---------------------------------------------------------------------------------


def read_text(path: Path) -> str:
    """The file as text: at most ``MAX_FILE_BYTES`` are read, whatever its size."""
    source = str(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise FileProblem("not_found", source, "no such file: check the path") from None
    except IsADirectoryError:
        raise FileProblem(
            "not_a_file", source, "this is a directory: give the request file inside it"
        ) from None
    except OSError as exc:
        raise FileProblem(
            "unreadable", source, f"cannot read the file ({exc.strerror or exc})"
        ) from None
    return decode(raw, source)


def load_request_file(path: Path) -> LoadedFile:
    """Read a ``.yaml``/``.yml``/``.json`` or ``.csv`` request file, or raise :class:`FileProblem`."""
    path = Path(path)
    suffix = path.suffix.lower()
    if path.is_dir():
        raise FileProblem(
            "not_a_file", str(path), "this is a directory: give the request file inside it"
        )
    if suffix not in (".yaml", ".yml", ".json", ".csv"):
        raise FileProblem(
            "unknown_type",
            str(path),
            f"unknown file type '{suffix or '(none)'}': write the request as .yaml or .csv",
        )
    text = read_text(path)
    if suffix == ".csv":
        return load_csv(text, str(path))
    return load_yaml(text, str(path))
