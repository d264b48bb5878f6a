"""Account and number rules of the offline check.

Per number: a valid NANP number, North American, not listed twice in the request, toll-free
(a note: it goes the RespOrg way), ranges well formed and within the size limit. Per
account: carrier, account number and BTN present, the full- and partial-port rules. Every
rule reports through a :class:`Sink` and never stops at the first problem;
:mod:`portflow.check` owns the flow and the report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.phone import format_national, is_toll_free
from core.text import shorten
from models.numbers import NumberProblem, expand_entry, is_range, parse_tn
from models.request import PortType, RemainingNumbers
from models.secrets import MASK

_RANGE_LIKE = re.compile(r"\d\s*(?:-|\u2013|\.\.|\bto\b)\s*\d")
_LETTER = re.compile(r"[^\W\d_]")  # a letter of any script


class Sink(Protocol):
    def add(
        self, severity: Any, code: str, where: str, message: str, section: str | None = None
    ) -> None: ...

    def error(self, code: str, where: str, message: str, section: str | None = None) -> None: ...


@dataclass
class NumberEntry:
    """One entry of an account's numbers as written, and what it expands to."""

    where: str
    entry: str
    numbers: list[str] = field(default_factory=list)  # E.164; empty when the entry is wrong
    toll_free: bool = False
    problem: str | None = None  # the code of the entry's error, if any

    def to_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "entry": self.entry,
            "count": len(self.numbers),
            "numbers": self.numbers,
            "toll_free": self.toll_free,
            "problem": self.problem,
        }


@dataclass
class AccountSummary:
    """What the report shows of one account: never its account number or PIN."""

    index: int
    carrier: str
    port_type: str
    btn: str | None
    new_btn: str | None
    remaining_numbers: str | None
    entries: list[NumberEntry]

    @property
    def numbers(self) -> list[str]:
        return [n for e in self.entries for n in e.numbers]

    @property
    def toll_free(self) -> list[str]:
        return [n for e in self.entries if e.toll_free for n in e.numbers]

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "order": self.index + 1,
            "carrier": self.carrier,
            "port_type": self.port_type,
            "btn": self.btn,
            "new_btn": self.new_btn,
            "remaining_numbers": self.remaining_numbers,
            "count": len(self.numbers),
            "toll_free_count": len(self.toll_free),
            "entries": [e.to_dict() for e in self.entries],
        }


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in ("", MASK))


class AccountRules:
    """Checks accounts one by one, remembering numbers across them to find duplicates."""

    def __init__(self, sink: Sink, max_range: int, max_numbers: int = 10_000) -> None:
        self.sink = sink
        self.max_range = max_range
        self.max_numbers = max_numbers
        self.total = 0  # numbers so far, across accounts
        self.over = False  # the request holds more than max_numbers: later entries not expanded
        self.seen: dict[str, tuple[str, str]] = {}  # E.164 -> (where, account label)
        self.summaries: list[AccountSummary] = []

    def check(self, i: int, account: Any) -> Any:
        """Report the account's problems; return it with its numbers expanded to E.164."""
        prefix = f"accounts[{i}]"
        if not isinstance(account, dict):
            self.sink.error(
                "invalid_field",
                prefix,
                f"{prefix} must be a mapping with carrier, account_number, "
                "btn, service_address and numbers",
            )
            return account
        carrier = shorten(str(account.get("carrier") or "").strip(), 60)
        label = f"{prefix} ({carrier})" if carrier else prefix
        if not carrier:
            self.sink.error(
                "missing_carrier",
                f"{prefix}.carrier",
                f"{prefix} has no carrier: name the losing carrier as on the bill, e.g. Verizon",
            )
        self._secret(
            account,
            prefix,
            label,
            "account_number",
            "copy it from the CSR or the bill",
            required=True,
        )
        self._secret(account, prefix, label, "pin", "the account passcode, as text", required=False)
        btn = self._tn(account, prefix, label, "btn", required=True)
        new_btn = self._tn(account, prefix, label, "new_btn", required=False)
        entries = self._numbers(account, prefix, label)
        numbers = [n for e in entries for n in e.numbers]
        # An entry that could not be read may have held the BTN: don't guess whether it is listed.
        unreadable = any(e.problem and not e.numbers for e in entries)
        normalized = dict(account, numbers=numbers)

        port_type = str(account.get("port_type") or "full").strip().lower()
        remaining = str(account.get("remaining_numbers") or "").strip().lower() or None
        if port_type in set(PortType):
            normalized["port_type"] = port_type
        if remaining in set(RemainingNumbers):
            normalized["remaining_numbers"] = remaining
        if port_type == PortType.FULL:
            if btn is not None and numbers and not unreadable and btn not in numbers:
                self.sink.error(
                    "btn_not_in_numbers",
                    f"{prefix}.btn",
                    f"{label} is a full port but its BTN "
                    f"{format_national(btn)} is not among its numbers: add the BTN to numbers, or make "
                    f"it a partial port (port_type: partial) if the BTN stays with {carrier or 'them'}",
                )
            for extra in ("new_btn", "remaining_numbers"):
                if not _blank(account.get(extra)):
                    self.sink.add(
                        "warning",
                        "ignored_field",
                        f"{prefix}.{extra}",
                        f"{label} is a full port, so "
                        f"{extra} is ignored: remove it, or make it a partial port",
                    )
        elif port_type == PortType.PARTIAL:
            if remaining is None:
                self.sink.error(
                    "partial_without_remaining",
                    f"{prefix}.remaining_numbers",
                    f"{label} is a partial "
                    "port: say what happens to the numbers that stay with the carrier with "
                    "remaining_numbers: keep or remaining_numbers: disconnect",
                )
            elif remaining == RemainingNumbers.KEEP and _blank(account.get("new_btn")):
                self.sink.error(
                    "partial_without_new_btn",
                    f"{prefix}.new_btn",
                    f"{label} is a partial port that "
                    "keeps the remaining numbers: give new_btn, the number staying with "
                    f"{carrier or 'the carrier'} that becomes the account's new BTN",
                )
            elif remaining == RemainingNumbers.DISCONNECT and not _blank(account.get("new_btn")):
                self.sink.add(
                    "warning",
                    "ignored_field",
                    f"{prefix}.new_btn",
                    f"{label} disconnects the remaining "
                    "numbers, so new_btn is ignored: remove it, or keep the remaining numbers",
                )
            if new_btn is not None and new_btn in numbers:
                self.sink.error(
                    "new_btn_ported",
                    f"{prefix}.new_btn",
                    f"{label}: new_btn {format_national(new_btn)}"
                    " is among the numbers to port, but it must stay behind: pick a number that stays",
                )
        self.summaries.append(
            AccountSummary(i, carrier, port_type, btn, new_btn, remaining, entries)
        )
        return normalized

    def _secret(
        self, account: dict[str, Any], prefix: str, label: str, key: str, hint: str, required: bool
    ) -> None:
        value = account.get(key)
        if _blank(value):
            if required:
                self.sink.error(
                    f"missing_{key}", f"{prefix}.{key}", f"{label} has no {key}: {hint}"
                )
        elif isinstance(value, bool) or not isinstance(value, (str, int, dict)):
            self.sink.error(
                "invalid_field", f"{prefix}.{key}", f"{label}: {key} must be text ({hint})"
            )

    def _tn(
        self, account: dict[str, Any], prefix: str, label: str, key: str, required: bool
    ) -> str | None:
        value = account.get(key)
        if _blank(value):
            if required:
                self.sink.error(
                    f"missing_{key}",
                    f"{prefix}.{key}",
                    f"{label} has no {key}: copy the billing "
                    "telephone number from the CSR or the bill",
                )
            return None
        try:
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise NumberProblem(
                    "invalid", str(value), "it must be a phone number such as (312) 555-0100"
                )
            e164 = parse_tn(value)
        except NumberProblem as p:
            self.sink.error(f"invalid_{key}", f"{prefix}.{key}", f"{label}: {key} {p.message}")
            return None
        letters_note(self.sink, f"{prefix}.{key}", str(value), [e164])
        return e164

    def _numbers(self, account: dict[str, Any], prefix: str, label: str) -> list[NumberEntry]:
        raw, path = account.get("numbers"), f"{prefix}.numbers"
        if isinstance(raw, (str, int)) and not isinstance(raw, bool):
            raw = [v.strip() for v in re.split(r"[,;\n]", str(raw)) if v.strip()]
        if raw in (None, []):
            self.sink.error(
                "no_numbers",
                path,
                f"{label} lists no numbers: add the numbers to port under numbers",
            )
            return []
        if not isinstance(raw, list):
            self.sink.error(
                "invalid_field", path, f"{label}: numbers must be a list of numbers and ranges"
            )
            return []
        return [self._entry(f"{path}[{j}]", label, value) for j, value in enumerate(raw)]

    def _entry(self, where: str, label: str, value: Any) -> NumberEntry:
        text = "" if value is None else str(value).strip()
        entry = NumberEntry(where=where, entry=shorten(text, 64))
        if self.over:
            entry.problem = "too_many_numbers"
            return entry
        try:
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise NumberProblem(
                    "invalid",
                    text,
                    f"'{shorten(text, 40)}' is not a phone number: write it as (312) 555-0100",
                )
            entry.numbers = (
                expand_entry(text, self.max_range) if is_range(text) else [parse_tn(text)]
            )
        except NumberProblem as p:
            if p.code in ("not_north_american", "range_too_large"):
                code = p.code
            elif is_range(text) or (_RANGE_LIKE.search(text) and len(re.sub(r"\D", "", text)) > 11):
                code = "bad_range"
            else:
                code = "invalid_number"
            message = p.message
            if code == "bad_range" and not message.startswith("range"):
                message = (
                    f"range '{shorten(text, 64)}': {message}; write a range as 3125550100-3125550199"
                )
            entry.problem = code
            self.sink.error(code, where, message)
            return entry
        if self.total + len(entry.numbers) > self.max_numbers:
            self.over, entry.numbers, entry.problem = True, [], "too_many_numbers"
            self.sink.error(
                "too_many_numbers",
                where,
                f"the request holds more than {self.max_numbers:,} numbers from here on: split it "
                "into several requests (PORTFLOW_MAX_NUMBERS_PER_REQUEST sets the limit)",
            )
            return entry
        self.total += len(entry.numbers)
        letters_note(self.sink, where, text, entry.numbers)
        self._duplicates(entry, label)
        entry.toll_free = any(is_toll_free(n) for n in entry.numbers)
        if entry.toll_free:
            count = len(entry.numbers)
            what = (
                format_national(entry.numbers[0])
                if count == 1
                else f"all {count} numbers of '{text}'"
            )
            self.sink.add(
                "note",
                "toll_free",
                where,
                f"{what}: toll-free, so it moves by a RespOrg change through Somos, in an order "
                "of its own beside the account's port order (its own LOA; no CSR or PIN needed)",
            )
        return entry

    def _duplicates(self, entry: NumberEntry, label: str) -> None:
        clashes: dict[tuple[str, str], list[str]] = {}
        for n in entry.numbers:
            if n in self.seen:
                clashes.setdefault(self.seen[n], []).append(n)
            else:
                self.seen[n] = (entry.where, label)
        for (other, other_label), dups in clashes.items():
            under = "in the same account" if other_label == label else f"under {other_label}"
            if len(dups) == 1:
                what = f"{format_national(dups[0])} is listed twice: also at {other}, {under}"
            else:
                what = (
                    f"{len(dups)} numbers of '{entry.entry}' are listed twice: also at {other}, {under} "
                    f"(e.g. {format_national(dups[0])})"
                )
            self.sink.error(
                "duplicate_number",
                entry.where,
                f"{what}; a number can be in one port only: remove the extra listing",
            )
        if clashes:
            entry.problem = "duplicate_number"


def letters_note(sink: Sink, where: str, text: str, numbers: list[str]) -> None:
    """A number typed with letters (``1-800-FLOWERS``) is read as the digits of a phone
    keypad: say so, with the number it became, so a typo in a vanity number is seen."""
    if not numbers or not _LETTER.search(re.sub(r"\bto\b", "", text)):
        return
    became = format_national(numbers[0]) + (
        f" .. {format_national(numbers[-1])}" if len(numbers) > 1 else f" ({numbers[0]})"
    )
    sink.add(
        "note",
        "letters_converted",
        where,
        f"'{shorten(text, 40)}' has letters, read as the digits of a phone keypad: {became}; "
        "check that this is the number meant",
    )
