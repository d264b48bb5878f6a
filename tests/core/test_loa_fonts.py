"""Names in any script on the LOA (issue 12): Helvetica printed every character outside
Latin-1 as a black box, in the body, the table and the footer. The LOA now embeds fonts
with wide coverage and falls back per glyph; what none has is refused by `check`."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from pypdf import PdfReader

from core import fonts
from core.fonts import font_chain, unprintable
from core.loa import LoaData, render_loa
from portflow.check import check_request_data
from providers.esign.signed_loa import signed_loa_pdf

ROOT = Path(__file__).resolve().parents[2]
NAMES = {
    "customer_name": "Zakład Stomatologiczny Łódź Sp. z o.o.",
    "signer_name": "Šťěpán Dvořák",
    "signer_title": "Giám đốc Nguyễn Thị Phương",
    "carrier": "Orange Polska Š.A.",
    "service_address": "ul. Żółkiewskiego 12, Đà Nẵng, IL 60601, US",
}


def _data(**names: str) -> LoaData:
    return LoaData(
        request_id="PR-2026-0042",
        order_id="PR-2026-0042-1",
        signer_email="stepan@acme.example",
        account_number="8812345678901",
        btn="+13125550100",
        numbers=["+13125550100", "+13125550101"],
        requested_port_date="2026-03-16",
        generated_at=datetime(2026, 2, 1, 14, 5, tzinfo=UTC),
        **{**NAMES, **names},
    )


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _fonts(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def test_polish_czech_vietnamese_names_print_and_extract() -> None:
    pdf = render_loa(_data())
    text = " ".join(_text(pdf).split())
    for value in NAMES.values():
        assert " ".join(value.split()) in text, value
    # the footer carries the customer's name on every page
    assert text.count("Zakład Stomatologiczny Łódź") >= 3
    # embedded TrueType subsets, not the base-14 Helvetica
    assert any("Noto" in f or "DejaVu" in f for f in _fonts(pdf)), _fonts(pdf)
    for value in NAMES.values():
        assert not unprintable(value)


def test_every_glyph_goes_to_a_face_that_has_it() -> None:
    chain = font_chain()
    for value in NAMES.values():
        for name, run in chain.runs(value):
            face = next(f for f in chain.faces if name in (f.name, f.bold))
            assert all(face.has(ch) or ch == " " for ch in run), (name, run)
    # a character only the second face has goes there, the rest stays in the main face
    if len(chain.faces) > 2 and chain.faces[1].name == "DejaVuSans":
        only_dejavu = next(
            chr(c) for c in sorted(chain.faces[1].covers or ()) if c > 0x500 and not chain.faces[0].has(chr(c))
        )
        runs = chain.runs(f"Ab{only_dejavu}c")
        assert [n for n, _ in runs] == [chain.regular, "DejaVuSans", chain.regular]


def test_the_loa_is_still_deterministic() -> None:
    assert render_loa(_data()) == render_loa(_data())


def test_cjk_without_a_cjk_font_is_named_unprintable() -> None:
    if any(f.name.startswith("CJK") for f in font_chain().faces):
        pytest.skip("this machine has a CJK font")
    assert unprintable("李小龍 Bruce") == ["李", "小", "龍"]
    assert "U+674E" in fonts.describe(unprintable("李"))
    assert unprintable("a\x07b") == ["\x07"]


def test_without_any_truetype_font_helvetica_still_prints_latin1(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine with neither the PyPI package nor Debian's fonts: Helvetica, and the check
    refuses what it cannot print."""
    monkeypatch.setattr(fonts, "_pypi_noto", lambda: None)
    monkeypatch.setattr(fonts, "DEBIAN_DEJAVU", Path("/nonexistent"))
    monkeypatch.setattr(fonts, "CJK_FONTS", ())
    fonts.font_chain.cache_clear()
    try:
        assert font_chain().regular == "Helvetica"
        assert unprintable("José Müller") == []
        assert unprintable("Łódź") == ["Ł", "ź"]
        pdf = render_loa(_data(customer_name="José Müller", signer_name="Ana", signer_title="CFO",
                               carrier="Lumen", service_address="1 Main St, Chicago, IL 60601, US"))
        assert "José Müller" in _text(pdf)
    finally:
        fonts.font_chain.cache_clear()


def test_the_signature_page_prints_the_signers_name() -> None:
    original = render_loa(_data())
    signed = signed_loa_pdf(
        original,
        signed_by="Šťěpán Dvořák",
        signed_at=datetime(2026, 2, 2, 9, 0, tzinfo=UTC),
        record=[("Signer", "Šťěpán Dvořák")],
    )
    assert _text(signed).count("Šťěpán Dvořák") >= 3  # the LOA, its signature line, the record


def _good() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "examples" / "good-request.yaml").read_text())


def test_check_accepts_what_the_loa_prints_and_refuses_what_it_cannot() -> None:
    from datetime import date

    data = _good()
    data["customer"]["name"] = NAMES["customer_name"]
    data["signer"]["name"] = NAMES["signer_name"]
    data["accounts"][0]["service_address"]["city"] = "Łódź"
    assert check_request_data(data, today=date(2027, 10, 1)).ok
    if any(f.name.startswith("CJK") for f in font_chain().faces):
        pytest.skip("this machine has a CJK font")
    data["signer"]["name"] = "李小龍"
    data["accounts"][0]["account_number"] = "88\u4e0012"
    report = check_request_data(data, today=date(2027, 10, 1))
    problems = {p.where: p.message for p in report.errors if p.code == "unprintable_characters"}
    assert set(problems) == {"signer.name", "accounts[0].account_number"}
    assert "'李' (U+674E" in problems["signer.name"] and "fonts-wqy-zenhei" in problems["signer.name"]
    assert "\u4e00" not in problems["accounts[0].account_number"]  # a secret's characters stay unsaid
