"""Telephone numbers already in E.164, read for people: national format, toll-free or not.

Parsing what people write (``(415) 555-0123``, ranges) into E.164 is :mod:`models.numbers`;
this is the part the LOA renderer needs too, so it sits in the bottom layer.
"""

from __future__ import annotations

import re
from typing import Annotated

import phonenumbers
from phonenumbers import PhoneNumberType
from pydantic import AfterValidator

# NANP toll-free area codes (RespOrg numbers, ported through Somos, not a CSR).
TOLL_FREE_NPAS = frozenset({"800", "833", "844", "855", "866", "877", "888"})

_NANP_E164 = re.compile(r"^\+1\d{10}$")


# Answers already known, E.164 -> toll-free or not: ``models.numbers.parse_tn`` fills it from
# the parse it does anyway, so a number is not parsed again to be routed. Bounded: emptied
# when full (the answers never change, so forgetting them costs only time).
_TOLL_FREE: dict[str, bool] = {}
_TOLL_FREE_MAX = 100_000


def remember_toll_free(e164: str, toll_free: bool) -> None:
    """Record what a parse of ``e164`` already found (its number type is toll-free or not)."""
    if len(_TOLL_FREE) >= _TOLL_FREE_MAX:
        _TOLL_FREE.clear()
    _TOLL_FREE[e164] = toll_free


def is_toll_free(e164: str) -> bool:
    """True for NANP toll-free numbers (ported as a RespOrg change)."""
    if _NANP_E164.match(e164):
        # NANP toll-free is decided by the area code alone (phonenumbers' metadata agrees:
        # tests/models/test_numbers.py); no parse, so a request of 10,000 numbers splits into
        # its orders at once (the request workflow does it in its first task)
        return e164[2:5] in TOLL_FREE_NPAS
    known = _TOLL_FREE.get(e164)
    if known is not None:
        return known
    try:
        answer = phonenumbers.number_type(phonenumbers.parse(e164)) == PhoneNumberType.TOLL_FREE
    except phonenumbers.NumberParseException:
        return False
    remember_toll_free(e164, answer)
    return answer


def format_national(e164: str) -> str:
    """``+14155550123`` -> ``(415) 555-0123`` for people."""
    return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL)


def _nanp_e164(value: str) -> str:
    if not _NANP_E164.match(value) or not phonenumbers.is_valid_number(phonenumbers.parse(value)):
        raise ValueError(f"'{value}' is not a valid NANP number in E.164 form, such as +14155550123")
    return value


# A pydantic type for a number that is already E.164 (models.numbers.TN parses any notation).
E164 = Annotated[str, AfterValidator(_nanp_e164)]
