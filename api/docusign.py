"""DocuSign Connect webhook: ``POST /webhooks/docusign`` (JSON SIM messages).

Order of work, and why:

1. Verify ``X-DocuSign-Signature-1..N`` (base64 HMAC-SHA256 of the *raw* body) against
   every key in ``settings.docusign_hmac_keys``; any match is enough (DocuSign signs with
   each active key, so keys can be rotated). No match, or no key configured: 401, and no
   workflow is touched - the sink is not even resolved.
2. Parse the message; events portflow does not act on are answered 200 and ignored, so
   DocuSign does not retry them.
3. Map it to an :class:`EnvelopeEvent` whose ``event_id`` is derived from envelope id,
   event and ``generatedDateTime``: DocuSign's retries of one message carry the same id
   and the workflow ignores the repeat.
4. Deliver it to the order's workflow (``port_order_id`` custom field) and answer 200 only
   after the sink returns; a delivery failure answers 503 and DocuSign retries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import SinkDep, obj, parse_json_object, read_body, text
from core.settings import get_settings
from core.text import shorten
from models.esign import EnvelopeEvent, EnvelopeStatus
from providers.esign.docusign import CF_ORDER_ID, WEBHOOK_PATH, is_expired_reason, parse_time

log = logging.getLogger(__name__)

router = APIRouter(tags=["docusign"])

SIGNATURE_HEADER = "x-docusign-signature-"
_EVENTS = {
    "envelope-sent": EnvelopeStatus.SENT,
    "envelope-delivered": EnvelopeStatus.DELIVERED,
    "envelope-completed": EnvelopeStatus.COMPLETED,
    "envelope-declined": EnvelopeStatus.DECLINED,
    "envelope-voided": EnvelopeStatus.VOIDED,  # or EXPIRED, by voidedReason
    "recipient-autoresponded": EnvelopeStatus.BOUNCED,
}


def signature_valid(raw: bytes, signatures: list[str], keys: list[str]) -> bool:
    """True when any header signature is the HMAC-SHA256 of ``raw`` under any key."""
    expected = [base64.b64encode(hmac.new(k.encode(), raw, hashlib.sha256).digest()) for k in keys if k]
    ok = False
    for sig in signatures:
        given = sig.strip().encode()
        for exp in expected:
            ok |= hmac.compare_digest(given, exp)  # no early exit: constant time per pair
    return ok


async def verified_body(request: Request) -> bytes:
    """The raw body, once its Connect HMAC signature checks out; 401 otherwise."""
    keys = [k.get_secret_value() for k in get_settings().docusign_hmac_keys]
    if not keys:
        log.error("DocuSign Connect message refused: PORTFLOW_DOCUSIGN_HMAC_KEYS is empty")
        raise HTTPException(401, "no Connect HMAC key configured: set PORTFLOW_DOCUSIGN_HMAC_KEYS")
    signatures = [v for k, v in request.headers.items() if k.lower().startswith(SIGNATURE_HEADER)]
    raw = await read_body(request)
    if not signatures or not signature_valid(raw, signatures, keys):
        log.warning("DocuSign Connect message refused: no valid X-DocuSign-Signature (%d given)", len(signatures))
        raise HTTPException(401, "invalid or missing X-DocuSign-Signature")
    return raw


def to_event(message: dict[str, Any]) -> EnvelopeEvent | None:
    """The workflow event for a Connect message, or None when portflow ignores that event.

    Raises ValueError or HTTPException (-> 422) when the message lacks what the event needs
    or holds it in the wrong type (a field of the wrong type reads as absent)."""
    name = message.get("event")
    if not isinstance(name, str) or name not in _EVENTS:
        return None
    data = obj(message.get("data"))
    envelope_id = text(data.get("envelopeId"), "data.envelopeId", 100)
    generated = text(message.get("generatedDateTime"), "generatedDateTime", 64)
    if not envelope_id or not generated:
        raise ValueError("Connect message without data.envelopeId or generatedDateTime")
    summary = obj(data.get("envelopeSummary"))
    fields = obj(summary.get("customFields")).get("textCustomFields")
    order_id = next(
        (
            text(f.get("value"), CF_ORDER_ID, 100)
            for f in (fields if isinstance(fields, list) else [])
            if isinstance(f, dict) and f.get("name") == CF_ORDER_ID and f.get("value")
        ),
        None,
    )
    if not order_id:
        raise ValueError(
            f"envelope {envelope_id} has no {CF_ORDER_ID} custom field in envelopeSummary.customFields: it was "
            "not sent by portflow, or the Connect configuration does not include custom fields"
        )
    signers = obj(summary.get("recipients")).get("signers")
    signers = [s for s in signers if isinstance(s, dict)] if isinstance(signers, list) else []
    signer = signers[0] if signers else {}
    voided_reason = _reason(summary.get("voidedReason"))
    status = _EVENTS[name]
    reason: str | None = None
    if status is EnvelopeStatus.VOIDED:
        status = EnvelopeStatus.EXPIRED if is_expired_reason(voided_reason) else EnvelopeStatus.VOIDED
        reason = voided_reason
    elif status is EnvelopeStatus.DECLINED:
        reason = _reason(signer.get("declinedReason"))
    elif status is EnvelopeStatus.BOUNCED:
        bounced = next((s for s in signers if str(s.get("status") or "").lower() == "autoresponded"), signer)
        detail = _reason(bounced.get("autoRespondedReason"))
        email = _reason(bounced.get("email")) or "the signer"
        reason = f"mail to {email} bounced" + (f": {detail}" if detail else "")
    at = parse_time(generated)
    if at is None:
        raise ValueError(f"generatedDateTime {generated!r} is not a timestamp")
    return EnvelopeEvent(
        event_id=f"docusign:{envelope_id}:{name}:{generated}",
        order_id=order_id,
        envelope_id=envelope_id,
        status=status,
        at=at,
        signer_name=_reason(signer.get("name")),
        reason=reason,
        source="docusign-connect",
    )


def _reason(value: Any) -> str | None:
    """Free text DocuSign passes on (a decline reason, a name): a string, at most 500 characters."""
    return shorten(value.strip(), 500) if isinstance(value, str) and value.strip() else None


@router.post(WEBHOOK_PATH)
async def docusign_connect(raw: Annotated[bytes, Depends(verified_body)], sink: SinkDep) -> dict[str, Any]:
    if raw.lstrip().startswith(b"<"):
        raise HTTPException(
            422,
            "an XML Connect message: portflow reads JSON (SIM) messages; set the Connect "
            "configuration's data format to JSON",
        )
    message = parse_json_object(raw, "Connect message", 422)
    try:
        event = to_event(message)
    except ValueError as exc:  # includes JSON and pydantic validation errors
        raise HTTPException(422, f"unusable Connect message: {exc}") from None
    if event is None:
        return {"ignored": True, "event": shorten(message.get("event"), 60)}
    try:
        ack = await sink.esign(event)
    except WorkflowUpdateFailedError as exc:
        # The order's workflow received the event and refused it: the same message again
        # gets the same answer, so do not make DocuSign retry it.
        log.warning("order %s refused %s: %s", event.order_id, event.event_id, exc.cause or exc)
        return {"accepted": False, "event_id": event.event_id, "reason": str(exc.cause or exc)}
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            # No running workflow for the order (finished or cancelled): nothing will ever take it.
            log.warning("no running workflow for order %s: %s dropped (%s)", event.order_id, event.event_id, exc)
            return {"accepted": False, "event_id": event.event_id, "reason": f"order {event.order_id} is not running"}
        log.error("delivering %s to order %s failed: %s", event.event_id, event.order_id, exc)
        raise HTTPException(503, f"could not deliver the event to order {event.order_id}; retry later") from None
    except Exception as exc:
        log.exception("delivering %s to order %s failed", event.event_id, event.order_id)
        raise HTTPException(503, f"could not deliver the event to order {event.order_id}; retry later") from exc
    return {"accepted": ack.accepted, "duplicate": ack.duplicate, "status": ack.status, "event_id": event.event_id}
