"""The FOC guard: no supplement or cancel in the last hours before the FOC.

Carriers refuse changes close to the firm order commitment (Telnyx: cancel refused within
48 h of the FOC; Bandwidth: no updates or cancels within 24 h). portflow enforces the same
rule before asking, with ``settings.foc_guard_hours`` (default 48), so the PM hears why at
once instead of after a carrier round trip.

Pure and deterministic: no clock, no I/O. The workflow's update validators call it with
``workflow.now()``; the adapters call it with the wall clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from providers.carrier.base import CarrierGuard

# What to do instead, by the kind of change refused.
_INSTEAD = {
    "cancel": (
        "call the carrier's porting desk to cancel by phone, or let the port complete and "
        "arrange a port-back (snapback) with the losing carrier"
    ),
    "supplement": (
        "call the carrier's porting desk to make the change by phone, or let the port "
        "complete on the FOC and correct the data afterwards"
    ),
    "new_date": (
        "call the carrier's porting desk to move the date by phone, or let the port "
        "complete on the FOC"
    ),
}


def _utc(value: datetime) -> datetime:
    """Aware datetimes in UTC; a naive one is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def guard_window(foc_at: datetime | None, guard_hours: int) -> tuple[datetime, datetime] | None:
    """When the guard is on: from ``guard_hours`` before the FOC until the FOC."""
    if foc_at is None or guard_hours <= 0:
        return None
    foc = _utc(foc_at)
    return foc - timedelta(hours=guard_hours), foc


def check_change_allowed(
    foc_at: datetime | None, now: datetime, guard_hours: int, action: str
) -> None:
    """Raise :class:`CarrierGuard` when ``action`` (``"cancel"``, ``"supplement"``,
    ``"new_date"`` or any words) falls inside the guard window before ``foc_at``.

    No FOC yet, a zero guard, or an FOC already passed (expired or ported: the carrier's
    state decides then) all allow the change. The message says how many hours remain until
    the FOC, when the guard started and what to do instead. The exception carries
    ``foc_at``, ``guard_started_at`` and ``hours_remaining`` for programs.
    """
    window = guard_window(foc_at, guard_hours)
    if window is None:
        return
    start, foc = window
    at = _utc(now)
    if not (start <= at < foc):
        return
    remaining = (foc - at).total_seconds() / 3600
    instead = _INSTEAD.get(action.split()[0].lower() if action else "", _INSTEAD["supplement"])
    verb = action or "change the order"
    err = CarrierGuard(
        f"cannot {verb} now: the FOC is {foc:%Y-%m-%d %H:%M} UTC, {remaining:.1f} hours from now, and "
        f"carriers refuse changes within {guard_hours} hours of the FOC (the guard started "
        f"{start:%Y-%m-%d %H:%M} UTC). Instead, {instead}."
    )
    err.foc_at = foc  # type: ignore[attr-defined]
    err.guard_started_at = start  # type: ignore[attr-defined]
    err.hours_remaining = remaining  # type: ignore[attr-defined]
    raise err


def is_change_allowed(foc_at: datetime | None, now: datetime, guard_hours: int) -> bool:
    """The same rule as a boolean, for status pages."""
    try:
        check_change_allowed(foc_at, now, guard_hours, "change")
    except CarrierGuard:
        return False
    return True
