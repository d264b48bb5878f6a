"""One outgoing webhook delivery: one event to one subscription, retried with backoff.

Started by the worker when a status change is recorded (``activities.webhook_dispatch``),
with the workflow id ``webhook-<subscription>-<event>`` and the id-reuse policy
REJECT_DUPLICATE: two starts of the same delivery (a retried activity, two workers) are one
workflow. ``deliver_webhook`` retries with exponential backoff (first retry after
``first_retry_seconds``, doubling, at most an hour apart, ``max_attempts`` in all); a refusal
(4xx) is not retried. When it stops, ``webhook_failed`` marks the delivery failed in the store,
where ``starter.py webhooks deliveries`` shows it. The history holds ids only: the URL, the
secret and the body are read by the activity from the store.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, VersioningBehavior
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from models.webhooks import DeliveryFailed, DeliveryInput, DeliveryResult, DeliveryState
    from workflows.common import LOCAL, act

MAX_INTERVAL = timedelta(hours=1)
REFUSED = "WebhookRefused"


def delivery_workflow_id(subscription_id: str, event_id: str, round: int = 0) -> str:  # noqa: A002
    """One workflow per delivery and round (a redelivery of a failed one is a new round)."""
    return f"webhook-{subscription_id}-{event_id}" + (f"-r{round}" if round else "")


# AUTO_UPGRADE like the port workflows: a delivery may back off for hours, longer than an old
# build should be kept; a change to this workflow follows the same patch rules (test_replay).
@workflow.defn(name="WebhookDeliveryWorkflow", versioning_behavior=VersioningBehavior.AUTO_UPGRADE)
class WebhookDeliveryWorkflow:
    @workflow.run
    async def run(self, inp: DeliveryInput) -> DeliveryResult:
        retry = RetryPolicy(initial_interval=timedelta(seconds=inp.first_retry_seconds), backoff_coefficient=2.0,
                            maximum_interval=MAX_INTERVAL, maximum_attempts=inp.max_attempts,
                            non_retryable_error_types=[REFUSED])
        summary = f"{inp.event_type} {inp.event_id} to {inp.subscription_id}"
        try:
            return await act("deliver_webhook", inp, DeliveryResult, summary=summary, retry=retry)
        except ActivityError as err:
            cause = err.cause
            reason = cause.message if isinstance(cause, ApplicationError) else str(cause or err)
            if not (isinstance(cause, ApplicationError) and cause.type == REFUSED):
                reason = f"gave up after {inp.max_attempts} attempt(s): {reason}"
            state = await act("webhook_failed", DeliveryFailed(delivery_id=inp.delivery_id, reason=reason[:2000]),
                              str, summary=f"failed: {summary}", retry=LOCAL)
            return DeliveryResult(delivery_id=inp.delivery_id, state=DeliveryState(state), detail=reason[:500])
