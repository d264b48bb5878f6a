"""Outgoing webhooks: one signed POST per attempt, and the give-up that marks a delivery failed.

``deliver_webhook`` sends one event to one subscription's URL. It reads the URL, the secret
and the body from the store (``store.webhooks.begin_attempt``, which also counts the
attempt), signs them (``core.webhook_signing``) and classifies the answer:

* 2xx: delivered. The store records it first thing after the answer; a later attempt (a
  retry after a worker died, a second workflow) finds it delivered and sends nothing.
* 408, 429, 5xx, a timeout or a connection error: a plain retryable failure; the workflow's
  retry policy backs off (``Retry-After`` is honoured up to an hour).
* any other 4xx, or a redirect: non-retryable ``WebhookRefused``: the receiver (or the URL)
  must be fixed; ``webhook_failed`` records why.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from core.settings import get_settings
from core.webhook_signing import EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, sign
from models.webhooks import DeliveryFailed, DeliveryInput, DeliveryResult, DeliveryState
from store import webhooks
from store.vault import UnknownSecret, VaultKeyError

USER_AGENT = "portflow-webhooks/1"
RETRY_STATUS = frozenset({408, 429})
MAX_RETRY_AFTER = 3600
# a receiver's outage is routine: its retries are logged quietly, not as worker errors
BENIGN = ApplicationErrorCategory.BENIGN


def _retry_after(value: str | None) -> timedelta | None:
    if value and value.strip().isdigit():
        return timedelta(seconds=min(int(value.strip()), MAX_RETRY_AFTER))
    return None


@activity.defn(name="deliver_webhook")
async def deliver_webhook(inp: DeliveryInput) -> DeliveryResult:
    info = activity.info()
    try:
        attempt = await asyncio.to_thread(webhooks.begin_attempt, inp.delivery_id, info.attempt)
    except (UnknownSecret, VaultKeyError) as exc:  # a person must restore the vault key: no retry helps
        raise ApplicationError(f"cannot sign: {exc}", type="WebhookSecretUnavailable", non_retryable=True) from None
    if attempt.state != DeliveryState.PENDING:
        activity.logger.info("delivery %s is %s: nothing sent", inp.delivery_id, attempt.state)
        return DeliveryResult(delivery_id=inp.delivery_id, state=attempt.state, attempts=attempt.attempts,
                              detail=f"already {attempt.state}")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(attempt.secret, attempt.body),
        EVENT_ID_HEADER: attempt.event_id,
        EVENT_TYPE_HEADER: attempt.event_type,
    }
    timeout = get_settings().outgoing_webhook_timeout_seconds
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as http:
            response = await http.post(attempt.url, content=attempt.body, headers=headers)
    except httpx.TimeoutException:
        error = f"no answer within {timeout:g} s"
        await asyncio.to_thread(webhooks.finish_attempt, inp.delivery_id, delivered=False, status_code=None, error=error)
        raise ApplicationError(f"receiver {error}", type="WebhookUnreachable", category=BENIGN) from None
    except httpx.HTTPError as exc:
        error = f"cannot reach the receiver: {type(exc).__name__}: {str(exc)[:200]}"
        await asyncio.to_thread(webhooks.finish_attempt, inp.delivery_id, delivered=False, status_code=None, error=error)
        raise ApplicationError(error, type="WebhookUnreachable", category=BENIGN) from None

    code = response.status_code
    if 200 <= code < 300:
        await asyncio.to_thread(webhooks.finish_attempt, inp.delivery_id, delivered=True, status_code=code, error=None)
        return DeliveryResult(delivery_id=inp.delivery_id, state=DeliveryState.DELIVERED, attempts=attempt.attempts,
                              status_code=code)
    said = " ".join(response.text[:200].split())
    error = f"HTTP {code}" + (f": {said}" if said else "")
    if 300 <= code < 400:
        error = f"HTTP {code} redirect to {response.headers.get('location', '?')[:200]}: subscribe the final URL"
    await asyncio.to_thread(webhooks.finish_attempt, inp.delivery_id, delivered=False, status_code=code, error=error)
    if code in RETRY_STATUS or code >= 500:
        raise ApplicationError(f"receiver answered {error}", type="WebhookReceiverError", category=BENIGN,
                               next_retry_delay=_retry_after(response.headers.get("retry-after")))
    raise ApplicationError(f"receiver refused the delivery: {error}", type="WebhookRefused", non_retryable=True)


@activity.defn(name="webhook_failed")
def webhook_failed(inp: DeliveryFailed) -> str:
    """The delivery workflow gave up: the pending delivery becomes ``failed`` with the reason."""
    return webhooks.give_up(inp.delivery_id, inp.reason)
