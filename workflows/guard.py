"""The FOC guard as the update validators need it: a message, or None when allowed."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from providers.carrier.base import CarrierGuard
    from providers.carrier.guard import check_change_allowed


def guard_problem(foc_at: datetime | None, now: datetime, guard_hours: int, action: str) -> str | None:
    """Carriers refuse changes and cancels close to the FOC (Telnyx 48 h, Bandwidth 24 h)."""
    try:
        check_change_allowed(foc_at, now, guard_hours, action)
    except CarrierGuard as exc:
        return str(exc)
    return None
