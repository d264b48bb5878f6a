"""The go-live checklist model (issue 17): seed 004's items as defaults, per-request
required/optional, who/when/note for each item, and the change window that must CONTAIN
the activation time (``window_problem``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from models.golive import ITEM_IDS, ChangeWindow, GoLiveSection, OnNotReady, window_problem
from models.request import PortRequest
from tests.workflows.helpers import sample_request

AT = datetime(2027, 1, 10, 15, 0, tzinfo=UTC)


def _window(start: str = "2027-01-15 18:00", end: str = "2027-01-15 20:00", tz: str = "America/Denver") -> ChangeWindow:
    return ChangeWindow(start=start, end=end, tz=tz, approved_by="CAB")


def test_seed_items_are_the_defaults() -> None:
    gate = GoLiveSection().checklist(toll_free=True, warn_default=2, by="pm", at=AT)
    assert [i.id for i in gate.items] == list(ITEM_IDS)
    required = {i.id for i in gate.items if i.required}
    assert required == set(ITEM_IDS) - {"live_metrics"}  # checked after the cutover: never gates
    assert {i.id for i in gate.items if i.day_of} == {"status_bridge", "support_ready", "live_metrics"}
    assert gate.on_not_ready is OnNotReady.SUP2 and gate.warn_business_days == 2 and gate.slip_business_days == 5
    # no toll-free numbers in the port: the toll-free cutover is not required
    assert not GoLiveSection().checklist(toll_free=False, warn_default=2, by="pm", at=AT).item("toll_free_cutover").required


def test_required_and_optional_per_request() -> None:
    sec = GoLiveSection(optional="users_trained, ops_signoff", required=["toll_free_cutover"], warn_business_days=4)
    gate = sec.checklist(toll_free=False, warn_default=2, by="pm", at=AT)
    assert not gate.item("users_trained").required and not gate.item("ops_signoff").required
    assert gate.item("toll_free_cutover").required and gate.warn_business_days == 4
    with pytest.raises(ValidationError, match="did you mean users_trained"):
        GoLiveSection(optional=["usres_trained"])
    with pytest.raises(ValidationError, match="both required and optional"):
        GoLiveSection(optional=["uat_passed"], required=["uat_passed"])
    with pytest.raises(ValidationError, match="cannot gate the activation"):
        GoLiveSection(required=["live_metrics"])
    with pytest.raises(ValidationError):
        GoLiveSection(on_not_ready="sup3")


def test_done_records_who_when_note_and_the_gate_opens() -> None:
    sec = GoLiveSection(optional=[i for i in ITEM_IDS if i not in ("users_trained", "rollback_plan")])
    gate = sec.checklist(toll_free=False, warn_default=2, by="pm", at=AT)
    assert [p.split(" ")[0] for p in gate.problems(AT, [])] == ["users_trained", "rollback_plan"]
    gate = gate.with_done("users_trained", by="ipm@x.example", at=AT, note="3 sessions")
    item = gate.item("users_trained")
    assert (item.done.by, item.done.at, item.done.note) == ("ipm@x.example", AT, "3 sessions")
    assert gate.done_problem("users_trained", []).startswith("users_trained is already done (by ipm@x.example at")
    assert "starter.py gate rollback" in gate.done_problem("rollback_plan", [])
    assert "starter.py gate change-window" in gate.done_problem("change_request", [])
    assert "did you mean" in gate.done_problem("users_traned", [])
    gate = gate.with_rollback("https://wiki.example/rb", by="pm", at=AT)
    assert gate.rollback_plan == "https://wiki.example/rb" and gate.item("rollback_plan").done.note == gate.rollback_plan
    assert gate.problems(AT, []) == [] and gate.summary() == "2/2 required items done"


def test_uat_on_a_temporary_number_needs_one() -> None:
    gate = GoLiveSection().checklist(toll_free=False, warn_default=2, by="pm", at=AT)
    assert "record it first" in gate.done_problem("uat_temp_number", [])
    assert gate.done_problem("uat_temp_number", ["+13035550188"]) is None


@pytest.mark.parametrize(("activation", "problem"), [
    (datetime(2027, 1, 16, 1, 0, tzinfo=UTC), None),  # 18:00 MST: the start is inside
    (datetime(2027, 1, 16, 3, 0, tzinfo=UTC), None),  # 20:00 MST: the end is inside
    (datetime(2027, 1, 16, 4, 0, tzinfo=UTC),
     "the change window 2027-01-15 18:00-20:00 America/Denver ends before activation at 21:00; ask the change "
     "board for a window that contains 2027-01-15 21:00 America/Denver, or move the port date"),
    (datetime(2027, 1, 15, 16, 0, tzinfo=UTC),
     "the change window 2027-01-15 18:00-20:00 America/Denver starts after activation at 09:00; ask the change "
     "board for a window that contains 2027-01-15 09:00 America/Denver, or move the port date"),
    (datetime(2027, 1, 17, 4, 0, tzinfo=UTC), "ends before activation at 2027-01-16 21:00"),
])
def test_the_window_must_contain_the_activation(activation: datetime, problem: str | None) -> None:
    got = window_problem(_window(), activation)
    if problem is None:
        assert got is None
    else:
        assert got is not None and problem in got


def test_a_window_survives_the_payload_round_trip_without_a_zone_database() -> None:
    w = _window("2027-07-15 22:00", "2027-07-16 02:00")  # summer: MDT, across midnight
    again = ChangeWindow.model_validate_json(w.model_dump_json())
    assert again.start == w.start and again.text() == "2027-07-15 22:00-2027-07-16 02:00 America/Denver"
    assert window_problem(again, datetime(2027, 7, 16, 7, 30, tzinfo=UTC)) is None  # 01:30 MDT
    with pytest.raises(ValidationError, match="before it starts"):
        _window("2027-01-15 18:00", "2027-01-15 17:00")
    with pytest.raises(ValidationError, match="longer than 7 days"):
        _window("2027-01-15 18:00", "2027-01-25 17:00")
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'"):
        _window(tz="Mars/Olympus")
    with pytest.raises(ValidationError, match="needs its time zone"):  # naive, and no zone name to read them in
        ChangeWindow.model_validate({"start": datetime(2027, 1, 1, 1), "end": datetime(2027, 1, 1, 2),
                                     "approved_by": "x", "tz": 5})


def test_the_section_in_a_request_and_its_window_and_plan() -> None:
    base = sample_request(accounts=1).model_dump(mode="json")
    base["accounts"][0]["account_number"] = "8831-2207-19"  # the dump masks the secret
    base["accounts"][0]["pin"] = "4417"
    req = PortRequest.model_validate({**base, "temporary_numbers": "303-555-0188, (303) 555-0189",
                                      "go_live": {"change_window": {"start": "2027-01-15 18:00", "end": "2027-01-15 20:00", "tz": "America/Denver",
                                                                    "approved_by": "CAB"},
                                                  "rollback_plan": "RB-12"}})
    assert req.temporary_numbers == ["+13035550188", "+13035550189"]
    gate = req.go_live.checklist(toll_free=False, warn_default=3, by="pm@x.example", at=AT)
    assert gate.warn_business_days == 3
    assert gate.item("change_request").done.by == "pm@x.example" and gate.item("rollback_plan").done.note == "RB-12"
    with pytest.raises(ValidationError, match="is one of the numbers being ported"):
        PortRequest.model_validate({**base, "temporary_numbers": [base["accounts"][0]["numbers"][0]]})
    with pytest.raises(ValidationError, match="listed twice"):
        PortRequest.model_validate({**base, "temporary_numbers": ["3035550188", "+13035550188"]})
