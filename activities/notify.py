"""Notifications to people through the configured channels, each message sent once."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.calendar import zone
from models.notify import Notification, NumberList
from models.status import NumberState
from models.workflow import NotifyResult
from providers.notify.base import NotifyError
from providers.notify.dispatch import dispatch
from store import customer_links, inventory
from store.db import session_scope


def localize(context: dict[str, Any]) -> dict[str, Any]:
    """Workflows keep UTC and cannot use time zones; people read local dates.

    Every ``<name>_utc`` ISO instant becomes ``<name>_date`` and ``<name>_time`` in the
    context's ``time_zone`` (``foc_utc`` -> ``foc_date``, ``foc_time``).
    """
    out = {k: v for k, v in context.items() if not k.endswith("_utc")}
    tz_name = str(context.get("time_zone") or "UTC")
    tz = zone(tz_name)
    for key, value in context.items():
        if not key.endswith("_utc"):
            continue
        name = key[: -len("_utc")]
        if not value:
            out.setdefault(f"{name}_date", None)
            out.setdefault(f"{name}_time", None)
            continue
        local = datetime.fromisoformat(str(value)).astimezone(tz)
        out.setdefault(f"{name}_date", local.date().isoformat())
        out.setdefault(f"{name}_time", local.strftime("%H:%M"))
    return out


def number_lists(request_id: str, lists: dict[str, NumberList]) -> dict[str, list[str]]:
    """The lists a notification asked for, read from the inventory (E.164, sorted, once each)."""
    with session_scope() as s:
        live = inventory.numbers_of(session=s, request_id=request_id)
        every = inventory.numbers_of(session=s, request_id=request_id, include_released=True) \
            if NumberList.ALL in lists.values() else []
    pick = {
        NumberList.ACTIVE: lambda: (r.tn for r in live if r.state == NumberState.ACTIVE),
        NumberList.NOT_ACTIVE: lambda: (r.tn for r in live if r.state != NumberState.ACTIVE),
        NumberList.ALL: lambda: (r.tn for r in every),
    }
    return {key: sorted(set(pick[which]())) for key, which in lists.items()}


# Mails that carry the customer's link to the request's self-service page (api/customer.py).
# The link is made here from the request id, at send time: no workflow carries it in history.
CUSTOMER_LINK_TEMPLATES = frozenset({"request_received", "documents_missing"})


def customer_link(request_id: str) -> str:
    return customer_links.link(request_id)


@activity.defn(name="notify")
async def notify(note: Notification) -> NotifyResult:
    """Deliver ``note``; a retry after a partial failure sends only what is still missing
    (the dispatcher keeps a ledger per channel and key)."""
    context = localize(note.context)
    if note.lists:
        context.update(await asyncio.to_thread(number_lists, note.request_id, note.lists))
    if note.template in CUSTOMER_LINK_TEMPLATES:
        context["customer_link"] = await asyncio.to_thread(customer_link, note.request_id)
    note = note.model_copy(update={"context": context, "lists": {}})
    try:
        deliveries = await dispatch(note)
    except NotifyError as exc:
        raise ApplicationError(str(exc), type=type(exc).__name__, non_retryable=not exc.retryable) from exc
    return NotifyResult(channels=[d.channel for d in deliveries], duplicates=sum(d.duplicate for d in deliveries))
