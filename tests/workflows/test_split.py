"""The carrier requires a split: the numbers it names go on in a new order of the request,
with their own LOA and submission, while the first order goes on without them (SUP3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from models.status import PortStatus
from providers.esign.local import LocalESign
from store import inventory
from store.db import session_scope
from tests.settings_helpers import configure
from tests.workflows.helpers import attach_all, record_histories, sample_request, sign_all, start, wait_for
from worker import build_worker
from workflows.port_order import PortOrderWorkflow
from workflows.port_request import PortRequestWorkflow

PROFILE = """
carriers:
  "*":
    behaviour: split
    answer_after_seconds: 30
"""


@pytest.fixture
def splitting(port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    return configure(monkeypatch, port_var, task_queue, profile=PROFILE, CARRIER_POLL_SECONDS=3600)


async def test_split_required_moves_numbers_to_a_new_order(env: WorkflowEnvironment, splitting: Path, tmp_path: Path) -> None:
    req = sample_request(accounts=1)  # Lumen: three numbers
    first, second = req.order_id(0), f"{req.id}-2"
    async with build_worker(env.client):
        handle = await start(env.client, req)
        await wait_for(handle, lambda v: bool(v.missing_documents), what="documents stage")
        await attach_all(env.client, req, tmp_path)
        await wait_for(handle, lambda v: len(v.orders) == 1 and v.orders[0].status == PortStatus.LOA_SENT, what="LOA sent")
        await handle.execute_update("assign", {"actor": "pm@provider.example",
                                               "assignments": {tn: "user@contoso.example" for tn in req.all_numbers}})
        await sign_all(env.client, req, now=await env.get_current_time())
        # the split order's own LOA goes out once the carrier answered: skip to it, then sign it
        view = None
        for _ in range(20):
            await env.sleep(1800)
            view = await handle.query(PortRequestWorkflow.status)
            split = [o for o in view.orders if o.order_id == second]
            if split and split[0].status == PortStatus.LOA_SENT:
                break
        assert view is not None and any(o.order_id == second for o in view.orders), view
        order_two = env.client.get_workflow_handle(second)
        now = await env.get_current_time()
        ev = await LocalESign(clock=lambda: now).sign(second, req.signer.name)
        await order_two.execute_update(PortOrderWorkflow.esign_event, ev)
        result = await handle.result()
        one = await env.client.get_workflow_handle(first).query(PortOrderWorkflow.status)
        two = await order_two.query(PortOrderWorkflow.status)
        final = await handle.query(PortRequestWorkflow.status)
        await record_histories(env.client, "carrier_split", [req.id, first, second])

    assert result.status == PortStatus.COMPLETED
    moved = {n.tn for n in one.numbers if n.state == "split"}
    assert moved and moved == {n.tn for n in two.numbers}
    assert {n.state for n in two.numbers} == {"active"}
    assert {n.state for n in one.numbers if n.tn not in moved} == {"active"}
    assert any("SUP3" in c.reason and "split" in c.reason for c in one.timeline)
    assert any(second in c.reason and "split" in c.reason for c in final.timeline)
    with session_scope() as s:
        rows = {r.tn: r for r in inventory.numbers_of(session=s, request_id=req.id)}
    assert {tn for tn, r in rows.items() if r.order_id == second} == moved
    assert {str(r.state) for r in rows.values()} == {"active"}
