"""Start the delivery workflows of the status changes an activity recorded.

The audit path (``activities.audit``) writes each status change and queues its webhook
deliveries in one transaction, before the activity that carried it runs (or inside
``record_status``). This activity interceptor, on the worker only (``worker.build_worker``),
then starts one ``WebhookDeliveryWorkflow`` per queued delivery of those changes. Nothing in
any port workflow changes: no history of theirs gains an event.

Why starts are safe to repeat: the workflow id is ``webhook-<subscription>-<event>`` with
REJECT_DUPLICATE (Temporal refuses a second start, even after the first finished), the store
notes the start (``dispatched_at``), and the delivery activity sends nothing for a delivery
no longer pending. Why nothing is lost: a start that fails (the server unreachable for a
moment) leaves the delivery pending and undispatched; every later dispatch, and each worker
start, also picks up such deliveries older than a minute.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from core.settings import get_settings
from models.status import StatusChange
from models.webhooks import DeliveryInput, EventType
from models.workflow import AuditInput
from store import webhooks
from workflows import audit
from workflows.webhooks import WebhookDeliveryWorkflow, delivery_workflow_id

log = logging.getLogger(__name__)


async def dispatch(client: Client, task_queue: str, changes: list[StatusChange]) -> int:
    """Start the delivery workflows of ``changes`` (and of older undispatched deliveries);
    returns how many were started now."""
    return await dispatch_events(client, task_queue, [webhooks.event_id_of(c) for c in changes])


async def dispatch_events(client: Client, task_queue: str, event_ids: list[str]) -> int:
    """Start the workflows of the undispatched deliveries of ``event_ids`` (and older ones)."""
    todo = await asyncio.to_thread(webhooks.undispatched, event_ids)
    if not todo:
        return 0
    s = get_settings()
    started: list[int] = []
    try:
        for d in todo:
            inp = DeliveryInput(delivery_id=d.delivery_id, subscription_id=d.subscription_id, event_id=d.event_id,
                                event_type=EventType(d.event_type), max_attempts=s.outgoing_webhook_max_attempts,
                                first_retry_seconds=s.outgoing_webhook_first_retry_seconds)
            try:
                await client.start_workflow(
                    WebhookDeliveryWorkflow.run, inp, id=delivery_workflow_id(d.subscription_id, d.event_id, d.round),
                    task_queue=task_queue, id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                    static_summary=f"webhook {d.event_type} {d.event_id} to {d.subscription_id}")
            except WorkflowAlreadyStartedError:
                pass  # started before (a retried activity, another worker): the same delivery
            started.append(d.delivery_id)
    finally:
        await asyncio.to_thread(webhooks.mark_dispatched, started)
    return len(started)


async def redeliver(client: Client, task_queue: str, delivery_id: int, *, by: str) -> int:
    """Send a failed delivery again (``webhooks redeliver``); returns its new round."""
    row = await asyncio.to_thread(webhooks.reopen, delivery_id, by=by)
    await dispatch_events(client, task_queue, [row.event_id])
    return row.round


async def dispatch_left_over(client: Client, task_queue: str) -> int:
    """At worker start: deliveries queued but never started (a start failed earlier)."""
    try:
        return await dispatch(client, task_queue, [])
    except Exception as exc:  # noqa: BLE001 - the worker starts anyway; the next dispatch retries
        log.warning("could not start left-over webhook deliveries: %s", exc)
        return 0


def _carried(input: ExecuteActivityInput) -> list[StatusChange]:
    changes: list[StatusChange] = []
    carried = input.headers.get(audit.HEADER)
    if carried is not None:
        changes += activity.payload_converter().from_payload(carried, AuditInput).changes
    if activity.info().activity_type == audit.FLUSH_ACTIVITY and input.args and isinstance(input.args[0], AuditInput):
        changes += input.args[0].changes
    return changes


class _Activity(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, client: Client, task_queue: str) -> None:
        super().__init__(next)
        self.client, self.task_queue = client, task_queue

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        changes = _carried(input)
        try:
            return await super().execute_activity(input)
        finally:
            if changes:
                try:
                    await dispatch(self.client, self.task_queue, changes)
                except Exception as exc:  # noqa: BLE001 - never fail the port's activity for a webhook
                    log.warning("webhook deliveries of %d change(s) not started now (picked up later): %s",
                                len(changes), exc)


class WebhookDispatchInterceptor(Interceptor):
    """After an activity that carried status changes (or ``record_status``): start their
    webhook deliveries on ``task_queue`` (the worker's main queue) with ``client``."""

    def __init__(self, client: Client, task_queue: str) -> None:
        self.client, self.task_queue = client, task_queue

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Activity(next, self.client, self.task_queue)
