"""Notifications to people through the configured channels, each message sent once."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from models.notify import Notification
from models.workflow import NotifyResult
from providers.notify.base import NotifyError
from providers.notify.dispatch import dispatch


@activity.defn(name="notify")
async def notify(note: Notification) -> NotifyResult:
    """Deliver ``note``; a retry after a partial failure sends only what is still missing
    (the dispatcher keeps a ledger per channel and key)."""
    try:
        deliveries = await dispatch(note)
    except NotifyError as exc:
        raise ApplicationError(str(exc), type=type(exc).__name__, non_retryable=not exc.retryable) from exc
    return NotifyResult(channels=[d.channel for d in deliveries], duplicates=sum(d.duplicate for d in deliveries))
