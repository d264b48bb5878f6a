"""The stand-in server the CLI fuzzers run commands against, and the runner that checks their
ends: a command stops at its first call to the server, after the update's or start's argument
was built and serialized as the real client would send it (exit 0), or refuses before (exit 1
or 2 with a message). Never a traceback."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import typer
from pydantic import BaseModel
from temporalio.contrib.pydantic import pydantic_data_converter
from typer.testing import CliRunner

from portflow.cli.errors import CliError

REACHED = 0  # exit code of a command that got as far as the server


class Reached(Exception):
    pass


def serialize(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """What the real client does with an update's or a start's argument."""
    for arg in (*args, *kwargs.values()):
        if isinstance(arg, BaseModel):
            pydantic_data_converter.payload_converter.to_payloads([arg])


async def _reach(*args: Any, **kwargs: Any) -> Any:
    serialize(args, kwargs)
    raise Reached


class _Handle:
    def __init__(self, workflow_id: str) -> None:
        self.id = workflow_id

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        return _reach


class _Service:
    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        return _reach


class _Rows:
    def __aiter__(self) -> _Rows:
        return self

    async def __anext__(self) -> Any:
        raise Reached


class StandinClient:
    """A Temporal client whose every call ends the command. ``id_prefix`` and ``query_prefix``,
    when given, are what the command group's workflow ids and list queries must start with."""

    namespace = "default"

    def __init__(self, id_prefix: str = "", query_prefix: str = "") -> None:
        self.id_prefix, self.query_prefix = id_prefix, query_prefix
        self.workflow_service = _Service()  # raw calls such as describe_workflow_execution

    def get_workflow_handle(self, workflow_id: str, **_: Any) -> _Handle:
        assert workflow_id.startswith(self.id_prefix), workflow_id
        return _Handle(workflow_id)

    def list_workflows(self, query: str, **_: Any) -> Any:
        assert isinstance(query, str) and query.startswith(self.query_prefix), query
        return _Rows()

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        return _reach


def standin_run(client: StandinClient | None = None) -> Callable[..., Any]:
    """``portflow.cli.common.run`` with the stand-in server: refusals and CliErrors end the
    command as the real one does; reaching the server ends it with exit 0."""

    def run(work: Callable[[Any], Awaitable[Any]], refusals: tuple[type[Exception], ...] = ()) -> Any:
        from portflow.cli.common import fail

        try:
            return asyncio.run(work(client or StandinClient()))
        except Reached:
            raise typer.Exit(REACHED) from None
        except refusals as problem:
            fail(str(problem))
        except CliError as err:
            fail(err.message, err.code)

    return run


def cli_invoker(tmp_path_factory: pytest.TempPathFactory, modules: tuple[str, ...],
                client: StandinClient | None = None) -> Iterator[Callable[[list[str]], Any]]:
    """A module fixture's body: ``starter.py`` with ``run`` of each command module in
    ``modules`` on the stand-in; each call asserts an exit of 0, 1 or 2 and no traceback."""
    from starter import app

    mp = pytest.MonkeyPatch()
    for module in modules:
        mp.setattr(f"{module}.run", standin_run(client))
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
