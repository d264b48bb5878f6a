"""Cancelling a port at each stage: what is undone (LOA voided, SUP1 at the carrier,
numbers released), who is told, and when a cancel is refused (the FOC guard)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowUpdateStage
from temporalio.testing import WorkflowEnvironment

from models.esign import EnvelopeStatus
from models.status import PortStatus
from models.workflow import Cancel
from providers.carrier.simulator import CarrierSimulator
from providers.esign.local import EnvelopeClosed, LocalESign
from tests.dates import port_date_in
from tests.mail_helpers import outbox
from tests.settings_helpers import configure
from tests.workflows.helpers import attach_all, order, record_histories, sample_request, start, wait_for
from tests.workflows.paths_helpers import (
    CONTACT,
    PM,
    PM_MAIL,
    carrier_record,
    carrier_records,
    inventory_rows,
    order_status,
    refusal,
    same_numbers,
    server_now,
    sign,
    terminate_running,
    wait_order,
)
from worker import build_worker
from workflows.port_order import PortOrderWorkflow
from workflows.port_request import PortRequestWorkflow

S = PortStatus

# Lumen never answers (its order waits in carrier_pending); Verizon confirms the requested date at once
PENDING_AND_FOC = """
carriers:
  Lumen:
    behaviour: silent
    answer_after_seconds: 0
  "*":
    behaviour: accept
    answer_after_seconds: 0
"""
# the carrier confirms an FOC one day after the submission: inside the 48 h guard at once
FOC_TOMORROW = """
carriers:
  "*":
    behaviour: accept
    answer_after_seconds: 0
    foc_in_seconds: 86400
"""


def _all_released(request_id: str, reason: str) -> None:
    rows = inventory_rows(request_id)
    assert rows, f"{request_id} claimed no numbers"
    for r in rows:
        assert str(r.state) == "released" and r.released_at is not None, (r.tn, r.state)
        assert r.release_reason == f"cancelled: {reason}", r.release_reason
    assert inventory_rows(request_id, include_released=False) == []


def _cancelled_mail(var: Path, request_id: str) -> None:
    (mail,) = outbox(var, "cancelled")
    assert set(mail.to) == {CONTACT, PM_MAIL}
    assert request_id in mail.subject


async def test_cancel_while_waiting_for_documents_releases_the_numbers(
    env: WorkflowEnvironment, port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, port_var, task_queue)
    req = sample_request(port_date=await port_date_in(env, 30))
    again = same_numbers(req)
    reason = "customer stays with Lumen"
    async with build_worker(env.client):
        handle = await start(env.client, req)
        try:
            await wait_for(handle, lambda v: v.status == S.DOCUMENTS, what="documents stage")
            assert {str(r.state) for r in inventory_rows(req.id)} == {"porting"}

            view = await handle.execute_update(PortRequestWorkflow.cancel, Cancel(actor=PM, reason=reason))
            assert view.status == S.CANCELLED
            assert (await handle.result()).status == S.CANCELLED
            view = await handle.query(PortRequestWorkflow.status)
            assert view.status == S.CANCELLED and view.next.waiting_on == "nobody" and view.next.due_at is None
            assert view.orders == []
            last = view.timeline[-1]
            assert (last.from_status, last.to_status, last.actor, last.reason) == (S.DOCUMENTS, S.CANCELLED, PM, reason)

            # nothing was sent for signature or to a carrier, so nothing to void
            assert await LocalESign().find_by_order(req.order_id(0)) is None
            assert carrier_records() == []
            _all_released(req.id, reason)
            _cancelled_mail(port_var, req.id)

            # released numbers can be ported again by a new request
            second = await start(env.client, again)
            await wait_for(second, lambda v: v.status == S.DOCUMENTS, what="the new request's documents stage")
            assert sorted(r.tn for r in inventory_rows(again.id, include_released=False)) == sorted(req.all_numbers)
        finally:
            await terminate_running(env.client, [req.id, again.id])


async def test_cancel_with_the_loa_out_voids_the_envelope(
    env: WorkflowEnvironment, port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    configure(monkeypatch, port_var, task_queue)
    req = sample_request(port_date=await port_date_in(env, 30), accounts=1)
    oid = req.order_id(0)
    reason = "customer signed with another provider"
    async with build_worker(env.client):
        handle = await start(env.client, req)
        try:
            await wait_for(handle, lambda v: bool(v.missing_documents), what="documents stage")
            await attach_all(env.client, req, tmp_path)
            view = await wait_for(handle, lambda v: len(v.orders) == 1 and order(v, 0).status == S.LOA_SENT, what="LOA sent")
            envelope = order(view, 0).envelope_id
            assert envelope

            view = await handle.execute_update(PortRequestWorkflow.cancel, Cancel(actor=PM, reason=reason))
            assert view.status == S.CANCELLED
            assert (await handle.result()).status == S.CANCELLED
            o = await order_status(env.client, oid)
            assert o.status == S.CANCELLED and o.next.waiting_on == "nobody"
            assert [c.to_status for c in o.timeline][-2:] == [S.LOA_SENT, S.CANCELLED]  # no carrier order to withdraw
            assert (o.timeline[-1].actor, o.timeline[-1].reason) == (PM, reason)
            assert {n.state for n in o.numbers} == {"released"}

            # the envelope is voided at the provider: the signer can no longer sign it
            info = await LocalESign().get_status(envelope)
            assert info.status == EnvelopeStatus.VOIDED and info.reason == f"port cancelled: {reason}"
            with pytest.raises(EnvelopeClosed, match="voided"):
                await LocalESign().sign(oid, req.signer.name, at=await server_now(env))
            assert carrier_records() == []
            _all_released(req.id, reason)
            _cancelled_mail(port_var, req.id)
            # and the signer is told, once, that the LOA they were asked to sign is withdrawn
            [voided] = outbox(port_var, "loa_voided")
            assert voided.to == (str(req.signer.email),) and voided.order_id == oid
            assert "no la firme" in voided.subject and reason in voided.body  # the customer writes Spanish
        finally:
            await terminate_running(env.client, [req.id, oid])


async def test_cancel_at_the_carrier_sends_sup1_for_pending_and_confirmed_orders(
    env: WorkflowEnvironment, port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    configure(monkeypatch, port_var, task_queue, profile=PENDING_AND_FOC)
    req = sample_request(port_date=await port_date_in(env, 30))
    lumen, verizon = req.order_id(0), req.order_id(1)
    reason = "customer merged with another company"
    async with build_worker(env.client):
        handle = await start(env.client, req)
        try:
            await wait_for(handle, lambda v: bool(v.missing_documents), what="documents stage")
            await attach_all(env.client, req, tmp_path)
            await wait_for(handle, lambda v: len(v.orders) == 2 and all(o.status == S.LOA_SENT for o in v.orders),
                           what="both LOAs sent")
            for oid in (lumen, verizon):
                await sign(env, oid, req.signer.name)
            view = await wait_for(handle, lambda v: [o.status for o in sorted(v.orders, key=lambda o: o.order_id)]
                                  == [S.CARRIER_PENDING, S.FOC_CONFIRMED], what="one order pending, one confirmed")
            foc = order(view, 1).foc_at
            assert foc is not None and foc - await server_now(env) > timedelta(days=20)  # far outside the guard
            # the confirmed order's numbers are in the inventory, ready to assign
            await wait_order(env.client, verizon, lambda o: {n.state for n in o.numbers} == {"awaiting_assignment"},
                             what="numbers in the inventory after the FOC")
            assert {str(r.state) for r in inventory_rows(req.id) if r.order_id == verizon} == {"awaiting_assignment"}

            # the cancel is accepted at once; the carriers confirm it later (time skips to their answer)
            update = await handle.start_update(PortRequestWorkflow.cancel, Cancel(actor=PM, reason=reason),
                                               wait_for_stage=WorkflowUpdateStage.ACCEPTED)
            result = await handle.result()
            view = await update.result()
            assert result.status == S.CANCELLED and view.status == S.CANCELLED
            orders = [await order_status(env.client, oid) for oid in (lumen, verizon)]  # queries need the worker
            await record_histories(env.client, "cancel_at_carrier", [req.id, lumen, verizon])
        finally:
            await terminate_running(env.client, [req.id, lumen, verizon])

    now = await server_now(env)
    sim = CarrierSimulator(clock=lambda: now)
    for o, before in zip(orders, (S.CARRIER_PENDING, S.FOC_CONFIRMED)):
        assert o.status == S.CANCELLED and o.next.waiting_on == "nobody", o.order_id
        tail = [(c.from_status, c.to_status) for c in o.timeline][-2:]
        assert tail == [(before, S.CANCEL_REQUESTED), (S.CANCEL_REQUESTED, S.CANCELLED)], (o.order_id, tail)
        requested = o.timeline[-2]
        assert requested.actor == PM and requested.reason == f"SUP1 cancel sent: {reason}"
        assert requested.at < o.timeline[-1].at  # cancelled once the carrier confirmed, not before
        assert o.carrier_raw_status == "cancelled"
        assert {n.state for n in o.numbers} == {"released"}
        # the simulated carrier holds our SUP1 and reports the order cancelled
        assert o.carrier_order_id
        rec = carrier_record(o.carrier_order_id)
        assert rec["cancel"]["reason"] == reason
        assert (await sim.status(o.carrier_order_id)).status.value == "cancelled"
    _all_released(req.id, reason)
    _cancelled_mail(port_var, req.id)


async def test_cancel_inside_the_foc_guard_is_refused_and_the_port_goes_on(
    env: WorkflowEnvironment, port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    configure(monkeypatch, port_var, task_queue, profile=FOC_TOMORROW)
    req = sample_request(port_date=await port_date_in(env, 30), accounts=1)
    oid = req.order_id(0)
    async with build_worker(env.client):
        handle = await start(env.client, req)
        try:
            await wait_for(handle, lambda v: bool(v.missing_documents), what="documents stage")
            await attach_all(env.client, req, tmp_path)
            await wait_for(handle, lambda v: len(v.orders) == 1 and order(v, 0).status == S.LOA_SENT, what="LOA sent")
            await sign(env, oid, req.signer.name)
            before = await wait_for(handle, lambda v: order(v, 0).status == S.FOC_CONFIRMED, what="FOC confirmed")
            o_before = await order_status(env.client, oid)
            foc = o_before.foc_at
            assert foc is not None and timedelta(hours=23) < foc - await server_now(env) <= timedelta(hours=24)

            # the request's cancel is refused, naming the order, the FOC and the guard (one rule:
            # core.guard, so the request and the order say the same)
            msg = await refusal(handle.execute_update(PortRequestWorkflow.cancel, Cancel(actor=PM, reason="changed mind")))
            assert msg.startswith(f"order {oid}: cannot cancel now: the FOC is {foc:%Y-%m-%d %H:%M} UTC"), msg
            assert "within 48 hours of the FOC" in msg and "call the carrier" in msg
            # so is the order's own
            msg = await refusal(env.client.get_workflow_handle(oid).execute_update(
                PortOrderWorkflow.cancel, Cancel(actor=PM, reason="changed mind")))
            assert msg.startswith("cannot cancel now: the FOC is") and "within 48 hours of the FOC" in msg, msg

            # nothing changed: not at the carrier, not in the inventory, not in the timeline, nobody told
            after = await handle.query(PortRequestWorkflow.status)
            assert after.status == S.FOC_CONFIRMED and after.timeline == before.timeline
            o_after = await order_status(env.client, oid)
            assert o_after.status == S.FOC_CONFIRMED and o_after.timeline == o_before.timeline
            assert carrier_record(o_after.carrier_order_id)["cancel"] is None
            assert inventory_rows(req.id, include_released=False) and all(
                r.released_at is None for r in inventory_rows(req.id))
            assert outbox(port_var, "cancelled") == []

            # the port carries on to completion on the FOC
            await handle.execute_update(PortRequestWorkflow.assign, {
                "actor": PM, "assignments": {tn: "desk@contoso.example" for tn in req.all_numbers}})
            result = await handle.result()
        finally:
            await terminate_running(env.client, [req.id, oid])
    assert result.status == S.COMPLETED
    assert {str(r.state) for r in inventory_rows(req.id)} == {"active"}
