"""Delivering external events (e-signature, carrier) to the order workflows.

Webhook routes call an :class:`EventSink`. The Temporal sink uses workflow *updates*, so a
route answers 200 only after the workflow has accepted the event; if delivery fails the
route answers 5xx and the sender (DocuSign Connect, Telnyx) retries. Tests may pass any
object with the same two methods.
"""

from __future__ import annotations

from typing import Protocol

from temporalio.client import Client

from models.carrier import CarrierEvent
from models.esign import EnvelopeEvent
from models.events import EventAck

ESIGN_UPDATE = "esign_event"
CARRIER_UPDATE = "carrier_event"


class EventSink(Protocol):
    async def esign(self, event: EnvelopeEvent) -> EventAck: ...

    async def carrier(self, event: CarrierEvent) -> EventAck: ...


class TemporalEventSink:
    """Sends events as updates to the order's workflow (workflow id = order id)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def esign(self, event: EnvelopeEvent) -> EventAck:
        handle = self.client.get_workflow_handle(event.order_id)
        return await handle.execute_update(ESIGN_UPDATE, event, result_type=EventAck)

    async def carrier(self, event: CarrierEvent) -> EventAck:
        handle = self.client.get_workflow_handle(event.order_id)
        return await handle.execute_update(CARRIER_UPDATE, event, result_type=EventAck)
