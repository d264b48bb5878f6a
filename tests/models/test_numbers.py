"""Number parsing and ranges: every common North American notation lands on one E.164 form."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from core.phone import format_national, is_toll_free
from models.numbers import (
    TN,
    NumberProblem,
    expand_entry,
    is_range,
    parse_tn,
)

NOTATIONS = (
    "({a}) {b}-{c}",
    "{a}.{b}.{c}",
    "{a}-{b}-{c}",
    "{a}{b}{c}",
    "{a} {b} {c}",
    "1 {a} {b} {c}",
    "1-{a}-{b}-{c}",
    "1{a}{b}{c}",
    "+1 {a} {b} {c}",
    "+1-{a}-{b}-{c}",
    "+1 ({a}) {b}-{c}",
    "+1{a}{b}{c}",
    "  ({a}) {b}-{c}  ",
)


@st.composite
def nanp_numbers(draw: st.DrawFn) -> str:
    """Ten national digits that phonenumbers accepts as a valid NANP number."""
    npa = draw(st.integers(min_value=200, max_value=999))
    nxx = draw(st.integers(min_value=200, max_value=999))
    line = draw(st.integers(min_value=0, max_value=9999))
    digits = f"{npa}{nxx}{line:04d}"
    assume(phonenumbers.is_valid_number(phonenumbers.parse(digits, "US")))
    return digits


def _split(digits: str) -> dict[str, str]:
    return {"a": digits[:3], "b": digits[3:6], "c": digits[6:]}


@settings(max_examples=300, deadline=None)
@given(digits=nanp_numbers(), notation=st.sampled_from(NOTATIONS))
def test_every_common_notation_parses_to_the_same_e164(digits: str, notation: str) -> None:
    assert parse_tn(notation.format(**_split(digits))) == f"+1{digits}"


@settings(max_examples=100, deadline=None)
@given(digits=nanp_numbers())
def test_integers_and_the_national_format_round_trip(digits: str) -> None:
    e164 = f"+1{digits}"
    assert parse_tn(int(digits)) == e164
    assert parse_tn(format_national(e164)) == e164
    assert not is_range(format_national(e164))
    assert not is_range(f"{digits[:3]}-{digits[3:6]}-{digits[6:]}")  # dashes inside one number


@pytest.mark.parametrize(
    ("text", "code", "says"),
    [
        ("", "empty", "give 10 digits"),
        ("   ", "empty", "give 10 digits"),
        ("abc", "unparseable", "is not a phone number"),
        ("+44 20 7946 0958", "not_north_american", "country code +44"),
        ("+52 55 1234 5678", "not_north_american", "NANP numbers (+1) only"),
        ("212-555-0100 x12", "extension", "without it"),
        ("312-555-015", "invalid", "must have 10 digits"),
        ("555-555-0150", "invalid", "area code or exchange does not exist"),
        (
            "212-055-0100",
            "invalid",
            "area code or exchange does not exist",
        ),  # exchanges never start with 0
    ],
)
def test_bad_numbers_are_refused_with_their_code(text: str, code: str, says: str) -> None:
    with pytest.raises(NumberProblem) as err:
        parse_tn(text)
    assert err.value.code == code
    assert err.value.entry == text.strip()
    assert says in err.value.message


@pytest.mark.parametrize("npa", ["800", "833", "844", "855", "866", "877", "888"])
def test_toll_free_area_codes(npa: str) -> None:
    assert is_toll_free(parse_tn(f"{npa}-555-0142"))


def test_geographic_numbers_are_not_toll_free() -> None:
    assert not is_toll_free(parse_tn("(312) 555-0142"))
    assert not is_toll_free("not a number")


@st.composite
def ranges(draw: st.DrawFn) -> tuple[str, int, int]:
    """A valid start number and a count that stays inside its NPA-NXX."""
    digits = draw(nanp_numbers())
    line = int(digits[6:])
    count = draw(st.integers(min_value=1, max_value=min(300, 10000 - line)))
    return digits, line, count


@settings(max_examples=200, deadline=None)
@given(
    r=ranges(), sep=st.sampled_from(["-", " - ", "\u2013", " to ", ".."]), short_end=st.booleans()
)
def test_ranges_expand_to_exactly_the_consecutive_numbers(
    r: tuple[str, int, int], sep: str, short_end: bool
) -> None:
    digits, _, count = r
    first, last = int(digits), int(digits) + count - 1
    end = f"{last % 10000:04d}" if short_end else f"{last}"
    numbers = expand_entry(f"{digits}{sep}{end}")
    assert len(numbers) == last - first + 1 == count
    assert numbers == [f"+1{n}" for n in range(first, last + 1)]
    assert numbers[0] == f"+1{digits}"
    assert len(set(numbers)) == count


@settings(max_examples=100, deadline=None)
@given(r=ranges(), limit=st.integers(min_value=1, max_value=300))
def test_ranges_over_the_limit_are_refused(r: tuple[str, int, int], limit: int) -> None:
    digits, _, count = r
    entry = f"{digits}-{int(digits) + count - 1}"
    if count <= limit:
        assert len(expand_entry(entry, max_range=limit)) == count
    else:
        with pytest.raises(NumberProblem) as err:
            expand_entry(entry, max_range=limit)
        assert err.value.code == "range_too_large"
        assert str(count) in err.value.message and str(limit) in err.value.message


@pytest.mark.parametrize(
    ("entry", "code", "says"),
    [
        ("3125550119-3125550110", "bad_range", "ends before it starts"),
        ("3125550190-0110", "bad_range", "ends before it starts"),
        ("3125550100-3125560100", "bad_range", "crosses an exchange"),
        ("3125550100-31255501999", "bad_range", "is not a number"),
        ("5555550100-0199", "invalid", "does not exist"),  # the start itself is no number
        ("+44 20 7946 0958-0999", "not_north_american", "North American"),
        ("3125550000-3125551000", "range_too_large", "1001 numbers"),
    ],
)
def test_bad_ranges_are_refused_with_the_right_code(entry: str, code: str, says: str) -> None:
    with pytest.raises(NumberProblem) as err:
        expand_entry(entry)
    assert err.value.code == code
    assert says in err.value.message


def test_a_single_number_entry_expands_to_itself() -> None:
    assert expand_entry("(312) 555-0150") == ["+13125550150"]
    assert expand_entry(3125550150) == ["+13125550150"]


class _Holder(BaseModel):
    tn: TN


def test_tn_type_normalizes_and_refuses() -> None:
    assert _Holder(tn="312.555.0150").tn == "+13125550150"
    assert _Holder.model_validate({"tn": 3125550150}).tn == "+13125550150"
    with pytest.raises(ValidationError, match="must be text"):
        _Holder.model_validate({"tn": 3.5})
    with pytest.raises(ValidationError, match="not a North American number"):
        _Holder(tn="+44 20 7946 0958")


def test_the_area_code_decides_toll_free_as_phonenumbers_does() -> None:
    """is_toll_free reads the NANP area code without parsing: the same answer as the metadata."""
    import phonenumbers
    from phonenumbers import PhoneNumberType

    for npa in range(200, 1000):
        tn = f"+1{npa}5550142"
        try:
            parsed = phonenumbers.parse(tn)
        except phonenumbers.NumberParseException:
            continue
        assert is_toll_free(tn) == (phonenumbers.number_type(parsed) == PhoneNumberType.TOLL_FREE), tn


def test_the_plain_fast_path_answers_as_phonenumbers_does() -> None:
    """_parse_plain skips phonenumbers.parse for plain US notations: for every area code and a
    spread of exchanges it gives the same E.164, validity and toll-free answer as _parse."""
    from models.numbers import _parse, _parse_plain

    checked = 0
    for npa in range(200, 1000):
        for nxx in ("200", "555", "911", "958", "376"):
            raw = f"({npa}) {nxx}-0142"
            fast = _parse_plain(raw)
            try:
                slow = _parse(raw)
            except NumberProblem:
                slow = None
            if fast is not None:
                checked += 1
                assert fast == slow, raw
            # a number the fast path declines still goes the whole way (None is never final)
    assert checked > 1000
