"""Outgoing webhooks in the database: subscriptions, the events they want, one delivery each.

An event is queued in the same transaction that writes its status change to the timeline
(``activities.audit.record_changes`` calls :func:`enqueue`): the change is on the timeline
if and only if its deliveries are queued. Its id comes from the change's unique key, and
``uq_webhook_delivery`` keeps one delivery per (subscription, event), so a retried activity
that records the change again queues nothing new. The delivery workflow reads the URL, the
secret (from the vault) and the body here; none of them travels through Temporal.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets as _random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.settings import get_settings
from models.status import StatusChange
from models.webhooks import (
    DeliveryState,
    EventType,
    SubscriptionProblem,
    check_request_id,
    check_url,
    event_type_of,
)
from store.db import session_scope
from store.requests import ORDER_ID
from store.vault import put_secret, reveal
from store.webhook_tables import WebhookDelivery, WebhookEvent, WebhookSubscription

BODY_VERSION = 1
MAX_ERROR = 500
# Digit runs that could be a phone, account or PIN number (4+ digits, separators allowed):
# a timeline reason is free text, and no number may leave in a webhook. Dates and times
# (``2027-01-05 14:00 UTC``, the FOC's) are kept: they are what a PM system wants to read.
_NUMBERISH = re.compile(r"\+?\d[\d\s().\-/]*\d")
_DATE = re.compile(r"(?<![\d+])20\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
                   r"(?:[T ][0-2]\d:[0-5]\d(?::[0-5]\d)?(?:Z|[+-][01]\d:?[0-5]\d)?)?(?![\d-])")


class UnknownSubscription(LookupError):
    def __init__(self, sub_id: str) -> None:
        super().__init__(sub_id)
        self.sub_id = sub_id

    def __str__(self) -> str:
        return f"no webhook subscription {self.sub_id[:60]!r}: see python starter.py webhooks list"


def _now() -> datetime:
    return datetime.now(UTC)


def _scope(session: Session | None):  # noqa: ANN202 - a session given, or a new one
    from contextlib import nullcontext

    return nullcontext(session) if session is not None else session_scope()


# --- subscriptions ---------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + _random.token_urlsafe(32)


def subscribe(*, url: str, events: list[EventType], owner: str, request_id: str | None = None,
              session: Session | None = None) -> tuple[WebhookSubscription, str]:
    """A new subscription and its signing secret (returned this once; the store keeps it
    sealed in the vault so the worker can sign). Raises :class:`SubscriptionProblem`."""
    clean_url = check_url(url)
    rid = check_request_id(request_id)
    owner = (owner or "").strip()
    if not owner or len(owner) > 320:
        raise SubscriptionProblem("the owner is empty or too long: give the e-mail of who subscribes (--by)")
    if not events:
        raise SubscriptionProblem("no event types: give --events, e.g. stage_changed,foc or all")
    secret = new_secret()
    with _scope(session) as s:
        ref = put_secret(secret, session=s)
        row = WebhookSubscription(id=f"whs_{_random.token_hex(8)}", url=clean_url, secret_ref=ref.ref,
                                  events=[str(e) for e in events], request_id=rid, owner=owner)
        s.add(row)
        s.flush()
    return row, secret


def secret_of(sub_id: str, *, session: Session | None = None) -> str:
    """The signing secret of a subscription, from the vault (for the one answer that shows it)."""
    with _scope(session) as s:
        row = s.get(WebhookSubscription, sub_id)
        if row is None:
            raise UnknownSubscription(sub_id)
        return reveal(row.secret_ref, session=s)


def subscriptions(*, include_disabled: bool = False, session: Session | None = None) -> list[WebhookSubscription]:
    with _scope(session) as s:
        stmt = select(WebhookSubscription).order_by(col(WebhookSubscription.created_at))
        if not include_disabled:
            stmt = stmt.where(col(WebhookSubscription.disabled_at).is_(None))
        return list(s.exec(stmt).all())


def unsubscribe(sub_id: str, *, session: Session | None = None) -> tuple[WebhookSubscription, int]:
    """Disable a subscription (kept for its deliveries' history); its pending deliveries are
    skipped. Returns the row and how many were skipped. Unsubscribing twice is a no-op."""
    with _scope(session) as s:
        row = s.get(WebhookSubscription, sub_id.strip(), with_for_update=True)
        if row is None:
            raise UnknownSubscription(sub_id)
        if row.disabled_at is None:
            row.disabled_at = _now()
            s.add(row)
        result = s.exec(
            sa.update(WebhookDelivery)
            .where(col(WebhookDelivery.subscription_id) == row.id, col(WebhookDelivery.state) == DeliveryState.PENDING)
            .values(state=DeliveryState.SKIPPED, last_error="unsubscribed before delivery", updated_at=_now())
        )
        s.flush()
        return row, int(result.rowcount or 0)


# --- events ----------------------------------------------------------------------------


def event_id_of(change: StatusChange) -> str:
    """Stable: the audit row's unique key (subject, to_status, at), hashed."""
    key = f"{change.subject}|{change.to_status}|{change.at.astimezone(UTC).isoformat()}"
    return "evt_" + hashlib.sha256(key.encode()).hexdigest()[:24]


def _ids_of(subject: str) -> tuple[str, str | None]:
    m = ORDER_ID.match(subject)
    return (m.group(1), subject) if m else (subject, None)


def enqueue(*, session: Session, changes: list[StatusChange]) -> list[int]:
    """Queue the deliveries of these (just recorded) changes for every enabled subscription
    that wants them; returns the new delivery ids. Idempotent: an event and a delivery
    already there are kept once."""
    if not changes:
        return []
    subs = session.exec(select(WebhookSubscription).where(col(WebhookSubscription.disabled_at).is_(None))).all()
    if not subs:
        return []
    created: list[int] = []
    for change in changes:
        etype = event_type_of(change.to_status)
        request_id, order_id = _ids_of(change.subject)
        wanting = [s for s in subs if str(etype) in s.events and s.request_id in (None, request_id)]
        if not wanting:
            continue
        eid = event_id_of(change)
        if session.get(WebhookEvent, eid) is None:
            try:
                with session.begin_nested():
                    session.add(WebhookEvent(
                        id=eid, type=str(etype), subject=change.subject, request_id=request_id, order_id=order_id,
                        from_status=str(change.from_status) if change.from_status else None,
                        to_status=str(change.to_status), actor=change.actor[:320], reason=change.reason,
                        occurred_at=change.at))
            except IntegrityError:
                pass  # another transaction queued it first
        for sub in wanting:
            have = session.exec(select(WebhookDelivery.id).where(
                WebhookDelivery.subscription_id == sub.id, WebhookDelivery.event_id == eid)).first()
            if have is not None:
                continue
            delivery = WebhookDelivery(subscription_id=sub.id, event_id=eid, state=DeliveryState.PENDING)
            try:
                with session.begin_nested():
                    session.add(delivery)
            except IntegrityError:
                continue
            created.append(int(delivery.id or 0))
    session.flush()
    return created


# --- deliveries ------------------------------------------------------------------------


@dataclass(frozen=True)
class ToDispatch:
    delivery_id: int
    subscription_id: str
    event_id: str
    event_type: str
    round: int = 0


def undispatched(event_ids: list[str], *, stale_after: timedelta | None = timedelta(minutes=1),
                 limit: int = 200) -> list[ToDispatch]:
    """Pending deliveries with no workflow started yet: those of ``event_ids``, and (with
    ``stale_after``) any left over by a start that failed earlier."""
    with session_scope() as s:
        cond = col(WebhookDelivery.event_id).in_(event_ids) if event_ids else sa.false()
        if stale_after is not None:
            cond = sa.or_(cond, col(WebhookDelivery.created_at) < _now() - stale_after)
        stmt = (select(WebhookDelivery, WebhookEvent.type)
                .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
                .where(col(WebhookDelivery.state) == DeliveryState.PENDING,
                       col(WebhookDelivery.dispatched_at).is_(None), cond)
                .order_by(col(WebhookDelivery.id)).limit(limit))
        return [ToDispatch(int(d.id or 0), d.subscription_id, d.event_id, t, d.round) for d, t in s.exec(stmt).all()]


def mark_dispatched(delivery_ids: list[int]) -> None:
    if not delivery_ids:
        return
    with session_scope() as s:
        s.exec(sa.update(WebhookDelivery).where(col(WebhookDelivery.id).in_(delivery_ids),
                                                col(WebhookDelivery.dispatched_at).is_(None))
               .values(dispatched_at=_now()))


@dataclass(frozen=True)
class Attempt:
    """What one delivery attempt sends, or the state that says not to send."""

    state: DeliveryState
    attempts: int
    url: str = ""
    secret: str = ""
    event_id: str = ""
    event_type: str = ""
    body: bytes = b""


def begin_attempt(delivery_id: int, attempt: int) -> Attempt:
    """Count attempt number ``attempt`` and return what to send; a delivery no longer
    pending (delivered, failed, skipped) is returned with its state and nothing to send."""
    with session_scope() as s:
        d = s.get(WebhookDelivery, delivery_id, with_for_update=True)
        if d is None:
            raise LookupError(f"webhook delivery {delivery_id} is not in the database")
        if d.state != DeliveryState.PENDING:
            return Attempt(state=DeliveryState(d.state), attempts=d.attempts)
        sub = s.get(WebhookSubscription, d.subscription_id)
        event = s.get(WebhookEvent, d.event_id)
        assert sub is not None and event is not None  # foreign keys
        if sub.disabled_at is not None:
            d.state, d.last_error, d.updated_at = DeliveryState.SKIPPED, "unsubscribed before delivery", _now()
            s.add(d)
            return Attempt(state=DeliveryState.SKIPPED, attempts=d.attempts)
        d.attempts = max(d.attempts, attempt)
        d.updated_at = _now()
        s.add(d)
        return Attempt(state=DeliveryState.PENDING, attempts=d.attempts, url=sub.url,
                       secret=reveal(sub.secret_ref, session=s), event_id=event.id, event_type=event.type,
                       body=event_body(event))


def finish_attempt(delivery_id: int, *, delivered: bool, status_code: int | None, error: str | None) -> None:
    """Record an attempt's outcome: delivered (never sent again) or its error, still pending."""
    with session_scope() as s:
        d = s.get(WebhookDelivery, delivery_id, with_for_update=True)
        if d is None or d.state != DeliveryState.PENDING:
            return
        d.last_status_code = status_code
        d.updated_at = _now()
        if delivered:
            d.state, d.delivered_at, d.last_error = DeliveryState.DELIVERED, _now(), None
        else:
            d.last_error = (error or "")[:MAX_ERROR]
        s.add(d)


def give_up(delivery_id: int, reason: str) -> str:
    """The workflow stopped trying: a pending delivery becomes failed; returns its state."""
    with session_scope() as s:
        d = s.get(WebhookDelivery, delivery_id, with_for_update=True)
        if d is None:
            raise LookupError(f"webhook delivery {delivery_id} is not in the database")
        if d.state == DeliveryState.PENDING:
            d.state, d.updated_at = DeliveryState.FAILED, _now()
            d.last_error = (reason or d.last_error or "gave up")[:MAX_ERROR]
            s.add(d)
        return d.state


class CannotRedeliver(ValueError):
    """A redelivery asked for a delivery that is not failed."""


def _redeliverable(s: Session, delivery_id: int, *, lock: bool) -> WebhookDelivery:
    in_range = 1 <= delivery_id <= 2**31 - 1  # an INTEGER column on PostgreSQL
    d = s.get(WebhookDelivery, delivery_id, with_for_update=lock) if in_range else None
    if d is None:
        raise CannotRedeliver(f"no webhook delivery {delivery_id}: see python starter.py webhooks deliveries")
    if d.state != DeliveryState.FAILED:
        raise CannotRedeliver(f"delivery {delivery_id} is {d.state}: only a failed delivery is sent again")
    sub = s.get(WebhookSubscription, d.subscription_id)
    if sub is None or sub.disabled_at is not None:
        raise CannotRedeliver(f"delivery {delivery_id}'s subscription {d.subscription_id} was removed")
    return d


def check_redeliverable(delivery_id: int) -> None:
    """:class:`CannotRedeliver` unless ``delivery_id`` is failed and its subscription in place."""
    with session_scope() as s:
        _redeliverable(s, delivery_id, lock=False)


def reopen(delivery_id: int, *, by: str) -> WebhookDelivery:
    """A failed delivery back to pending for one more round (after the receiver was fixed):
    attempts start again, its next workflow is ``...-r<round>``. Only a failed delivery of a
    subscription still in place may be reopened, so two requests cannot send it twice."""
    with session_scope() as s:
        d = _redeliverable(s, delivery_id, lock=True)
        d.state, d.round, d.attempts, d.dispatched_at = DeliveryState.PENDING, d.round + 1, 0, None
        d.last_error = f"redelivery asked by {by[:200]} after: {d.last_error or 'failure'}"[:MAX_ERROR]
        d.updated_at = _now()
        s.add(d)
        s.flush()
        return d


def deliveries(*, subscription_id: str | None = None, limit: int = 100,
               session: Session | None = None) -> list[tuple[WebhookDelivery, WebhookEvent]]:
    """The newest deliveries first, with their events."""
    with _scope(session) as s:
        stmt = (select(WebhookDelivery, WebhookEvent)
                .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
                .order_by(col(WebhookDelivery.id).desc()).limit(limit))
        if subscription_id is not None:
            if s.get(WebhookSubscription, subscription_id) is None:
                raise UnknownSubscription(subscription_id)
            stmt = stmt.where(col(WebhookDelivery.subscription_id) == subscription_id)
        return [(d, e) for d, e in s.exec(stmt).all()]


# --- the body --------------------------------------------------------------------------


def _mask(text: str) -> str:
    return _NUMBERISH.sub(lambda m: "[number]" if sum(c.isdigit() for c in m.group()) >= 4 else m.group(), text)


def redact(text: str) -> str:
    """``text`` with every run of 4+ digits (a phone, account or PIN number) replaced, except
    ISO dates and times."""
    out, last = [], 0
    for m in _DATE.finditer(text):
        out += [_mask(text[last:m.start()]), m.group()]
        last = m.end()
    return "".join([*out, _mask(text[last:])])


def port_link(request_id: str) -> str:
    s = get_settings()
    base = s.public_url.rstrip("/") or f"http://{s.api_host}:{s.api_port}"
    return f"{base}/v1/ports/{request_id}"


def event_body(event: WebhookEvent) -> bytes:
    """The JSON an event's deliveries send (the same bytes on every attempt). Ids, statuses,
    who and why; never numbers, PINs or account numbers (the reason's digit runs are masked)."""
    body = {
        "version": BODY_VERSION,
        "id": event.id,
        "type": event.type,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "request_id": event.request_id,
        "order_id": event.order_id,
        "status": {"from": event.from_status, "to": event.to_status},
        "actor": event.actor,
        "reason": redact(event.reason)[:1000],
        "link": port_link(event.request_id),
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
