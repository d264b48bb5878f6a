"""The FOC guard as the carrier adapters need it: :class:`CarrierGuard` raised.

The rule itself lives once, in :mod:`core.guard` (the workflows' validators use it too).
Adapters call this only for an order whose FOC stands (``foc_confirmed``).
"""

from __future__ import annotations

from datetime import datetime

from core.guard import guard_refusal, guard_window, is_change_allowed
from providers.carrier.base import CarrierGuard

__all__ = ["check_change_allowed", "guard_window", "is_change_allowed"]


def check_change_allowed(
    foc_at: datetime | None, now: datetime, guard_hours: int, action: str
) -> None:
    """Raise :class:`CarrierGuard` when :func:`core.guard.guard_refusal` refuses ``action``.
    The exception carries ``foc_at``, ``guard_started_at`` and ``hours_remaining``."""
    refusal = guard_refusal(foc_at, now, guard_hours, action)
    if refusal is None:
        return
    err = CarrierGuard(refusal.message)
    err.foc_at = refusal.foc_at  # type: ignore[attr-defined]
    err.guard_started_at = refusal.guard_started_at  # type: ignore[attr-defined]
    err.hours_remaining = refusal.hours_remaining  # type: ignore[attr-defined]
    raise err
