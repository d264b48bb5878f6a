"""``starter.py case ...`` arguments: any of them ends in exit 0, 1 or 2 with a message, never a
traceback, and a long argument is never echoed whole. The server is a stand-in that stops each
command at its first call, after the case's input or command was built and serialized as the
real client would send it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel
from temporalio.contrib.pydantic import pydantic_data_converter
from typer.testing import CliRunner

from portflow.cli.errors import CliError
from starter import app
from tests.fuzz import fuzz


class _Reached(Exception):
    pass


def _serialize(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    for arg in (*args, *kwargs.values()):
        if isinstance(arg, BaseModel):
            pydantic_data_converter.payload_converter.to_payloads([arg])


class _Handle:
    async def execute_update(self, *args: Any, **kwargs: Any) -> Any:
        _serialize(args, kwargs)
        raise _Reached

    async def query(self, *args: Any, **kwargs: Any) -> Any:
        raise _Reached


class _Client:
    def get_workflow_handle(self, workflow_id: str, **_: Any) -> _Handle:
        assert workflow_id.startswith("case-")
        return _Handle()

    async def start_workflow(self, *args: Any, **kwargs: Any) -> Any:
        _serialize(args, kwargs)
        raise _Reached

    def list_workflows(self, query: str, **_: Any) -> Any:
        assert query.startswith("WorkflowType = 'SupportCaseWorkflow'")

        class _Rows:
            def __aiter__(self) -> _Rows:
                return self

            async def __anext__(self) -> Any:
                raise _Reached

        return _Rows()


def _run(work: Callable[[Any], Awaitable[Any]], refusals: tuple[type[Exception], ...] = ()) -> Any:
    """``portflow.cli.common.run`` with the stand-in server."""
    from portflow.cli.common import fail

    try:
        return asyncio.run(work(_Client()))
    except _Reached:
        raise typer.Exit(0) from None
    except refusals as problem:
        fail(str(problem))
    except CliError as err:
        fail(err.message, err.code)


@pytest.fixture(scope="module")
def invoke(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Any]:
    mp = pytest.MonkeyPatch()
    mp.setattr("portflow.cli.cases.run", _run)
    mp.setenv("PORTFLOW_VAR_DIR", str(tmp_path_factory.mktemp("var")))
    runner = CliRunner()

    def call(args: list[str]) -> Any:
        result = runner.invoke(app, args, env={"COLUMNS": "200"})
        assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.output)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"{args}: {result.exception!r}") from result.exception
        assert "Traceback" not in result.output, result.output
        return result

    yield call
    mp.undo()


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
