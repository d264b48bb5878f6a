"""Telephone numbers: parsing North American notations and ranges into E.164.

Everything that accepts a number from a person goes through :func:`parse_tn`; ranges
(``4155550100-4155550199``) go through :func:`expand_entry`. Both raise
:class:`NumberProblem`, whose ``code`` names what is wrong and whose message says what to fix.
Reading an E.164 number back for people (national format, toll-free) is :mod:`core.phone`.
"""

from __future__ import annotations

import re
from typing import Annotated

import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers.phonenumberutil import _number_type_helper
from pydantic import BeforeValidator

from core.phone import remember_toll_free
from core.text import shorten

# Regions of the North American Numbering Plan.
NANP_REGIONS = frozenset(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1])

_RANGE = re.compile(r"^\s*(?P<start>[^-\u2013]+?)\s*(?:-|\u2013|\bto\b|\.\.)\s*(?P<end>[^-\u2013]+?)\s*$")
_DIGITS = re.compile(r"\D")
# Longer than any notation of a number or a range: refused before a regular expression or
# phonenumbers sees it (_RANGE takes cubic time in the length: 800 spaces took 3 s).
MAX_ENTRY = 64
_PLAIN = re.compile(r"^\+?[\d\s().\-]+$")


class NumberProblem(ValueError):
    """A number or range that cannot be used, with a machine code and a human message."""

    def __init__(self, code: str, entry: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.entry = entry
        self.message = message


# What parse_tn answered, by the text it was given (and by each E.164 it returned, which
# parses to itself): a request's numbers are read by the check, then by the model's
# validators, then by the store, and phonenumbers is the slow part. The answers never
# change, so the memo is shared by every caller; bounded: emptied when full.
_MEMO: dict[str, str | NumberProblem] = {}
_MEMO_MAX = 100_000


def parse_tn(text: str | int) -> str:
    """Return the E.164 form of one North American number, or raise NumberProblem.

    Accepts ``(415) 555-0123``, ``415.555.0123``, ``415-555-0123``, ``4155550123``,
    ``1 415 555 0123`` and ``+1 415 555 0123``. Each distinct text goes through
    phonenumbers once per process (see ``_MEMO``).
    """
    raw = str(text).strip()
    if len(raw) > MAX_ENTRY:
        raise NumberProblem(
            "too_long",
            shorten(raw, 40),
            f"'{shorten(raw, 40)}' is too long for a phone number: give 10 digits such as (415) 555-0123",
        )
    known = _MEMO.get(raw)
    if known is None:
        same = _plain_e164(raw)
        if same is not None and isinstance(_MEMO.get(same), str):
            known = _MEMO[raw] = same  # another notation of a number already parsed
    if known is None:
        try:
            e164, toll_free = _parse_plain(raw) or _parse(raw)
        except NumberProblem as problem:  # kept without its traceback
            known = NumberProblem(problem.code, problem.entry, problem.message)
        else:
            known = e164
            remember_toll_free(e164, toll_free)
        if len(_MEMO) >= _MEMO_MAX:
            _MEMO.clear()
        _MEMO[raw] = known
        if not isinstance(known, NumberProblem):
            _MEMO[known] = known
    if isinstance(known, NumberProblem):
        raise NumberProblem(known.code, known.entry, known.message)
    return known


def _plain_e164(raw: str) -> str | None:
    """The E.164 a plain notation (digits, spaces, ``()-.``, a leading ``+``) stands for, when
    phonenumbers would read it so: 10 digits, or 11 starting with the country code 1."""
    if not _PLAIN.match(raw):
        return None
    digits = _DIGITS.sub("", raw)
    if len(digits) == 11 and digits[0] == "1":
        return "+" + digits
    return "+1" + digits if len(digits) == 10 and not raw.startswith("+") else None


_US = phonenumbers.PhoneMetadata.metadata_for_region("US")


def _parse_plain(raw: str) -> tuple[str, bool] | None:
    """A plain-notation US number without phonenumbers.parse: its E.164 form and whether it is
    toll-free, or None to go the whole way (not plain, not a valid US number).

    phonenumbers' ``number_type`` tries the region list of +1 in order and the US comes first
    with no leading-digits filter, so a number the US metadata types is typed so by
    ``number_type`` too (``tests/models/test_numbers.py`` compares both on every NPA).
    A 10,000-number request is checked in 0.03 s instead of 0.2 s."""
    e164 = _plain_e164(raw)
    if e164 is None:
        return None
    kind = _number_type_helper(e164[2:], _US)
    if kind == PhoneNumberType.UNKNOWN:
        return None
    return e164, kind == PhoneNumberType.TOLL_FREE


def _parse(raw: str) -> tuple[str, bool]:
    """``raw`` through phonenumbers: its E.164 form and whether it is toll-free."""
    if not raw:
        raise NumberProblem("empty", raw, "empty phone number: give 10 digits such as (415) 555-0123")
    region = None if raw.startswith("+") else "US"
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise NumberProblem(
            "unparseable", raw, f"'{raw}' is not a phone number ({exc._msg}): give 10 digits such as (415) 555-0123"
        ) from None
    if parsed.country_code != 1:
        raise NumberProblem(
            "not_north_american",
            raw,
            f"'{raw}' is not a North American number (country code +{parsed.country_code}): "
            "portflow ports NANP numbers (+1) only",
        )
    if parsed.extension:
        raise NumberProblem("extension", raw, f"'{raw}' has an extension: give the number without it")
    # For +1 numbers, the type is UNKNOWN exactly when is_valid_number says no (it computes
    # the type too): one pass gives validity and the toll-free routing.
    kind = phonenumbers.number_type(parsed)
    if kind == PhoneNumberType.UNKNOWN:
        national = str(parsed.national_number)
        hint = "it must have 10 digits" if len(national) != 10 else "its area code or exchange does not exist"
        raise NumberProblem("invalid", raw, f"'{raw}' is not a valid NANP number: {hint}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), kind == PhoneNumberType.TOLL_FREE


def region_of(e164: str) -> str | None:
    """The NANP region (US, CA, PR, ...) a number belongs to."""
    return phonenumbers.region_code_for_number(phonenumbers.parse(e164))


def is_range(entry: str) -> bool:
    """True when an entry is written as ``first-last`` rather than one number.

    ``415-555-0123`` is one number with dashes, not a range: a range has a full
    number on each side of the separator.
    """
    if len(str(entry)) > MAX_ENTRY:
        return False
    m = _RANGE.match(str(entry))
    if not m:
        return False
    return len(_DIGITS.sub("", m["start"])) >= 10 and len(_DIGITS.sub("", m["end"])) >= 4


def expand_entry(entry: str | int, max_range: int = 1000) -> list[str]:
    """Expand one entry (a number or a range) into E.164 numbers.

    A range's end may be a full number or only the last digits
    (``4155550100-0199``). Both ends must share everything but the last digits that
    differ, the end must not precede the start, and the count must not exceed
    ``max_range``.
    """
    text = str(entry).strip()
    if not is_range(text):
        return [parse_tn(text)]
    m = _RANGE.match(text)
    assert m is not None
    start = parse_tn(m["start"])
    end_digits = _DIGITS.sub("", m["end"])
    start_national = start[2:]
    if len(end_digits) == 11 and end_digits.startswith("1"):
        end_digits = end_digits[1:]
    if len(end_digits) < 10:
        end_national = start_national[: 10 - len(end_digits)] + end_digits
    elif len(end_digits) == 10:
        end_national = end_digits
    else:
        raise NumberProblem("bad_range", text, f"range '{text}': the end '{m['end']}' is not a number")
    end = parse_tn(end_national)
    if start_national[:6] != end_national[:6]:
        raise NumberProblem(
            "bad_range",
            text,
            f"range '{text}' crosses an exchange ({start_national[:6]} to {end_national[:6]}): "
            "split it into one range per NPA-NXX",
        )
    first, last = int(start_national), int(end_national)
    if last < first:
        raise NumberProblem("bad_range", text, f"range '{text}' ends before it starts: write it low-high")
    count = last - first + 1
    if count > max_range:
        raise NumberProblem(
            "range_too_large",
            text,
            f"range '{text}' holds {count} numbers, more than the limit of {max_range}: "
            "split it (PORTFLOW_MAX_RANGE_SIZE sets the limit)",
        )
    assert end == f"+1{last:010d}"
    # Both ends are valid and share the NPA-NXX, so every number between should be too; each
    # goes through parse_tn once here all the same, which also records whether it is
    # toll-free, so the model's validators and the routing find it in the memo.
    return [parse_tn(f"+1{n:010d}") for n in range(first, last + 1)]


def _tn_validator(value: object) -> str:
    if not isinstance(value, (str, int)):
        raise ValueError("a phone number must be text such as (415) 555-0123")
    return parse_tn(value)


# A pydantic type: any common notation in, E.164 out.
TN = Annotated[str, BeforeValidator(_tn_validator)]
