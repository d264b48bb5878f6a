"""Every change to a workflow must replay the histories recorded under tests/histories/.

Record new ones with ``PORTFLOW_RECORD_HISTORIES=1 make test`` (the lifecycle tests write
them); a change that breaks replay needs ``workflow.patched``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from worker import WORKFLOWS, workflow_runner

HISTORIES = sorted((Path(__file__).resolve().parent.parent / "histories").glob("*.json"))


def test_histories_are_recorded() -> None:
    assert HISTORIES, "no recorded histories under tests/histories/"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter, workflow_runner=workflow_runner())
    await replayer.replay_workflow(history)
