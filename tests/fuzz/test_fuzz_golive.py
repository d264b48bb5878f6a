"""The go-live gate's readers of outside input (issue 17): the request file's ``go_live:``
section and ``temporary_numbers`` (YAML and the CSV preamble), the gate and temp-numbers
command lines, and the parsers the API will share. Every input ends as a report, a CliError
or an exit code with a message: never a traceback, a hang, or a workflow-bound model that
fails to serialize."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.golive import ITEM_IDS, ChangeWindow
from portflow.check import check_request_data
from portflow.cli import gate_actions as ga
from portflow.cli.errors import CliError
from tests.fuzz import fuzz
from tests.fuzz.cli_standin import REACHED, cli_invoker
from tests.fuzz.paths import paths
from tests.fuzz.test_fuzz_cli import ids, numbers, words
from tests.fuzz.test_fuzz_request_files import GOOD, TODAY, _assert_report, _check_file, _dump, values

GO_LIVE = {
    "on_not_ready": "sup2", "warn_business_days": 2, "slip_business_days": 5,
    "optional": ["users_trained"], "required": ["toll_free_cutover"],
    "change_window": {"start": "2027-11-16 08:00", "end": "2027-11-16 12:00", "tz": "America/Chicago",
                      "approved_by": "CAB (CR-2211)"},
    "rollback_plan": "https://wiki.example/rollback",
}
BASE = {**copy.deepcopy(GOOD), "go_live": GO_LIVE, "temporary_numbers": ["(312) 555-0190"]}
PATHS = [p for p in paths(BASE) if p and p[0] in ("go_live", "temporary_numbers")]
times = st.one_of(st.sampled_from(["2027-11-16 08:00", "2027-11-16T10:00", "10:00", "22:00", "04:00", "2027-02-30 10:00",
                                   "2027-11-16 25:00", "2027-11-16 10:00+02:00", "", "tomorrow", "9"]),
                  st.text(max_size=50))
zones = st.one_of(st.sampled_from(["America/Denver", "America/Chicago", "UTC", "Mars/Olympus", "../../etc", "",
                                   "America/" + "x" * 300]), st.text(max_size=70))
items = st.one_of(st.sampled_from([*ITEM_IDS, "users-trained", "USERS_TRAINED", "usres_trained", ""]),
                  st.text(max_size=70))


@st.composite
def mutated_sections(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        parent = data
        try:
            for step in path[:-1]:
                parent = parent[step]
            action = draw(st.sampled_from(["replace", "remove", "time", "item"]))
            if action == "replace":
                parent[path[-1]] = draw(values)
            elif action == "remove" and isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif action == "time":
                parent[path[-1]] = draw(times)
            else:
                parent[path[-1]] = draw(st.one_of(items, st.lists(items, max_size=4)))
        except (KeyError, IndexError, TypeError):
            continue
    return data


@fuzz(250)
@given(mutated_sections())
def test_any_go_live_section(data: Any) -> None:
    report = check_request_data(data, today=TODAY)
    _assert_report(report)
    if report.request is not None and report.request.go_live is not None:  # what reaches the workflow serializes
        report.request.model_dump_json()
        # and becomes the checklist the request workflow starts with (its @workflow.init)
        gate = report.request.go_live.checklist(toll_free=True, warn_default=2, by="pm", at=datetime.now(UTC))
        gate.problems(datetime.now(UTC), report.request.temporary_numbers)


@fuzz(100)
@given(mutated_sections())
def test_go_live_sections_as_yaml_files(tmp_path_factory: Any, data: Any) -> None:
    _check_file(tmp_path_factory.mktemp("g"), "req.yaml", _dump(data).encode("utf-8", "surrogatepass"))


PREAMBLE = (Path(__file__).resolve().parents[2] / "examples" / "go-live-request.csv").read_text()
KEYS = ["temporary_numbers", "go_live_on_not_ready", "go_live_optional", "go_live_required",
        "go_live_warn_business_days", "go_live_slip_business_days", "go_live_rollback_plan",
        "go_live_change_window_start", "go_live_change_window_end", "go_live_change_window_tz",
        "go_live_change_window_approved_by"]


@fuzz(150)
@given(st.lists(st.tuples(st.sampled_from(KEYS), st.one_of(times, zones, items, numbers, words)), max_size=4))
def test_go_live_csv_preamble(tmp_path_factory: Any, lines: list[tuple[str, str]]) -> None:
    extra = "".join(f"# {k}: {' '.join(v.split())}\n" for k, v in lines)
    head, sep, body = PREAMBLE.partition("carrier,")
    _check_file(tmp_path_factory.mktemp("c"), "req.csv", (head + extra + sep + body).encode("utf-8", "surrogatepass"))


@fuzz(300)
@given(times, times, zones, words, words)
def test_window_parser(start: str, end: str, tz: str, approved_by: str, ref: str) -> None:
    try:
        window = ga.parse_window(start, end, tz, approved_by, ref)
    except CliError as err:
        assert err.message and len(err.message) < 1000
        return
    assert isinstance(window, ChangeWindow) and window.start < window.end
    ChangeWindow.model_validate_json(window.model_dump_json())  # the payload the workflow reads


@fuzz(200)
@given(st.lists(numbers, max_size=60))
def test_temp_number_parser(raw: list[str]) -> None:
    try:
        out = ga.parse_temp_numbers(raw)
    except CliError as err:
        assert err.message and len(err.message) < 20_000
        return
    assert out and all(n.startswith("+1") for n in out)


@pytest.fixture(scope="module")
def invoke(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Any]]:
    yield from cli_invoker(tmp_path_factory, ("portflow.cli.gate",))


commands = st.one_of(
    st.tuples(st.just("gate"), st.just("show"), ids),
    st.tuples(st.just("gate"), st.just("done"), ids, items, st.just("--note"), words, st.just("--by"), words),
    st.tuples(st.just("gate"), st.just("change-window"), ids, st.just("--from"), times, st.just("--to"), times,
              st.just("--tz"), zones, st.just("--approved-by"), words, st.just("--ref"), words),
    st.tuples(st.just("gate"), st.just("rollback"), ids, st.just("--plan"), words),
    st.tuples(st.just("temp-numbers"), st.just("add"), ids, numbers, numbers),
)


@fuzz(250)
@given(commands)
def test_gate_command_lines(invoke: Any, args: tuple[str, ...]) -> None:
    args = tuple(a.replace("\x00", "") for a in args)
    result = invoke(list(args))
    if result.exit_code == 1:
        assert "error:" in result.output


def test_the_stand_in_server_is_reached(invoke: Any) -> None:
    """Well-formed gate commands get as far as the server; bad ones stop before it."""
    assert invoke(["gate", "show", "PR-2026-0042"]).exit_code == REACHED
    assert invoke(["gate", "done", "PR-2026-0042", "users-trained", "--note", "3 sessions"]).exit_code == REACHED
    assert invoke(["gate", "change-window", "PR-2026-0042", "--from", "2027-01-15 22:00", "--to", "04:00",
                   "--tz", "America/Denver", "--approved-by", "CAB"]).exit_code == REACHED
    assert invoke(["gate", "rollback", "PR-2026-0042", "--plan", "RB-12"]).exit_code == REACHED
    assert invoke(["temp-numbers", "add", "PR-2026-0042", "(303) 555-0188"]).exit_code == REACHED
    refused = invoke(["gate", "done", "PR-2026-0042-1", "users_trained"])
    assert refused.exit_code == 1 and "belongs to the whole request: use PR-2026-0042" in refused.output
    refused = invoke(["gate", "done", "PR-2026-0042", "change_request"])
    assert refused.exit_code == 1 and "gate change-window" in refused.output
    refused = invoke(["gate", "change-window", "PR-2026-0042", "--from", "2027-01-15 18:00", "--to", "2027-01-15 17:00",
                      "--tz", "America/Denver", "--approved-by", "CAB"])
    assert refused.exit_code == 1 and "ends (2027-01-15 17:00) before it starts" in refused.output


def test_the_base_request_is_good() -> None:
    """Mutations start from a request the check accepts, so they explore near-valid input."""
    report = check_request_data(copy.deepcopy(BASE), today=TODAY)
    assert report.ok, [p.message for p in report.problems]
    assert report.request is not None and report.request.go_live is not None
    assert report.request.temporary_numbers == ["+13125550190"]
