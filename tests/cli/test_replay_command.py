"""Replay before deploy: ``starter.py replay`` fetches the histories of the ports in flight
from the server and replays them on this tree's code (``portflow.replay``).

A port runs on the dev server until both its orders wait for the LOA signature; then the
request's documents stage is changed, as the next engineer might: a new activity before
the one that records the request. The replay names the request (its orders do not run
that code) and why; the same change behind ``workflow.patched`` replays.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from temporalio import workflow

from portflow.replay import replay_in_flight
from tests.cli.conftest import ROOT, Harness, business_days_ahead
from tests.cli.test_ports_cli import page_when, start, statuses
from tests.polling import eventually
from workflows.port_request import documents

# A new activity before intake's first one: the code a PM's "credit check" feature might add.
CREDIT_CHECK = """
from datetime import timedelta
from temporalio import workflow
from workflows.port_request import documents

_intake = documents.intake

async def intake_with_credit_check(r):
    if {guard}:
        await workflow.execute_activity("check_credit", r.inp.request.id, start_to_close_timeout=timedelta(seconds=30))
    return await _intake(r)

documents.intake = intake_with_credit_check
"""


def starter_replay(cli: Harness, query: str, *, change: str = "") -> subprocess.CompletedProcess[str]:
    """``starter.py replay --query`` in a fresh interpreter, after ``change`` is applied to the code."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTFLOW_")}
    env.update({f"PORTFLOW_{k}": str(v) for k, v in cli.settings.items()}, COLUMNS="300")
    code = textwrap.dedent(change) + "\nimport sys, starter\nsys.argv = ['starter.py', *sys.argv[1:]]\nstarter.app()\n"
    return subprocess.run([sys.executable, "-c", code, "replay", "--query", query], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
async def in_flight(cli: Harness) -> tuple[str, str]:
    """A request and its two orders waiting on the signer; its visibility query."""
    async with cli.worker():
        rid = await start(cli, port_date=business_days_ahead(30))
        await page_when(cli, rid, lambda p: statuses(p) == ["loa_sent", "loa_sent"], "both LOAs out")
    query = f"CustomerName = '{cli.customer}' AND ExecutionStatus = 'Running'"
    await eventually(lambda: cli.client.count_workflows(query), lambda c: c.count == 3, what="3 ports visible")
    return rid, query


async def test_replay_names_the_port_a_change_would_break_and_passes_behind_a_patch(
        cli: Harness, in_flight: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    rid, query = in_flight
    report = await replay_in_flight(cli.client, query)
    assert sorted(r.workflow_id for r in report.results) == [rid, f"{rid}-1", f"{rid}-2"]
    assert not report.broken, report.broken

    original = documents.intake

    async def with_credit_check(r):  # noqa: ANN001, ANN202
        await workflow.execute_activity("check_credit", r.inp.request.id, start_to_close_timeout=timedelta(seconds=30))
        return await original(r)

    monkeypatch.setattr(documents, "intake", with_credit_check)
    report = await replay_in_flight(cli.client, query)
    assert [(r.workflow_id, r.workflow_type) for r in report.broken] == [(rid, "PortRequestWorkflow")]
    error = report.broken[0].error
    assert "Nondeterminism" in error and "check_credit" in error and "record_request" in error, error

    async def behind_a_patch(r):  # noqa: ANN001, ANN202
        if workflow.patched("credit-check"):
            await workflow.execute_activity("check_credit", r.inp.request.id,
                                            start_to_close_timeout=timedelta(seconds=30))
        return await original(r)

    monkeypatch.setattr(documents, "intake", behind_a_patch)
    report = await replay_in_flight(cli.client, query)
    assert len(report.results) == 3 and not report.broken, report.broken


async def test_the_replay_command_exits_1_and_names_the_port(cli: Harness, in_flight: tuple[str, str]) -> None:
    rid, query = in_flight
    unchanged = starter_replay(cli, query)
    assert unchanged.returncode == 0, unchanged.stdout + unchanged.stderr
    assert "all 3 workflows replay on this code" in unchanged.stdout

    broken = starter_replay(cli, query, change=CREDIT_CHECK.format(guard="True"))
    assert broken.returncode == 1, broken.stdout + broken.stderr
    breaks = [line for line in broken.stdout.splitlines() if line.startswith("BREAKS ")]
    assert len(breaks) == 1 and breaks[0].startswith(f"BREAKS {rid} (PortRequestWorkflow, run "), broken.stdout
    assert ("Nondeterminism error: Activity type of scheduled event 'record_request' does not match activity type "
            "of activity command 'check_credit'") in breaks[0], broken.stdout
    assert "Failure {" not in broken.stdout and "WARN" not in broken.stdout + broken.stderr, broken.stdout
    assert "1 of 3 workflows would break" in broken.stderr and "workflow.patched" in broken.stderr

    patched = starter_replay(cli, query, change=CREDIT_CHECK.format(guard='workflow.patched("credit-check")'))
    assert patched.returncode == 0, patched.stdout + patched.stderr


async def test_replay_refuses_a_query_the_server_cannot_parse(cli: Harness) -> None:
    bad = starter_replay(cli, "PortStatus = = 'exception'")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "error:" in bad.stderr and "Traceback" not in bad.stderr
