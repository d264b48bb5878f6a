"""Continue-as-new (workflows/port_order/carry.py): an order with a tiny history limit starts
new runs over and over, and ends exactly as the same port without: the same result, the same
timeline in the workflow and in the store, the same mails, each sent once.

On the dev server with instant providers: the time-skipping test server (1.40.0) never
completes a retried activity of a run that continued as new (its second poll attempt stays
"started" with no worker holding it), so this path cannot be tested there."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from models.status import PortStatus
from store import requests
from store.db import session_scope
from tests.local_servers import current_worker, dev_env  # noqa: F401 - the session's dev server fixture
from tests.settings_helpers import use_settings
from tests.workflows.helpers import attach_all, sample_request, start, wait_for
from workflows.port_order import PortOrderWorkflow


# the simulated carrier answers at once with an FOC a second after the submission
INSTANT = """carriers:
  "*":
    behaviour: accept
    answer_after_seconds: 0
    foc_in_seconds: 1
"""


@pytest.fixture
def settings_env(port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    profile = port_var.parent / "instant.yaml"
    profile.write_text(INSTANT)
    use_settings(monkeypatch, TEMPORAL_TASK_QUEUE=task_queue, VERIFICATION="auto", ESIGN_PROVIDER="local",
                 AUTO_SIGN="true", CARRIER_PROVIDER="simulator", SIMULATOR_PROFILE=profile,
                 NOTIFY_CHANNELS='["outbox"]')
    return port_var


async def _runs(client: Client, workflow_id: str) -> int:
    """How many runs the workflow had: follow the chain of continued runs back to the first."""
    runs, run_id = 0, None
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        runs += 1
        run_id = history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id
        if not run_id:
            return runs


async def _port(env: WorkflowEnvironment, var: Path, tmp: Path) -> dict[str, Any]:
    """One one-account port, start to finish (the LOA signs itself, the carrier answers at once)."""
    req = sample_request(accounts=1)
    oid = req.order_id(0)
    handle = await start(env.client, req)
    await wait_for(handle, lambda v: v.status == PortStatus.DOCUMENTS, what="documents stage")
    await attach_all(env.client, req, tmp)
    await handle.execute_update("assign", {"actor": "pm@provider.example",
                                           "assignments": {tn: "user@contoso.example" for tn in req.all_numbers}})
    result = await asyncio.wait_for(handle.result(), 60)
    order = await env.client.get_workflow_handle(oid).query(PortOrderWorkflow.status)
    with session_scope() as s:
        stored = [(e.from_status, e.to_status) for e in requests.timeline(session=s, subject_prefix=oid)]
    mails = Counter()
    for path in (var / "outbox").glob("*.eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if req.id in str(msg["Subject"]) or req.id in path.read_text(errors="ignore"):
            mails[(str(msg["Subject"]).replace(req.id, "ID"), str(msg["To"]))] += 1
    return {
        "result": (result.status, result.number_states),
        "timeline": [(c.from_status, c.to_status, c.actor) for c in order.timeline],
        "stored": stored,
        "mails": mails,
        "runs": await _runs(env.client, oid),
    }


async def test_an_order_that_continues_as_new_ends_as_one_that_does_not(
    dev_env: WorkflowEnvironment, settings_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, task_queue: str
) -> None:
    env = dev_env
    async with current_worker(env.client, task_queue):
        use_settings(monkeypatch, HISTORY_EVENTS_LIMIT=0)
        plain = await _port(env, settings_env, tmp_path)
        use_settings(monkeypatch, HISTORY_EVENTS_LIMIT=40)
        continued = await _port(env, settings_env, tmp_path)

    assert plain["runs"] == 1
    assert continued["runs"] >= 3, continued["runs"]
    assert continued["result"] == plain["result"]
    assert continued["result"][0] == PortStatus.COMPLETED
    assert continued["timeline"] == plain["timeline"]
    assert continued["stored"] == plain["stored"]
    moves = [(f, t) for f, t, _ in plain["timeline"] if f != t]
    assert [(str(f) if f else None, str(t)) for f, t in plain["stored"]][-len(moves):] == \
        [(str(f) if f else None, str(t)) for f, t in moves]
    assert continued["mails"] == plain["mails"]
    assert set(continued["mails"].values()) == {1}, continued["mails"]
