"""Fast-port orders: the PM activates on demand inside the carrier's window, or portflow
activates just before the window closes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from models.status import PortStatus
from models.workflow import ActivateNow, OrderView
from tests.settings_helpers import configure
from tests.workflows.helpers import attach_all, order, record_histories, sample_request, sign_all, start, wait_for
from worker import build_worker
from workflows.port_order import PortOrderWorkflow

WINDOW_HOURS = 4

PROFILE = f"""
carriers:
  "*":
    behaviour: accept
    answer_after_seconds: 30
    fast_port: true
    activation_window_seconds: {WINDOW_HOURS * 3600}
"""


@pytest.fixture
def fast_port(port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    return configure(monkeypatch, port_var, task_queue, profile=PROFILE, CARRIER_POLL_SECONDS=3600)


async def _to_foc(env: WorkflowEnvironment, tmp_path: Path):
    req = sample_request(accounts=1)
    handle = await start(env.client, req)
    await wait_for(handle, lambda v: bool(v.missing_documents), what="documents stage")
    await attach_all(env.client, req, tmp_path)
    await wait_for(handle, lambda v: len(v.orders) == 1 and order(v, 0).status == PortStatus.LOA_SENT, what="LOA sent")
    await handle.execute_update("assign", {"actor": "pm@provider.example",
                                           "assignments": {tn: "user@contoso.example" for tn in req.all_numbers}})
    await sign_all(env.client, req, now=await env.get_current_time())
    order_handle = env.client.get_workflow_handle(req.order_id(0))
    # the simulator answers 30 s after submission: let the test server skip to the first poll
    for _ in range(40):
        o = await order_handle.query(PortOrderWorkflow.status)
        if o.status == PortStatus.FOC_CONFIRMED:
            break
        await env.sleep(timedelta(minutes=30))
    assert o.status == PortStatus.FOC_CONFIRMED, o.status
    return req, handle, order_handle, o


async def test_pm_activates_inside_the_window(env: WorkflowEnvironment, fast_port: Path, tmp_path: Path) -> None:
    async with build_worker(env.client):
        req, handle, order_handle, o = await _to_foc(env, tmp_path)
        assert o.foc_at is not None
        assert "activate" in o.next.what and o.next.waiting_on == "pm"

        # before the window opens the update is refused, saying why, and nothing changes
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await order_handle.execute_update(PortOrderWorkflow.activate_now,
                                              ActivateNow(actor="pm@provider.example", order_id=req.order_id(0)))
        assert "wait for it to open" in str(refused.value.cause)
        assert (await order_handle.query(PortOrderWorkflow.status)).status == PortStatus.FOC_CONFIRMED

        now = await env.get_current_time()
        await env.sleep(o.foc_at - now + timedelta(minutes=30))
        view: OrderView = await order_handle.execute_update(
            PortOrderWorkflow.activate_now,
            ActivateNow(actor="pm@provider.example", order_id=req.order_id(0), reason="customer ready early"))
        assert view.status in (PortStatus.PORTED, PortStatus.VERIFIED, PortStatus.COMPLETED)
        result = await handle.result()
        final = await order_handle.query(PortOrderWorkflow.status)
        await record_histories(env.client, "activation_on_demand", [req.id, req.order_id(0)])

    assert result.status == PortStatus.COMPLETED
    moved = next(c for c in final.timeline if c.to_status == PortStatus.ACTIVATION)
    assert moved.actor == "pm@provider.example" and "customer ready early" in moved.reason
    # activated half an hour into the window, not at its end
    assert moved.at < o.foc_at + timedelta(hours=1)


async def test_portflow_activates_before_the_window_closes(env: WorkflowEnvironment, fast_port: Path, tmp_path: Path) -> None:
    async with build_worker(env.client):
        req, handle, order_handle, o = await _to_foc(env, tmp_path)
        result = await handle.result()
        final = await order_handle.query(PortOrderWorkflow.status)

    assert result.status == PortStatus.COMPLETED
    moved = next(c for c in final.timeline if c.to_status == PortStatus.ACTIVATION)
    assert moved.actor == "system" and "activation window ends" in moved.reason
    assert o.foc_at is not None
    closes = o.foc_at + timedelta(hours=WINDOW_HOURS)
    assert closes - timedelta(minutes=15) <= moved.at < closes
    assert any("activation window open" in c.reason for c in final.timeline)
