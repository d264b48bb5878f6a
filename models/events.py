"""Acknowledgement of an external event delivered to a workflow."""

from __future__ import annotations

from pydantic import BaseModel


class EventAck(BaseModel):
    """What an order workflow answers to an e-signature or carrier event update."""

    accepted: bool = True
    duplicate: bool = False  # the same event_id was seen before: nothing changed
    status: str = ""  # the order's status after the event
