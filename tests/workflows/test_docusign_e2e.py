"""Ports whose LOAs go through DocuSign, end to end: the real workflows on the time-skipping
test server, the real ``docusign-esign`` SDK talking OAuth over TLS to the local DocuSign
stand-in, Connect messages posted HMAC-signed into the real FastAPI app, which hands them to
the order workflows, and the carrier simulator to the end."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.events import TemporalEventSink
from core.settings import Settings
from devtools import servers
from models.request import DocumentKind, PortRequest, Signer
from models.status import PortStatus
from models.workflow import AmendOrder, RequestView
from portflow.cli.actions import cmd_cancel, send_update
from providers.esign.docusign import ANCHOR_DATE, ANCHOR_SIGN, WEBHOOK_PATH, transaction_id_for
from store.documents import documents_of, path_of
from tests.docusign_standin import DocuSignStandIn, connect_signatures
from tests.docusign_standin.account import StandInEnvelope
from tests.docusign_standin.fixtures import ds_env, rsa_pair, standin  # noqa: F401 (fixtures)
from tests.mail_helpers import wait_mail
from tests.settings_helpers import configure
from tests.workflows.helpers import PM, attach_all, order, order_status, sample_request, start, wait_for
from tests.workflows.paths_helpers import PM_MAIL
from worker import build_worker
from workflows.port_order import PortOrderWorkflow

PUBLIC_URL = "https://portflow.example.test"
# The simulated carriers answer a minute after the submission and port a day later; the
# workflow checks on them every 6 hours, so the carrier stage is a handful of timers.
FAST_CARRIERS = """
carriers:
  "*":
    behaviour: accept
    answer_after_seconds: 60
    foc_in_seconds: 86400
"""


@pytest_asyncio.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server of this module's own. These ports skip days of server
    time, and the server's clock never goes back: on the session's server, a later test
    that signs a local LOA with the wall clock (test_happy_path's sign_all) would sign
    "before the LOA was sent"."""
    async with await servers.time_skipping_env() as server:
        await servers.register_search_attributes(server.client)
        yield server


@pytest.fixture
def docusign_port(port_var: Path, task_queue: str, ds_env, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Settings]:
    """``docusign_port(PUBLIC_URL=...)``: settings for a port whose LOAs go through the stand-in."""
    def port_settings(**overrides: str) -> Settings:
        configure(monkeypatch, port_var, task_queue, profile=FAST_CARRIERS, CARRIER_PROVIDER="simulator",
                  AUTO_SIGN="false", DOCUSIGN_POLL_MINUTES=15)
        return ds_env(**overrides)  # the DocuSign settings on top

    return port_settings


@pytest.fixture
async def connect(env: WorkflowEnvironment) -> AsyncIterator[httpx.AsyncClient]:
    """What DocuSign Connect posts through: the real app (Temporal event sink) over ASGI."""
    app = create_app(TemporalEventSink(env.client))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as http:
        yield http


def envelopes_of(standin: DocuSignStandIn, order_id: str) -> list[StandInEnvelope]:
    """The stand-in's envelopes for one order (by our hidden custom field), oldest first."""
    mine = [e for e in standin.envelopes.values() if e.custom_fields.get("port_order_id") == order_id]
    return sorted(mine, key=lambda e: e.created_at)


@asynccontextmanager
async def loas_sent(env: WorkflowEnvironment, req: PortRequest, tmp: Path
                    ) -> AsyncIterator[tuple[WorkflowHandle, RequestView]]:
    """Under a worker: ``req`` started and its documents attached, once every order's LOA is out."""
    async with build_worker(env.client):
        handle = await start(env.client, req)
        await attach_all(env.client, req, tmp)
        yield handle, await wait_for(handle, lambda v: len(v.orders) == len(req.accounts) and all(
            o.status == PortStatus.LOA_SENT for o in v.orders), what="LOAs sent")


def assert_signed_documents_stored(standin: DocuSignStandIn, request_id: str, order_id: str, envelope_id: str) -> None:
    """The signed LOA and DocuSign's certificate are in the document store, once, by sha256."""
    envelope = standin.envelopes[envelope_id]
    for kind, expected in ((DocumentKind.SIGNED_LOA, envelope.signed_pdf),
                           (DocumentKind.CERTIFICATE, envelope.certificate)):
        refs = [r for r in documents_of(request_id=request_id, order_id=order_id, kind=kind) if r.order_id == order_id]
        assert len(refs) == 1, (order_id, kind, refs)
        assert refs[0].sha256 == hashlib.sha256(expected).hexdigest()
        assert path_of(refs[0]).read_bytes() == expected


def submitted_documents(var: Path, carrier_order_id: str) -> list[str]:
    """The sha256 of each document the simulated carrier received with the order."""
    return json.loads((var / "carrier-sim" / f"{carrier_order_id}.json").read_text("utf-8"))["documents"]


async def test_signing_through_connect_webhooks_runs_the_port_to_completion(
    env: WorkflowEnvironment, standin: DocuSignStandIn, docusign_port, connect: httpx.AsyncClient, port_var: Path,
    tmp_path: Path,
) -> None:
    docusign_port(PUBLIC_URL=PUBLIC_URL)
    req = sample_request()
    async with loas_sent(env, req, tmp_path) as (handle, view):

        # One real envelope per order, sent by the SDK: our transaction id and custom fields,
        # anchored tabs, Connect pointed at our public URL; its id is on the order.
        for i in range(2):
            oid = req.order_id(i)
            [envelope] = envelopes_of(standin, oid)
            assert order(view, i).envelope_id == envelope.envelope_id and envelope.status == "sent"
            body = envelope.definition
            assert envelope.transaction_id == transaction_id_for(f"{oid}:loa:1")
            assert envelope.custom_fields == {"port_request_id": req.id, "port_order_id": oid,
                                              "idempotency_key": envelope.transaction_id}
            signer = body["recipients"]["signers"][0]
            assert (signer["name"], signer["email"]) == (req.signer.name, str(req.signer.email))
            assert [t["anchorString"] for t in signer["tabs"]["signHereTabs"]] == [ANCHOR_SIGN]
            assert [t["anchorString"] for t in signer["tabs"]["dateSignedTabs"]] == [ANCHOR_DATE]
            assert body["eventNotification"]["url"] == PUBLIC_URL + WEBHOOK_PATH
        assert len(standin.envelopes) == 2 and standin.calls["create"] == 2

        # The signer opens and signs both; Connect tells portflow.
        for i in range(2):
            envelope_id = order(view, i).envelope_id
            standin.open(envelope_id)
            standin.sign(envelope_id)
        completed = [m for m in standin.account.outbox if m.event == "envelope-completed"]
        deliveries = await standin.deliver(connect)
        assert sorted((d.event, d.status_code) for d in deliveries) == sorted(
            [("envelope-sent", 200), ("envelope-delivered", 200), ("envelope-completed", 200)] * 2)
        assert all(d.body["accepted"] and not d.body["duplicate"] for d in deliveries)
        assert not standin.account.outbox  # nothing left for DocuSign to retry

        # The poll is 15 minutes away (and time does not skip here): the webhook did this.
        view = await wait_for(handle, lambda v: all(o.status not in (PortStatus.LOA_SENT, PortStatus.LOA_SIGNED)
                                                    for o in v.orders), what="both orders past the LOA")

        # DocuSign retries a message it thinks was lost: same answer, nothing happens twice.
        standin.account.outbox.append(completed[0])
        [again] = await standin.deliver(connect)
        assert (again.status_code, again.body["duplicate"]) == (200, True)

        for i in range(2):
            oid = req.order_id(i)
            assert_signed_documents_stored(standin, req.id, oid, order(view, i).envelope_id)
        await handle.execute_update("assign", {"actor": PM, "assignments": {
            tn: f"user{i}@contoso.example" for i, tn in enumerate(req.all_numbers)}})
        result = await handle.result()
        finals = [await order_status(env.client, req.order_id(i)) for i in range(2)]

    assert result.status == PortStatus.COMPLETED
    for i, final in enumerate(finals):
        oid = req.order_id(i)
        walked = [c.to_status for c in final.timeline]
        assert walked.index(PortStatus.LOA_SENT) < walked.index(PortStatus.LOA_SIGNED) < walked.index(
            PortStatus.SUBMITTED) < walked.index(PortStatus.COMPLETED), walked
        signed_by = next(c for c in final.timeline if c.to_status == PortStatus.LOA_SIGNED)
        assert signed_by.actor == f"signer:{req.signer.name}"
        # The carrier got the LOA the customer signed at DocuSign.
        [signed] = [r for r in documents_of(request_id=req.id, order_id=oid, kind=DocumentKind.SIGNED_LOA)
                    if r.order_id == oid]
        assert signed.sha256 in submitted_documents(port_var, final.carrier_order_id)
        assert_signed_documents_stored(standin, req.id, oid, final.envelope_id)
    assert len(standin.envelopes) == 2 and standin.calls["create"] == 2


async def test_without_a_public_url_the_workflow_polls_the_envelope(
    env: WorkflowEnvironment, standin: DocuSignStandIn, docusign_port, port_var: Path, tmp_path: Path,
) -> None:
    docusign_port(PUBLIC_URL="")  # polls every 15 minutes, the least DocuSign allows
    req = sample_request(accounts=1)
    oid = req.order_id(0)
    async with loas_sent(env, req, tmp_path) as (handle, view):
        [envelope] = envelopes_of(standin, oid)
        assert "eventNotification" not in envelope.definition
        assert order(view, 0).envelope_id == envelope.envelope_id

        standin.sign(envelope.envelope_id)
        assert not standin.account.outbox  # no Connect: only a poll can tell the workflow
        polls_before = standin.calls["get"]
        result = await handle.result()  # time skips to the next poll, and on to the end
        final = await order_status(env.client, oid)

    assert result.status == PortStatus.COMPLETED
    assert standin.calls["get"] > polls_before
    walked = [c.to_status for c in final.timeline]
    assert PortStatus.LOA_SIGNED in walked and PortStatus.COMPLETED in walked
    signed_at = next(c.at for c in final.timeline if c.to_status == PortStatus.LOA_SIGNED)
    sent_at = next(c.at for c in final.timeline if c.to_status == PortStatus.LOA_SENT)
    # Found by the first poll, 15 minutes after sending: not before, and not by a later wake-up.
    assert 15 * 60 <= (signed_at - sent_at).total_seconds() < 20 * 60, signed_at - sent_at
    assert_signed_documents_stored(standin, req.id, oid, envelope.envelope_id)
    assert len(standin.envelopes) == 1


async def test_declined_loa_then_corrected_signer_gets_a_second_envelope(
    env: WorkflowEnvironment, standin: DocuSignStandIn, docusign_port, connect: httpx.AsyncClient, port_var: Path,
    tmp_path: Path,
) -> None:
    docusign_port(PUBLIC_URL=PUBLIC_URL)
    req = sample_request(accounts=1)
    oid = req.order_id(0)
    async with loas_sent(env, req, tmp_path) as (handle, _):
        [first] = envelopes_of(standin, oid)

        standin.decline(first.envelope_id, "I am not the account holder")
        assert [(d.event, d.status_code) for d in await standin.deliver(connect)] == [
            ("envelope-sent", 200), ("envelope-declined", 200)]
        await wait_for(handle, lambda v: order(v, 0).status == PortStatus.LOA_DECLINED, what="LOA declined")
        declined = await order_status(env.client, oid)
        assert "I am not the account holder" in declined.timeline[-1].reason
        assert declined.next.waiting_on == "pm"
        # the PM is told why (the mail follows the move: wait for it, not for a second wake)
        await wait_mail(port_var, "loa_declined", oid, to=PM_MAIL, containing="I am not the account holder")

        owner = Signer(name="Marta Ruiz", title="Owner", email="marta@contoso.example")
        # What `starter.py amend` sends to a running order. (Its running-order check,
        # describe(), fails on the time-skipping test server, which keeps an unset datetime
        # search attribute such as NextDeadline as a null the SDK cannot decode.)
        await send_update(env.client, oid, PortOrderWorkflow.amend,
                          AmendOrder(actor=PM, order_id=oid, reason="the owner signs, not the CFO", signer=owner),
                          wait=30)
        view = await wait_for(handle, lambda v: order(v, 0).status == PortStatus.LOA_SENT
                              and order(v, 0).envelope_id != first.envelope_id, what="a second LOA sent")
        first_again, second = envelopes_of(standin, oid)
        assert first_again is first and order(view, 0).envelope_id == second.envelope_id
        assert (second.signer["name"], second.signer["email"]) == (owner.name, str(owner.email))
        assert second.transaction_id == transaction_id_for(f"{oid}:loa:2") != first.transaction_id
        # The declined envelope is left as it is: sent once, never voided.
        assert first.status == "declined"
        assert [m for m, p, _ in standin.log if m == "PUT" and p.endswith(first.envelope_id)] == ["PUT"]

        standin.sign(second.envelope_id)
        assert [(d.event, d.status_code) for d in await standin.deliver(connect)] == [
            ("envelope-sent", 200), ("envelope-completed", 200)]
        await wait_for(handle, lambda v: order(v, 0).status not in (PortStatus.LOA_SENT, PortStatus.LOA_SIGNED),
                       what="past the LOA")
        result = await handle.result()
        final = await order_status(env.client, oid)

    assert result.status == PortStatus.COMPLETED
    signed_by = next(c for c in final.timeline if c.to_status == PortStatus.LOA_SIGNED)
    assert signed_by.actor == f"signer:{owner.name}" and "LOA v2" in signed_by.reason
    assert_signed_documents_stored(standin, req.id, oid, second.envelope_id)
    assert len(standin.envelopes) == 2 and standin.calls["create"] == 2
    assert [e.status for e in envelopes_of(standin, oid)] == ["declined", "completed"]


async def test_forged_connect_message_is_refused_and_changes_nothing(
    env: WorkflowEnvironment, standin: DocuSignStandIn, docusign_port, connect: httpx.AsyncClient, port_var: Path,
    tmp_path: Path,
) -> None:
    docusign_port(PUBLIC_URL=PUBLIC_URL)
    req = sample_request(accounts=1)
    oid = req.order_id(0)
    async with loas_sent(env, req, tmp_path) as (handle, _):
        [envelope] = envelopes_of(standin, oid)

        # A "completed" message for our real envelope, as DocuSign would word it, signed
        # with a key portflow does not have, and one without any signature.
        forged = json.dumps({
            "event": "envelope-completed", "apiVersion": "v2.1", "generatedDateTime": "2026-03-02T17:04:05.1230000Z",
            "data": {"accountId": standin.account.account_id, "envelopeId": envelope.envelope_id,
                     "envelopeSummary": envelope.summary() | {"status": "completed"}},
        }).encode()
        refused = await connect.post(WEBHOOK_PATH, content=forged, headers={
            "Content-Type": "application/json", **connect_signatures(forged, ["not portflow's key"])})
        unsigned = await connect.post(WEBHOOK_PATH, content=forged, headers={"Content-Type": "application/json"})
        assert (refused.status_code, unsigned.status_code) == (401, 401)

        view = await order_status(env.client, oid)
        assert view.status == PortStatus.LOA_SENT and view.next.waiting_on == "signer"
        history = await env.client.get_workflow_handle(oid).fetch_history()
        assert not [e for e in history.events if e.event_type in (
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED)], "a forged message reached the workflow"
        assert not documents_of(request_id=req.id, order_id=oid, kind=DocumentKind.SIGNED_LOA)
        # The genuine message with the right key goes through the same route.
        assert [(d.event, d.status_code) for d in await standin.deliver(connect)] == [("envelope-sent", 200)]

        cancelled = await cmd_cancel(env.client, req.id, actor=PM, reason="the customer stays with Lumen")
        assert cancelled is not None and cancelled.status == PortStatus.CANCELLED
        await handle.result()
        final = await order_status(env.client, oid)

    # Cancelling voids the envelope at DocuSign; its Connect message finds no running order
    # and is answered 200, so DocuSign does not retry it for days.
    assert envelope.status == "voided" and "the customer stays with Lumen" in envelope.voided_reason
    assert [(d.event, d.status_code) for d in await standin.deliver(connect)] == [("envelope-voided", 200)]
    assert standin.calls["create"] == 1 and len(standin.envelopes) == 1
    assert envelope.status == "voided"
    assert final.status == PortStatus.CANCELLED
