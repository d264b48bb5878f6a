"""The project commands' arguments (ids, task names, notes, --by, --phase): any argument ends in
exit 0, 1 or 2 with a message, never a traceback. The server is the port commands' stand-in
(``tests/fuzz/test_fuzz_cli.py``), which stops each command at its first call."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import fuzz
from tests.fuzz.cli_standin import REACHED, cli_invoker
from tests.fuzz.test_fuzz_cli import words


@pytest.fixture(scope="module")
def invoke(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Any]]:
    yield from cli_invoker(tmp_path_factory, ("portflow.cli.projects",))


project_ids = st.one_of(st.sampled_from(["ACME-2027", "project-ACME-2027", "acme.2027_b", "", "-x", "A" * 41]),
                        st.text(max_size=50))
request_ids = st.one_of(st.sampled_from(["PR-2026-0042", "PR-2026-0042-1", "pr-2026-0042", ""]), st.text(max_size=30))
tasks = st.one_of(st.sampled_from(["kick_off_call", "numbers_ported", "KICK", ""]), st.text(max_size=60))

commands = st.one_of(
    st.tuples(st.just("done"), project_ids, tasks, st.just("--note"), words, st.just("--by"), words),
    st.tuples(st.just("status"), project_ids, st.sampled_from(["--json", "--no-json"])),
    st.tuples(st.just("attach"), project_ids, request_ids, st.just("--by"), words),
    st.tuples(st.just("list"), st.just("--phase"), words),
    st.tuples(st.just("list"), st.just("--limit"), st.one_of(st.integers().map(str), words)),
)


@fuzz(250)
@given(commands)
def test_project_command_arguments(invoke: Callable[..., Any], args: tuple[str, ...]) -> None:
    args = ("project", *(a.replace("\x00", "") for a in args))
    result = invoke(list(args))
    if result.exit_code == 1:
        assert "error:" in result.output
    if args[1] == "done" and result.exit_code == REACHED:  # what reaches the server is what the update accepts
        from core.settings import get_settings
        from models.project import CompleteTask

        CompleteTask(task=args[3].strip(), by=args[7].strip() or get_settings().pm_email, note=args[5].strip())
