"""Telnyx porting webhooks -> carrier events for the order workflows.

``POST /webhooks/telnyx``. Telnyx signs each delivery with Ed25519: header
``telnyx-signature-ed25519`` is the base64 signature of ``f"{telnyx-timestamp}|{raw body}"``
under the account's public key (``PORTFLOW_TELNYX_PUBLIC_KEY``, base64, from Mission
Control > Keys & Credentials). A missing or bad signature, or a timestamp further than
``telnyx_webhook_tolerance_seconds`` (default 300) from now, is refused with 401 and
nothing is delivered.

Port-in events (``data.event_type``): ``porting_order.status_changed`` (payload: id,
customer_reference, status), ``porting_order.new_comment`` (payload: porting_order_id,
comment), ``porting_order.split`` (payload: from.id, to.id),
``porting_order.messaging_changed`` and ``porting_order.deleted`` (sent without the
``data`` envelope). The order id is read from the porting order's customer_reference
(``portflow:<order id>:<hash>``, see ``providers.carrier.telnyx_map``). A status change
carries no FOC or per-number detail, so the receiver reads the order from the API
(``TelnyxCarrier.order_and_state``) and delivers the full state. The answer is 200 only
after the workflow took the event (``accepted: false`` when its validator refused it or the
order's workflow is no longer running: a retry would get the same answer); 503 when Telnyx
or Temporal cannot be reached, so Telnyx retries. Events for orders portflow did not create
are acknowledged and ignored.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter, HTTPException, Request
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import get_sink, obj, parse_json_object, read_body, text
from core.settings import get_settings
from models.carrier import CarrierEvent, CarrierOrderState, CarrierOrderStatus
from providers.carrier.base import CarrierError, CarrierRejected
from providers.carrier.telnyx_map import order_id_from_reference, parse_time

log = logging.getLogger(__name__)
router = APIRouter()
SIGNATURE = "telnyx-signature-ed25519"
TIMESTAMP = "telnyx-timestamp"


def _public_key() -> Ed25519PublicKey:
    raw = get_settings().telnyx_public_key.strip()
    if not raw:
        raise HTTPException(
            503,
            "Telnyx webhooks are not configured: set PORTFLOW_TELNYX_PUBLIC_KEY "
            "(Mission Control > Keys & Credentials > Public Key)",
        )
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError):
        raise HTTPException(
            503, "PORTFLOW_TELNYX_PUBLIC_KEY is not a base64 Ed25519 public key (32 bytes)"
        ) from None


def verify(
    raw: bytes,
    signature: str | None,
    timestamp: str | None,
    key: Ed25519PublicKey,
    tolerance: int,
    now: float | None = None,
) -> None:
    """Raise 401 unless ``signature`` signs ``timestamp|raw`` and the timestamp is fresh."""
    if not signature or not timestamp:
        raise HTTPException(
            401, f"missing {SIGNATURE} or {TIMESTAMP} header: not a signed Telnyx webhook"
        )
    try:
        sig = base64.b64decode(signature, validate=True)
        key.verify(sig, timestamp.encode() + b"|" + raw)
    except (binascii.Error, ValueError, InvalidSignature):
        raise HTTPException(
            401,
            "bad Telnyx signature: the body or timestamp was altered, or the public key is wrong",
        ) from None
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        raise HTTPException(401, f"{TIMESTAMP} is not a Unix time") from None
    if age > tolerance:
        raise HTTPException(
            401,
            f"Telnyx timestamp is {age:.0f} s off (tolerance {tolerance} s): replayed or clock skew",
        )


def _carrier(request: Request) -> Any:
    carrier = getattr(request.app.state, "telnyx_carrier", None)
    if carrier is None:
        from providers.carrier.telnyx import TelnyxCarrier

        try:
            carrier = TelnyxCarrier(get_settings())
        except CarrierError as exc:
            raise HTTPException(503, str(exc)) from None
        request.app.state.telnyx_carrier = carrier
    return carrier


async def _state_of(
    request: Request, porting_order_id: str
) -> tuple[dict[str, Any], CarrierOrderState] | None:
    """The order and our view of it from Telnyx; None when Telnyx no longer has it."""
    try:
        return await _carrier(request).order_and_state(porting_order_id)
    except CarrierRejected as exc:
        log.warning("telnyx webhook: porting order %s unreadable: %s", porting_order_id, exc)
        return None
    except CarrierError as exc:
        raise HTTPException(
            503, f"cannot read porting order {porting_order_id} from Telnyx: {exc}"
        ) from None


@router.post("/webhooks/telnyx")
async def telnyx_webhook(request: Request) -> dict[str, Any]:
    settings = get_settings()
    raw = await read_body(request)
    verify(
        raw,
        request.headers.get(SIGNATURE),
        request.headers.get(TIMESTAMP),
        _public_key(),
        settings.telnyx_webhook_tolerance_seconds,
    )
    body = parse_json_object(raw, "webhook body")
    # A field of the wrong type reads as absent (obj); a text field of another type or too
    # long is a 422 (text): whatever the body, the answer is 2xx or 4xx, never a 500.
    data = body.get("data") if isinstance(body.get("data"), dict) else body
    kind = text(data.get("event_type"), "data.event_type", 100) or ""
    payload = obj(data.get("payload"))
    event_id = text(data.get("id"), "data.id", 100) or ""
    if not kind.startswith("porting_order.") or not event_id:
        return {"ignored": f"not a port-in event: {kind or 'no event_type'}"}
    at = parse_time(text(data.get("occurred_at"), "data.occurred_at", 64)) or datetime.now(UTC)
    note = f"telnyx {kind}"
    reference = text(payload.get("customer_reference"), "payload.customer_reference", 200)
    if kind == "porting_order.deleted":
        order_id = order_id_from_reference(reference)
        if order_id is None:
            return {"ignored": "not a portflow porting order"}
        state = CarrierOrderState(
            carrier_order_id=text(payload.get("id"), "payload.id", 100) or "",
            provider="telnyx",
            status=CarrierOrderStatus.CANCELLED,
            raw_status="deleted",
            updated_at=at,
        )
    else:
        if kind == "porting_order.new_comment":
            comment = obj(payload.get("comment"))
            if comment.get("user_type") == "user":
                return {"ignored": "a comment portflow wrote"}
            porting_id = text(payload.get("porting_order_id"), "payload.porting_order_id", 100)
            who = text(comment.get("user_type"), "comment.user_type", 50) or "porting ops"
            words = comment.get("body") if isinstance(comment.get("body"), str) else ""
            note = f"Telnyx comment ({who}): {words[:500]}"
        elif kind == "porting_order.split":
            porting_id = text(obj(payload.get("from")).get("id"), "payload.from.id", 100)
            into = text(obj(payload.get("to")).get("id"), "payload.to.id", 100)
            note = f"Telnyx split numbers into porting order {into}"
        else:
            porting_id = text(payload.get("id"), "payload.id", 100)
        if not porting_id:
            return {"ignored": f"{kind} without a porting order id"}
        if reference and order_id_from_reference(reference) is None:
            return {"ignored": "not a portflow porting order"}
        got = await _state_of(request, porting_id)
        if got is None:
            return {"ignored": f"porting order {porting_id} is unknown to Telnyx"}
        order, state = got
        theirs = order.get("customer_reference")
        order_id = order_id_from_reference(theirs if isinstance(theirs, str) and theirs else reference)
        if order_id is None:
            return {"ignored": "not a portflow porting order"}
    event = CarrierEvent(
        event_id=f"telnyx:{event_id}",
        order_id=order_id,
        state=state,
        at=at,
        actor="carrier:telnyx",
        note=note,
    )
    sink = await get_sink(request)
    try:
        ack = await sink.carrier(event)
    except WorkflowUpdateFailedError as exc:
        # The order's workflow took the event and refused it: the same event again gets the
        # same answer, so Telnyx must not retry it.
        log.warning("order %s refused %s: %s", order_id, event.event_id, exc.cause or exc)
        return {"order_id": order_id, "accepted": False, "reason": str(exc.cause or exc)}
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            log.warning("no running workflow for order %s: %s dropped", order_id, event.event_id)
            return {
                "order_id": order_id,
                "accepted": False,
                "reason": f"order {order_id} is not running",
            }
        log.error("delivering %s to order %s failed: %s", event.event_id, order_id, exc)
        raise HTTPException(
            503, f"could not deliver the event to order {order_id}; retry later"
        ) from None
    except Exception as exc:  # the workflow cannot be reached: let Telnyx retry
        log.exception("delivering %s to order %s failed", event.event_id, order_id)
        raise HTTPException(
            503, f"could not deliver the event to order {order_id}; retry later"
        ) from exc
    return {"order_id": order_id, **ack.model_dump()}
