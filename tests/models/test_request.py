"""The port request model: its rules, and secrets that never show."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from models.request import REQUEST_ID, CarrierAccount, DocumentRef, PortRequest, new_request_id
from models.secrets import MASK, SecretRef, masked

ACCOUNT_NUMBER = "731-448-2901"
PIN = "482913"


def account(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "carrier": "Lumen",
        "account_number": ACCOUNT_NUMBER,
        "pin": PIN,
        "btn": "(312) 555-0100",
        "service_address": {
            "street": "200 W Madison St",
            "city": "Chicago",
            "state": "IL",
            "postal_code": "60606",
        },
        "port_type": "full",
        "numbers": ["3125550100-3125550104", "312.555.0150", "+1 800 555 0142"],
    }
    base.update(changes)
    return base


def partial(**changes: Any) -> dict[str, Any]:
    values = {
        "carrier": "Comcast Business",
        "account_number": "8771204490061552",
        "pin": "7305",
        "btn": "847-555-0180",
        "port_type": "partial",
        "remaining_numbers": "keep",
        "new_btn": "847-555-0189",
        "numbers": ["847-555-0180", "847-555-0181"],
    }
    values.update(changes)
    return account(**values)


def request(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "customer": {"name": "Acme Dental Group", "language": "en"},
        "contact": {
            "name": "Dana Whitfield",
            "email": "dana@acmedental.example",
            "phone": "(312) 555-0142",
        },
        "signer": {"name": "Robert Okafor", "title": "CFO", "email": "robert@acmedental.example"},
        "requested_port_date": "2027-11-16",
        "activation_time": "10:00",
        "time_zone": "America/Chicago",
        "accounts": [account(), partial()],
    }
    base.update(changes)
    return base


def test_a_good_request_is_normalized() -> None:
    req = PortRequest.model_validate(request())
    lumen, comcast = req.accounts
    assert lumen.numbers[:5] == [f"+1312555010{i}" for i in range(5)]
    assert lumen.numbers[5:] == ["+13125550150", "+18005550142"]
    assert lumen.btn == "+13125550100" and comcast.new_btn == "+18475550189"
    assert lumen.toll_free == ["+18005550142"] and comcast.toll_free == []
    assert req.contact.phone == "+13125550142"
    assert len(req.all_numbers) == 9
    assert REQUEST_ID.match(req.id)
    assert req.order_id(0) == f"{req.id}-1" and req.order_id(1) == f"{req.id}-2"


def test_numbers_may_be_one_comma_separated_string() -> None:
    acc = CarrierAccount.model_validate(account(numbers="312-555-0100, 312-555-0101; 3125550102"))
    assert acc.numbers == ["+13125550100", "+13125550101", "+13125550102"]


def test_request_ids() -> None:
    assert PortRequest.model_validate(request(id=" pr-2026-0042 ")).id == "PR-2026-0042"
    with pytest.raises(ValidationError, match="must look like PR-2026-0042"):
        PortRequest.model_validate(request(id="REQ-42"))
    assert re.fullmatch(r"PR-2031-\d{6}", new_request_id(2031))


@pytest.mark.parametrize(
    ("acc", "says"),
    [
        (account(numbers=["3125550101-3125550104"]), "BTN +13125550100 is not among its numbers"),
        (partial(remaining_numbers=None), "say what happens to the remaining numbers"),
        (partial(new_btn=None), "needs new_btn"),
        (partial(new_btn="847-555-0181"), "stays behind"),
        (account(numbers=["3125550100-3125550104", "(312) 555-0102"]), "listed twice"),
        (account(account_number="  "), "account number is missing"),
        (account(account_number=MASK), "account number is missing"),
        (account(numbers=[]), "at least 1 item"),
        (account(numbers=["+44 20 7946 0958"]), "not a North American number"),
        (account(port_type="half"), "'full' or 'partial'"),
    ],
)
def test_account_rules(acc: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError) as err:
        CarrierAccount.model_validate(acc)
    assert says in str(err.value)


def test_a_partial_port_that_disconnects_needs_no_new_btn() -> None:
    acc = CarrierAccount.model_validate(partial(remaining_numbers="disconnect", new_btn=None))
    assert acc.new_btn is None


def test_a_number_under_two_accounts_is_refused() -> None:
    with pytest.raises(ValidationError, match="listed under both"):
        PortRequest.model_validate(
            request(accounts=[account(), partial(numbers=["847-555-0180", "312-555-0150"])])
        )


def test_a_number_under_two_accounts_of_the_same_carrier_is_refused() -> None:
    # Two Lumen accounts (say, two sites) must not both port the same TN: one TN, one active port.
    second = account(
        account_number="555-000-1111", btn="312-555-0160", numbers=["312-555-0160", "312-555-0150"]
    )
    with pytest.raises(ValidationError, match="listed under both"):
        PortRequest.model_validate(request(accounts=[account(), second]))


@pytest.mark.parametrize(
    ("path", "value", "says"),
    [
        (("customer", "language"), "de", "'en', 'es', 'pt' or 'fr'"),
        (("contact", "email"), "dana at acme", "valid email"),
        (("contact", "phone"), "12", "10 digits"),
        (("signer", "title"), "", "at least 1 character"),
        (("accounts", 0, "service_address", "country"), "MX", "pattern"),
        (("accounts", 0, "service_address", "state"), "Illinois", "at most 2 characters"),
        (("requested_port_date",), "next tuesday", "valid date"),
        (("time_zone",), "Chicago time", "pattern"),
    ],
)
def test_request_fields(path: tuple[Any, ...], value: Any, says: str) -> None:
    data = request()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationError) as err:
        PortRequest.model_validate(data)
    assert says in str(err.value)


def test_documents_refs_check_their_hash() -> None:
    with pytest.raises(ValidationError, match="pattern"):
        DocumentRef(kind="csr", file_name="csr.pdf", size=10, sha256="not-a-hash")
    assert DocumentRef(kind="bill", file_name="bill.pdf", size=10, sha256="a" * 64).kind == "bill"


# --- secrets --------------------------------------------------------------------------------


def _views(obj: Any) -> list[str]:
    return [
        repr(obj),
        str(obj),
        obj.model_dump_json(),
        str(obj.model_dump()),
        str(obj.model_dump(mode="json")),
    ]


def test_secrets_never_appear_in_repr_str_or_json() -> None:
    req = PortRequest.model_validate(request())
    for view in _views(req) + _views(req.accounts[0]) + _views(req.accounts[1]):
        for secret in (ACCOUNT_NUMBER, PIN, "8771204490061552", "7305"):
            assert secret not in view
    assert MASK in req.model_dump_json()
    # ...but the value is there for the one place that must send it to the carrier
    assert req.accounts[0].account_number.get_secret_value() == ACCOUNT_NUMBER  # type: ignore[union-attr]
    assert req.accounts[0].pin.get_secret_value() == PIN  # type: ignore[union-attr]


def test_secrets_in_validation_errors_are_not_echoed() -> None:
    bad = request(accounts=[account(btn="not a btn")])
    with pytest.raises(ValidationError) as err:
        PortRequest.model_validate(bad)
    text = str(err.value) + str(err.value.errors(include_input=False))
    assert ACCOUNT_NUMBER not in text and PIN not in text


def test_integers_become_secrets_too() -> None:
    acc = CarrierAccount.model_validate(account(account_number=7314482901, pin=482913))
    assert isinstance(acc.account_number, SecretStr)
    assert "7314482901" not in repr(acc) and "482913" not in acc.model_dump_json()
    assert masked(acc.account_number) == "********01"


def test_sealed_secrets_show_only_their_hint() -> None:
    ref = {"ref": "sec_" + "0" * 32, "hint": "****2901"}
    acc = CarrierAccount.model_validate(account(account_number=ref, pin=None))
    assert isinstance(acc.account_number, SecretRef)
    assert str(acc.account_number) == "****2901" and "sec_" not in repr(acc.account_number)
    again = CarrierAccount.model_validate_json(acc.model_dump_json())
    assert again.account_number == acc.account_number


def test_the_model_does_not_mutate_its_input() -> None:
    data = request()
    before = copy.deepcopy(data)
    PortRequest.model_validate(data)
    assert data == before
