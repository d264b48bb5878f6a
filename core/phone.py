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


def is_toll_free(e164: str) -> bool:
    """True for NANP toll-free numbers (ported as a RespOrg change)."""
    if e164.startswith("+1") and e164[2:5] in TOLL_FREE_NPAS:
        return True
    try:
        return phonenumbers.number_type(phonenumbers.parse(e164)) == PhoneNumberType.TOLL_FREE
    except phonenumbers.NumberParseException:
        return False


def format_national(e164: str) -> str:
    """``+14155550123`` -> ``(415) 555-0123`` for people."""
    return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL)


def _nanp_e164(value: str) -> str:
    if not _NANP_E164.match(value) or not phonenumbers.is_valid_number(phonenumbers.parse(value)):
        raise ValueError(f"'{value}' is not a valid NANP number in E.164 form, such as +14155550123")
    return value


# A pydantic type for a number that is already E.164 (models.numbers.TN parses any notation).
E164 = Annotated[str, AfterValidator(_nanp_e164)]
