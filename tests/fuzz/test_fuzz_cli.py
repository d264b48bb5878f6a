"""The CLI's update arguments and the assignment CSV: any argument ends in exit 0, 1 or 2 with
a message, never a traceback. The server is a stand-in that stops each command at its first
call (after the update's argument is built and serialized as the real client would)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portflow.cli.errors import CliError
from portflow.cli.files import read_assignments
from tests.fuzz import fuzz
from tests.fuzz.cli_standin import REACHED, cli_invoker

@pytest.fixture(scope="module")
def invoke(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Any]]:
    yield from cli_invoker(tmp_path_factory, ("portflow.cli.ports", "portflow.cli.watching", "portflow.cli.schedules"))


ids = st.one_of(
    st.sampled_from(["PR-2026-0042", "PR-2026-0042-1", "pr-2026-0042-2", "PR-2026-0042-99", "PR-1-1", ""]),
    st.text(max_size=30),
)
words = st.one_of(st.text(max_size=40), st.text(min_size=200, max_size=5000),
                  st.sampled_from(["ok", "the customer moves early", "1-800-FLOWERS", "2026-12-21T09:00-05:00",
                                   "2026-12-21T09:00", "2027-02-30", "BTN_ATN_MISMATCH", "x" * 300, "李小龍",
                                   "\x1b[31mred", "--help", "-"]))
numbers = st.one_of(st.sampled_from(["3125550100", "(312) 555-0101", "+44 20 7946 0958", "1-800-FLOWERS",
                                     "555-0100", ""]), st.text(max_size=70))
dates = st.one_of(st.sampled_from(["2027-03-16", "2027-02-30", "21/12/2026", ""]), st.text(max_size=20))

commands = st.one_of(
    st.tuples(st.just("approve"), ids, st.sampled_from(["--note"]), words),
    st.tuples(st.just("activate"), ids, st.just("--reason"), words),
    st.tuples(st.just("verify"), ids, st.sampled_from(["--ok", "--failed"]), st.just("--notes"), words),
    st.tuples(st.just("cancel"), ids, st.just("--reason"), words),
    st.tuples(st.just("expedite"), ids, st.just("--reason"), words, st.just("--port-date"), dates),
    st.tuples(st.just("carrier-event"), ids, st.sampled_from(["--foc", "--reject", "--carrier-order-id", "--text",
                                                              "--note"]), words,
              st.sampled_from(["--completed", "--cancelled", "--activation-failed", "--note"]), words),
    st.tuples(st.just("amend"), ids, st.just("--reason"), words,
              st.sampled_from(["--btn", "--new-btn", "--remove", "--port-date", "--entity-name", "--port-type",
                               "--remaining", "--street", "--city", "--signer-name"]), st.one_of(words, numbers)),
    st.tuples(st.just("amend"), ids, st.just("--reason"), words, st.just("--signer-name"), words,
              st.just("--signer-title"), words, st.just("--signer-email"), words),
    st.tuples(st.just("amend"), ids, st.just("--reason"), words, st.just("--street"), words, st.just("--city"),
              words, st.just("--state"), words, st.just("--postal-code"), words, st.just("--line2"), words),
    st.tuples(st.just("assign"), ids, st.just("--tn"), numbers, st.just("--to"), words),
    st.tuples(st.just("sign"), ids, st.sampled_from(["--name", "--decline"]), words),
    st.tuples(st.just("status"), ids),
    st.tuples(st.just("list"), st.sampled_from(["--status", "--carrier", "--customer", "--waiting-on",
                                                "--port-date-before", "--port-date-after"]), words),
)


@fuzz(250)
@given(commands)
def test_update_arguments(invoke: Callable[..., Any], args: tuple[str, ...]) -> None:
    args = tuple(a.replace("\x00", "") for a in args)  # argv cannot hold a NUL
    result = invoke(list(args))
    if result.exit_code == 1:
        assert "error:" in result.output
    if result.output.startswith("Usage:"):
        return  # click's own usage errors (an extra argument): exit 2, quoted as given
    for arg in args:  # a long argument is never echoed whole
        assert len(arg) < 100 or arg[:100] not in result.output, result.output[:300]


@fuzz(150)
@given(st.binary(max_size=400))
def test_any_bytes_as_an_assignment_csv(tmp_path_factory: pytest.TempPathFactory, content: bytes) -> None:
    _assignments(tmp_path_factory.mktemp("a") / "who.csv", content)


assignment_rows = st.lists(
    st.tuples(numbers, st.one_of(words, st.just("dana@acme.example")),
              st.sampled_from(["user", "resource_account", "resource account", "robot", ""])),
    max_size=15,
)


@fuzz(200)
@given(st.sampled_from([",", ";", "\t", "|", ""]), st.sampled_from(["tn,to", "tn,to,kind", "number;who",
                                                                     "phone\tassignee\tkind", "x", "", "tn"]),
       assignment_rows)
def test_assignment_csvs(tmp_path_factory: pytest.TempPathFactory, sep: str, header: str,
                         rows: list[tuple[str, str, str]]) -> None:
    body = "\n".join([header.replace(",", sep or ","), *(sep.join(r) for r in rows)])
    _assignments(tmp_path_factory.mktemp("b") / "who.csv", body.encode("utf-8", "surrogatepass"))


def _assignments(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    try:
        groups = read_assignments(path)
    except CliError as err:
        assert err.message and len(err.message) < 5000, err.message[:300]
        return
    assert groups and all(kind in ("user", "resource_account") for kind in groups)


def test_assign_with_a_hostile_file_exits_1_or_2(invoke: Callable[..., Any], tmp_path: Path) -> None:
    for name, content in {
        "utf16.csv": "tn,to\n3125550100,dana@acme.example\n".encode("utf-16"),
        "huge.csv": b"tn,to\n" + b"3125550100,x\n" * 400_000,
        "nul.csv": b"tn,to\n31255\x0050100,x\n",
        "quote.csv": b'tn,to\n"3125550100,x\n',
    }.items():
        path = tmp_path / name
        path.write_bytes(content)
        result = invoke(["assign", "PR-2026-0042", "--file", str(path)])
        assert result.exit_code in (1, 2) and "error:" in result.output, (name, result.output)




def test_the_stand_in_server_is_reached(invoke: Callable[..., Any]) -> None:
    """The harness itself: a well-formed command gets as far as the server (exit 0 here)."""
    assert invoke(["approve", "PR-2026-0042-1"]).exit_code == REACHED
    assert invoke(["cancel", "PR-2026-0042", "--reason", "the customer stays"]).exit_code == REACHED
    assert invoke(["list", "--status", "exception"]).exit_code == REACHED
    assert invoke(["approve", "PR-2026-0042"]).exit_code == 1  # a request, not an order
