"""Waiting on outside systems without filling the history.

A :class:`Poll` is one activity that asks until the answer differs from what the order
knows: "not yet" is a benign retryable failure that the activity's retry policy repeats at
the poll interval, so weeks of asking write no events (Temporal's pattern for infrequent
polling). :class:`CarrierWait` is the carrier's next word: its event (a webhook, or the
PM's ``carrier-event`` for a manual carrier) at once, else what the poll finds.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from core.queues import activity_queue
    from models.carrier import CarrierOrderState, fingerprint
    from models.workflow import CarrierPoll, WaitingOn
    from workflows.common import timeouts

if TYPE_CHECKING:
    from workflows.port_order.order import Order

Answer = tuple[CarrierOrderState, str | None]  # the carrier's state and who reported it (None: a poll)


def every(interval: timedelta, *, backoff: float = 1.0, at_most: timedelta | None = None) -> RetryPolicy:
    """Ask every ``interval`` (growing by ``backoff`` up to ``at_most``), for as long as needed."""
    return RetryPolicy(initial_interval=interval, backoff_coefficient=backoff,
                       maximum_interval=at_most or interval, maximum_attempts=0)


class Poll:
    """At most one running poll activity; restarted when what it watches for changes."""

    def __init__(self, activity: str, result_type: type) -> None:
        self.activity = activity
        self.result_type = result_type
        self.task: asyncio.Task[Any] | None = None
        self.key: object = None

    def ensure(self, arg: Any, key: object, policy: RetryPolicy, summary: str) -> None:
        """Keep a poll running for ``arg``; ``key`` says when a running one asks the wrong question."""
        if self.task is not None and self.key != key:
            self.stop()
        if self.task is None:
            self.key = key
            self.task = asyncio.create_task(workflow.execute_activity(
                self.activity, arg, result_type=self.result_type, **timeouts(self.activity),
                task_queue=activity_queue(self.activity, workflow.info().task_queue),
                retry_policy=policy, cancellation_type=ActivityCancellationType.TRY_CANCEL, summary=summary[:200]))

    def done(self) -> bool:
        return self.task is not None and self.task.done()

    def take(self) -> Any | None:
        """The answer, once the poll found a change (a failure that is not "not yet" raises)."""
        if not self.done():
            return None
        task, self.task, self.key = self.task, None, None
        assert task is not None
        return task.result()

    def stop(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            self.task.add_done_callback(_settled)  # its "Activity cancelled" is expected: not logged
        self.task, self.key = None, None


def _settled(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()


class CarrierWait:
    def __init__(self, o: Order, interval: timedelta) -> None:
        self.o = o
        self.interval = interval
        self.poll = Poll("carrier_poll", CarrierOrderState)

    def has_event(self) -> bool:
        return bool(self.o.st.carrier_q)

    def take_event(self) -> tuple[CarrierOrderState, str] | None:
        return self.o.st.carrier_q.pop(0) if self.o.st.carrier_q else None

    def watch(self, known: CarrierOrderState | None) -> None:
        """Poll the carrier for a change from ``known`` (the order's state, by default)."""
        if known is None:
            self.poll.stop()
            return
        mark = fingerprint(known)
        self.poll.ensure(CarrierPoll(call=self.o.call("status"), known=mark), (mark, self.interval),
                         every(self.interval), f"{self.o.carrier_name}: watch order {known.carrier_order_id} "
                                               f"(asks every {self.interval})")

    def polled(self) -> bool:
        return self.poll.done()

    def take_poll(self) -> CarrierOrderState | None:
        return self.poll.take()

    def stop(self) -> None:
        self.poll.stop()

    async def answer(self, what: str, known: CarrierOrderState, *, summary: str, until: datetime | None = None,
                     interruptible: bool = True) -> Answer | None:
        """The carrier's next word about an order it left at ``known``: an event as soon as one
        arrives, else the change the poll finds; None when ``until`` came first."""
        o = self.o
        o.set_next(what, until, WaitingOn.CARRIER)
        await o.publish()
        self.watch(known)
        await o.wait(lambda: self.has_event() or self.polled(), until, summary, interruptible=interruptible)
        event = self.take_event()
        if event is not None:
            return event
        state = self.take_poll()
        return (state, None) if state is not None else None
