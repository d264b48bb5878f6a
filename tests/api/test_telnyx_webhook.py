"""POST /webhooks/telnyx over real HTTP: Ed25519 signatures checked, events delivered to the sink.

The real app is served by uvicorn on 127.0.0.1; it reads porting orders from the Telnyx
stand-in through the real TelnyxCarrier. Keys are made in the test with ``cryptography``.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from api.app import create_app
from core.settings import get_settings, reset_settings
from models.carrier import CarrierEvent
from models.carrier import CarrierOrderStatus as St
from models.events import EventAck
from core.settings import get_settings
from providers.carrier.telnyx import TelnyxCarrier
from providers.carrier.telnyx_map import customer_reference
from tests.providers.carrier_fixtures import SECRETS, Clock, document, submission
from tests.settings_helpers import use_settings
from tests.telnyx_standin import TelnyxStandIn, serve

FOC = datetime(2026, 4, 15, 13, 0, tzinfo=UTC)
ORDER = "PR-2026-0042-1"


class Sink:
    def __init__(self) -> None:
        self.events: list[CarrierEvent] = []
        self.fail: Exception | None = None

    async def esign(self, event: Any) -> EventAck:  # pragma: no cover - not used here
        raise AssertionError("no e-signature events expected")

    async def carrier(self, event: CarrierEvent) -> EventAck:
        if self.fail is not None:
            raise self.fail
        self.events.append(event)
        return EventAck(accepted=True, status=event.state.status.value)


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, Any]]:
    standin = TelnyxStandIn()
    app = create_app(sink=Sink())
    with serve(standin.app()) as telnyx_url, serve(app) as app_url:
        yield {"standin": standin, "telnyx": telnyx_url, "app": app, "url": app_url}


@pytest.fixture
def env(
    servers: dict[str, Any], key: Ed25519PrivateKey, var_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    use_settings(monkeypatch, TELNYX_PUBLIC_KEY=base64.b64encode(public).decode())
    clock = Clock()
    servers["standin"].reset(clock=clock)
    sink = Sink()
    servers["app"].state.sink = sink
    carrier = TelnyxCarrier(
        get_settings(), api_key="test-key", base_url=f"{servers['telnyx']}/v2", clock=clock
    )
    servers["app"].state.telnyx_carrier = carrier
    return {**servers, "sink": sink, "carrier": carrier, "clock": clock}


def signed(
    key: Ed25519PrivateKey, body: dict[str, Any], ts: int | None = None
) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    stamp = str(ts if ts is not None else int(time.time()))
    sig = base64.b64encode(key.sign(stamp.encode() + b"|" + raw)).decode()
    return raw, {
        "telnyx-signature-ed25519": sig,
        "telnyx-timestamp": stamp,
        "content-type": "application/json",
    }


def status_changed(
    porting_id: str, ref: str, value: str, event_id: str = "8179f546-d479-42be-822b-8c78e1e89a59"
) -> dict:
    return {
        "data": {
            "event_type": "porting_order.status_changed",
            "id": event_id,
            "record_type": "event",
            "occurred_at": "2026-03-03T16:08:31.804886Z",
            "payload": {
                "id": porting_id,
                "customer_reference": ref,
                "status": {"value": value, "details": []},
                "support_key": "sr_ac8c24",
                "updated_at": "2026-03-03T16:08:31Z",
            },
        },
        "meta": {"attempt": 1, "delivered_to": "https://example.com/webhooks/telnyx"},
    }


async def make_order(env: dict[str, Any]) -> str:
    d = get_settings().documents_dir
    from models.request import DocumentKind

    docs = [
        document(d, DocumentKind.SIGNED_LOA, b"%PDF LOA", "loa.pdf"),
        document(d, DocumentKind.BILL, b"%PDF bill", "bill.pdf"),
    ]
    return (await env["carrier"].submit(submission(documents=docs), SECRETS)).carrier_order_id


async def post(env: dict[str, Any], raw: bytes, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(f"{env['url']}/webhooks/telnyx", content=raw, headers=headers)


async def test_a_signed_status_change_is_delivered_with_the_full_state(
    env: dict[str, Any], key: Ed25519PrivateKey
) -> None:
    porting_id = await make_order(env)
    env["standin"].confirm_foc(porting_id, FOC)
    raw, headers = signed(
        key,
        status_changed(
            porting_id, customer_reference(ORDER, f"{ORDER}:submit"), "foc-date-confirmed"
        ),
    )
    resp = await post(env, raw, headers)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "order_id": ORDER,
        "accepted": True,
        "duplicate": False,
        "status": "foc_confirmed",
    }
    (event,) = env["sink"].events
    assert (
        event.event_id == "telnyx:8179f546-d479-42be-822b-8c78e1e89a59" and event.order_id == ORDER
    )
    assert (event.state.status, event.state.foc_at, event.state.carrier_order_id) == (
        St.FOC_CONFIRMED,
        FOC,
        porting_id,
    )
    assert (
        event.at == datetime(2026, 3, 3, 16, 8, 31, 804886, tzinfo=UTC)
        and event.actor == "carrier:telnyx"
    )


@pytest.mark.parametrize("tamper", ["body", "signature", "other_key", "missing", "stale", "future"])
async def test_a_bad_signature_is_refused_and_nothing_delivered(
    env: dict[str, Any], key: Ed25519PrivateKey, tamper: str
) -> None:
    body = status_changed("f6e10519", customer_reference(ORDER, f"{ORDER}:submit"), "ported")
    raw, headers = signed(key, body)
    if tamper == "body":
        raw = raw.replace(b"ported", b"cancelled")
    elif tamper == "signature":
        headers["telnyx-signature-ed25519"] = base64.b64encode(b"\0" * 64).decode()
    elif tamper == "other_key":
        raw, headers = signed(Ed25519PrivateKey.generate(), body)
    elif tamper == "missing":
        del headers["telnyx-signature-ed25519"]
    elif tamper == "stale":
        raw, headers = signed(key, body, ts=int(time.time()) - 301)
    elif tamper == "future":
        raw, headers = signed(key, body, ts=int(time.time()) + 600)
    resp = await post(env, raw, headers)
    assert resp.status_code == 401, resp.text
    assert env["sink"].events == []
    assert not [r for r in env["standin"].requests if "/porting_orders/" in r[1]], (
        "nothing read before verifying"
    )


async def test_sink_failure_answers_503_so_telnyx_retries(
    env: dict[str, Any], key: Ed25519PrivateKey
) -> None:
    porting_id = await make_order(env)
    env["sink"].fail = ConnectionError("temporal is down")
    raw, headers = signed(
        key, status_changed(porting_id, customer_reference(ORDER, f"{ORDER}:submit"), "in-process")
    )
    resp = await post(env, raw, headers)
    assert resp.status_code == 503 and ORDER in resp.json()["detail"]
    env["sink"].fail = None
    assert (await post(env, raw, headers)).status_code == 200 and len(env["sink"].events) == 1


async def test_telnyx_unreachable_answers_503(env: dict[str, Any], key: Ed25519PrivateKey) -> None:
    porting_id = await make_order(env)
    env["standin"].fail_next("GET", f"/porting_orders/{porting_id}", 503)
    raw, headers = signed(
        key, status_changed(porting_id, customer_reference(ORDER, f"{ORDER}:submit"), "submitted")
    )
    assert (await post(env, raw, headers)).status_code == 503
    assert env["sink"].events == []


async def test_comments_from_porting_ops_are_delivered_and_ours_ignored(
    env: dict[str, Any], key: Ed25519PrivateKey
) -> None:
    porting_id = await make_order(env)
    comment = {
        "data": {
            "event_type": "porting_order.new_comment",
            "id": "6cafaed2",
            "occurred_at": "2026-03-04T17:37:43Z",
            "payload": {
                "porting_order_id": porting_id,
                "support_key": "sr_acdabe",
                "comment": {"body": "LOA signature unreadable", "user_type": "admin"},
            },
        }
    }
    resp = await post(env, *signed(key, comment))
    assert resp.status_code == 200 and resp.json()["order_id"] == ORDER
    assert env["sink"].events[0].note == "Telnyx comment (admin): LOA signature unreadable"
    comment["data"]["payload"]["comment"]["user_type"] = "user"
    comment["data"]["id"] = "7"
    assert "ignored" in (await post(env, *signed(key, comment))).json()
    assert len(env["sink"].events) == 1


async def test_deleted_draft_and_foreign_orders(
    env: dict[str, Any], key: Ed25519PrivateKey
) -> None:
    deleted = {
        "id": "4da7b0e3",
        "event_type": "porting_order.deleted",
        "occurred_at": "2026-03-05T00:00:00Z",
        "format": "v2",
        "payload": {
            "id": "74cc03c8",
            "customer_reference": customer_reference(ORDER, "k"),
            "deleted_at": "2026-03-05T00:00:00Z",
        },
    }
    resp = await post(env, *signed(key, deleted))
    assert resp.status_code == 200
    assert (env["sink"].events[0].state.status, env["sink"].events[0].state.raw_status) == (
        St.CANCELLED,
        "deleted",
    )
    foreign = status_changed("74cc03c8", "my-own-ref-123", "ported")
    assert (await post(env, *signed(key, foreign))).json() == {
        "ignored": "not a portflow porting order"
    }
    assert len(env["sink"].events) == 1


async def test_without_a_public_key_nothing_is_accepted(
    env: dict[str, Any], key: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, TELNYX_PUBLIC_KEY="")
    resp = await post(env, *signed(key, status_changed("x", "y", "ported")))
    assert resp.status_code == 503 and "PORTFLOW_TELNYX_PUBLIC_KEY" in resp.json()["detail"]
    assert env["sink"].events == []
