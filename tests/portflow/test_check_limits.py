"""Silent conversions and unbounded fields (issue 12): letters in a number are said, every
field has a size limit, and what the check echoes of a refused value is short."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from core.settings import Settings
from core.text import shorten
from models.numbers import NumberProblem, is_range, parse_tn
from portflow.check import CheckReport, Severity, check_request_data
from starter import app

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2027, 10, 1)


def good() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "examples" / "good-request.yaml").read_text())


def check(data: dict[str, Any], **settings: Any) -> CheckReport:
    return check_request_data(data, today=TODAY, settings=Settings(**settings))


def test_letters_in_a_number_are_a_note_showing_the_number_it_became() -> None:
    data = good()
    data["accounts"][0]["numbers"].append("1-800-FLOWERS")
    data["contact"]["phone"] = "312-555-CALL"
    report = check(data)
    assert report.ok, report.errors
    notes = {p.where: p.message for p in report.problems if p.code == "letters_converted"}
    assert set(notes) == {"accounts[0].numbers[3]", "contact.phone"}
    assert "'1-800-FLOWERS'" in notes["accounts[0].numbers[3]"]
    assert "(800) 356-9377 (+18003569377)" in notes["accounts[0].numbers[3]"]
    assert "(312) 555-2255" in notes["contact.phone"]
    assert all(p.severity is Severity.NOTE for p in report.problems if p.code == "letters_converted")
    # a range written with 'to' has no letters in its number
    data = good()
    data["accounts"][0]["numbers"] = ["3125550100 to 3125550119", "(312) 555-0150"]
    assert not [p for p in check(data).problems if p.code == "letters_converted"]


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        (("customer", "name"), 200),
        (("contact", "name"), 200),
        (("signer", "name"), 200),
        (("signer", "title"), 200),
        (("notes",), 2000),
        (("time_zone",), 64),
        (("accounts", 0, "carrier"), 100),
        (("accounts", 0, "service_address", "street"), 200),
        (("accounts", 0, "service_address", "line2"), 200),
        (("accounts", 0, "service_address", "city"), 100),
        (("accounts", 0, "account_number"), 40),
        (("accounts", 0, "pin"), 20),
    ],
)
def test_every_free_text_field_has_a_limit(path: tuple[Any, ...], limit: int) -> None:
    data = good()
    target = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = "A" * limit if path[-1] != "time_zone" else "America/Chicago"
    assert not [p for p in check(data).errors if p.where.endswith(str(path[-1]))]
    target[path[-1]] = "A" * (limit + 1)
    report = check(data)
    where = ".".join(f"[{s}]" if isinstance(s, int) else s for s in path).replace(".[", "[")
    assert where in {p.where for p in report.errors}, report.errors
    assert "A" * 80 not in json.dumps(report.to_dict())  # never echoed whole


def test_a_refused_long_name_is_not_echoed_in_full(tmp_path: Path) -> None:
    data = good()
    data["customer"]["name"] = "Acme " + "x" * 10_000
    data["accounts"][0]["carrier"] = "Lumen " + "y" * 10_000
    data["accounts"][0]["numbers"].append("z" * 10_000)
    report = check(data)
    assert not report.ok
    payload = json.dumps(report.to_dict())
    assert "x" * 100 not in payload and "y" * 100 not in payload and "z" * 100 not in payload
    assert report.customer is not None and "(10,005 characters)" in report.customer
    # the human report: the summary's customer line, the account title, the problems
    path = tmp_path / "long-name.yaml"
    path.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(app, ["check", str(path), "--today", "2027-10-01"])
    assert result.exit_code == 1
    assert "x" * 100 not in result.output and "y" * 100 not in result.output
    assert len(result.output) < 20_000


def test_a_request_has_a_number_limit() -> None:
    data = good()
    data["accounts"][0]["numbers"] += [f"(312) 556-{n:04d}" for n in range(0, 30)]
    report = check(data, max_numbers_per_request=40)
    errors = [p for p in report.errors if p.code == "too_many_numbers"]
    assert len(errors) == 1 and "more than 40 numbers" in errors[0].message
    assert sum(len(a.numbers) for a in report.accounts) <= 40
    # a hostile file of ranges is not expanded past the limit: bounded time and memory
    data = good()
    data["accounts"][0]["numbers"] = ["3125550000-3125550999"] * 2000
    started = time.monotonic()
    report = check(data)
    assert "too_many_numbers" in {p.code for p in report.errors}
    assert sum(len(a.numbers) for a in report.accounts) <= 10_000
    assert time.monotonic() - started < 20


def test_thousands_of_problems_are_drawn_in_bounded_time(tmp_path: Path) -> None:
    """10,000 wrong numbers drew 10,000 entry rows and 10,000 problem rows (10 s of rich):
    the human report now shows 50 of each and counts the rest; --json lists all."""
    data = good()
    data["accounts"][0]["numbers"] = [f"(312) 555-{n:03d}" for n in range(1000)]  # 9 digits
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(data))
    started = time.monotonic()
    result = CliRunner().invoke(app, ["check", str(path), "--today", "2027-10-01"])
    assert result.exit_code == 1 and time.monotonic() - started < 10
    assert "950 more" in result.output and "invalid_number (check --all or --json lists every one)" in result.output
    assert result.output.count("is not a valid NANP number") == 50
    full = CliRunner().invoke(app, ["check", str(path), "--today", "2027-10-01", "--all"])
    assert full.output.count("is not a valid NANP number") == 1000


def test_long_number_entries_are_refused_at_once() -> None:
    """_RANGE backtracks in cubic time: 800 spaces and an x took 3 s, 5,000 would hang."""
    started = time.monotonic()
    for text in ["1" + " " * 5000 + "x", "1 " * 3000, "-" * 5000, "3125550100" * 100]:
        assert not is_range(text)
        with pytest.raises(NumberProblem) as err:
            parse_tn(text)
        assert len(err.value.message) < 200
    assert time.monotonic() - started < 1


def test_shorten() -> None:
    assert shorten("abc") == "abc"
    assert shorten("a\x1b[31mb") == "a\\x1b[31mb"
    long = shorten("x" * 1000, 20)
    assert long.startswith("x" * 19 + "…") and "1,000 characters" in long


def test_document_entries_are_checked_not_crashed_on(tmp_path: Path) -> None:
    """A document path too long for the file system was an OSError traceback (is_file); an
    account index past the accounts attached the document to an order that never exists."""
    data = good()
    data["documents"] = [
        {"kind": "csr", "path": "a" * 400, "account": 5},
        {"kind": "bill", "path": "b" * 501},
    ]
    report = check_request_data(data, today=TODAY, base_dir=tmp_path)
    errors = {(p.code, p.where) for p in report.errors}
    assert ("invalid_field", "documents[0].account") in errors
    assert ("document_missing", "documents[0].path") in errors
    assert ("invalid_field", "documents[1].path") in errors
    assert "a" * 100 not in json.dumps(report.to_dict())
