"""The FOC guard, the one rule: no change or cancel from the guard hours before the FOC on.

Carriers refuse changes close to the firm order commitment (Telnyx: cancel refused within
48 h of the FOC; Bandwidth: no updates or cancels within 24 h). portflow enforces the same
rule before asking, with ``settings.foc_guard_hours`` (default 48), so the PM hears why at
once instead of after a carrier round trip.

Decided here once (the request workflow refused a cancel after the FOC had passed, the
order workflow and the carrier adapters allowed it; the order also guarded statuses whose
FOC no longer stood): the guard applies while an FOC stands, that is while the order is
``foc_confirmed``, and from ``guard_hours`` before the FOC *on*, past the FOC too: port day
is under way and the carrier is activating, so a cancel means a port-back, not a SUP1. In
any other status (an exception, an expired FOC, no FOC yet) the carrier's state decides;
callers only ask about a standing FOC.

Pure and deterministic: no clock, no I/O. The workflows' update validators call it with
``workflow.now()``; the adapters (``providers.carrier.guard``) with the wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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


@dataclass(frozen=True)
class GuardRefusal:
    """Why a change is refused: the message for people, the figures for programs."""

    message: str
    foc_at: datetime
    guard_started_at: datetime
    hours_remaining: float  # negative once the FOC has passed


def _utc(value: datetime) -> datetime:
    """Aware datetimes in UTC; a naive one is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def guard_window(foc_at: datetime | None, guard_hours: int) -> tuple[datetime, datetime] | None:
    """The last ``guard_hours`` before the FOC (the guard goes on past the FOC while it stands)."""
    if foc_at is None or guard_hours <= 0:
        return None
    foc = _utc(foc_at)
    return foc - timedelta(hours=guard_hours), foc


def guard_refusal(
    foc_at: datetime | None, now: datetime, guard_hours: int, action: str
) -> GuardRefusal | None:
    """Why ``action`` (``"cancel"``, ``"supplement"``, ``"new_date"``, ``"change"`` or any
    words) is refused now, for an order whose standing FOC is ``foc_at``; None: allowed.

    No FOC or a zero guard allow everything. The message says how long until (or since) the
    FOC, when the guard started and what to do instead.
    """
    window = guard_window(foc_at, guard_hours)
    if window is None:
        return None
    start, foc = window
    at = _utc(now)
    if at < start:
        return None
    remaining = (foc - at).total_seconds() / 3600
    instead = _INSTEAD.get(action.split()[0].lower() if action else "", _INSTEAD["supplement"])
    verb = action or "change the order"
    when = (f"{remaining:.1f} hours from now" if remaining > 0
            else f"{-remaining:.1f} hours ago: port day is under way")
    return GuardRefusal(
        message=(
            f"cannot {verb} now: the FOC is {foc:%Y-%m-%d %H:%M} UTC, {when}, and carriers refuse "
            f"changes within {guard_hours} hours of the FOC (the guard started {start:%Y-%m-%d %H:%M} "
            f"UTC). Instead, {instead}."
        ),
        foc_at=foc, guard_started_at=start, hours_remaining=remaining,
    )


def guard_problem(foc_at: datetime | None, now: datetime, guard_hours: int, action: str) -> str | None:
    """The refusal's message, or None when ``action`` is allowed (for update validators)."""
    refusal = guard_refusal(foc_at, now, guard_hours, action)
    return refusal.message if refusal else None


def is_change_allowed(foc_at: datetime | None, now: datetime, guard_hours: int) -> bool:
    """The same rule as a boolean, for status pages."""
    return guard_refusal(foc_at, now, guard_hours, "change") is None
