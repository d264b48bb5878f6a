"""The offline check: every example through the real CLI, and the rules behind it."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from typer.testing import CliRunner

from core.calendar import PortCalendar
from core.settings import Settings
from models.request import PortRequest
from portflow.check import (
    CheckReport,
    FileProblem,
    Severity,
    check_request_data,
    check_request_file,
)
from portflow.check.model import model_problems
from starter import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TODAY = date(2027, 10, 1)  # fixed, so "too close" and "in the past" never drift
SECRETS = ("731-448-2901", "482913", "8771 20 449 0061552", "7305")
runner = CliRunner()

# Every example file, its exit code and the exact error codes it must report (notes aside).
EXPECTED: dict[str, tuple[int, set[str]]] = {
    "good-request.yaml": (0, set()),
    "good-request.csv": (0, set()),
    "bad-invalid-number.yaml": (1, {"invalid_number"}),
    "bad-not-north-american.yaml": (1, {"not_north_american"}),
    "bad-duplicate-number.yaml": (1, {"duplicate_number"}),
    "bad-range.yaml": (1, {"bad_range", "range_too_large"}),
    "bad-missing-btn.yaml": (1, {"missing_btn"}),
    "bad-missing-account-number.yaml": (1, {"missing_account_number"}),
    "bad-partial-without-new-btn.yaml": (1, {"partial_without_new_btn"}),
    "bad-partial-without-remaining.yaml": (1, {"partial_without_remaining"}),
    "bad-btn-not-in-numbers.yaml": (1, {"btn_not_in_numbers"}),
    "bad-weekend-date.yaml": (1, {"weekend_date"}),
    "bad-holiday-date.yaml": (1, {"holiday_date"}),
    "bad-lead-time.yaml": (1, {"lead_time"}),
    "bad-date-in-past.yaml": (1, {"date_in_past"}),
    "bad-maintenance-window.yaml": (1, {"maintenance_window"}),
    "bad-missing-fields.yaml": (1, {"missing_field", "invalid_field"}),
    "bad-unknown-field.yaml": (1, {"unknown_field"}),
    "bad-change-window.yaml": (1, {"change_window_misses_activation"}),
    "bad-unreadable.yaml": (2, set()),
    "bad-encoding.csv": (2, set()),
    "bad-utf16.csv": (2, set()),
    "bad-aliases.yaml": (2, set()),
    "bad-impossible-date.yaml": (2, set()),
}


def _invoke(*args: str) -> Any:
    return runner.invoke(app, ["check", *args])


def test_every_example_is_covered() -> None:
    # good-* and bad-* are the check's examples (other files there serve the demo)
    on_disk = {
        p.name
        for p in EXAMPLES.iterdir()
        if p.suffix in (".yaml", ".csv") and p.name.startswith(("good-", "bad-"))
    }
    assert on_disk == set(EXPECTED)
    readme = (EXAMPLES / "README.md").read_text()
    for name, (_, codes) in EXPECTED.items():
        assert name in readme, f"examples/README.md does not list {name}"
        for code in codes:
            assert code in readme, f"examples/README.md does not name {code}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_through_the_cli(name: str) -> None:
    exit_code, codes = EXPECTED[name]
    path = str(EXAMPLES / name)
    human = _invoke(path, "--today", TODAY.isoformat())
    machine = _invoke(path, "--today", TODAY.isoformat(), "--json")
    assert human.exit_code == exit_code, human.output
    assert machine.exit_code == exit_code, machine.output
    payload = json.loads(machine.stdout)
    if exit_code == 2:
        assert payload["ok"] is False and payload["file_problem"]["code"] in (
            "bad_yaml",
            "bad_encoding",
            "refused_yaml",
        )
        assert "cannot check" in human.output
        return
    errors = {p["code"] for p in payload["problems"] if p["severity"] == "error"}
    assert errors == codes
    assert payload["ok"] is (exit_code == 0)
    for code in codes:
        assert code in human.output
    assert ("READY: this request can be started" in human.output) is (exit_code == 0)
    for secret in SECRETS:
        assert secret not in human.output and secret not in machine.stdout


def test_the_good_request_report() -> None:
    result = _invoke(str(EXAMPLES / "good-request.yaml"), "--today", TODAY.isoformat())
    assert result.exit_code == 0
    out = result.output
    assert "earliest workable date     Fri 2027-10-22" in out  # Oct 1st + 21 days
    assert "toll-free: RespOrg" in out and "+18005550142" in out
    assert "order 2 - Comcast Business - partial port" in out and "new BTN (847) 555-0189" in out
    payload = json.loads(
        _invoke(str(EXAMPLES / "good-request.yaml"), "--today", "2027-10-01", "--json").stdout
    )
    assert [p["code"] for p in payload["problems"]] == ["toll_free"]
    assert payload["problems"][0]["severity"] == "note"
    assert [a["count"] for a in payload["accounts"]] == [22, 3]
    assert payload["accounts"][0]["toll_free_count"] == 1
    assert payload["documents_due"] == "2027-10-26"
    assert payload["activation_at"] == "2027-11-16T16:00:00+00:00"


def test_the_real_command_in_a_subprocess() -> None:
    # One real process (starting Python and every command module is slow); CliRunner covers
    # the exit codes of every example above.
    proc = subprocess.run(
        [
            sys.executable,
            "starter.py",
            "check",
            "examples/bad-range.yaml",
            "--today",
            TODAY.isoformat(),
        ],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "120"},
        timeout=120,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "bad_range" in proc.stdout and "range_too_large" in proc.stdout
    assert "NOT READY" in proc.stdout
    assert "482913" not in proc.stdout + proc.stderr


def test_unreadable_files_exit_2(tmp_path: Path) -> None:
    assert _invoke(str(tmp_path / "nope.yaml")).exit_code == 2
    assert _invoke(str(tmp_path)).exit_code == 2
    (tmp_path / "request.txt").write_text("hello")
    assert _invoke(str(tmp_path / "request.txt")).exit_code == 2
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    result = _invoke(str(tmp_path / "list.yaml"))
    assert result.exit_code == 2 and "not a port request" in result.output
    (tmp_path / "empty.yaml").write_text("# nothing\n")
    assert _invoke(str(tmp_path / "empty.yaml")).exit_code == 2
    assert _invoke(str(EXAMPLES / "good-request.yaml"), "--today", "2027-13-01").exit_code == 2


# --- the rules, on data -------------------------------------------------------------------


def good() -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / "good-request.yaml").read_text())


def check(data: dict[str, Any], today: date = TODAY, **settings_: Any) -> CheckReport:
    return check_request_data(data, today=today, settings=Settings(**settings_))


def codes(report: CheckReport, severity: Severity = Severity.ERROR) -> list[str]:
    return [p.code for p in report.problems if p.severity is severity]


def test_a_good_request_gives_the_validated_model() -> None:
    report = check(good())
    assert report.ok and report.exit_code == 0
    assert isinstance(report.request, PortRequest)
    assert len(report.request.all_numbers) == 25
    assert codes(report, Severity.NOTE) == ["toll_free"]


def test_every_problem_is_reported_not_just_the_first() -> None:
    data = good()
    data["requested_port_date"] = "2027-11-13"  # Saturday
    data["signer"].pop("email")
    lumen, comcast = data["accounts"]
    del lumen["btn"]
    lumen["numbers"] += [
        "555-555-0150",
        "+44 20 7946 0958",
        "3125550119-3125550110",
        "847-555-0181",
    ]
    comcast["port_type"] = "partial"
    del comcast["new_btn"]
    comcast["service_address"]["postal_code"] = "6"
    report = check(data)
    assert not report.ok and report.request is None and report.exit_code == 1
    assert sorted(codes(report)) == sorted(
        [
            "weekend_date",
            "missing_field",
            "missing_btn",
            "invalid_number",
            "not_north_american",
            "bad_range",
            "duplicate_number",
            "partial_without_new_btn",
            "invalid_field",
        ]
    )
    where = {p.code: p.where for p in report.problems}
    assert where["invalid_field"] == "accounts[1].service_address.postal_code"
    assert where["missing_field"] == "signer.email"
    assert where["duplicate_number"] == "accounts[1].numbers[1]"


def test_duplicates_within_and_across_accounts_name_the_other_listing() -> None:
    data = good()
    data["accounts"][0]["numbers"].append("(312) 555-0105")
    data["accounts"][1]["numbers"].append("3125550110-3125550112")
    report = check(data)
    messages = [p.message for p in report.problems if p.code == "duplicate_number"]
    assert len(messages) == 2
    assert "also at accounts[0].numbers[0], in the same account" in messages[0]
    assert (
        "3 numbers of '3125550110-3125550112'" in messages[1]
        and "under accounts[0] (Lumen)" in messages[1]
    )


def test_two_accounts_of_one_carrier_may_not_share_a_number() -> None:
    data = good()
    second = copy.deepcopy(data["accounts"][0])
    second.update(
        account_number="999-000-1111", btn="312-555-0160", numbers=["312-555-0160", "312.555.0150"]
    )
    data["accounts"].append(second)
    assert codes(check(data)) == ["duplicate_number"]


def test_range_limit_comes_from_settings() -> None:
    data = good()
    assert codes(check(data, max_range_size=10)) == ["range_too_large"]  # the 20-number block
    data["accounts"][0]["numbers"] = ["(312) 555-0100", "3125550200-3125551699"]  # 1,500 numbers
    assert codes(check(data)) == ["range_too_large"]
    report = check(data, max_range_size=2000)
    assert (
        report.ok and report.request is not None and len(report.request.accounts[0].numbers) == 1501
    )


def test_toll_free_is_a_note_not_an_error() -> None:
    data = good()
    data["accounts"][0]["numbers"].append("8885550100-8885550104")
    report = check(data)
    assert report.ok
    notes = [p for p in report.problems if p.code == "toll_free"]
    assert [n.where for n in notes] == ["accounts[0].numbers[2]", "accounts[0].numbers[3]"]
    assert "all 5 numbers" in notes[1].message and "RespOrg" in notes[1].message
    assert len(report.accounts[0].toll_free) == 6


def test_account_rules() -> None:
    data = good()
    lumen, comcast = data["accounts"]
    lumen["account_number"] = "  "
    lumen["new_btn"] = "312-555-0199"  # ignored on a full port: a warning
    comcast["remaining_numbers"] = "disconnect"
    comcast["new_btn"] = "847-555-0180"  # ignored, and it is being ported
    report = check(data)
    assert sorted(codes(report)) == ["missing_account_number", "new_btn_ported"]
    assert codes(report, Severity.WARNING) == ["ignored_field", "ignored_field"]
    data = good()
    data["accounts"][1].pop("remaining_numbers")
    assert codes(check(data)) == ["partial_without_remaining"]
    data = good()
    data["accounts"][0]["btn"] = "555-555-0100"
    assert codes(check(data)) == ["invalid_btn"]
    data = good()
    data["accounts"] = []
    assert codes(check(data)) == ["no_accounts"]


def test_dates() -> None:
    data = good()
    data["requested_port_date"] = "2027-10-12"  # a Tuesday, 11 days after TODAY
    report = check(data)
    assert codes(report) == ["lead_time"]
    assert report.earliest_port_date == date(2027, 10, 22)
    assert "Fri 2027-10-22" in report.problems[-1].message or any(
        "Fri 2027-10-22" in p.message for p in report.problems
    )
    data["requested_port_date"] = "2027-09-01"
    assert codes(check(data)) == ["date_in_past"]  # not also lead_time
    data["requested_port_date"] = "2027-11-25"
    (holiday,) = [p for p in check(data).problems if p.code == "holiday_date"]
    assert "Thanksgiving Day" in holiday.message and "Fri 2027-11-26" in holiday.message
    data["requested_port_date"] = "16/11/2027"
    assert codes(check(data)) == ["invalid_date"]
    del data["requested_port_date"]
    assert codes(check(data)) == ["missing_port_date"]


def test_porting_holidays_from_settings() -> None:
    report = check(good(), porting_holidays=[date(2027, 11, 16)])
    (problem,) = report.problems[:1] if codes(report) else [None]
    assert codes(report) == ["holiday_date"] and "porting holiday" in problem.message


def test_documents_complete_on_moves_the_lead_time() -> None:
    data = good()
    data["documents_complete_on"] = "2027-11-01"
    report = check(data)
    assert codes(report) == ["lead_time"] and report.earliest_port_date == date(2027, 11, 22)
    data["documents_complete_on"] = "2027-10-20"
    assert check(data).ok
    data["documents_complete_on"] = "soon"
    assert codes(check(data)) == ["invalid_date"]


def test_activation_time_and_zone() -> None:
    data = good()
    data.update(
        requested_port_date="2027-11-19", activation_time="21:59", time_zone="America/Denver"
    )
    assert check(data).ok  # third Friday, one minute before the window
    data["activation_time"] = "22:00"
    (problem,) = [p for p in check(data).problems if p.severity is Severity.ERROR]
    assert problem.code == "maintenance_window" and problem.where == "activation_time"
    assert "activate before 22:00 America/Denver" in problem.message
    data.update(activation_time="23:59", time_zone="America/Los_Angeles")  # 00:59 MT Saturday
    assert codes(check(data)) == ["maintenance_window"]
    data["activation_time"] = "25:00"
    assert codes(check(data)) == ["invalid_time"]
    data.update(activation_time="10:00", time_zone="Mars/Olympus")
    assert codes(check(data)) == ["invalid_time_zone"]


@settings(max_examples=60, deadline=None)
@given(offset=st.integers(min_value=-30, max_value=80))
def test_date_rules_agree_with_the_calendar(offset: int) -> None:
    cal = PortCalendar()
    requested = TODAY + timedelta(days=offset)
    data = good()
    data["requested_port_date"] = requested.isoformat()
    data["activation_time"] = "10:00"
    got = set(codes(check(data)))
    earliest = cal.earliest_port_date(TODAY)
    if requested < TODAY:
        assert got == {"date_in_past"}
        return
    assert ("lead_time" in got) is (requested < earliest)
    assert ("weekend_date" in got) is (requested.weekday() >= 5)
    assert ("holiday_date" in got) is (
        requested.weekday() < 5 and cal.holiday_name(requested) is not None
    )
    assert (not got) is (requested >= earliest and cal.is_business_day(requested))


def test_unknown_fields_are_errors_with_a_suggestion() -> None:
    """A typo in an optional field used to be a warning: the request was READY and the
    default was used silently (a mistyped activation time ported at 09:00)."""
    data = good()
    data["activation_tme"] = data.pop("activation_time")
    data["accounts"][0]["passcode"] = "482913"
    report = check(data)
    assert not report.ok
    errors = {p.where: p.message for p in report.errors if p.code == "unknown_field"}
    assert set(errors) == {"activation_tme", "accounts[0].passcode"}
    assert "did you mean 'activation_time'" in errors["activation_tme"]
    assert "--allow-unknown-fields" in errors["activation_tme"]
    assert "482913" not in json.dumps(report.to_dict())
    # the PM may say otherwise: then they are warnings and the request can start
    allowed = check_request_data(
        data, today=TODAY, settings=Settings(), allow_unknown_fields=True
    )
    assert allowed.ok
    assert {p.where for p in allowed.problems if p.code == "unknown_field"} == set(errors)


def test_model_messages_are_masked() -> None:
    data = good()
    data["accounts"][0]["carrier"] = "482913"  # a PIN typed into the wrong cell
    data["accounts"][0]["numbers"].append("312.555.0150")
    with pytest.raises(ValidationError) as err:
        PortRequest.model_validate(data)
    problems = model_problems(err.value, [], ["482913"])
    assert problems and all("482913" not in message for _, _, message in problems)


def test_json_report_shape() -> None:
    payload = json.loads(check(good()).to_json())
    assert payload["ok"] is True and payload["counts"] == {"error": 0, "warning": 0, "note": 1}
    assert set(payload["problems"][0]) == {
        "severity",
        "code",
        "section",
        "where",
        "line",
        "message",
    }
    assert payload["accounts"][1]["entries"][0]["numbers"] == ["+18475550180"]


# --- the file formats -----------------------------------------------------------------------


def test_yaml_keeps_leading_zeros_and_clock_times(tmp_path: Path) -> None:
    text = (EXAMPLES / "good-request.yaml").read_text()
    text = text.replace('pin: "482913"', "pin: 0123").replace(
        'activation_time: "10:00"', "activation_time: 10:30"
    )
    path = tmp_path / "r.yaml"
    path.write_text(text)
    report = check_request_file(path, today=TODAY)
    assert report.ok, report.problems
    assert report.request.accounts[0].pin.get_secret_value() == "0123"  # not octal 83
    assert report.request.activation_time.isoformat() == "10:30:00"  # not sexagesimal 630


def test_yaml_duplicate_keys_and_line_numbers(tmp_path: Path) -> None:
    text = (
        (EXAMPLES / "good-request.yaml")
        .read_text()
        .replace(
            "time_zone: America/Chicago", "time_zone: America/Chicago\ntime_zone: America/Denver"
        )
    )
    path = tmp_path / "r.yaml"
    path.write_text(text)
    report = check_request_file(path, today=TODAY)
    first = text.splitlines().index("time_zone: America/Chicago") + 1
    (dup,) = [p for p in report.problems if p.code == "duplicate_key"]
    assert (
        dup.where == "time_zone"
        and f"lines {first} and {first + 1}" in dup.message
        and dup.line == first + 1
    )
    lines = {p.code: p.line for p in report.problems}
    assert (
        lines["toll_free"]
        == text.splitlines().index(
            "      - +1 800 555 0142           # toll-free main line: a RespOrg change"
        )
        + 1
    )


def test_csv_request_matches_the_yaml_one() -> None:
    from_yaml = check_request_file(EXAMPLES / "good-request.yaml", today=TODAY).request
    from_csv = check_request_file(EXAMPLES / "good-request.csv", today=TODAY).request
    assert from_yaml is not None and from_csv is not None
    assert from_csv.model_dump(exclude={"id"}) == from_yaml.model_dump(exclude={"id"})
    assert from_csv.accounts[0].pin.get_secret_value() == "482913"


def test_csv_rules(tmp_path: Path) -> None:
    lines = (EXAMPLES / "good-request.csv").read_text().splitlines()
    path = tmp_path / "r.csv"
    # Excel flavour: BOM, semicolons, spaced headers, an unknown column, a typo in the preamble
    body = [line.replace(",", ";") if not line.startswith("#") else line for line in lines]
    body = [b.replace("# contact_phone:", "# contact_phon:") for b in body]
    body = [
        b.replace("account_number", "Account Number")
        + (";Color" if b.startswith("carrier") else ";")
        for b in body
    ]
    path.write_bytes("\ufeff".encode() + "\n".join(body).encode())
    report = check_request_file(path, today=TODAY)
    assert sorted(codes(report)) == ["missing_field", "unknown_column", "unknown_field"]
    problem = report.problems[[p.code for p in report.problems].index("missing_field")]
    assert "a '# contact_phone: ...' line above the header" in problem.message
    unknown = {p.code: p for p in report.errors if p.code.startswith("unknown_")}
    assert "did you mean '# contact_phone:'" in unknown["unknown_field"].message
    assert unknown["unknown_column"].where == "color"
    report = check_request_file(path, today=TODAY, allow_unknown_fields=True)
    assert codes(report) == ["missing_field"]
    assert {p.code for p in report.problems if p.severity is Severity.WARNING} == {
        "unknown_column",
        "unknown_field",
    }
    # rows of one account that disagree
    conflict = [
        line.replace("Lumen,731-448-2901,,,", "Lumen,731-448-2901,111111,(312) 555-0101,")
        for line in lines
    ]
    path.write_text("\n".join(conflict))
    report = check_request_file(path, today=TODAY)
    assert sorted(codes(report)) == ["csv_conflict", "csv_conflict", "csv_conflict", "csv_conflict"]
    assert all("111111" not in p.message for p in report.problems)
    assert {p.line for p in report.problems if p.code == "csv_conflict"} == {16}


def test_csv_without_required_columns_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("carrier,btn\nLumen,3125550100\n")
    with pytest.raises(FileProblem) as err:
        check_request_file(path, today=TODAY)
    assert err.value.code == "bad_csv" and "account_number, number" in err.value.message
    assert _invoke(str(path)).exit_code == 2


def test_documents_are_looked_up_beside_the_request(tmp_path: Path) -> None:
    data = good()
    data["documents"] = [{"kind": "csr", "path": "lumen-csr.pdf", "account": 0}]
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(data))
    report = check_request_file(path, today=TODAY)
    assert codes(report) == ["document_missing"] and report.problems[0].where == "documents[0].path"
    (tmp_path / "lumen-csr.pdf").write_bytes(b"%PDF-1.4")
    assert check_request_file(path, today=TODAY).ok


def test_malformed_accounts_are_reported_not_crashed_on() -> None:
    data = good()
    data["accounts"][0].update(carrier=" ", numbers=[])
    data["accounts"].append("Verizon, acct 12")
    assert sorted(codes(check(data))) == ["invalid_field", "missing_carrier", "no_numbers"]
    data["accounts"] = {"carrier": "Lumen"}
    assert codes(check(data)) == ["invalid_field"]
    assert not check_request_data("not a mapping", today=TODAY).ok  # type: ignore[arg-type]


def test_the_check_parses_each_number_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rules, the model's validators and the toll-free routing all read the numbers:
    each distinct one is parsed once (models.numbers keeps what it answered)."""
    import core.phone
    import models.numbers

    monkeypatch.setattr(models.numbers, "_MEMO", {})
    monkeypatch.setattr(core.phone, "_TOLL_FREE", {})
    parsed: list[str] = []
    real_parse, real_plain = models.numbers._parse, models.numbers._parse_plain

    def counting_parse(raw: str) -> Any:
        parsed.append(raw)
        return real_parse(raw)

    def counting_plain(raw: str) -> Any:
        answer = real_plain(raw)
        if answer is not None:  # else _parse reads it (and counts it)
            parsed.append(raw)
        return answer

    monkeypatch.setattr(models.numbers, "_parse", counting_parse)
    monkeypatch.setattr(models.numbers, "_parse_plain", counting_plain)
    # Not counted: formatting a number for a message (the toll-free note) is display only.
    monkeypatch.setattr("portflow.check.rules.format_national", lambda e164: e164)
    data = yaml.safe_load((EXAMPLES / "good-request.yaml").read_text())
    data["accounts"][0]["numbers"].append("3125550200-3125550299")  # a range of 100 more
    report = check_request_data(data, today=TODAY)
    assert report.ok, report.problems
    numbers = [n for a in report.accounts for n in a.numbers]
    assert len(numbers) == 125
    # every number (whatever its notation, BTN included), the contact's phone and the new BTN
    # that stays behind: once each
    assert len(parsed) == len(numbers) + 2, sorted(parsed)
