"""Files the port commands read: the request file ``start`` takes, the CSV ``assign`` takes.

``start`` runs exactly the check ``check`` runs and refuses what it refuses, with one
exception: a PM who records an expedite (``--expedite REASON``) waives the 3-week lead time,
so a ``lead_time`` error is then waived (and shown as such), nothing else.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from core.settings import Settings, get_settings
from models.request import PortRequest
from portflow.check import CheckReport, Problem, Severity, check_request_data, check_request_file
from portflow.cli.errors import CliError
from portflow.check.request_file import load_request_file, read_text

WAIVED_BY_EXPEDITE = frozenset({"lead_time"})


class StartRefused(Exception):
    """The request file does not pass the check: the report says what to fix."""

    def __init__(self, report: CheckReport) -> None:
        super().__init__(f"{report.source}: {len(report.errors)} error(s)")
        self.report = report


@dataclass
class StartPlan:
    request: PortRequest
    report: CheckReport
    base_dir: Path
    has_own_id: bool
    waived: list[Problem] = field(default_factory=list)


def plan_start(path: Path, *, expedite: str | None = None, today: date | None = None,
               settings: Settings | None = None, allow_unknown_fields: bool = False) -> StartPlan:
    """Check ``path`` like ``check`` does; raises :class:`StartRefused` with the report, or
    ``portflow.check.FileProblem`` when the file cannot be read."""
    def run(s: Settings) -> CheckReport:
        return check_request_file(path, today=today, settings=s, allow_unknown_fields=allow_unknown_fields)

    report, waived = _checked(run, expedite, settings or get_settings())
    has_id = bool(str(load_request_file(path).data.get("id") or "").strip())
    return StartPlan(request=report.request, report=report, base_dir=path.resolve().parent, has_own_id=has_id,
                     waived=waived)


def plan_start_data(data: dict[str, Any], *, expedite: str | None = None, today: date | None = None,
                    settings: Settings | None = None, allow_unknown_fields: bool = False,
                    source: str = "<api>") -> StartPlan:
    """The same for a request given as data (the REST API's JSON body): the same check, the
    same waiver. Such a request names no document files (there is no file to be relative
    to, and a server must not read paths a caller names): documents are uploaded once the
    port has started, so a ``documents`` entry is refused (``documents_by_upload``)."""
    def run(s: Settings) -> CheckReport:
        return check_data(data, today=today, settings=s, allow_unknown_fields=allow_unknown_fields, source=source)

    report, waived = _checked(run, expedite, settings or get_settings())
    has_id = bool(str(data.get("id") or "").strip())
    return StartPlan(request=report.request, report=report, base_dir=Path.cwd(), has_own_id=has_id, waived=waived)


def check_data(data: dict[str, Any], *, today: date | None = None, settings: Settings | None = None,
               allow_unknown_fields: bool = False, source: str = "<api>") -> CheckReport:
    """``check`` of a request given as data, as ``plan_start_data`` checks it (no document paths)."""
    report = check_request_data(data, today=today, settings=settings or get_settings(), source=source,
                                allow_unknown_fields=allow_unknown_fields)
    if data.get("documents") not in (None, []):
        report.problems.append(Problem(
            Severity.ERROR, "documents_by_upload", "file", "documents",
            "documents cannot be named by path here: leave `documents` out and upload each one once the "
            "port has started (POST /v1/ports/{id}/documents, multipart)"))
        report.request = None
    return report


def _checked(run: Callable[[Settings], CheckReport], expedite: str | None,
             s: Settings) -> tuple[CheckReport, list[Problem]]:
    """The check's report, refusing what it refuses except the lead time an expedite waives."""
    report = run(s)
    waived = [p for p in report.errors if expedite and p.code in WAIVED_BY_EXPEDITE]
    if len(waived) < len(report.errors):
        raise StartRefused(report)
    if waived:  # the same check with the lead time waived gives the validated request
        report = run(s.model_copy(update={"lead_time_days": 0}))
        if not report.ok:
            raise StartRefused(report)
    assert report.request is not None
    return report, waived


_TN_COLUMNS = ("tn", "number", "phone", "phone_number", "telephone_number")
_WHO_COLUMNS = ("to", "assignee", "assigned_to", "user", "who")
_KINDS = {"user": "user", "resource_account": "resource_account", "resource account": "resource_account",
          "resource": "resource_account"}


def read_assignments(path: Path, default_kind: str = "user") -> dict[str, dict[str, str]]:
    """``kind -> {number: who}`` from a CSV with columns ``tn,to`` and optionally ``kind``
    (``user`` or ``resource_account``). A header row is needed; ``#`` lines are comments."""
    try:
        text = read_text(path)
    except Exception as exc:  # noqa: BLE001 - the reader's message says what is wrong
        raise CliError(f"cannot read {path}: {getattr(exc, 'message', exc)}") from None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise CliError(f"{path} is empty: write a header `tn,to` and one row per number")
    dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t") if any(c in lines[0] for c in ",;\t") else "excel"
    rows = list(csv.reader(io.StringIO("\n".join(lines)), dialect))
    header = [h.strip().lower().replace(" ", "_") for h in rows[0]]
    tn_col = next((header.index(c) for c in _TN_COLUMNS if c in header), None)
    who_col = next((header.index(c) for c in _WHO_COLUMNS if c in header), None)
    if tn_col is None or who_col is None:
        raise CliError(f"{path}: the first row must name the columns, e.g. `tn,to` (optionally `,kind`); "
                       f"found: {', '.join(rows[0])}")
    kind_col = header.index("kind") if "kind" in header else None
    out: dict[str, dict[str, str]] = {}
    problems = []
    for n, row in enumerate(rows[1:], start=2):
        cells = [c.strip() for c in row] + [""] * len(header)
        tn, who = cells[tn_col], cells[who_col]
        raw_kind = cells[kind_col].lower() if kind_col is not None and cells[kind_col] else default_kind
        kind = _KINDS.get(raw_kind)
        if not tn and not who:
            continue
        if kind is None:
            problems.append(f"row {n}: kind '{raw_kind}' is neither user nor resource_account")
        elif not tn or not who:
            problems.append(f"row {n}: give both the number and who gets it")
        elif any(tn in group for group in out.values()):
            problems.append(f"row {n}: {tn} is listed twice")
        else:
            out.setdefault(kind, {})[tn] = who
    if problems:
        raise CliError(f"{path}: " + "; ".join(problems))
    if not out:
        raise CliError(f"{path} has no rows: one row per number, e.g. `+13125550100,dana@acme.example`")
    return out
