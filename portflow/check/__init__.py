"""The offline check of a port request file: every problem at once, each saying what to fix.

``python starter.py check REQUEST`` calls :func:`check_request_file`; the API and the starter
call :func:`check_request_data` on data they already hold. No server is needed. The file
formats (YAML, or CSV with one row per number and a ``# key: value`` preamble for the
request's own fields) are described in :mod:`portflow.check.request_file`.

The model validators in :mod:`models.request` stop at the first problem; the rules here
report all of them, per number and per account (:mod:`portflow.check.rules`) and for the
date (:mod:`portflow.check.dates`: business day, lead time, past, maintenance window).
Whatever else the model refuses (customer, contact, signer, address fields) is translated
from its errors into readable field paths (:mod:`portflow.check.model`). A request is ``ok``
when nothing is an error; notes (a toll-free number) and warnings do not stop it.

Lead time: the 21 days count from ``documents_complete_on`` when the file gives it (the day
the CSR and bill were, or will be, complete), otherwise from the day of the check (``today``).

Secrets (account number, PIN) never appear in a report: the check's own messages never quote
them, and the model's messages are masked should one ever echo a value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from core.calendar import PortCalendar
from core.text import shorten
from models.numbers import NumberProblem, parse_tn
from models.request import PortRequest
from portflow.check.dates import DateRules
from portflow.check.golive import check_go_live
from portflow.check.model import model_problems, typed_secrets, unknown_fields
from portflow.check.printable import unprintable_fields
from portflow.check.request_file import FileProblem, LoadedFile, csv_hint, load_request_file
from portflow.check.rules import AccountRules, AccountSummary, NumberEntry, letters_note

__all__ = [
    "AccountSummary",
    "CheckReport",
    "FileProblem",
    "NumberEntry",
    "Problem",
    "Severity",
    "check_request_data",
    "check_request_file",
]


class Severity(StrEnum):
    ERROR = "error"  # the request cannot be started until it is fixed
    WARNING = "warning"  # probably a mistake, but the request can start
    NOTE = "note"  # worth knowing (a toll-free number goes the RespOrg way)


SECTIONS = ("file", "request", "date", "accounts", "numbers")
_DATE_FIELDS = ("requested_port_date", "activation_time", "time_zone", "documents_complete_on")
_LAST_STEP = re.compile(r"(\.[^.\[\]]+|\[\d+\])$")


@dataclass(frozen=True)
class Problem:
    severity: Severity
    code: str
    section: str
    where: str  # field path such as accounts[1].service_address.postal_code
    message: str  # what is wrong and what to do about it
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": str(self.severity),
            "code": self.code,
            "section": self.section,
            "where": self.where,
            "line": self.line,
            "message": self.message,
        }


@dataclass
class CheckReport:
    source: str
    today: date
    earliest_port_date: date
    problems: list[Problem] = field(default_factory=list)
    accounts: list[AccountSummary] = field(default_factory=list)
    requested_port_date: date | None = None
    documents_due: date | None = None
    activation_at: datetime | None = None  # UTC
    time_zone: str | None = None
    customer: str | None = None
    request: PortRequest | None = None  # the validated request, when ok

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def count(self, severity: Severity) -> int:
        return sum(p.severity is severity for p in self.problems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "source": self.source,
            "today": self.today.isoformat(),
            "customer": self.customer,
            "requested_port_date": self.requested_port_date.isoformat()
            if self.requested_port_date
            else None,
            "earliest_port_date": self.earliest_port_date.isoformat(),
            "documents_due": self.documents_due.isoformat() if self.documents_due else None,
            "activation_at": self.activation_at.isoformat() if self.activation_at else None,
            "time_zone": self.time_zone,
            "counts": {str(s): self.count(s) for s in Severity},
            "problems": [p.to_dict() for p in self.problems],
            "accounts": [a.to_dict() for a in self.accounts],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def check_request_file(
    path: Path,
    *,
    today: date | None = None,
    settings: Any = None,
    allow_unknown_fields: bool = False,
) -> CheckReport:
    """Check a YAML or CSV request file. Raises :class:`FileProblem` when it cannot be read."""
    loaded = load_request_file(Path(path))
    return check_request_data(
        loaded.data,
        today=today,
        settings=settings,
        source=str(path),
        loaded=loaded,
        base_dir=Path(path).parent,
        allow_unknown_fields=allow_unknown_fields,
    )


def check_request_data(
    data: dict[str, Any],
    *,
    today: date | None = None,
    settings: Any = None,
    source: str = "<data>",
    loaded: LoadedFile | None = None,
    base_dir: Path | None = None,
    allow_unknown_fields: bool = False,
) -> CheckReport:
    """Check a request given as plain data (what a YAML file holds).

    A key no field matches (a typo, usually) is an error: its value would be ignored and a
    default used silently. With ``allow_unknown_fields`` it is a warning instead."""
    if settings is None:
        from core.settings import get_settings

        settings = get_settings()
    checker = _Checker(data, today or date.today(), settings, source, loaded, base_dir)
    checker.allow_unknown = allow_unknown_fields
    return checker.run()


def _is_file(base: Path, path: str) -> bool:
    try:
        return (base / path).is_file()
    except (OSError, ValueError):  # a name too long for the system, a NUL byte
        return False


class _Checker:
    def __init__(
        self,
        data: Any,
        today: date,
        settings: Any,
        source: str,
        loaded: LoadedFile | None,
        base_dir: Path | None,
    ) -> None:
        self.data = data if isinstance(data, dict) else {}
        self.today = today
        self.settings = settings
        self.calendar = PortCalendar.from_settings(settings)
        self.lines = loaded.lines if loaded else {}
        self.kind = loaded.kind if loaded else "data"
        self.loaded_problems = loaded.problems if loaded else []
        self.base_dir = base_dir
        self.problems: list[Problem] = []
        self.report = CheckReport(source=source, today=today, earliest_port_date=today)
        self.allow_unknown = False

    def unknown(self, code: str, where: str, message: str, section: str | None = None) -> None:
        """A key no field matches: an error (its value would be ignored silently) unless the
        PM allowed unknown fields."""
        if self.allow_unknown:
            self.add(Severity.WARNING, code, where, f"{message} (ignored: --allow-unknown-fields)", section)
        else:
            fix = "fix the name, or remove it (--allow-unknown-fields ignores it instead)"
            fix = f" {fix[0].upper()}{fix[1:]}" if message.endswith("?") else f"; {fix}"
            self.error(code, where, message + fix, section)

    def add(
        self,
        severity: Severity | str,
        code: str,
        where: str,
        message: str,
        section: str | None = None,
    ) -> None:
        if self.kind == "csv" and code.startswith(("missing_", "invalid_", "partial_")):
            hint = csv_hint(where)
            message = f"{message} ({hint})" if hint else message
        self.problems.append(
            Problem(
                Severity(severity),
                code,
                section or self._section(where),
                where,
                message,
                self._line(where),
            )
        )

    def error(self, code: str, where: str, message: str, section: str | None = None) -> None:
        self.add(Severity.ERROR, code, where, message, section)

    @staticmethod
    def _section(where: str) -> str:
        if where.startswith("accounts"):
            return "numbers" if ".numbers" in where else "accounts"
        if where.split(".")[0] in _DATE_FIELDS:
            return "date"
        return "request"

    def _line(self, where: str) -> int | None:
        """The line of ``where`` in the file, or of its closest parent that is there."""
        path = where
        while path:
            if path in self.lines:
                return self.lines[path]
            parent = _LAST_STEP.sub("", path)
            path = "" if parent == path else parent
        return None

    def run(self) -> CheckReport:
        for severity, code, where, message in self.loaded_problems:
            if code in ("unknown_column", "unknown_field"):
                # Unknown CSV columns and preamble keys are about the file's layout, not a field.
                self.unknown(code, where, message, "file")
            else:
                self.add(Severity(severity), code, where, message)
        if not isinstance(self.data.get("customer"), dict):
            customer = self.data.get("customer")
            self.report.customer = shorten(customer, 80) if isinstance(customer, str) else None
        else:
            name = self.data["customer"].get("name")
            self.report.customer = shorten(name, 80) if name is not None else None
        self._contact_phone()
        normalized = dict(self.data)
        rules = AccountRules(
            self, self.settings.max_range_size, self.settings.max_numbers_per_request
        )
        accounts = self.data.get("accounts")
        if accounts in (None, [], ""):
            self.error(
                "no_accounts",
                "accounts",
                "no losing-carrier account: add at least one under accounts, "
                "with its carrier, account_number, btn, service_address and numbers",
            )
        elif not isinstance(accounts, list):
            self.error(
                "invalid_field", "accounts", "accounts must be a list of losing-carrier accounts"
            )
        else:
            normalized["accounts"] = [rules.check(i, a) for i, a in enumerate(accounts)]
            self.report.accounts = rules.summaries
        facts = DateRules(
            self, self.calendar, self.today, self.data, self.settings.default_time_zone
        ).check(normalized)
        for name in (
            "earliest_port_date",
            "requested_port_date",
            "documents_due",
            "activation_at",
            "time_zone",
        ):
            setattr(self.report, name, getattr(facts, name))
        self._check_documents()
        check_go_live(self, self.data, facts.activation_at,
                      [n for a in self.report.accounts for n in a.numbers])
        for where, message in unprintable_fields(self.data):
            self.error("unprintable_characters", where, message)
        for where, message in unknown_fields(self.data):
            self.unknown("unknown_field", where, message)
        errors_so_far = [p.where for p in self.problems if p.severity is Severity.ERROR]
        normalized.pop("documents_complete_on", None)
        try:
            request = PortRequest.model_validate(normalized)
        except ValidationError as exc:
            request = None
            for code, where, message in model_problems(
                exc, errors_so_far, typed_secrets(self.data)
            ):
                self.error(code, where, message)
        order = {s: i for i, s in enumerate(SECTIONS)}
        self.problems.sort(key=lambda p: (order.get(p.section, 9), p.line or 0, p.where))
        self.report.problems = self.problems
        self.report.request = request if self.report.ok else None
        return self.report

    def _contact_phone(self) -> None:
        contact = self.data.get("contact")
        phone = contact.get("phone") if isinstance(contact, dict) else None
        if isinstance(phone, str):
            try:
                letters_note(self, "contact.phone", phone, [parse_tn(phone)])
            except NumberProblem:
                pass  # the model reports it

    def _check_documents(self) -> None:
        documents = self.data.get("documents")
        if not isinstance(documents, list):
            return
        accounts = self.data.get("accounts")
        count = len(accounts) if isinstance(accounts, list) else 0
        for i, doc in enumerate(documents):
            path = doc.get("path") if isinstance(doc, dict) else None
            account = doc.get("account") if isinstance(doc, dict) else None
            if isinstance(account, int) and not isinstance(account, bool) and not 0 <= account < count:
                self.error(
                    "invalid_field",
                    f"documents[{i}].account",
                    f"documents[{i}].account is {shorten(account, 20)}, but the request has "
                    f"{count} account(s): give an index from 0 to {max(count - 1, 0)}, or leave it "
                    "out for a document of every account",
                )
            if (
                isinstance(path, str)
                and self.base_dir is not None
                and len(path) <= 500
                and not _is_file(self.base_dir, path)
            ):
                self.error(
                    "document_missing",
                    f"documents[{i}].path",
                    f"document '{shorten(path, 80)}' is not there (paths are relative to the request file): "
                    "fix the path or remove the entry",
                )
