"""What every portflow workflow shares: activity calls by name, retry policies, mail, search attributes.

Activities are called by name (``activities/*`` register the same names) so the workflow
modules never import sqlmodel, the carrier SDKs or DocuSign: the sandbox stays light.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes

with workflow.unsafe.imports_passed_through():
    from core.limits import limits_of
    from core.queues import activity_queue
    from models.notify import Audience, Notification, NumberList, Recipient
    from models.workflow import NotifyResult, WaitingOn
    from workflows import search

T = TypeVar("T")

# Side effects at external systems: retry transient failures for a long time, never
# business refusals (activities raise those as non-retryable ApplicationErrors).
EXTERNAL = RetryPolicy(initial_interval=timedelta(seconds=2), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=10))
LOCAL = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))


async def act(
    name: str,
    arg: Any,
    result_type: type[T],
    *,
    summary: str,
    timeout: timedelta | None = None,
    retry: RetryPolicy = EXTERNAL,
    schedule_to_close: timedelta | None = None,
) -> T:
    """Run the activity ``name`` with its limits (``core/limits.py``: start-to-close, and a
    heartbeat timeout for the long ones; ``timeout`` overrides the start-to-close), a retry
    policy and a UI summary; carrier API calls on the rate-limited carrier queue (``core/queues.py``)."""
    return await workflow.execute_activity(
        name,
        arg,
        result_type=result_type,
        task_queue=activity_queue(name, workflow.info().task_queue),
        **timeouts(name, timeout),
        schedule_to_close_timeout=schedule_to_close,
        retry_policy=retry,
        summary=summary[:200],
    )


def timeouts(name: str, start_to_close: timedelta | None = None) -> dict[str, timedelta | None]:
    """``execute_activity``'s timeouts for the activity ``name`` (``core/limits.py``)."""
    lim = limits_of(name)
    return {"start_to_close_timeout": start_to_close or lim.start_to_close, "heartbeat_timeout": lim.heartbeat}


async def notify(
    key: str,
    template: str,
    to: list[tuple[Audience, str, str]],
    *,
    request_id: str,
    order_id: str | None = None,
    language: Any = "en",
    priority: str | None = None,
    lists: dict[str, NumberList] | None = None,
    **context: Any,
) -> None:
    """Send one notification, at most once per ``key`` (the activity keeps a ledger);
    ``lists`` names context keys the activity fills with the request's numbers."""
    note = Notification(
        key=key,
        template=template,
        to=[Recipient(audience=a, address=addr, name=name) for a, addr, name in to],
        language=language,
        request_id=request_id,
        order_id=order_id,
        priority=priority,
        context=context,
        lists=lists or {},
    )
    await act("notify", note, NotifyResult, summary=f"notify {template} ({', '.join(a for a, _, _ in to)})")


_UNSET = object()
_MISSING = object()
_KEYS = MappingProxyType({
    "status": search.PORT_STATUS,
    "waiting_on": search.WAITING_ON,
    "next_deadline": search.NEXT_DEADLINE,
    "port_date": search.PORT_DATE,
    "escalated": search.ESCALATED,
    "stage_since": search.STAGE_SINCE,
    "numbers_unassigned": search.NUMBERS_UNASSIGNED,
})


class SearchState:
    """The search attributes a workflow last upserted, so it upserts only what changed
    (a port waits for weeks; an upsert on every wake filled histories with events)."""

    def __init__(self) -> None:
        self.last: dict[str, Any] = {}

    def update(self, **values: Any) -> None:
        """``values`` by search attribute key name; ``None`` leaves one alone, ``_UNSET``
        (see :meth:`clear`) removes it."""
        updates = []
        for name, value in values.items():
            if value is None:
                continue
            key = _KEYS[name]
            if self.last.get(name, _MISSING) == value:
                continue
            self.last[name] = value
            if value is _UNSET:
                updates.append(key.value_unset())
            else:
                updates.append(key.value_set(value.value if isinstance(value, WaitingOn) else value))
        if updates:
            workflow.upsert_search_attributes(updates)

    @staticmethod
    def clear() -> Any:
        return _UNSET


def initial_search_attributes(
    *, request_id: str, customer: str | None, carriers: list[str], port_date: datetime, status: str,
    since: datetime | None = None, unassigned: int | None = None,
) -> TypedSearchAttributes:
    """The attributes a port starts with; ``customer`` None leaves CustomerName out
    (``PortOptions.search_customer_name``: search attributes are stored in clear)."""
    pairs = [
        SearchAttributePair(search.REQUEST_ID, request_id),
        *([SearchAttributePair(search.CUSTOMER_NAME, customer)] if customer is not None else []),
        SearchAttributePair(search.LOSING_CARRIER, carriers),
        SearchAttributePair(search.PORT_DATE, port_date),
        SearchAttributePair(search.PORT_STATUS, status),
        SearchAttributePair(search.WAITING_ON, WaitingOn.NOBODY.value),
        SearchAttributePair(search.ESCALATED, False),
    ]
    if since is not None:
        pairs.append(SearchAttributePair(search.STAGE_SINCE, since))
    if unassigned is not None:
        pairs.append(SearchAttributePair(search.NUMBERS_UNASSIGNED, unassigned))
    return TypedSearchAttributes(pairs)


def fmt(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else "-"
