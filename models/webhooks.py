"""Outgoing webhooks: what a subscription may say, which event a status change is, and what
the delivery workflow carries (ids and counts only: the URL, the secret and the body stay in
the store and are read by the activity).

One status change is exactly one event, of the most specific type: a move to ``exception``
is an ``exception`` event, not also a ``stage_changed`` one.
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from models.request import REQUEST_ID
from models.status import PortStatus


class EventType(StrEnum):
    STAGE_CHANGED = "stage_changed"  # any other move of a request or an order
    EXCEPTION = "exception"  # the carrier rejected the order: someone must fix data
    FOC = "foc"  # the carrier confirmed the firm order commitment (the port date)
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


_BY_STATUS: dict[PortStatus, EventType] = {
    PortStatus.EXCEPTION: EventType.EXCEPTION,
    PortStatus.FOC_CONFIRMED: EventType.FOC,
    PortStatus.COMPLETED: EventType.COMPLETED,
    PortStatus.CANCELLED: EventType.CANCELLED,
    PortStatus.FAILED: EventType.FAILED,
}


def event_type_of(to_status: PortStatus | str) -> EventType:
    return _BY_STATUS.get(PortStatus(to_status), EventType.STAGE_CHANGED)


class DeliveryState(StrEnum):
    PENDING = "pending"  # recorded, not (yet) accepted by the receiver
    DELIVERED = "delivered"  # the receiver answered 2xx once: never sent again
    FAILED = "failed"  # given up: a 4xx, or every attempt failed
    SKIPPED = "skipped"  # the subscription was removed before the delivery went out


MAX_URL = 2000
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
ALL_EVENTS = "all"


class SubscriptionProblem(ValueError):
    """A subscription argument that cannot be used; the message says what to give instead."""


def check_url(url: str) -> str:
    """The receiver URL, stripped; https only, except http://localhost or 127.0.0.1 for local
    use. No user:password in it (it is shown by ``webhooks list``), no fragment."""
    text = url.strip() if isinstance(url, str) else ""
    if not text:
        raise SubscriptionProblem("the URL is empty: give the receiver's https:// URL")
    if len(text) > MAX_URL:
        raise SubscriptionProblem(f"the URL is {len(text)} characters long: at most {MAX_URL}")
    if not text.isprintable() or any(c.isspace() for c in text):
        raise SubscriptionProblem("the URL holds spaces or control characters: percent-encode them")
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        port = parts.port  # raises on a bad port
    except ValueError as exc:
        raise SubscriptionProblem(f"the URL cannot be parsed ({exc}): give e.g. https://pm.example/hooks/portflow") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise SubscriptionProblem(
            f"the URL's scheme is {parts.scheme or 'missing'!r}: use https:// (http:// only for localhost)")
    if not host:
        raise SubscriptionProblem("the URL has no host: give e.g. https://pm.example/hooks/portflow")
    if port == 0:
        raise SubscriptionProblem("the URL's port is 0: give a real port or none")
    if parts.username is not None or parts.password is not None:
        raise SubscriptionProblem("the URL holds a user name or password: the signature proves the sender, "
                                  "remove the credentials")
    if parts.fragment:
        raise SubscriptionProblem("the URL has a #fragment, which is never sent: remove it")
    if scheme == "http" and host.lower() not in LOCAL_HOSTS:
        raise SubscriptionProblem(
            f"http:// is refused for {host}: use https:// (plain http only for localhost or 127.0.0.1)")
    if scheme == "https" and not _valid_host(host):
        raise SubscriptionProblem(f"the URL's host {host[:80]!r} is not a host name or IP address")
    return text


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except (UnicodeError, ValueError):
        return False
    labels = ascii_host.rstrip(".").split(".")
    return all(re.fullmatch(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?", label) for label in labels)


def parse_events(values: list[str] | str | None) -> list[EventType]:
    """Event types from ``--events a,b`` (repeatable); none or ``all``: every type."""
    if values is None:
        return list(EventType)
    raw = [values] if isinstance(values, str) else list(values)
    names = [n.strip().lower() for v in raw for n in str(v).split(",") if n.strip()]
    if not names or ALL_EVENTS in names:
        return list(EventType)
    known = {e.value for e in EventType}
    bad = [n for n in names if n not in known]
    if bad:
        shown = ", ".join(repr(b[:40]) for b in bad[:5])
        raise SubscriptionProblem(f"unknown event type(s) {shown}: use {', '.join(sorted(known))} or all")
    return [e for e in EventType if e.value in names]


def check_request_id(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip().upper()
    if not REQUEST_ID.match(text):
        raise SubscriptionProblem(f"{value[:40]!r} is not a request id: give e.g. PR-2026-0042")
    return text


class DeliveryInput(BaseModel):
    """What one WebhookDeliveryWorkflow delivers: one event to one subscription."""

    delivery_id: int
    subscription_id: str
    event_id: str
    event_type: EventType
    max_attempts: int = Field(default=12, ge=1, le=100)
    first_retry_seconds: float = Field(default=10.0, gt=0, le=3600)


class DeliveryResult(BaseModel):
    delivery_id: int
    state: DeliveryState
    attempts: int = 0
    status_code: int | None = None
    detail: str = ""


class DeliveryFailed(BaseModel):
    """The workflow gave up: the store marks the delivery failed with why."""

    delivery_id: int
    reason: str = Field(max_length=2000)
