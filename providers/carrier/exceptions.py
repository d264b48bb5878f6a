"""What each carrier reject code means and what people must do about it.

Carriers answer a port order with exception codes; we use Telnyx's names (the list in
Porting Orders v2, ``status.details[].code``) because they cover what Bandwidth, Twilio
and the LSR world call the same problems. :func:`remediation_for` turns a code into a
:class:`Remediation`: what is wrong, who must act (customer, PM or carrier), which order
fields to amend, and the action (amend and resubmit as a SUP3, remove numbers, split the
order, get a new LOA, move the date with a SUP2, wait, or cancel).

``fields_to_amend`` uses the names of the PM's amend update (``AmendOrder``) and of
``Supplement.corrections``: ``signer``, ``entity_name``, ``btn``, ``new_btn``,
``account_number``, ``pin``, ``service_address``, ``port_date``, ``port_type``,
``remove_numbers`` and ``loa`` (a newly signed LOA). :func:`corrections_cover` tells
whether a supplement carries everything a remediation asks for; the simulator accepts a
resubmission only then, like a carrier that checks the corrected data.

Pure module (pydantic only): workflow code may import it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

WhoActs = Literal["customer", "pm", "carrier"]
Action = Literal["amend", "remove_numbers", "split", "new_loa", "new_date", "wait", "cancel"]

# Correction keys accepted in Supplement.corrections, by the field they amend.
CORRECTION_ALIASES: Mapping[str, str] = {
    "signer": "signer",
    "auth_person_name": "signer",
    "entity_name": "entity_name",
    "btn": "btn",
    "new_btn": "new_btn",
    "account_number": "account_number",
    "pin": "pin",
    "service_address": "service_address",
    "port_date": "port_date",
    "port_type": "port_type",
    "remaining_numbers": "port_type",
    "remove_numbers": "remove_numbers",
    "loa": "loa",
    "bill": "bill",
}


class Remediation(BaseModel):
    """How to get past one carrier exception."""

    model_config = ConfigDict(frozen=True)

    code: str
    what_is_wrong: str
    who_acts: WhoActs
    fields_to_amend: list[str] = Field(default_factory=list)
    action: Action
    message: str = Field(description="for people: what happened and what to do next")
    numbers: list[str] = Field(
        default_factory=list, description="numbers it concerns; empty: the whole order"
    )

    @property
    def supplement_kind(self) -> str:
        """The supplement that answers it: SUP2 for a new date, SUP3 for everything else."""
        return "SUP2" if self.action == "new_date" else "SUP3"


def _r(
    code: str, wrong: str, who: WhoActs, fields: list[str], action: Action, message: str
) -> Remediation:
    return Remediation(
        code=code,
        what_is_wrong=wrong,
        who_acts=who,
        fields_to_amend=fields,
        action=action,
        message=message,
    )


_CATALOGUE: dict[str, Remediation] = {
    r.code: r
    for r in (
        _r(
            "ACCOUNT_NUMBER_MISMATCH",
            "the account number does not match the losing carrier's records (CSR)",
            "customer",
            ["account_number"],
            "amend",
            "Ask the customer for the account number printed on the latest bill or CSR, amend it and resubmit (SUP3).",
        ),
        _r(
            "AUTH_PERSON_MISMATCH",
            "the person who signed the LOA is not authorized on the account",
            "customer",
            ["signer", "loa"],
            "new_loa",
            "Ask the customer who is authorized on the account, correct the signer, have the new LOA signed, "
            "then resubmit with the new LOA (SUP3).",
        ),
        _r(
            "BTN_ATN_MISMATCH",
            "the billing telephone number (BTN) does not match the account",
            "customer",
            ["btn"],
            "amend",
            "Ask the customer for the BTN shown on the bill or CSR, amend the BTN and resubmit (SUP3).",
        ),
        _r(
            "ENTITY_NAME_MISMATCH",
            "the customer (entity) name does not match the name on the account",
            "customer",
            ["entity_name"],
            "amend",
            "Use the business name exactly as it appears on the bill or CSR, amend it and resubmit (SUP3).",
        ),
        _r(
            "FOC_EXPIRED",
            "the firm order commitment expired before the numbers were activated",
            "pm",
            ["port_date"],
            "new_date",
            "Agree a new port date with the customer and send it to the carrier (SUP2).",
        ),
        _r(
            "FOC_REJECTED",
            "the carrier refused the requested port date (too soon, not a business day, or a porting holiday)",
            "pm",
            ["port_date"],
            "new_date",
            "Pick a later business day that is not a porting holiday and send the new date (SUP2).",
        ),
        _r(
            "LOCATION_MISMATCH",
            "the service address does not match the address on the account",
            "customer",
            ["service_address"],
            "amend",
            "Copy the service address from the CSR exactly (street, suite, city, state), amend it and resubmit (SUP3).",
        ),
        _r(
            "LSR_PENDING",
            "another port order (LSR) is already pending for these numbers at the losing carrier",
            "customer",
            [],
            "wait",
            "Ask the customer whether another provider has a port in flight and have it cancelled; "
            "then resubmit (SUP3) or wait for the carrier to clear it.",
        ),
        _r(
            "MAIN_BTN_PORTING",
            "the account's main BTN is being ported while other numbers stay: the account needs a new BTN",
            "customer",
            ["new_btn"],
            "amend",
            "Ask the customer which remaining number becomes the account's new BTN, amend new_btn and resubmit (SUP3).",
        ),
        _r(
            "OSP_IRRESPONSIVE",
            "the losing carrier (OSP) has not answered the port request",
            "carrier",
            [],
            "wait",
            "Nothing to change: the gaining carrier escalates with the losing carrier. Resubmit (SUP3) if asked to.",
        ),
        _r(
            "PASSCODE_PIN_INVALID",
            "the account PIN / passcode is wrong or missing",
            "customer",
            ["pin"],
            "amend",
            "Ask the customer for the account PIN or passcode (wireless carriers issue a port-out PIN), "
            "amend it and resubmit (SUP3).",
        ),
        _r(
            "PHONE_NUMBER_HAS_SPECIAL_FEATURE",
            "a number carries a feature that blocks the port (DSL, alarm line, hunt group, Centrex)",
            "customer",
            [],
            "wait",
            "Ask the customer to have the feature removed by the losing carrier, then resubmit (SUP3); "
            "or remove the number from the order.",
        ),
        _r(
            "PHONE_NUMBER_MISMATCH",
            "some numbers on the order are not on this account",
            "pm",
            ["remove_numbers"],
            "remove_numbers",
            "Remove the numbers that belong to another account (they need an order of their own) and resubmit (SUP3).",
        ),
        _r(
            "PHONE_NUMBER_NOT_PORTABLE",
            "some numbers cannot be ported",
            "pm",
            ["remove_numbers"],
            "remove_numbers",
            "Remove the numbers the carrier calls not portable and resubmit (SUP3); the other numbers continue. "
            "Tell the customer those numbers stay where they are.",
        ),
        _r(
            "PORT_TYPE_INCORRECT",
            "the port type (full or partial) does not match the account",
            "pm",
            ["port_type"],
            "amend",
            "Check on the CSR whether every number on the account ports: set full or partial (with what happens to "
            "the remaining numbers and the new BTN) and resubmit (SUP3).",
        ),
        _r(
            "PORTING_ORDER_SPLIT_REQUIRED",
            "the carrier wants these numbers in separate orders",
            "pm",
            ["remove_numbers"],
            "split",
            "Split the order: remove the listed numbers from this order (SUP3) and port them in a new order.",
        ),
        _r(
            "POSTAL_CODE_MISMATCH",
            "the postal code of the service address does not match the account",
            "customer",
            ["service_address"],
            "amend",
            "Copy the ZIP/postal code of the service address from the CSR, amend the address and resubmit (SUP3).",
        ),
        _r(
            "RATE_CENTER_NOT_PORTABLE",
            "the rate center of some numbers is not served by the gaining carrier",
            "pm",
            ["remove_numbers"],
            "remove_numbers",
            "Remove the numbers in rate centers we cannot serve and resubmit (SUP3); the other numbers continue. "
            "Tell the customer those numbers stay where they are.",
        ),
        _r(
            "SV_CONFLICT",
            "the number portability database (NPAC) has a conflicting subscription version",
            "carrier",
            [],
            "wait",
            "The carriers resolve NPAC conflicts; wait, and resubmit (SUP3) when the carrier asks.",
        ),
        _r(
            "SV_UNKNOWN_FAILURE",
            "the number portability database (NPAC) failed the subscription version",
            "carrier",
            [],
            "wait",
            "The carriers retry NPAC activation; wait, and escalate to the carrier's porting desk if it lasts.",
        ),
        _r(
            "OTHER",
            "the carrier raised an exception without a standard code",
            "pm",
            [],
            "amend",
            "Read the carrier's text, fix what it asks for and resubmit (SUP3).",
        ),
    )
}

CODES: tuple[str, ...] = tuple(_CATALOGUE)
NOT_PORTABLE_CODES = frozenset({"PHONE_NUMBER_NOT_PORTABLE", "RATE_CENTER_NOT_PORTABLE"})


def remediation_for(
    code: str | None, raw_text: str = "", numbers: Iterable[str] = ()
) -> Remediation:
    """The remediation of a carrier code; an unknown or missing code becomes OTHER with the
    carrier's own words kept, so nobody has to guess."""
    key = (code or "").strip().upper()
    known = _CATALOGUE.get(key)
    nums = sorted(set(numbers))
    if known is None:
        raw = raw_text.strip() or "no text"
        label = f"{code}: " if code else ""
        base = _CATALOGUE["OTHER"]
        return base.model_copy(
            update={
                "code": "OTHER",
                "what_is_wrong": f"the carrier said: {label}{raw}",
                "message": f"The carrier said \u201c{label}{raw}\u201d. {base.message}",
                "numbers": nums,
            }
        )
    update: dict[str, object] = {"numbers": nums}
    if nums:
        update["message"] = f"{known.message} Numbers: {', '.join(nums)}."
    if raw_text.strip() and key == "OTHER":
        update["what_is_wrong"] = f"the carrier said: {raw_text.strip()}"
        update["message"] = f"The carrier said \u201c{raw_text.strip()}\u201d. {known.message}"
    return known.model_copy(update=update)


def normalize_code(code: str | None) -> str:
    """A known Telnyx code as is; anything else is OTHER (keep the raw code beside it)."""
    key = (code or "").strip().upper()
    return key if key in _CATALOGUE else "OTHER"


def amended_fields(corrections: Mapping[str, str], *, new_foc_date: bool = False) -> set[str]:
    """The remediation field names a supplement's corrections amend."""
    out = {CORRECTION_ALIASES[k] for k in corrections if k in CORRECTION_ALIASES}
    if new_foc_date:
        out.add("port_date")
    return out


def corrections_cover(
    rem: Remediation,
    corrections: Mapping[str, str],
    *,
    new_foc_date: bool = False,
    removed: Iterable[str] = (),
) -> bool:
    """True when a supplement (plus numbers already removed) answers everything ``rem`` asks:
    every field to amend is corrected, and every listed number is removed where numbers must go."""
    fields = amended_fields(corrections, new_foc_date=new_foc_date)
    gone = set(removed)
    for f in rem.fields_to_amend:
        if f == "remove_numbers":
            if rem.numbers and not set(rem.numbers) <= gone:
                return False
            if not rem.numbers and "remove_numbers" not in fields:
                return False
        elif f not in fields:
            return False
    return True
