"""Webhook subscriptions, events and deliveries in the store (SQLite, and PostgreSQL when
PORTFLOW_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from activities.audit import record_changes
from models.status import PortStatus as S
from models.status import StatusChange
from models.webhooks import DeliveryState, EventType, SubscriptionProblem
from store import webhooks
from store.db import session_scope
from store.tables import VaultSecret
from store.webhook_tables import WebhookDelivery, WebhookEvent, WebhookSubscription

T0 = datetime(2026, 5, 4, 15, 0, tzinfo=UTC)
RID = "PR-2026-0001"


def _change(subject: str, frm: S, to: S, at: datetime = T0, reason: str = "moved") -> StatusChange:
    return StatusChange(subject=subject, from_status=frm, to_status=to, actor="system", reason=reason, at=at)


def _count(model: type) -> int:
    with session_scope() as s:
        return len(s.exec(select(model)).all())


@pytest.fixture
def port(saved) -> str:
    saved(RID, ["+14155550101"])
    return RID


def test_the_secret_is_shown_once_and_kept_only_sealed(engine: Engine) -> None:
    row, secret = webhooks.subscribe(url="https://pm.example/hook", events=[EventType.FOC], owner="pm@x.example")
    assert secret.startswith("whsec_") and len(secret) > 40
    with session_scope() as s:
        stored = s.get(WebhookSubscription, row.id)
        vault = s.get(VaultSecret, stored.secret_ref)
        dump = json.dumps([stored.model_dump(mode="json"), vault.model_dump(mode="json")])
    assert secret not in dump  # Fernet ciphertext only
    with session_scope() as s:
        from store.vault import reveal

        assert reveal(stored.secret_ref, session=s) == secret
    assert webhooks.secret_of(row.id) == secret
    with pytest.raises(webhooks.UnknownSubscription):
        webhooks.secret_of("whs_nope")
    assert stored.events == ["foc"] and stored.request_id is None and stored.owner == "pm@x.example"


@pytest.mark.parametrize("url, says", [
    ("http://pm.example/hook", "http:// is refused"),
    ("ftp://pm.example/hook", "scheme"),
    ("https://user:pw@pm.example/hook", "user name or password"),
    ("https:///nohost", "no host"),
    ("https://pm.example/hook#frag", "fragment"),
    ("https://pm.example:99999/", "cannot be parsed"),
    ("https://pm example/", "spaces"),
    ("", "empty"),
    ("https://" + "a" * 2001, "at most 2000"),
])
def test_bad_urls_are_refused_with_what_to_fix(engine: Engine, url: str, says: str) -> None:
    with pytest.raises(SubscriptionProblem, match=says):
        webhooks.subscribe(url=url, events=list(EventType), owner="pm@x.example")
    assert _count(WebhookSubscription) == 0


@pytest.mark.parametrize("url", ["http://localhost:9000/hook", "http://127.0.0.1/h", "http://[::1]:8080/",
                                 "https://pm.example/hooks/portflow?x=1", "https://10.0.0.7:8443/h"])
def test_good_urls_are_accepted(engine: Engine, url: str) -> None:
    row, _ = webhooks.subscribe(url=url, events=list(EventType), owner="pm@x.example")
    assert row.url == url


def test_each_change_is_one_event_of_its_most_specific_type(engine: Engine, port: str) -> None:
    row, _ = webhooks.subscribe(url="https://pm.example/h", events=list(EventType), owner="pm")
    record_changes([_change(RID, S.INTAKE, S.DOCUMENTS)])
    record_changes([_change(f"{RID}-1", S.INTAKE, S.VALIDATED, T0 + timedelta(minutes=1))])
    with session_scope() as s:
        events = s.exec(select(WebhookEvent).order_by(WebhookEvent.occurred_at)).all()
    assert [(e.type, e.request_id, e.order_id) for e in events] == [
        ("stage_changed", RID, None), ("stage_changed", RID, f"{RID}-1")]
    assert _count(WebhookDelivery) == 2


def test_recording_again_queues_nothing_new(engine: Engine, port: str) -> None:
    """A retried activity records the same changes: one event, one delivery per subscription."""
    a, _ = webhooks.subscribe(url="https://a.example/h", events=list(EventType), owner="pm")
    b, _ = webhooks.subscribe(url="https://b.example/h", events=[EventType.STAGE_CHANGED], owner="pm")
    changes = [_change(RID, S.INTAKE, S.DOCUMENTS), _change(RID, S.DOCUMENTS, S.VALIDATED, T0 + timedelta(seconds=1))]
    for _ in range(3):
        record_changes(changes)
    assert _count(WebhookEvent) == 2
    with session_scope() as s:
        pairs = sorted((d.subscription_id, d.event_id) for d in s.exec(select(WebhookDelivery)).all())
    assert len(pairs) == 4 and len(set(pairs)) == 4 and {p[0] for p in pairs} == {a.id, b.id}


def test_the_database_itself_refuses_a_second_delivery(engine: Engine, port: str) -> None:
    sub, _ = webhooks.subscribe(url="https://a.example/h", events=list(EventType), owner="pm")
    record_changes([_change(RID, S.INTAKE, S.DOCUMENTS)])
    eid = webhooks.event_id_of(_change(RID, S.INTAKE, S.DOCUMENTS))
    with pytest.raises(IntegrityError), session_scope() as s:
        s.add(WebhookDelivery(subscription_id=sub.id, event_id=eid, state="pending"))
        s.flush()


def test_filters_event_types_and_request(engine: Engine, port: str, saved) -> None:
    saved("PR-2026-0002", ["+14155550102"])
    foc, _ = webhooks.subscribe(url="https://a.example/h", events=[EventType.FOC, EventType.EXCEPTION], owner="pm")
    only2, _ = webhooks.subscribe(url="https://b.example/h", events=list(EventType), owner="pm",
                                  request_id="pr-2026-0002")
    assert only2.request_id == "PR-2026-0002"
    record_changes([_change(RID, S.INTAKE, S.DOCUMENTS), _change("PR-2026-0002", S.INTAKE, S.FAILED)])
    got = {(d.subscription_id, e.type, e.request_id) for d, e in webhooks.deliveries()}
    assert got == {(only2.id, "failed", "PR-2026-0002")}
    assert webhooks.deliveries(subscription_id=foc.id) == []


def test_refused_changes_queue_nothing(engine: Engine, port: str) -> None:
    webhooks.subscribe(url="https://a.example/h", events=list(EventType), owner="pm")
    record_changes([_change(RID, S.VALIDATED, S.LOA_SENT)])  # the store says intake: a conflict, logged
    record_changes([_change("PR-2026-0999", S.INTAKE, S.FAILED)])  # never saved
    assert _count(WebhookEvent) == 0 and _count(WebhookDelivery) == 0


def test_no_subscription_no_rows(engine: Engine, port: str) -> None:
    record_changes([_change(RID, S.INTAKE, S.DOCUMENTS)])
    assert _count(WebhookEvent) == 0


def test_unsubscribe_skips_pending_and_stops_new_ones(engine: Engine, port: str) -> None:
    sub, _ = webhooks.subscribe(url="https://a.example/h", events=list(EventType), owner="pm")
    record_changes([_change(RID, S.INTAKE, S.DOCUMENTS)])
    row, skipped = webhooks.unsubscribe(sub.id)
    assert row.disabled_at is not None and skipped == 1
    assert webhooks.unsubscribe(sub.id)[1] == 0  # twice: a no-op
    record_changes([_change(RID, S.DOCUMENTS, S.VALIDATED, T0 + timedelta(minutes=1))])
    assert [d.state for d, _ in webhooks.deliveries()] == ["skipped"]
    assert webhooks.subscriptions() == [] and len(webhooks.subscriptions(include_disabled=True)) == 1
    assert webhooks.begin_attempt(webhooks.deliveries()[0][0].id, 1).state == DeliveryState.SKIPPED
    with pytest.raises(webhooks.UnknownSubscription, match="webhooks list"):
        webhooks.unsubscribe("whs_nope")


def test_attempts_delivered_and_given_up(engine: Engine, port: str) -> None:
    webhooks.subscribe(url="https://a.example/h", events=list(EventType), owner="pm")
    record_changes([_change(RID, S.INTAKE, S.DOCUMENTS), _change(RID, S.DOCUMENTS, S.VALIDATED, T0 + timedelta(1))])
    (d2, _), (d1, _) = webhooks.deliveries()
    first = webhooks.begin_attempt(d1.id, 1)
    assert first.state == DeliveryState.PENDING and first.secret.startswith("whsec_") and first.body
    webhooks.finish_attempt(d1.id, delivered=False, status_code=502, error="HTTP 502")
    assert webhooks.begin_attempt(d1.id, 2).body == first.body  # the same bytes on every attempt
    webhooks.finish_attempt(d1.id, delivered=True, status_code=200, error=None)
    again = webhooks.begin_attempt(d1.id, 3)  # a retry after success: nothing to send
    assert (again.state, again.attempts, again.body) == (DeliveryState.DELIVERED, 2, b"")
    assert webhooks.give_up(d1.id, "late") == "delivered"  # a give-up never undoes a delivery
    assert webhooks.give_up(d2.id, "HTTP 410: gone") == "failed"
    rows = {d.id: d for d, _ in webhooks.deliveries()}
    assert (rows[d1.id].state, rows[d1.id].attempts, rows[d1.id].last_status_code) == ("delivered", 2, 200)
    assert (rows[d2.id].state, rows[d2.id].last_error) == ("failed", "HTTP 410: gone")


def test_the_body_has_ids_and_statuses_but_no_numbers(engine: Engine, port: str) -> None:
    webhooks.subscribe(url="https://a.example/h", events=list(EventType), owner="pm")
    reason = "carrier rejected: BTN +1 (415) 555-0101 and account ACCT-998877660, PIN 4321 wrong; call 2 ops"
    record_changes([_change(f"{RID}-1", S.INTAKE, S.VALIDATED, reason=reason)])
    (d, e), = webhooks.deliveries()
    body = json.loads(webhooks.begin_attempt(d.id, 1).body)
    assert body["id"] == e.id and body["type"] == "stage_changed" and body["order_id"] == f"{RID}-1"
    assert body["request_id"] == RID and body["status"] == {"from": "intake", "to": "validated"}
    assert body["occurred_at"] == "2026-05-04T15:00:00Z" and body["link"].endswith(f"/v1/ports/{RID}")
    for secret in ("415", "555-0101", "998877660", "4321"):
        assert secret not in body["reason"], body["reason"]
    assert "call 2 ops" in body["reason"]  # short numbers that are not secrets stay


@pytest.mark.parametrize("reason, kept, masked", [
    ("FOC confirmed for 2027-01-05 14:00 UTC (carrier says 2027-01-05T09:00-05:00)",
     ["2027-01-05 14:00 UTC", "2027-01-05T09:00-05:00"], []),
    ("numbers +1 212-555-0100 and 2125550101 released", [], ["212", "555-0100", "2125550101"]),
    ("account 2026-01-31-7788 and PIN 4417", [], ["7788", "4417"]),
    ("BTN 2026-555-1234", [], ["555-1234"]),
])
def test_redaction_keeps_dates_and_masks_numbers(reason: str, kept: list[str], masked: list[str]) -> None:
    out = webhooks.redact(reason)
    assert all(k in out for k in kept), out
    assert not any(m in out for m in masked), out


def test_undispatched_and_marking(engine: Engine, port: str) -> None:
    webhooks.subscribe(url="https://a.example/h", events=list(EventType), owner="pm")
    change = _change(RID, S.INTAKE, S.DOCUMENTS)
    record_changes([change])
    todo = webhooks.undispatched([webhooks.event_id_of(change)])
    assert len(todo) == 1 and todo[0].event_type == "stage_changed"
    assert webhooks.undispatched([]) == []  # not stale yet
    webhooks.mark_dispatched([todo[0].delivery_id])
    assert webhooks.undispatched([webhooks.event_id_of(change)]) == []
    with session_scope() as s:  # a start that failed a while ago is picked up by any dispatch
        s.exec(sa.update(WebhookDelivery).values(dispatched_at=None, created_at=datetime.now(UTC) - timedelta(hours=1)))
    assert [t.delivery_id for t in webhooks.undispatched([])] == [todo[0].delivery_id]


def test_only_a_failed_delivery_of_a_live_subscription_is_reopened(engine: Engine, port: str) -> None:
    sub, _ = webhooks.subscribe(url="https://a.example/h", events=list(EventType), owner="pm")
    record_changes([_change(RID, S.INTAKE, S.DOCUMENTS)])
    (d, _), = webhooks.deliveries()
    with pytest.raises(webhooks.CannotRedeliver, match="is pending"):
        webhooks.reopen(d.id, by="pm")
    webhooks.give_up(d.id, "HTTP 410")
    webhooks.check_redeliverable(d.id)
    again = webhooks.reopen(d.id, by="pm@x.example")
    assert (again.state, again.round, again.attempts) == ("pending", 1, 0) and "HTTP 410" in again.last_error
    assert [t.round for t in webhooks.undispatched([d.event_id])] == [1]
    webhooks.give_up(d.id, "HTTP 410 again")
    webhooks.unsubscribe(sub.id)
    with pytest.raises(webhooks.CannotRedeliver, match="was removed"):
        webhooks.reopen(d.id, by="pm")
    with pytest.raises(webhooks.CannotRedeliver, match="no webhook delivery"):
        webhooks.check_redeliverable(999)
