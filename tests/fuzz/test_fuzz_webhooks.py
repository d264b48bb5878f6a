"""The webhook bodies (DocuSign Connect JSON, Telnyx porting events), correctly signed so the
fuzzed part reaches the parser: every body gets a 2xx or a 4xx with a message, never a 500."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from api.app import create_app
from api.deps import MAX_BODY
from core.settings import reset_settings
from models.carrier import CarrierOrderState, CarrierOrderStatus
from models.events import EventAck
from providers.carrier.base import CarrierRejected
from providers.carrier.telnyx_map import customer_reference
from tests.fuzz import fuzz
from tests.fuzz.paths import json_values, paths
from tests.settings_helpers import use_settings

HMAC_KEY = "fuzz-connect-key"
KEY = Ed25519PrivateKey.generate()
ORDER = "PR-2026-0042-1"


class Sink:
    def __init__(self) -> None:
        self.events: list[Any] = []

    async def esign(self, event: Any) -> EventAck:
        self.events.append(event)
        return EventAck(accepted=True, status="loa_signed")

    async def carrier(self, event: Any) -> EventAck:
        self.events.append(event)
        return EventAck(accepted=True, status=event.state.status.value)


class FakeTelnyx:
    """Stands in for TelnyxCarrier.order_and_state: an order portflow made, or unknown."""

    async def order_and_state(self, porting_order_id: str) -> tuple[dict[str, Any], CarrierOrderState]:
        if porting_order_id.startswith("unknown"):
            raise CarrierRejected("no such porting order")
        order = {"id": porting_order_id, "customer_reference": customer_reference(ORDER, "k")}
        state = CarrierOrderState(carrier_order_id=porting_order_id, provider="telnyx",
                                  status=CarrierOrderStatus.SUBMITTED, raw_status="submitted")
        return order, state


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    mp = pytest.MonkeyPatch()
    public = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    use_settings(mp, DOCUSIGN_HMAC_KEYS=json.dumps([HMAC_KEY]),
                 TELNYX_PUBLIC_KEY=base64.b64encode(public).decode())
    app = create_app(sink=Sink())
    app.state.telnyx_carrier = FakeTelnyx()
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    mp.undo()
    reset_settings()



CONNECT = {
    "event": "envelope-completed",
    "generatedDateTime": "2026-03-01T17:04:05.1230000Z",
    "data": {
        "envelopeId": "abc-123",
        "envelopeSummary": {
            "status": "completed",
            "voidedReason": None,
            "customFields": {"textCustomFields": [{"name": "port_order_id", "value": ORDER}]},
            "recipients": {"signers": [{"name": "Jane Doe", "email": "j@x.example", "status": "completed"}]},
        },
    },
}
TELNYX = {
    "data": {
        "id": "evt-1",
        "event_type": "porting_order.status_changed",
        "occurred_at": "2026-03-01T17:04:05Z",
        "payload": {"id": "po-1", "customer_reference": customer_reference(ORDER, "k"), "status": "submitted",
                    "comment": {"user_type": "admin", "body": "hi"}, "from": {"id": "po-1"}, "to": {"id": "po-2"},
                    "porting_order_id": "po-1"},
    }
}
KINDS = ["porting_order.status_changed", "porting_order.new_comment", "porting_order.split",
         "porting_order.deleted", "porting_order.messaging_changed", "porting_order.", "call.hangup"]


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> bytes:
    data = copy.deepcopy(base)
    places = [p for p in paths(base) if p]
    for _ in range(draw(st.integers(0, 4))):
        path = draw(st.sampled_from(places))
        parent: Any = data
        try:
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = draw(st.one_of(json_values, st.sampled_from(KINDS + ["envelope-voided",
                                                                                      "recipient-autoresponded",
                                                                                      "envelope-declined"])))
        except (KeyError, IndexError, TypeError):
            continue
    return json.dumps(data).encode()


raw_bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.integers(1, 200_000).map(lambda n: b"[" * n + b"]" * n),  # deeper than Python's stack
    st.just(b'{"data": ' * 5000 + b"1" + b"}" * 5000),
)


def _connect_headers(body: bytes) -> dict[str, str]:
    sig = base64.b64encode(hmac.new(HMAC_KEY.encode(), body, hashlib.sha256).digest()).decode()
    return {"X-DocuSign-Signature-1": sig, "content-type": "application/json"}


def _telnyx_headers(body: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    sig = base64.b64encode(KEY.sign(ts.encode() + b"|" + body)).decode()
    return {"telnyx-signature-ed25519": sig, "telnyx-timestamp": ts, "content-type": "application/json"}


def _assert_answer(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    if response.status_code >= 400:
        detail = response.json().get("detail")
        assert detail and len(str(detail)) < 1000, response.text[:500]
    assert len(response.content) < 10_000


@fuzz(150)
@given(st.one_of(mutated(CONNECT), raw_bodies))
def test_connect_bodies(client: TestClient, body: bytes) -> None:
    _assert_answer(client.post("/webhooks/docusign", content=body, headers=_connect_headers(body)))


@fuzz(150)
@given(st.one_of(mutated(TELNYX), mutated(TELNYX["data"]), raw_bodies))
def test_telnyx_bodies(client: TestClient, body: bytes) -> None:
    _assert_answer(client.post("/webhooks/telnyx", content=body, headers=_telnyx_headers(body)))


header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=200)


@fuzz(60)
@given(header_text, header_text)
def test_bad_signatures_are_401(client: TestClient, signature: str, timestamp: str) -> None:
    body = json.dumps(TELNYX).encode()
    for url, headers in (
        ("/webhooks/docusign", {"X-DocuSign-Signature-1": signature}),
        ("/webhooks/telnyx", {"telnyx-signature-ed25519": signature, "telnyx-timestamp": timestamp}),
    ):
        sent = {k: v.strip().encode("latin-1") for k, v in headers.items()}  # as a proxy would pass them
        response = client.post(url, content=body, headers=sent)
        assert response.status_code == 401, response.text


def test_a_body_over_the_limit_is_413_unread(client: TestClient) -> None:
    body = b" " * (MAX_BODY + 1)
    for url, headers in (("/webhooks/docusign", _connect_headers(body)), ("/webhooks/telnyx", _telnyx_headers(body))):
        response = client.post(url, content=body, headers=headers)
        assert response.status_code == 413 and "bytes" in response.json()["detail"]


@pytest.mark.parametrize(
    ("url", "body"),
    [
        # each was a 500 (AttributeError / TypeError) before the routes read fields by type
        ("/webhooks/docusign", {**CONNECT, "data": []}),
        ("/webhooks/docusign", {**CONNECT, "event": ["envelope-completed"]}),
        ("/webhooks/docusign", {**CONNECT, "data": {**CONNECT["data"], "envelopeSummary": {"customFields": [1]}}}),
        ("/webhooks/telnyx", [TELNYX]),
        ("/webhooks/telnyx", {"data": {**TELNYX["data"], "payload": "x"}}),
        ("/webhooks/telnyx", {"data": {**TELNYX["data"], "payload": {"id": "po-1", "customer_reference": 7}}}),
        ("/webhooks/telnyx", {"data": {**TELNYX["data"], "event_type": "porting_order.new_comment",
                                       "payload": {"porting_order_id": "po-1", "comment": ["x"]}}}),
    ],
)
def test_wrong_types_are_4xx_or_ignored(client: TestClient, url: str, body: Any) -> None:
    raw = json.dumps(body).encode()
    headers = _connect_headers(raw) if "docusign" in url else _telnyx_headers(raw)
    _assert_answer(client.post(url, content=raw, headers=headers))


def test_an_xml_connect_message_says_to_send_json(client: TestClient) -> None:
    raw = b'<?xml version="1.0"?><DocuSignEnvelopeInformation><EnvelopeStatus/></DocuSignEnvelopeInformation>'
    response = client.post("/webhooks/docusign", content=raw, headers=_connect_headers(raw))
    assert response.status_code == 422 and "JSON" in response.json()["detail"]


def test_a_good_message_still_gets_through(client: TestClient) -> None:
    raw = json.dumps(CONNECT).encode()
    response = client.post("/webhooks/docusign", content=raw, headers=_connect_headers(raw))
    assert response.status_code == 200 and response.json()["accepted"] is True
    raw = json.dumps(TELNYX).encode()
    response = client.post("/webhooks/telnyx", content=raw, headers=_telnyx_headers(raw))
    assert response.status_code == 200 and response.json()["order_id"] == ORDER
