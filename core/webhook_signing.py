"""The signature on portflow's outgoing webhooks, and the receiver's check of it.

Every delivery carries::

    Portflow-Signature: t=1764777600,v1=5f2b...e1
    Portflow-Event-Id: evt_3f0c...
    Portflow-Event-Type: stage_changed

``v1`` is ``hex(HMAC-SHA256(secret, f"{t}.{raw_body}"))``: the secret is the one
``starter.py webhooks subscribe`` printed once, ``t`` the Unix time of the attempt (each retry
signs afresh), ``raw_body`` the request body's bytes exactly as received (do not parse and
re-serialize the JSON before checking). A receiver accepts a delivery only when one ``v1``
matches in constant time and ``t`` is within the tolerance of its own clock (default five
minutes): a captured request cannot be replayed later. Deliveries are at least once: keep the
``Portflow-Event-Id`` of what you processed and ignore a repeat.

This module needs only the standard library: integrators may copy it as it is (or just
:func:`verify`) into their receiver. Example (any framework; here the raw body and headers)::

    from webhook_signing import SignatureError, verify

    try:
        event = verify(raw_body, headers["Portflow-Signature"], secret)
    except SignatureError as exc:
        return 400, str(exc)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

SIGNATURE_HEADER = "Portflow-Signature"
EVENT_ID_HEADER = "Portflow-Event-Id"
EVENT_TYPE_HEADER = "Portflow-Event-Type"
SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300
_MAX_HEADER = 4096


class SignatureError(ValueError):
    """The delivery is not from portflow, was changed on the way, or is too old (or too new)."""


def signature(secret: str, timestamp: int, raw_body: bytes) -> str:
    """``hex(HMAC-SHA256(secret, f"{timestamp}.{raw_body}"))``."""
    message = str(int(timestamp)).encode() + b"." + raw_body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, raw_body: bytes, timestamp: int | None = None) -> str:
    """The ``Portflow-Signature`` header value for ``raw_body`` at ``timestamp`` (default now)."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={t},{SCHEME}={signature(secret, t, raw_body)}"


def parse_header(header: str) -> tuple[int, list[str]]:
    """``t`` and every ``v1`` of a ``Portflow-Signature`` header (several ``v1`` may come while
    a secret is rotated); :class:`SignatureError` when it is malformed."""
    if not isinstance(header, str) or not header or len(header) > _MAX_HEADER:
        raise SignatureError(f"missing or oversized {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    sigs: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise SignatureError(f"{SIGNATURE_HEADER} part {part.strip()[:40]!r} is not key=value")
        if key == "t":
            if not value.isascii() or not value.isdigit() or len(value) > 12:
                raise SignatureError(f"{SIGNATURE_HEADER} t={value[:20]!r} is not a Unix time")
            timestamp = int(value)
        elif key == SCHEME:
            sigs.append(value)
    if timestamp is None:
        raise SignatureError(f"{SIGNATURE_HEADER} has no t= timestamp")
    if not sigs:
        raise SignatureError(f"{SIGNATURE_HEADER} has no {SCHEME}= signature")
    return timestamp, sigs


def verify(
    raw_body: bytes,
    header: str,
    secret: str,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> dict[str, Any]:
    """Check a delivery and return its JSON event; :class:`SignatureError` when the signature
    does not match (constant-time compare), the timestamp is outside ``tolerance`` seconds of
    ``now`` (default: this machine's clock), or the body is not a JSON object."""
    timestamp, sigs = parse_header(header)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError(
            f"timestamp {timestamp} is {int(current - timestamp)} s from now, outside the "
            f"{tolerance} s tolerance: a replayed or delayed delivery (or a wrong clock)"
        )
    expected = signature(secret, timestamp, raw_body)
    if not any(hmac.compare_digest(expected, s) for s in sigs):
        raise SignatureError("no signature matches: wrong secret, or the body was changed")
    try:
        event = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        raise SignatureError("the signed body is not JSON") from None
    if not isinstance(event, dict):
        raise SignatureError("the signed body is not a JSON object")
    return event
