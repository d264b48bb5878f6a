"""Outgoing webhooks end to end on the time-skipping server: the real worker (audit path,
dispatch interceptor, delivery workflow and activity) posts to a real local HTTP receiver that
verifies every signature."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select
from temporalio import activity, workflow
from temporalio.client import WorkflowExecutionStatus
from temporalio.common import RetryPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.audit import INTERCEPTORS, record_changes
from activities.webhook_dispatch import WebhookDispatchInterceptor, dispatch, dispatch_left_over, redeliver
from activities.webhooks import deliver_webhook, webhook_failed
from portflow.runtime import workflow_runner
from models.status import PortStatus, StatusChange
from models.webhooks import DeliveryResult, EventType
from store import requests, webhooks
from store.db import session_scope
from store.tables import AuditEvent
from store.vault import seal
from store.webhook_tables import WebhookDelivery, WebhookEvent
from tests.polling import eventually
from tests.settings_helpers import use_settings
from tests.webhook_receiver import Receiver, running_receiver
from tests.workflows.helpers import PM, attach_all, record_histories, sample_request, sign_all, start, wait_for
from worker import build_worker
from workflows.audit import AuditTrail
from workflows.webhooks import WebhookDeliveryWorkflow, delivery_workflow_id


@pytest.fixture
def hooks_env(port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    use_settings(monkeypatch, TEMPORAL_TASK_QUEUE=task_queue, VERIFICATION="auto",
                 OUTGOING_WEBHOOK_FIRST_RETRY_SECONDS="0.2", OUTGOING_WEBHOOK_MAX_ATTEMPTS="4")
    return port_var


def _subscribe(rec: Receiver, path: str, events: list[EventType] | None = None, request_id: str | None = None) -> str:
    row, secret = webhooks.subscribe(url=rec.url + path, events=events or list(EventType), owner=PM,
                                     request_id=request_id)
    rec.secrets[path] = secret
    return row.id


def _saved_request() -> str:
    req = sample_request(accounts=1)
    with session_scope() as s:
        requests.save_request(session=s, request=seal(req, session=s), pm_email=PM)
    return req.id


def _change(subject: str, to: PortStatus = PortStatus.DOCUMENTS) -> StatusChange:
    return StatusChange(subject=subject, from_status=PortStatus.INTAKE, to_status=to, actor="system",
                        reason="waiting for the CSR of account 8831-2207-19 (+12125550100)", at=datetime.now(UTC))


def _delivery(sub_id: str) -> WebhookDelivery:
    with session_scope() as s:
        return s.exec(select(WebhookDelivery).where(WebhookDelivery.subscription_id == sub_id)).one()


async def test_a_port_run_delivers_each_stage_change_once(env: WorkflowEnvironment, hooks_env: Path,
                                                          tmp_path: Path) -> None:
    req = sample_request(accounts=1)
    with running_receiver() as rec:
        every = _subscribe(rec, "/all")
        mine = _subscribe(rec, "/foc-done", [EventType.FOC, EventType.COMPLETED], request_id=req.id)
        other = _subscribe(rec, "/other-port", request_id="PR-2001-0001")
        async with build_worker(env.client):
            handle = await start(env.client, req)
            await attach_all(env.client, req, tmp_path)
            await wait_for(handle, lambda v: len(v.orders) == 1 and v.orders[0].status == PortStatus.LOA_SENT,
                           what="the LOA sent")
            await handle.execute_update("assign", {"actor": PM, "assignments": {
                tn: f"user{i}@contoso.example" for i, tn in enumerate(req.all_numbers)}})
            await sign_all(env.client, req)
            assert (await handle.result()).status == PortStatus.COMPLETED
            with session_scope() as s:
                timeline = requests.timeline(session=s, subject_prefix=req.id)
                expected = {webhooks.event_id_of(requests.as_change(e)) for e in timeline}
            # every delivery workflow ends (awaiting their results lets the server skip time)
            for eid in expected:
                for sub in (every, mine):
                    try:
                        await env.client.get_workflow_handle(delivery_workflow_id(sub, eid)).result()
                    except Exception:  # noqa: BLE001 - /foc-done wants two types only: no such workflow
                        pass
            await record_histories(env.client, "webhook_delivery", [delivery_workflow_id(every, sorted(expected)[0])])

    got_all = rec.accepted("/all")
    assert len(timeline) >= 10 and all(r.verified for r in rec.on("/all"))
    ids = Counter(r.verified["id"] for r in got_all)
    assert set(ids) == expected and set(ids.values()) == {1}, ids  # each stage change once
    assert {r.verified["status"]["to"] for r in got_all} >= {"validated", "loa_sent", "foc_confirmed", "completed"}
    focus = [r.verified for r in rec.accepted("/foc-done")]
    assert sorted(e["type"] for e in focus) == ["completed", "completed", "foc"]  # order and request complete
    assert all(e["request_id"] == req.id and e["link"].endswith(f"/v1/ports/{req.id}") for e in focus)
    assert rec.on("/other-port") == [] and webhooks.deliveries(subscription_id=other) == []
    # no number, PIN or account number in any body
    bodies = b" ".join(r.body for r in rec.got).decode()
    for secret_value in ("8831-2207-19", "4417", *[tn.lstrip("+") for tn in req.all_numbers]):
        assert secret_value not in bodies
    assert {d.state for d, _ in webhooks.deliveries(limit=1000)} == {"delivered"}


async def test_500_twice_then_200_is_delivered_once_after_3_attempts(env: WorkflowEnvironment, hooks_env: Path) -> None:
    rid = _saved_request()
    with running_receiver() as rec:
        sub = _subscribe(rec, "/flaky")
        rec.script["/flaky"] = [500, 503]
        async with build_worker(env.client):
            change = _change(rid)
            record_changes([change])
            assert await dispatch(env.client, env_queue(), [change]) == 1
            result = await env.client.get_workflow_handle(
                delivery_workflow_id(sub, webhooks.event_id_of(change)), result_type=DeliveryResult).result()
    assert [r.answered for r in rec.on("/flaky")] == [500, 503, 200]
    assert result.state == "delivered" and result.attempts == 3
    d = _delivery(sub)
    assert (d.state, d.attempts, d.last_status_code, d.last_error) == ("delivered", 3, 200, None)
    body = rec.accepted("/flaky")[0].verified
    assert body["type"] == "stage_changed" and body["status"] == {"from": "intake", "to": "documents"}
    assert "8831" not in body["reason"] and "2125550100" not in body["reason"]


async def test_400_fails_at_once_and_is_not_retried(env: WorkflowEnvironment, hooks_env: Path) -> None:
    rid = _saved_request()
    with running_receiver() as rec:
        sub = _subscribe(rec, "/refuses")
        rec.script["/refuses"] = [400, 400, 400]
        async with build_worker(env.client):
            change = _change(rid)
            record_changes([change])
            await dispatch(env.client, env_queue(), [change])
            wid = delivery_workflow_id(sub, webhooks.event_id_of(change))
            result = await env.client.get_workflow_handle(wid, result_type=DeliveryResult).result()
            await record_histories(env.client, "webhook_refused", [wid])
    assert [r.answered for r in rec.on("/refuses")] == [400]
    d = _delivery(sub)
    assert (result.state, d.state, d.attempts, d.last_status_code) == ("failed", "failed", 1, 400)
    assert "HTTP 400" in (d.last_error or "")


async def test_a_retried_recording_duplicates_nothing(env: WorkflowEnvironment, hooks_env: Path) -> None:
    """What a retried activity does: the interceptor records the same changes and dispatches
    again, even after the delivery finished and its start was forgotten."""
    rid = _saved_request()
    with running_receiver() as rec:
        sub = _subscribe(rec, "/once")
        async with build_worker(env.client):
            change = _change(rid)
            for _ in range(3):
                record_changes([change])
                await dispatch(env.client, env_queue(), [change])
            handle = env.client.get_workflow_handle(delivery_workflow_id(sub, webhooks.event_id_of(change)))
            await handle.result()
            with session_scope() as s:  # as if the start had never been noted
                s.exec(sa.update(WebhookDelivery).values(dispatched_at=None, state="pending"))
            await dispatch(env.client, env_queue(), [change])  # REJECT_DUPLICATE: no second workflow
            assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    with session_scope() as s:
        assert len(s.exec(select(AuditEvent).where(AuditEvent.subject == rid)).all()) == 1
        assert len(s.exec(select(WebhookEvent)).all()) == 1
        assert len(s.exec(select(WebhookDelivery)).all()) == 1
    assert len(rec.on("/once")) == 1


async def test_an_unreachable_receiver_gives_up_after_max_attempts(env: WorkflowEnvironment, hooks_env: Path) -> None:
    rid = _saved_request()
    with running_receiver() as rec:
        dead = rec.url
    row, _ = webhooks.subscribe(url=dead + "/gone", events=list(EventType), owner=PM)
    async with build_worker(env.client):
        change = _change(rid)
        record_changes([change])
        await dispatch(env.client, env_queue(), [change])
        result = await env.client.get_workflow_handle(delivery_workflow_id(row.id, webhooks.event_id_of(change)),
                                                      result_type=DeliveryResult).result()
    d = await eventually(lambda: _delivery(row.id), lambda d: d.state != "pending", what="the give-up")
    assert (result.state, d.state, d.attempts) == ("failed", "failed", 4)
    assert "gave up after 4 attempt(s)" in (d.last_error or "") and "reach the receiver" in d.last_error


async def test_a_delivery_whose_start_failed_goes_out_at_the_next_worker_start(env: WorkflowEnvironment,
                                                                               hooks_env: Path) -> None:
    rid = _saved_request()
    with running_receiver() as rec:
        sub = _subscribe(rec, "/late")
        change = _change(rid)
        record_changes([change])  # recorded and queued, but no workflow started (the server was away)
        with session_scope() as s:
            s.exec(sa.update(WebhookDelivery).values(created_at=datetime.now(UTC) - timedelta(minutes=5)))
        async with build_worker(env.client) as worker:
            assert await dispatch_left_over(env.client, worker.task_queue) == 1
            assert await dispatch_left_over(env.client, worker.task_queue) == 0  # noted as started
            await env.client.get_workflow_handle(delivery_workflow_id(sub, webhooks.event_id_of(change))).result()
    assert len(rec.accepted("/late")) == 1 and _delivery(sub).state == "delivered"


def env_queue() -> str:
    from core.settings import get_settings

    return get_settings().temporal_task_queue


@activity.defn(name="flaky_after_recording")
async def flaky_after_recording() -> int:
    """Fails its first two attempts after the audit interceptor recorded the carried changes."""
    if activity.info().attempt < 3:
        raise RuntimeError(f"attempt {activity.info().attempt} fails")
    return activity.info().attempt


@workflow.defn(name="CarriesAChange", sandboxed=False)
class CarriesAChange:
    """A workflow that moves once and carries the move with its next activity, as the port
    workflows do (workflows/audit.py)."""

    def __init__(self) -> None:
        self.audit_trail = AuditTrail()

    @workflow.run
    async def run(self, change: StatusChange) -> int:
        self.audit_trail.add(change)
        return await workflow.execute_activity(
            "flaky_after_recording", start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=3))


async def test_a_real_activity_retry_records_and_delivers_once(env: WorkflowEnvironment, hooks_env: Path,
                                                             executor: ThreadPoolExecutor) -> None:
    """The worker retries an activity that carried a status change: the interceptors record and
    dispatch on each of its three attempts; the receiver still gets the event once."""
    rid = _saved_request()
    queue = env_queue()
    with running_receiver() as rec:
        sub = _subscribe(rec, "/retried")
        async with Worker(env.client, task_queue=queue, workflows=[CarriesAChange, WebhookDeliveryWorkflow],
                          activities=[flaky_after_recording, deliver_webhook, webhook_failed],
                          workflow_runner=workflow_runner(), activity_executor=executor,
                          interceptors=[*INTERCEPTORS, WebhookDispatchInterceptor(env.client, queue)]):
            change = _change(rid)
            attempts = await env.client.execute_workflow(CarriesAChange.run, change, id=f"carries-{rid}",
                                                         task_queue=queue)
            await env.client.get_workflow_handle(delivery_workflow_id(sub, webhooks.event_id_of(change))).result()
    assert attempts == 3
    with session_scope() as s:
        assert len(s.exec(select(AuditEvent).where(AuditEvent.subject == rid)).all()) == 1
        assert len(s.exec(select(WebhookEvent)).all()) == 1
        assert len(s.exec(select(WebhookDelivery)).all()) == 1
    assert len(rec.on("/retried")) == 1 and rec.on("/retried")[0].verified["status"]["to"] == "documents"


async def test_a_failed_delivery_is_sent_again_once_asked(env: WorkflowEnvironment, hooks_env: Path) -> None:
    rid = _saved_request()
    with running_receiver() as rec:
        sub = _subscribe(rec, "/fixed-later")
        rec.script["/fixed-later"] = [410]
        async with build_worker(env.client) as worker:
            change = _change(rid)
            record_changes([change])
            await dispatch(env.client, worker.task_queue, [change])
            eid = webhooks.event_id_of(change)
            await env.client.get_workflow_handle(delivery_workflow_id(sub, eid)).result()
            failed = _delivery(sub)
            assert failed.state == "failed"
            assert await redeliver(env.client, worker.task_queue, failed.id, by=PM) == 1
            with pytest.raises(webhooks.CannotRedeliver, match="only a failed delivery"):
                await redeliver(env.client, worker.task_queue, failed.id, by=PM)  # pending now: not twice
            result = await env.client.get_workflow_handle(delivery_workflow_id(sub, eid, 1),
                                                          result_type=DeliveryResult).result()
    assert result.state == "delivered" and [r.answered for r in rec.on("/fixed-later")] == [410, 200]
    d = _delivery(sub)
    assert (d.state, d.round, d.attempts) == ("delivered", 1, 1)
    with pytest.raises(webhooks.CannotRedeliver, match="is delivered"):
        webhooks.reopen(d.id, by=PM)
