"""The offline check of the go_live: section and temporary_numbers (issue 17): YAML and the
CSV preamble give the same request; every problem at once, at its field and line."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from portflow.check import check_request_data, check_request_file

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TODAY = date(2027, 10, 1)


def _base() -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / "go-live-request.yaml").read_text())


def _problems(data: dict[str, Any]) -> dict[str, tuple[str, str]]:
    report = check_request_data(data, today=TODAY)
    return {p.where: (p.code, p.message) for p in report.problems if p.severity == "error"}


def test_yaml_and_csv_give_the_same_go_live_request() -> None:
    from_yaml = check_request_file(EXAMPLES / "go-live-request.yaml", today=TODAY).request
    from_csv = check_request_file(EXAMPLES / "go-live-request.csv", today=TODAY).request
    assert from_yaml is not None and from_csv is not None
    assert from_yaml.temporary_numbers == from_csv.temporary_numbers == ["+13125550190"]
    assert from_yaml.go_live is not None and from_csv.go_live is not None
    assert from_yaml.go_live.change_window == from_csv.go_live.change_window
    assert from_yaml.go_live.optional == from_csv.go_live.optional == ["users_trained"]
    assert from_yaml.go_live.on_not_ready == "sup2" and from_csv.go_live.on_not_ready == "escalate"


def test_every_go_live_problem_at_once() -> None:
    data = _base()
    data["go_live"]["optional"] = ["users_trained", "usres_trained"]
    data["go_live"]["on_not_ready"] = "later"
    data["go_live"]["change_window"]["end"] = "2027-11-16 09:00"
    data["temporary_numbers"] = ["(312) 555-0100", "12", "(312) 555-0191", "312.555.0191"]
    got = _problems(data)
    assert got["go_live.optional[1]"][0] == "unknown_go_live_item"
    assert "did you mean users_trained?" in got["go_live.optional[1]"][1]
    assert got["go_live.on_not_ready"] == ("invalid_field", "go_live.on_not_ready: Input should be 'sup2' or 'escalate'")
    assert got["go_live.change_window.end"] == (
        "change_window_misses_activation",
        "the change window 2027-11-16 08:00-09:00 America/Chicago ends before activation at 10:00; ask the change "
        "board for a window that contains 2027-11-16 10:00 America/Chicago, or move the port date")
    assert got["temporary_numbers[0]"][0] == "temporary_number_ported"
    assert got["temporary_numbers[1]"][0] == "invalid_number"
    assert got["temporary_numbers[3]"] == ("duplicate_number", "+13125550191 is listed twice in temporary_numbers")


def test_a_window_that_starts_after_the_activation_and_a_bad_zone() -> None:
    data = _base()
    data["go_live"]["change_window"].update(start="2027-11-16 11:00", end="2027-11-16 13:00")
    assert "starts after activation at 10:00" in _problems(data)["go_live.change_window.start"][1]
    data["go_live"]["change_window"]["tz"] = "Mars/Olympus"
    assert "tz: unknown time zone 'Mars/Olympus': use an IANA name" in _problems(data)["go_live.change_window"][1]


def test_uat_on_a_temporary_number_without_one_is_a_warning() -> None:
    data = _base()
    del data["temporary_numbers"]
    report = check_request_data(data, today=TODAY)
    assert report.ok
    [warning] = [p for p in report.problems if p.code == "no_temporary_number"]
    assert "temp-numbers add" in warning.message
    data["go_live"]["optional"].append("uat_temp_number")
    assert not [p for p in check_request_data(data, today=TODAY).problems if p.code == "no_temporary_number"]


def test_without_a_section_nothing_changes() -> None:
    data = copy.deepcopy(_base())
    del data["go_live"], data["temporary_numbers"]
    report = check_request_data(data, today=TODAY)
    assert report.ok and report.request is not None and report.request.go_live is None
