"""Waiting on the carrier: its event (a webhook, or the PM's ``carrier-event`` for a manual
carrier) answers at once; otherwise the order asks the carrier every ``every``."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.carrier import CarrierOrderState
    from models.workflow import WaitingOn
    from workflows.common import act

if TYPE_CHECKING:
    from workflows.port_order.order import Order

Answer = tuple[CarrierOrderState, str | None]  # the carrier's state and who reported it (None: a poll)


class CarrierWait:
    def __init__(self, o: Order, every: timedelta) -> None:
        self.o = o
        self.every = every
        self.next_poll = workflow.now() + every

    def has_event(self) -> bool:
        return bool(self.o.st.carrier_q)

    def take_event(self) -> tuple[CarrierOrderState, str] | None:
        return self.o.st.carrier_q.pop(0) if self.o.st.carrier_q else None

    def poll_due(self) -> bool:
        return workflow.now() >= self.next_poll

    async def poll(self, summary: str) -> CarrierOrderState:
        """Ask the carrier for the order's state now; the next poll is ``every`` from now."""
        self.next_poll = workflow.now() + self.every
        return await act("carrier_status", self.o.call("status"), CarrierOrderState, summary=summary)

    async def answer(self, what: str, *, summary: str, poll_summary: str, show_due: bool,
                     interruptible: bool = True) -> Answer:
        """The carrier's next word: an event as soon as one arrives, else a poll at ``every``."""
        o = self.o
        o.set_next(what, workflow.now() + self.every if show_due else None, WaitingOn.CARRIER)
        await o.publish()
        await o.wait(self.has_event, workflow.now() + self.every, summary, interruptible=interruptible)
        event = self.take_event()
        if event is not None:
            return event
        return await self.poll(poll_summary), None
