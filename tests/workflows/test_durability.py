"""A port survives its worker, and runs once: a new worker finishes what a stopped one
left; the same request started twice, or a number already in another port, is refused."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import Client
from portflow.temporal import connect
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models.status import PortStatus
from models.workflow import Cancel, PortRequestInput
from portflow.ports import PortRefused, options_from_settings
from providers.esign.local import LocalESign
from store import vault
from tests.dates import port_date_in
from tests.mail_helpers import outbox
from tests.polling import eventually
from tests.settings_helpers import configure
from tests.workflows.helpers import attach_all, sample_request, start, wait_for
from tests.workflows.paths_helpers import (
    ACCEPT_AT_ONCE,
    PM,
    activity_identities,
    inventory_rows,
    same_numbers,
    server_now,
    terminate_running,
    workflow_task_identities,
)
from activities import all_activities
from activities.audit import INTERCEPTORS
from worker import WORKFLOWS, build_worker, workflow_runner
from workflows.port_order import PortOrderWorkflow
from workflows.port_request import PortRequestWorkflow

S = PortStatus


async def _client_as(env: WorkflowEnvironment, identity: str) -> Client:
    """A client to the same test server whose workers show up in history as ``identity``."""
    return await connect(address=env.client.service_client.config.target_host, namespace=env.client.namespace,
                         identity=identity)


def _worker_without_cache(client: Client, task_queue: str) -> Worker:
    """The production worker's workflows, activities and sandbox, without a workflow cache.

    A worker with a cache gets its workflows' next tasks on its own sticky queue. A real
    server moves them to the shared queue when nobody polls it for a few seconds; the
    time-skipping test server never does, so a stopped caching worker would hold them.
    """
    return Worker(client, task_queue=task_queue, workflows=WORKFLOWS, activities=all_activities(),
                  activity_executor=ThreadPoolExecutor(max_workers=4), workflow_runner=workflow_runner(),
                  max_cached_workflows=0, interceptors=INTERCEPTORS, graceful_shutdown_timeout=timedelta(seconds=10))


async def test_a_new_worker_finishes_the_port_a_stopped_worker_left_waiting(
    env: WorkflowEnvironment, port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    configure(monkeypatch, port_var, task_queue, profile=ACCEPT_AT_ONCE)
    req = sample_request(port_date=await port_date_in(env, 30))
    ids = [req.id, req.order_id(0), req.order_id(1)]
    first = _worker_without_cache(await _client_as(env, "worker-1"), task_queue)
    try:
        async with first:
            handle = await start(env.client, req)
            await wait_for(handle, lambda v: bool(v.missing_documents), what="documents stage")
            await attach_all(env.client, req, tmp_path)
            await wait_for(handle, lambda v: len(v.orders) == 2 and all(o.status == S.LOA_SENT for o in v.orders),
                           what="both LOAs sent")
            await handle.execute_update(PortRequestWorkflow.assign, {
                "actor": PM, "assignments": {tn: "desk@contoso.example" for tn in req.all_numbers}})
        # the worker is gone while the port waits for signatures
        assert first.is_shutdown

        # meanwhile the signer signs (the local flow needs no worker)
        events = [await LocalESign().sign(oid, req.signer.name, at=await server_now(env)) for oid in ids[1:]]

        async with build_worker(await _client_as(env, "worker-2")):
            for ev in events:  # delivered as `starter.py sign` does, now that a worker listens again
                await env.client.get_workflow_handle(ev.order_id).execute_update(PortOrderWorkflow.esign_event, ev)
            result = await handle.result()
            final = await handle.query(PortRequestWorkflow.status)
    finally:
        await terminate_running(env.client, ids)

    assert result.status == S.COMPLETED
    assert [o.status for o in final.orders] == [S.COMPLETED, S.COMPLETED]
    for o in final.orders:
        walked = [c.to_status for c in o.timeline]
        assert walked.count(S.LOA_SENT) == 1 and walked[-1] == S.COMPLETED, walked
    rows = inventory_rows(req.id)
    assert sorted(r.tn for r in rows) == sorted(req.all_numbers)
    assert {str(r.state) for r in rows} == {"active"} and all(r.assigned_to == "desk@contoso.example" for r in rows)

    # the first worker ran the start, the second everything after the restart
    for wid in ids:
        who = await workflow_task_identities(env.client, wid)
        assert who[0] == "worker-1" and who[-1] == "worker-2", (wid, who)
        switched = who.index("worker-2")
        assert set(who[:switched]) == {"worker-1"} and set(who[switched:]) == {"worker-2"}, (wid, who)
    for oid in ids[1:]:
        ran = await activity_identities(env.client, oid)
        assert ran["send_loa"] == ["worker-1"] and ran["carrier_submit"] == ["worker-2"], ran

    # replaying on the new worker sent nothing twice
    assert len(outbox(port_var, "loa_sent")) == 2
    assert len(outbox(port_var, "request_received")) == 1
    assert len(outbox(port_var, "port_complete")) == 1


async def test_the_same_request_or_its_numbers_cannot_start_a_second_port(
    env: WorkflowEnvironment, port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, port_var, task_queue)
    req = sample_request(port_date=await port_date_in(env, 30), accounts=1)
    rival = same_numbers(req)
    async with build_worker(env.client):
        handle = await start(env.client, req)
        try:
            await wait_for(handle, lambda v: v.status == S.DOCUMENTS, what="documents stage")

            # the same request again: refused, pointing at the running one
            with pytest.raises(PortRefused) as err:
                await start(env.client, req)
            assert str(err.value) == f"{req.id} was already started: see `python starter.py status {req.id}`"
            view = await handle.query(PortRequestWorkflow.status)
            assert [c.to_status for c in view.timeline].count(S.INTAKE) == 1
            assert len(outbox(port_var, "request_received")) == 1

            # the same numbers under another id: refused before any workflow starts, naming the other request
            with pytest.raises(PortRefused) as err:
                await start(env.client, rival)
            msg = str(err.value)
            assert msg.startswith("numbers already taken: ")
            for tn in req.all_numbers:
                assert f"{tn} is in {req.id} (porting)" in msg
            assert "Cancel that port first, or remove the numbers from this request." in msg
            with pytest.raises(RPCError) as missing:
                await env.client.get_workflow_handle(rival.id).fetch_history()
            assert missing.value.status == RPCStatusCode.NOT_FOUND

            # a finished request keeps its id: starting it again is still refused
            await handle.execute_update(PortRequestWorkflow.cancel, Cancel(actor=PM, reason="duplicate test"))
            assert (await handle.result()).status == S.CANCELLED
            with pytest.raises(PortRefused, match="was already started"):
                await start(env.client, req)
        finally:
            await terminate_running(env.client, [req.id, rival.id])


async def test_two_starters_racing_for_the_same_numbers_one_fails_at_intake_and_the_pm_is_told(
    env: WorkflowEnvironment, port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, port_var, task_queue)
    req = sample_request(port_date=await port_date_in(env, 30), accounts=1)
    racer = same_numbers(req)
    async with build_worker(env.client):
        handle = await start(env.client, req)
        try:
            await wait_for(handle, lambda v: v.status == S.DOCUMENTS, what="documents stage")
            # the second starter checked the inventory before the first one claimed: it starts its workflow anyway
            racing = await env.client.start_workflow(
                PortRequestWorkflow.run, PortRequestInput(request=vault.seal(racer), options=options_from_settings(),
                                                          started_by=PM),
                id=racer.id, task_queue=task_queue)
            # the database lets one claim win; the loser fails at intake and the PM hears why (real time: a
            # retry loop must not spin under time skipping)
            (alert,) = await eventually(lambda: [m for m in outbox(port_var, "escalation") if m.request_id == racer.id],
                                        what=f"the escalation about {racer.id}", timeout=5)
            assert alert.to == ("pm@portflow.local",)
            assert f"is already in port request {req.id}" in alert.body
            lost = await racing.result()
            assert lost.status == S.FAILED
            why = (await racing.query(PortRequestWorkflow.status)).timeline[-1]
            assert why.to_status == S.FAILED and why.reason.startswith("intake refused: ")
            assert f"is already in port request {req.id}" in why.reason
            assert inventory_rows(racer.id) == []
            assert len(inventory_rows(req.id, include_released=False)) == len(req.all_numbers)
        finally:
            await terminate_running(env.client, [req.id, racer.id])
