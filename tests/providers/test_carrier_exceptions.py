"""The exception catalogue: every code the industry reference names has a remediation people can act on."""

from __future__ import annotations

import pytest

from providers.carrier.exceptions import (
    CODES,
    CORRECTION_ALIASES,
    Remediation,
    corrections_cover,
    normalize_code,
    remediation_for,
)

# The exception codes listed in shared/reference/porting-apis.md (Telnyx Porting Orders v2).
REFERENCE_CODES = [
    "ACCOUNT_NUMBER_MISMATCH",
    "AUTH_PERSON_MISMATCH",
    "BTN_ATN_MISMATCH",
    "ENTITY_NAME_MISMATCH",
    "FOC_EXPIRED",
    "FOC_REJECTED",
    "LOCATION_MISMATCH",
    "LSR_PENDING",
    "MAIN_BTN_PORTING",
    "OSP_IRRESPONSIVE",
    "PASSCODE_PIN_INVALID",
    "PHONE_NUMBER_HAS_SPECIAL_FEATURE",
    "PHONE_NUMBER_MISMATCH",
    "PHONE_NUMBER_NOT_PORTABLE",
    "PORT_TYPE_INCORRECT",
    "PORTING_ORDER_SPLIT_REQUIRED",
    "POSTAL_CODE_MISMATCH",
    "RATE_CENTER_NOT_PORTABLE",
    "SV_CONFLICT",
    "SV_UNKNOWN_FAILURE",
    "OTHER",
]

FIELD_NAMES = set(CORRECTION_ALIASES.values())


def test_the_catalogue_is_exactly_the_reference_list() -> None:
    assert sorted(CODES) == sorted(REFERENCE_CODES)


@pytest.mark.parametrize("code", REFERENCE_CODES)
def test_every_code_says_what_is_wrong_who_acts_and_what_to_amend(code: str) -> None:
    rem = remediation_for(code)
    assert isinstance(rem, Remediation) and rem.code == code
    assert rem.who_acts in ("customer", "pm", "carrier")
    assert rem.action in (
        "amend",
        "remove_numbers",
        "split",
        "new_loa",
        "new_date",
        "wait",
        "cancel",
    )
    assert set(rem.fields_to_amend) <= FIELD_NAMES, rem.fields_to_amend
    assert len(rem.what_is_wrong) > 20 and len(rem.message) > 30
    if rem.action == "amend" and code != "OTHER":
        assert rem.fields_to_amend, f"{code}: an amend must name the fields"
    if rem.action == "new_date":
        assert rem.fields_to_amend == ["port_date"] and rem.supplement_kind == "SUP2"
    else:
        assert rem.supplement_kind == "SUP3"


@pytest.mark.parametrize(
    ("code", "action", "fields", "who"),
    [
        ("PHONE_NUMBER_NOT_PORTABLE", "remove_numbers", ["remove_numbers"], "pm"),
        ("RATE_CENTER_NOT_PORTABLE", "remove_numbers", ["remove_numbers"], "pm"),
        ("PORTING_ORDER_SPLIT_REQUIRED", "split", ["remove_numbers"], "pm"),
        ("FOC_EXPIRED", "new_date", ["port_date"], "pm"),
        ("AUTH_PERSON_MISMATCH", "new_loa", ["signer", "loa"], "customer"),
        ("BTN_ATN_MISMATCH", "amend", ["btn"], "customer"),
        ("LOCATION_MISMATCH", "amend", ["service_address"], "customer"),
        ("PASSCODE_PIN_INVALID", "amend", ["pin"], "customer"),
        ("ACCOUNT_NUMBER_MISMATCH", "amend", ["account_number"], "customer"),
        ("OSP_IRRESPONSIVE", "wait", [], "carrier"),
    ],
)
def test_the_remediations_the_workflow_relies_on(
    code: str, action: str, fields: list[str], who: str
) -> None:
    rem = remediation_for(code)
    assert (rem.action, rem.fields_to_amend, rem.who_acts) == (action, fields, who)


def test_an_unknown_code_becomes_other_with_the_carriers_words() -> None:
    rem = remediation_for("E1234", "customer on credit hold")
    assert rem.code == "OTHER"
    assert "E1234: customer on credit hold" in rem.what_is_wrong
    assert "customer on credit hold" in rem.message
    assert (
        normalize_code("e1234") == "OTHER"
        and normalize_code(" btn_atn_mismatch ") == "BTN_ATN_MISMATCH"
    )
    assert remediation_for(None).what_is_wrong == "the carrier said: no text"


def test_numbers_are_named_in_the_message() -> None:
    rem = remediation_for(
        "PHONE_NUMBER_NOT_PORTABLE", numbers=["+14155550199", "+14155550101", "+14155550101"]
    )
    assert rem.numbers == ["+14155550101", "+14155550199"]
    assert "+14155550101, +14155550199" in rem.message


def test_corrections_cover_what_the_remediation_asks() -> None:
    btn = remediation_for("BTN_ATN_MISMATCH")
    assert not corrections_cover(btn, {})
    assert not corrections_cover(btn, {"service_address": "{}"})
    assert corrections_cover(btn, {"btn": "+14155550100"})
    signer = remediation_for("AUTH_PERSON_MISMATCH")
    assert not corrections_cover(signer, {"auth_person_name": "Dana"}), (
        "a new LOA must come with the new signer"
    )
    assert corrections_cover(signer, {"auth_person_name": "Dana", "loa": "{}"})
    date = remediation_for("FOC_EXPIRED")
    assert not corrections_cover(date, {}) and corrections_cover(date, {}, new_foc_date=True)
    gone = remediation_for("PHONE_NUMBER_NOT_PORTABLE", numbers=["+14155550101"])
    assert not corrections_cover(gone, {"remove_numbers": "+14155550102"}, removed=["+14155550102"])
    assert corrections_cover(gone, {"remove_numbers": "+14155550101"}, removed=["+14155550101"])
    assert corrections_cover(remediation_for("LSR_PENDING"), {})
