"""The LOA PDF: what a signer, a carrier and DocuSign read in it."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from activities.loa import loa_data_for_account
from core.loa import ANCHOR_DATE, ANCHOR_SIGN, LoaData, render_loa
from core.phone import format_national
from models.request import PortRequest
from tests.settings_helpers import use_settings

ACCOUNT = "8812345678901"
PIN = "975310"
AT = datetime(2026, 2, 1, 14, 5, tzinfo=UTC)


def _request(numbers: list[str], **account: object) -> PortRequest:
    acct = {
        "carrier": "Verizon Business",
        "account_number": ACCOUNT,
        "pin": PIN,
        "btn": numbers[0],
        "service_address": {
            "street": "100 Market St",
            "city": "San Francisco",
            "state": "CA",
            "postal_code": "94105",
        },
        "numbers": numbers,
    }
    acct.update(account)
    return PortRequest.model_validate(
        {
            "id": "PR-2026-0042",
            "customer": {"name": "Acme Dental & Sons, LLC"},
            "contact": {
                "name": "Sam Contact",
                "email": "sam@acme.example",
                "phone": "415-555-0199",
            },
            "signer": {"name": "Jane Q. Doe", "title": "CFO", "email": "jane@acme.example"},
            "requested_port_date": "2026-03-16",
            "accounts": [acct],
        }
    )


def _data(count: int, **account: object) -> LoaData:
    numbers = [f"+1415555{n:04d}" for n in range(1000, 1000 + count)]
    return loa_data_for_account(
        _request(numbers, **account), 0, account_number=ACCOUNT, generated_at=AT
    )


def _pages(pdf: bytes) -> list[str]:
    """Each page's text with line breaks and runs of spaces folded to one space."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.mark.parametrize("count", [1, 250])
def test_every_number_is_listed_in_national_format(count: int) -> None:
    data = _data(count)
    text = "\n".join(_pages(render_loa(data)))
    missing = [n for n in data.numbers if format_national(n) not in text]
    assert not missing, f"{len(missing)} numbers missing from the LOA, first {missing[:3]}"
    assert f"Numbers to port ({count})" in text


def test_page_count_grows_and_every_page_says_n_of_m() -> None:
    one, many = _pages(render_loa(_data(1))), _pages(render_loa(_data(250)))
    assert len(one) == 1
    assert len(many) > 2
    for i, page in enumerate(many, start=1):
        assert f"page {i} of {len(many)}" in page
        assert "order PR-2026-0042-1" in page
    # The signature block comes once, after the last number.
    assert "Authorized signature" in many[-1] and all(
        "Authorized signature" not in p for p in many[:-1]
    )


def test_account_details_and_authorization_text() -> None:
    text = _pages(render_loa(_data(3)))[0]
    for expected in [
        "Letter of Authorization",
        "Acme Dental & Sons, LLC",
        "authorizes portflow",
        "Verizon Business",
        ACCOUNT,
        "(415) 555-1000",  # BTN
        "100 Market St, San Francisco, CA 94105, US",
        "Full port",
        "Monday, March 16, 2026",
        "2026-02-01 14:05 UTC",
        "Jane Q. Doe",
        "CFO",
    ]:
        assert expected in text, expected


def test_gaining_provider_name_comes_from_settings(
    var_dir: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, GAINING_PROVIDER="Northwind Voice")
    text = _pages(render_loa(_data(1)))[0]
    assert "authorizes Northwind Voice" in text and "portflow" not in text.replace("portflow ·", "")


def test_signature_anchors_are_in_the_text_layer_in_white() -> None:
    pdf = render_loa(_data(250))
    last = PdfReader(io.BytesIO(pdf)).pages[-1]
    assert ANCHOR_SIGN in last.extract_text() and ANCHOR_DATE in last.extract_text()
    stream = last.get_contents().get_data().decode("latin-1")
    for anchor in (ANCHOR_SIGN, ANCHOR_DATE):
        assert re.search(r"1 1 1 rg[^()]*\(" + re.escape(anchor) + r"\)", stream), (
            f"{anchor} is not white"
        )
    assert all(ANCHOR_SIGN not in p for p in _pages(pdf)[:-1])


def test_the_pin_is_never_printed_and_the_account_number_not_in_reprs() -> None:
    data = _data(5)
    assert "pin" not in LoaData.model_fields
    pdf = render_loa(data)
    assert PIN not in "\n".join(_pages(pdf))
    assert PIN.encode() not in pdf
    assert ACCOUNT not in repr(data) and ACCOUNT not in str(data)


def test_identical_input_gives_identical_bytes() -> None:
    first, again = render_loa(_data(250)), render_loa(_data(250))
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(again).hexdigest()
    later = _data(250).model_copy(update={"generated_at": datetime(2026, 2, 2, tzinfo=UTC)})
    assert render_loa(later) != first


def test_toll_free_numbers_are_a_resporg_change() -> None:
    all_tf = _pages(
        render_loa(_data(1).model_copy(update={"numbers": ["+18005550100"], "toll_free": True}))
    )[0]
    assert "Letter of Authorization: RespOrg change" in all_tf
    assert "Responsible Organization (RespOrg)" in all_tf
    mixed = loa_data_for_account(
        _request(["+14155551000", "+18885550123"]), 0, account_number=ACCOUNT, generated_at=AT
    )
    assert mixed.toll_free
    text = _pages(render_loa(mixed))[0]
    assert (
        "RespOrg change" in text
        and "(888) 555-0123 TF" in text
        and "port the telephone numbers" in text
    )


def test_partial_port_names_the_new_btn() -> None:
    data = _data(
        2, port_type="partial", remaining_numbers="keep", btn="+14155559000", new_btn="+14155559001"
    )
    text = _pages(render_loa(data))[0]
    assert "partial port" in text and "new billing telephone number is (415) 555-9001" in text
    gone = _data(2, port_type="partial", remaining_numbers="disconnect", btn="+14155559000")
    assert "are to be disconnected by Verizon Business" in _pages(render_loa(gone))[0]


def test_bad_input_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="there is no account 3"):
        loa_data_for_account(_request(["+14155551000"]), 3, account_number=ACCOUNT, generated_at=AT)
    with pytest.raises(ValueError, match="numbers"):
        LoaData.model_validate({**_data(1).model_dump(), "numbers": []})
    with pytest.raises(ValueError, match="not a valid NANP number"):
        LoaData.model_validate({**_data(1).model_dump(), "numbers": ["+1415555"]})


def test_anchors_match_what_the_docusign_provider_asks_for() -> None:
    """Both sides must use the same strings, or DocuSign places no signature tab."""
    docusign = pytest.importorskip("providers.esign.docusign")
    assert (docusign.ANCHOR_SIGN, docusign.ANCHOR_DATE) == (ANCHOR_SIGN, ANCHOR_DATE)
