"""POST /webhooks/docusign: the stand-in posts HMAC-signed Connect messages (JSON SIM) to
the real app served by uvicorn on 127.0.0.1, for envelopes the provider sent through the
real SDK; one test delivers into a real Temporal workflow (time-skipping test server)."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from temporalio import workflow
from temporalio.client import WorkflowHandle
from devtools.servers import time_skipping_env
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from api.events import TemporalEventSink
from models.esign import EnvelopeEvent, EnvelopeStatus
from models.events import EventAck
from providers.esign.docusign import DocuSignESign
from tests.docusign_standin import connect_signatures
from tests.docusign_standin.fixtures import (  # noqa: F401 (fixtures)
    HMAC_KEY,
    ds_env,
    loa_request,
    rsa_pair,
    saved_order,
    standin,
)

ROOT = Path(__file__).resolve().parents[2]


class RecordingSink:
    """Stands in for the order workflows: records every event, dedupes by event_id."""

    def __init__(self) -> None:
        self.events: list[EnvelopeEvent] = []
        self.attempts: list[EnvelopeEvent] = []  # including the deliveries that failed
        self.fail = 0

    async def esign(self, event: EnvelopeEvent) -> EventAck:
        self.attempts.append(event)
        await asyncio.sleep(0.01)  # the answer must wait for this
        if self.fail:
            self.fail -= 1
            raise RuntimeError("Temporal is unavailable")
        duplicate = any(e.event_id == event.event_id for e in self.events)
        self.events.append(event)
        return EventAck(accepted=True, duplicate=duplicate, status=f"loa_{event.status.value}")

    async def carrier(self, event: object) -> EventAck:
        raise AssertionError("not a carrier test")


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[object], Awaitable[str]]]:
    """``await serve(sink)``: the app on a real uvicorn at 127.0.0.1:<ephemeral>; its base URL."""
    servers: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def start(event_sink: object) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(create_app(event_sink), log_level="warning", lifespan="off"))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        servers.append((server, task))
        for _ in range(500):
            if server.started:
                return f"http://127.0.0.1:{sock.getsockname()[1]}"
            await asyncio.sleep(0.01)
        raise RuntimeError("uvicorn did not start")

    yield start
    for server, task in servers:
        server.should_exit = True
        await task


@pytest.fixture
async def flow(standin, ds_env, loa_request, serve, sink):
    """(provider, api base URL): the provider's Connect URL points at the served app."""
    url = await serve(sink)
    return DocuSignESign.from_settings(ds_env(PUBLIC_URL=url)), url


async def post_signed(url: str, body: dict | bytes, keys: list[str] = [HMAC_KEY]) -> httpx.Response:  # noqa: B006
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with httpx.AsyncClient() as http:
        return await http.post(url + "/webhooks/docusign", content=raw,
                               headers={"Content-Type": "application/json", **connect_signatures(raw, keys)})


def message(event: str, *, order_id: str | None = "PR-2026-0042-1", **summary: object) -> dict:
    fields = [{"name": "port_order_id", "value": order_id}] if order_id else []
    return {"event": event, "apiVersion": "v2.1", "generatedDateTime": "2026-03-02T17:04:05.1230000Z",
            "data": {"accountId": "a", "envelopeId": "env-1",
                     "envelopeSummary": {"customFields": {"textCustomFields": fields}, **summary}}}


async def test_full_signing_observed_via_webhooks(standin, flow, loa_request, sink):
    provider, _ = flow
    req = loa_request()
    info = await provider.send_loa(req)
    standin.open(info.envelope_id)
    standin.sign(info.envelope_id)
    deliveries = await standin.deliver()
    assert [(d.event, d.status_code) for d in deliveries] == [
        ("envelope-sent", 200), ("envelope-delivered", 200), ("envelope-completed", 200)]
    assert [d.body["status"] for d in deliveries] == ["loa_sent", "loa_delivered", "loa_completed"]  # the sink's answer
    assert [e.status for e in sink.events] == [EnvelopeStatus.SENT, EnvelopeStatus.DELIVERED, EnvelopeStatus.COMPLETED]
    assert {(e.order_id, e.envelope_id, e.source) for e in sink.events} == {
        (req.order_id, info.envelope_id, "docusign-connect")}
    assert sink.events[-1].signer_name == "Bo Li" and sink.events[-1].at.tzinfo is not None
    assert not standin.account.outbox


async def test_forged_or_unsigned_messages_are_refused_and_reach_no_workflow(standin, flow, loa_request, sink):
    provider, url = flow
    standin.hmac_keys = ["a key portflow does not know"]
    await provider.send_loa(loa_request())
    assert [d.status_code for d in await standin.deliver()] == [401]
    assert len(standin.account.outbox) == 1  # DocuSign keeps it to retry

    raw = json.dumps(message("envelope-completed")).encode()
    signed = connect_signatures(raw, [HMAC_KEY])
    async with httpx.AsyncClient() as http:
        unsigned = await http.post(url + "/webhooks/docusign", content=raw)
        tampered = await http.post(url + "/webhooks/docusign", content=raw.replace(b"completed", b"voided!!!"),
                                   headers=signed)
    assert (unsigned.status_code, tampered.status_code) == (401, 401)
    assert sink.events == []


async def test_no_configured_key_refuses_everything(standin, ds_env, serve, sink):
    url = await serve(sink)
    ds_env(DOCUSIGN_HMAC_KEYS="[]")
    resp = await post_signed(url, message("envelope-completed"))
    assert resp.status_code == 401 and "PORTFLOW_DOCUSIGN_HMAC_KEYS" in resp.json()["detail"]
    assert sink.events == []


async def test_a_forged_message_does_not_even_connect_to_temporal(ds_env, monkeypatch):
    ds_env(TEMPORAL_ADDRESS="127.0.0.1:1")  # nothing listens there: connecting would fail with 5xx
    app = create_app()  # the default sink: a Temporal client connected on first use
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
        resp = await http.post("/webhooks/docusign", content=b"{}", headers={"X-DocuSign-Signature-1": "Zm9yZ2Vk"})
    assert resp.status_code == 401 and app.state.sink is None


async def test_any_matching_key_is_enough_for_key_rotation(standin, flow, loa_request, sink):
    provider, _ = flow
    standin.hmac_keys = ["the retired key", HMAC_KEY]
    await provider.send_loa(loa_request())
    assert [d.status_code for d in await standin.deliver()] == [200]
    assert len(sink.events) == 1


async def test_the_same_message_twice_is_the_same_event(flow, sink):
    _, url = flow
    raw = json.dumps(message("envelope-completed", status="completed")).encode()
    first, second = await post_signed(url, raw), await post_signed(url, raw)
    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.json()["duplicate"], second.json()["duplicate"]) == (False, True)
    assert len({e.event_id for e in sink.events}) == 1 and len(sink.events) == 2


async def test_delivery_failure_answers_503_and_the_retry_carries_the_same_event_id(standin, flow, loa_request, sink):
    provider, _ = flow
    info = await provider.send_loa(loa_request())
    generated = standin.account.outbox[0].body["generatedDateTime"]
    sink.fail = 1
    assert [d.status_code for d in await standin.deliver()] == [503]
    assert sink.events == [] and len(standin.account.outbox) == 1
    retry = await standin.deliver()  # DocuSign retries: retryCount 1, same generatedDateTime
    assert [d.status_code for d in retry] == [200]
    expected = f"docusign:{info.envelope_id}:envelope-sent:{generated}"
    assert [e.event_id for e in sink.attempts] == [expected, expected] and retry[0].body["event_id"] == expected


async def test_decline_expiry_void_and_bounce_are_mapped(standin, flow, loa_request, sink):
    provider, _ = flow
    declined, expired, voided, bounced = [await provider.send_loa(loa_request()) for _ in range(4)]
    standin.decline(declined.envelope_id, "wrong numbers")
    standin.expire(expired.envelope_id)
    await provider.void(voided.envelope_id, "Port request cancelled")
    standin.bounce(bounced.envelope_id)
    assert {d.status_code for d in await standin.deliver()} == {200}
    got = {(e.envelope_id, e.status): e.reason for e in sink.events if e.status is not EnvelopeStatus.SENT}
    assert got[(declined.envelope_id, EnvelopeStatus.DECLINED)] == "wrong numbers"
    assert got[(expired.envelope_id, EnvelopeStatus.EXPIRED)] == "Envelope has expired."
    assert got[(voided.envelope_id, EnvelopeStatus.VOIDED)] == "Port request cancelled"
    assert "bo@contoso.example" in got[(bounced.envelope_id, EnvelopeStatus.BOUNCED)]


async def test_unknown_order_is_422_and_uninteresting_events_are_ignored(flow, sink):
    _, url = flow
    missing = await post_signed(url, message("envelope-completed", order_id=None))
    assert missing.status_code == 422 and "port_order_id" in missing.json()["detail"]
    garbage = await post_signed(url, b"not json")
    assert garbage.status_code == 422
    ignored = await post_signed(url, message("recipient-delivered"))
    assert ignored.status_code == 200 and ignored.json()["ignored"] is True
    assert sink.events == []


# --- into a real workflow -----------------------------------------------------------------
@workflow.defn(sandboxed=False)
class OrderStub:
    """The smallest order workflow: takes "esign_event" updates, dedupes by event_id."""

    def __init__(self) -> None:
        self.events: list[EnvelopeEvent] = []

    @workflow.run
    async def run(self) -> list[str]:
        await workflow.wait_condition(lambda: any(e.status is EnvelopeStatus.COMPLETED for e in self.events))
        await workflow.sleep(timedelta(days=1))  # stays open for the duplicate and the query
        return [e.event_id for e in self.events]

    @workflow.update(name="esign_event")
    async def esign_event(self, event: EnvelopeEvent) -> EventAck:
        duplicate = any(e.event_id == event.event_id for e in self.events)
        if not duplicate:
            self.events.append(event)
        return EventAck(accepted=True, duplicate=duplicate, status=f"loa_{self.events[-1].status.value}")

    @esign_event.validator
    def _only_our_envelope(self, event: EnvelopeEvent) -> None:
        if self.events and event.envelope_id != self.events[0].envelope_id:
            raise ValueError(f"envelope {event.envelope_id} is not this order's envelope")

    @workflow.query
    def statuses(self) -> list[str]:
        return [e.status.value for e in self.events]


async def test_200_only_after_the_order_workflow_has_the_event(standin, ds_env, loa_request, serve):
    async with await time_skipping_env() as env:
        url = await serve(TemporalEventSink(env.client))
        provider = DocuSignESign.from_settings(ds_env(PUBLIC_URL=url))
        task_queue = f"docusign-webhook-{uuid.uuid4()}"
        async with Worker(env.client, task_queue=task_queue, workflows=[OrderStub]):
            req = loa_request()
            handle: WorkflowHandle = await env.client.start_workflow(OrderStub.run, id=req.order_id, task_queue=task_queue)
            info = await provider.send_loa(req)
            standin.sign(info.envelope_id)
            pending = list(standin.account.outbox)
            deliveries = await standin.deliver()
            assert [(d.event, d.status_code) for d in deliveries] == [("envelope-sent", 200), ("envelope-completed", 200)]
            assert await handle.query(OrderStub.statuses) == ["sent", "completed"]  # in the workflow already
            assert deliveries[1].body["status"] == "loa_completed"

            standin.account.outbox.extend(pending[1:])  # Connect delivers "completed" again
            again = await standin.deliver()
            assert again[0].status_code == 200 and again[0].body["duplicate"] is True
            assert await handle.query(OrderStub.statuses) == ["sent", "completed"]

            # The workflow refuses an event (not its envelope): the same message would get the
            # same answer, so DocuSign must not retry it.
            stray = await post_signed(url, message("envelope-completed", order_id=req.order_id))
            assert stray.status_code == 200 and stray.json()["accepted"] is False
            assert "not this order's envelope" in stray.json()["reason"]

            # An envelope whose order has no running workflow: nothing will ever take the event.
            orphan = await post_signed(url, message("envelope-completed", order_id=f"PR-2026-{uuid.uuid4().hex[:6]}-1"))
            assert orphan.status_code == 200 and orphan.json()["accepted"] is False
            await handle.terminate("test over")
