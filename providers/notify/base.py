"""The notification interface: one channel delivers one rendered message."""

from __future__ import annotations

import abc

from models.notify import Delivery, Notification


class NotifyError(Exception):
    retryable = True


class Channel(abc.ABC):
    name: str

    @abc.abstractmethod
    async def deliver(self, note: Notification) -> Delivery:
        """Deliver one notification on this channel. Callers make it idempotent on ``note.key``."""
