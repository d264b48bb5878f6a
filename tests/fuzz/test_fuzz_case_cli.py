"""``starter.py case ...`` arguments: any of them ends in exit 0, 1 or 2 with a message, never a
traceback, and a long argument is never echoed whole. The server is a stand-in that stops each
command at its first call, after the case's input or command was built and serialized as the
real client would send it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import fuzz
from tests.fuzz.cli_standin import StandinClient, cli_invoker


@pytest.fixture(scope="module")
def invoke(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Any]]:
    client = StandinClient(id_prefix="case-", query_prefix="WorkflowType = 'SupportCaseWorkflow'")
    yield from cli_invoker(tmp_path_factory, ("portflow.cli.cases",), client)


ids = st.one_of(st.sampled_from(["case-2026-0001", "2026-0001", "CASE-x", "case-", "case-PR-2026-0042-1-activation-failed",
                                 "", "-", "case-../../etc"]), st.text(max_size=40))
words = st.one_of(st.text(max_size=40), st.text(min_size=400, max_size=3000),
                  st.sampled_from(["ok", "calls drop after 2 rings", "my PIN is 1234", "account number 55-01",
                                   "李小龍", "\x1b[31mred", "--help", "-", "x" * 600]))
priorities = st.one_of(st.sampled_from(["P1", "p2", "3", "P4", "P5", "", "high"]), st.text(max_size=10))
instants = st.one_of(st.sampled_from(["2027-03-19T23:00-06:00", "2027-03-19T23:00", "2027-02-30T10:00Z", "tomorrow",
                                      "2027-03-20T05:00:00+00:00", ""]), st.text(max_size=30))
emails = st.one_of(st.sampled_from(["lee@acme.example", "lee@", "@acme", "a b@c.d", ""]), st.text(max_size=40))
moves = st.sampled_from(["respond", "update", "wait", "resolve", "reopen", "close"])

commands = st.one_of(
    st.tuples(st.just("open"), st.just("--priority"), priorities, st.just("--summary"), words,
              st.just("--customer"), words, st.just("--contact"), emails),
    st.tuples(st.just("open"), st.just("--priority"), priorities, st.just("--summary"), words,
              st.just("--request"), st.one_of(st.just("PR-2026-0042"), words),
              st.sampled_from(["--language", "--by"]), words),
    st.tuples(moves, ids, st.just("--note"), words, st.just("--by"), st.one_of(emails, words)),
    st.tuples(st.just("priority"), ids, st.just("--to"), priorities, st.just("--note"), words),
    st.tuples(st.just("plan-change"), ids, st.just("--at"), instants, st.just("--note"), words),
    st.tuples(st.just("status"), ids, st.sampled_from(["--json", "--note"])),
    st.tuples(st.just("list"), st.sampled_from(["--state", "--priority"]), st.one_of(words, priorities)),
)


@fuzz(150)
@given(commands)
def test_case_arguments(invoke: Callable[..., Any], args: tuple[str, ...]) -> None:
    args = ("case", *(a.replace("\x00", "") for a in args))  # argv cannot hold a NUL
    result = invoke(list(args))
    if result.exit_code == 1:
        assert "error:" in result.output
    if result.output.startswith("Usage:"):
        return  # click's own usage errors: exit 2
    for arg in args:
        assert len(arg) < 100 or arg[:100] not in result.output, result.output[:300]


def test_the_stand_in_server_is_reached(invoke: Callable[..., Any]) -> None:
    """The harness itself: well-formed commands get as far as the server; bad ones are refused."""
    assert invoke(["case", "respond", "case-2026-0001", "--note", "looking at it now", "--by", "a@b.example"]).exit_code == 0
    assert invoke(["case", "open", "--priority", "P3", "--summary", "phone not registering", "--customer", "Acme",
                   "--contact", "lee@acme.example"]).exit_code == 0
    assert invoke(["case", "plan-change", "2026-0001", "--at", "2027-03-19T23:00-06:00", "--note", "firmware"]).exit_code == 0
    refused = invoke(["case", "open", "--priority", "P5", "--summary", "x y z", "--customer", "A", "--contact", "a@b.cd"])
    assert refused.exit_code == 1 and "P1, P2, P3, P4" in refused.output
    secret = invoke(["case", "update", "case-2026-0001", "--note", "the PIN is 4417"])
    assert secret.exit_code == 1 and "leave secrets out" in secret.output
    naive = invoke(["case", "plan-change", "case-2026-0001", "--at", "2027-03-19T23:00", "--note", "firmware"])
    assert naive.exit_code == 1 and "has no offset" in naive.output
