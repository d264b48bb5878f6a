"""Every visibility query the README shows is one the server accepts and that means something.

The README's queries are what ops paste into the Temporal UI's search box; a query the
server refuses, or one that parses but can never match (``PortStatus = 'EXCEPTION'``: the
stages are lower case), would send them looking for ports that are there. The queries are
read from the README itself: each line of a fenced block without a language, and the query
column of the "Finding ports (queries)" table, whose ``starter.py list`` column is run too,
to show that ``list`` asks the server the same question.
"""

from __future__ import annotations

import asyncio
import re
import shlex
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from models.status import PortStatus
from models.workflow import WaitingOn
from starter import app
from tests.cli.conftest import Harness

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text("utf-8")
SECTION = "## Finding ports (queries)"


def fenced_queries(text: str) -> list[str]:
    """Lines of the fenced blocks that have no language (the ``sh`` blocks are commands)."""
    queries, inside, plain = [], False, False
    for line in text.splitlines():
        if line.startswith("```"):
            plain = not inside and line.strip() == "```"
            inside = not inside
            continue
        if inside and plain and line.strip():
            queries.append(line.strip())
    return queries


def table_rows(text: str) -> list[tuple[str, str]]:
    """(query, list options) of the section's table; options are '' where ``list`` has none."""
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    rows = []
    for line in text[start:end if end > 0 else None].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) == 3 and cells[1].startswith("`"):
            rows.append((cells[1].strip("`"), cells[2].strip("`")))
    return rows


ROWS = table_rows(README)
QUERIES = list(dict.fromkeys(fenced_queries(README) + [q for q, _ in ROWS]))
LIST_ROWS = [(q, opts) for q, opts in ROWS if opts]


def test_the_readme_shows_queries_for_the_ui_and_for_list() -> None:
    assert len(ROWS) >= 8, f"the '{SECTION}' table lost its rows: {ROWS}"
    assert len(LIST_ROWS) >= 5, LIST_ROWS
    for attribute in ("PortStatus", "StageSince", "Escalated", "WaitingOn", "PortDate", "LosingCarrier",
                      "NumbersUnassigned"):
        assert any(attribute in q for q in QUERIES), f"no README query on {attribute}"


def literals(query: str, attribute: str) -> list[str]:
    """The quoted values ``attribute`` is compared with (=, !=, IN (...))."""
    found = []
    for m in re.finditer(rf"\b{attribute}\s*(?:!?=|IN\s*\(|NOT IN\s*\()\s*((?:'[^']*'\s*,?\s*)+)", query):
        found += re.findall(r"'([^']*)'", m.group(1))
    return found


@pytest.mark.parametrize("query", QUERIES)
async def test_the_server_accepts_the_readme_query(dev_env: WorkflowEnvironment, query: str) -> None:
    # the server parses the query and checks every attribute's name and value type: a
    # refusal raises here with its reason ("invalid search attribute: ...")
    await dev_env.client.count_workflows(query)
    allowed = {"PortStatus": {s.value for s in PortStatus}, "WaitingOn": {w.value for w in WaitingOn},
               "WorkflowType": {"PortRequestWorkflow", "PortOrderWorkflow"}}
    for attribute, values in allowed.items():
        wrong = [v for v in literals(query, attribute) if v not in values]
        assert not wrong, f"{query}: {attribute} is never {wrong}; it is one of {sorted(values)}"


def test_literal_values_are_found_in_every_comparison() -> None:
    """The value check above sees each form of comparison the README may use."""
    assert literals("PortStatus = 'EXCEPTION' AND WaitingOn != 'pm'", "PortStatus") == ["EXCEPTION"]
    assert literals("PortStatus IN ('loa_sent', 'Submitted')", "PortStatus") == ["loa_sent", "Submitted"]
    assert literals("WorkflowType = 'PortOrder' AND X = 1", "WorkflowType") == ["PortOrder"]


@pytest.mark.parametrize(("query", "options"), LIST_ROWS)
async def test_starter_list_asks_the_readme_query(cli: Harness, query: str, options: str) -> None:
    args = ["list", *shlex.split(options)]
    # the harness's settings are in the environment already: only the terminal is wider
    result = await asyncio.to_thread(CliRunner().invoke, app, args, env={"COLUMNS": "200"})
    shown = " ".join(result.output.split())
    assert result.exit_code == 0, f"starter.py {' '.join(args)}: {shown}"
    assert " port(s) · WorkflowType = 'PortRequestWorkflow'" in shown, shown
    for condition in query.split(" AND "):
        assert condition in shown, f"starter.py {' '.join(args)} does not ask {condition!r}: {shown}"
