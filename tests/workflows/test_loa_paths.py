"""The LOA side paths: the signer declines, or the envelope expires; the PM corrects the
signer and a new LOA goes out; once signed, the order goes to the carrier."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from models.esign import EnvelopeStatus
from models.request import PortRequest, Signer
from models.status import PortStatus
from models.workflow import AmendOrder, OrderView
from providers.esign.local import EnvelopeClosed, LocalESign, SignerMismatch
from tests.dates import port_date_in
from tests.mail_helpers import outbox
from tests.settings_helpers import configure
from tests.workflows.helpers import attach_all, order, record_histories, sample_request, start, wait_for
from tests.workflows.paths_helpers import (
    ACCEPT_AT_ONCE,
    CONTACT,
    PM,
    PM_MAIL,
    carrier_record,
    server_now,
    sign,
    terminate_running,
    wait_order,
)
from worker import build_worker
from workflows.port_order import PortOrderWorkflow
from workflows.port_request import PortRequestWorkflow

S = PortStatus
NEW_SIGNER = Signer(name="María López", title="COO", email="maria@contoso.example")


@pytest.fixture
def loa_env(port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    return configure(monkeypatch, port_var, task_queue, profile=ACCEPT_AT_ONCE)


@asynccontextmanager
async def _loa_sent(env: WorkflowEnvironment, tmp_path: Path
                    ) -> AsyncIterator[tuple[PortRequest, WorkflowHandle, OrderView]]:
    """Under a worker: a one-account port dated 30 days ahead, its documents attached and its
    LOA out (the order's view then); whatever it leaves running is ended afterwards."""
    req = sample_request(port_date=await port_date_in(env, 30), accounts=1)
    async with build_worker(env.client):
        handle = await start(env.client, req)
        try:
            await wait_for(handle, lambda v: bool(v.missing_documents), what="documents stage")
            await attach_all(env.client, req, tmp_path)
            view = await wait_for(handle, lambda v: len(v.orders) == 1 and order(v, 0).status == S.LOA_SENT,
                                  what="LOA sent")
            yield req, handle, order(view, 0)
        finally:
            await terminate_running(env.client, [req.id, req.order_id(0)])


async def test_declined_loa_is_corrected_resent_to_the_new_signer_and_the_port_completes(
    env: WorkflowEnvironment, loa_env: Path, tmp_path: Path
) -> None:
    esign = LocalESign()
    async with _loa_sent(env, tmp_path) as (req, handle, sent):
        oid = req.order_id(0)
        order_handle = env.client.get_workflow_handle(oid)
        first_envelope = sent.envelope_id
        assert first_envelope and sent.next.waiting_on == "signer"

        # the signer refuses, in the local flow (`starter.py sign --decline`), and the event reaches the order
        ev = await esign.decline(oid, "I no longer sign for Contoso", at=await server_now(env))
        ack = await order_handle.execute_update(PortOrderWorkflow.esign_event, ev)
        assert not ack.duplicate
        o = await wait_order(env.client, oid, lambda o: o.status == S.LOA_DECLINED and o.next.waiting_on == "pm",
                             what="LOA declined, waiting on the PM")
        assert "corrects the signer" in o.next.what
        declined = o.timeline[-1]
        assert declined.to_status == S.LOA_DECLINED and declined.actor == "esign"
        assert declined.reason == "signer declined: I no longer sign for Contoso"
        # the request shows it too (the order signals it)
        await wait_for(handle, lambda v: v.status == S.LOA_DECLINED and v.next.waiting_on == "pm",
                       what="the request shows the decline")
        # the same event delivered again (a webhook retry) changes nothing
        again = await order_handle.execute_update(PortOrderWorkflow.esign_event, ev)
        assert again.duplicate

        # the PM is told, with what to do
        (mail,) = outbox(loa_env, "loa_declined")
        assert mail.to == (PM_MAIL,) and mail.order_id == oid
        assert "Reason given: signer declined: I no longer sign for Contoso" in mail.body
        assert "Amend the order's signer" in mail.body

        # the PM corrects the signer: LOA v2 goes to the new signer in a new envelope
        await order_handle.execute_update(PortOrderWorkflow.amend, AmendOrder(
            actor=PM, order_id=oid, reason="María López signs for Contoso now", signer=NEW_SIGNER))
        o = await wait_order(env.client, oid, lambda o: o.status == S.LOA_SENT and o.next.waiting_on == "signer",
                             what="LOA v2 out for signature")
        assert o.envelope_id and o.envelope_id != first_envelope
        assert NEW_SIGNER.name in o.next.what
        assert o.timeline[-1].reason.startswith("LOA v2 sent to María López")
        assert any(c.actor == PM and "amended signer" in c.reason for c in o.timeline)
        latest = await esign.find_by_order(oid)
        assert latest is not None and latest.envelope_id == o.envelope_id
        assert latest.status == EnvelopeStatus.SENT and latest.signer_email == NEW_SIGNER.email
        assert (await esign.get_status(first_envelope)).status == EnvelopeStatus.DECLINED
        loa_mails = outbox(loa_env, "loa_sent")
        assert len(loa_mails) == 2
        assert set(loa_mails[-1].to) == {NEW_SIGNER.email, CONTACT}

        # the old signer cannot sign the new LOA; the new one does, and the order goes to the carrier
        with pytest.raises(SignerMismatch, match="addressed to María López"):
            await esign.sign(oid, req.signer.name, at=await server_now(env))
        await sign(env, oid, NEW_SIGNER.name)
        o = await wait_order(env.client, oid, lambda o: o.status == S.FOC_CONFIRMED, what="submitted and confirmed")
        walked = [c.to_status for c in o.timeline]
        assert walked[walked.index(S.LOA_DECLINED):] == [S.LOA_DECLINED, S.LOA_DECLINED, S.LOA_SENT, S.LOA_SIGNED,
                                                         S.SUBMITTED, S.FOC_CONFIRMED]
        signed = next(c for c in o.timeline if c.to_status == S.LOA_SIGNED)
        assert signed.actor == "signer:María López"
        assert o.carrier_order_id
        # the carrier got the corrected signer as the authorizing person
        assert carrier_record(o.carrier_order_id)["auth_person_name"] == "María López"

        await handle.execute_update(PortRequestWorkflow.assign, {
            "actor": PM, "assignments": {tn: "desk@contoso.example" for tn in req.all_numbers}})
        result = await handle.result()
        await record_histories(env.client, "loa_declined_corrected", [oid])
    assert result.status == S.COMPLETED


async def test_expired_loa_found_by_the_poll_is_resent_to_the_corrected_address(
    env: WorkflowEnvironment, loa_env: Path, tmp_path: Path
) -> None:
    esign = LocalESign()
    async with _loa_sent(env, tmp_path) as (req, handle, sent):
        oid = req.order_id(0)
        order_handle = env.client.get_workflow_handle(oid)
        first_envelope = sent.envelope_id
        # the envelope lapses at the provider; nobody tells the order: its poll finds out
        await esign.expire(oid, at=await server_now(env))
        await env.sleep(timedelta(minutes=16))
        o = await wait_order(env.client, oid, lambda o: o.status == S.LOA_DECLINED and o.next.waiting_on == "pm",
                             what="LOA expired, waiting on the PM")
        expired = o.timeline[-1]
        assert expired.actor == "esign" and expired.reason == "the LOA expired unsigned"
        assert o.next.waiting_on == "pm"
        (mail,) = outbox(loa_env, "loa_expired")
        assert mail.to == (PM_MAIL,) and oid in mail.subject
        assert req.signer.email in mail.body
        assert outbox(loa_env, "loa_declined") == []
        with pytest.raises(EnvelopeClosed, match="a new LOA must be sent"):
            await esign.sign(oid, req.signer.name, at=await server_now(env))

        # the signer's address was wrong: corrected, a new LOA goes out
        fixed = req.signer.model_copy(update={"email": "luis.ortega@contoso.example"})
        await order_handle.execute_update(PortOrderWorkflow.amend, AmendOrder(
            actor=PM, order_id=oid, reason="signer's address corrected", signer=fixed))
        o = await wait_order(env.client, oid, lambda o: o.status == S.LOA_SENT, what="LOA v2 out for signature")
        assert o.envelope_id != first_envelope
        assert set(outbox(loa_env, "loa_sent")[-1].to) == {"luis.ortega@contoso.example", CONTACT}

        await sign(env, oid, req.signer.name)
        o = await wait_order(env.client, oid, lambda o: o.status == S.FOC_CONFIRMED, what="submitted and confirmed")
        assert S.SUBMITTED in [c.to_status for c in o.timeline]


async def test_amend_answers_with_the_new_loa_out(env: WorkflowEnvironment, loa_env: Path, tmp_path: Path) -> None:
    async with _loa_sent(env, tmp_path) as (req, handle, sent):
        oid = req.order_id(0)
        order_handle = env.client.get_workflow_handle(oid)
        ev = await LocalESign().decline(oid, "wrong person", at=await server_now(env))
        await order_handle.execute_update(PortOrderWorkflow.esign_event, ev)
        await wait_order(env.client, oid, lambda o: o.status == S.LOA_DECLINED and o.next.waiting_on == "pm",
                         what="LOA declined")
        # `starter.py amend` prints the order the update answers with
        o = await order_handle.execute_update(PortOrderWorkflow.amend, AmendOrder(
            actor=PM, order_id=oid, reason="María López signs for Contoso now", signer=NEW_SIGNER))
        assert o.status == S.LOA_SENT, o.status
        assert o.envelope_id != sent.envelope_id and o.next.waiting_on == "signer"
