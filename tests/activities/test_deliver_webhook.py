"""``deliver_webhook`` alone (ActivityEnvironment) against a real local receiver: how each
answer is classified, and a retry after success sends nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.audit import record_changes
from activities.webhooks import deliver_webhook, webhook_failed
from models.request import PortRequest
from models.status import PortStatus, StatusChange
from models.webhooks import DeliveryFailed, DeliveryInput, DeliveryState, EventType
from store import requests, webhooks
from store.db import dispose_engines, migrate, session_scope
from store.vault import seal
from tests.settings_helpers import use_settings
from tests.webhook_receiver import Receiver, running_receiver

RID = "PR-2026-0077"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    use_settings(monkeypatch, VAR_DIR=tmp_path / "var", DATABASE_URL=None, OUTGOING_WEBHOOK_TIMEOUT_SECONDS="1")
    dispose_engines()
    migrate()
    req = PortRequest.model_validate({
        "id": RID, "customer": {"name": "Contoso"},
        "contact": {"name": "Ana", "email": "ana@contoso.example", "phone": "+14155550100"},
        "signer": {"name": "Bo", "title": "CFO", "email": "bo@contoso.example"},
        "requested_port_date": date(2027, 3, 16).isoformat(),
        "accounts": [{"carrier": "Lumen", "account_number": "A-1234567", "btn": "+14155550101",
                      "service_address": {"street": "1 Main St", "city": "SF", "state": "CA", "postal_code": "94105"},
                      "numbers": ["+14155550101"]}]})
    with session_scope() as s:
        requests.save_request(session=s, request=seal(req, session=s), pm_email="pm@x.example")
    yield
    dispose_engines()


def _queued(rec: Receiver, path: str) -> DeliveryInput:
    row, secret = webhooks.subscribe(url=rec.url + path, events=list(EventType), owner="pm@x.example")
    rec.secrets[path] = secret
    change = StatusChange(subject=RID, from_status=PortStatus.INTAKE, to_status=PortStatus.DOCUMENTS,
                          actor="system", reason="waiting", at=datetime.now(UTC))
    record_changes([change])
    (d, e), = webhooks.deliveries(subscription_id=row.id)
    return DeliveryInput(delivery_id=d.id, subscription_id=row.id, event_id=e.id, event_type=EventType(e.type))


async def _attempt(inp: DeliveryInput, attempt: int = 1):  # noqa: ANN202
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=attempt)
    return await env.run(deliver_webhook, inp)


async def test_a_retry_after_success_sends_nothing(store: None) -> None:
    with running_receiver() as rec:
        inp = _queued(rec, "/ok")
        first = await _attempt(inp, 1)
        second = await _attempt(inp, 2)  # e.g. the worker died before reporting the first
    assert (first.state, first.status_code) == (DeliveryState.DELIVERED, 200)
    assert (second.state, second.detail) == (DeliveryState.DELIVERED, "already delivered")
    assert len(rec.on("/ok")) == 1 and rec.on("/ok")[0].verified is not None


@pytest.mark.parametrize("answer, retryable, says", [
    (500, True, "HTTP 500"),
    (408, True, "HTTP 408"),
    (429, True, "HTTP 429"),
    (404, False, "HTTP 404"),
    (401, False, "HTTP 401"),
    ((302, {"Location": "https://elsewhere.example/"}), False, "redirect to https://elsewhere.example/"),
])
async def test_answers_are_classified(store: None, answer, retryable: bool, says: str) -> None:  # noqa: ANN001
    with running_receiver() as rec:
        inp = _queued(rec, "/x")
        rec.script["/x"] = [answer]
        with pytest.raises(ApplicationError) as err:
            await _attempt(inp)
    assert err.value.non_retryable is (not retryable) and says in err.value.message
    (d, _), = webhooks.deliveries()
    assert d.state == "pending" and d.attempts == 1 and says in d.last_error


async def test_retry_after_is_honoured(store: None) -> None:
    with running_receiver() as rec:
        inp = _queued(rec, "/slow")
        rec.script["/slow"] = [(429, {"Retry-After": "120"})]
        with pytest.raises(ApplicationError) as err:
            await _attempt(inp)
    assert err.value.next_retry_delay == timedelta(seconds=120)


async def test_an_unreachable_receiver_is_retryable(store: None) -> None:
    with running_receiver() as rec:
        inp = _queued(rec, "/gone")
    with pytest.raises(ApplicationError) as err:  # the server is shut: connection refused
        await _attempt(inp)
    assert not err.value.non_retryable and err.value.type == "WebhookUnreachable"


async def test_the_give_up_marks_failed_once(store: None) -> None:
    with running_receiver() as rec:
        inp = _queued(rec, "/never")
    env = ActivityEnvironment()
    assert env.run(webhook_failed, DeliveryFailed(delivery_id=inp.delivery_id, reason="gave up")) == "failed"
    assert env.run(webhook_failed, DeliveryFailed(delivery_id=inp.delivery_id, reason="again")) == "failed"
    (d, _), = webhooks.deliveries()
    assert (d.state, d.last_error) == ("failed", "gave up")
    assert (await _attempt(inp, 5)).state == DeliveryState.FAILED  # a late attempt sends nothing


async def test_a_lost_vault_key_is_not_retried(store: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with running_receiver() as rec:
        inp = _queued(rec, "/k")
        use_settings(monkeypatch, SECRET_KEY="another-key-of-at-least-32-characters-long")
        with pytest.raises(ApplicationError) as err:
            await _attempt(inp)
    assert err.value.non_retryable and "cannot sign" in err.value.message and rec.on("/k") == []
