"""Every change to a workflow must replay the histories recorded under tests/histories/.

The ports in flight on a server are replayed the same way by ``starter.py replay``
(docs/upgrades.md). Record new ones with ``PORTFLOW_RECORD_HISTORIES=1 make test`` (the lifecycle tests write
them: one small history per lifecycle path). Once ports run somewhere, a change that breaks
replay goes behind ``workflow.patched(id)``, then ``workflow.deprecate_patch(id)`` once no
history without the patch is running, then the branch is removed; a patch id is never a
feature switch. (0.1.0 has never been deployed: the patches of the first sessions were
retired and these histories re-recorded.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory

from portflow.runtime import build_replayer

HISTORIES = sorted((Path(__file__).resolve().parent.parent / "histories").glob("*.json"))


def test_histories_are_recorded_and_small() -> None:
    assert HISTORIES, "no recorded histories under tests/histories/"
    total = sum(p.stat().st_size for p in HISTORIES)
    assert total < 5 * 1024 * 1024, f"tests/histories/ holds {total / 1e6:.1f} MB: record short paths, not long polls"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    await build_replayer().replay_workflow(history)  # as the worker runs them (and `starter.py replay`)
