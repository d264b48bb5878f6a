"""The carrier interface the submission stage uses."""

from __future__ import annotations

import abc

from models.carrier import CarrierOrderState, CarrierSubmission, Supplement


class CarrierError(Exception):
    retryable = True


class CarrierRejected(CarrierError):
    """The carrier refused the request itself (invalid fields, not allowed now)."""

    retryable = False


class CarrierGuard(CarrierRejected):
    """Refused because it is too close to the FOC (no supplement or cancel in the guard window)."""


class CarrierProvider(abc.ABC):
    name: str

    @abc.abstractmethod
    async def submit(self, sub: CarrierSubmission, secrets: dict[str, str]) -> CarrierOrderState:
        """Create and submit the order. Idempotent on ``sub.idempotency_key``: look it up before
        creating. ``secrets`` maps vault refs to plain values, for this call only."""

    @abc.abstractmethod
    async def supplement(
        self, carrier_order_id: str, sup: Supplement, secrets: dict[str, str]
    ) -> CarrierOrderState:
        """SUP2 (new date) or SUP3 (corrections) of a submitted order, resubmitted."""

    @abc.abstractmethod
    async def cancel(self, carrier_order_id: str, reason: str) -> CarrierOrderState:
        """SUP1: withdraw the order. Already cancelled is not an error."""

    @abc.abstractmethod
    async def status(self, carrier_order_id: str) -> CarrierOrderState:
        """What the carrier says now (polling)."""

    @abc.abstractmethod
    async def activate(self, carrier_order_id: str) -> CarrierOrderState:
        """Activate now (on-demand activation) or confirm the scheduled activation happened."""
