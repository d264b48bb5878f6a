"""Carrier adapters: the simulator (local default), manual entry by the PM, and Telnyx.

:func:`carrier_from_settings` picks one by ``settings.carrier_provider``. Imports are lazy so
the workflow sandbox, which imports ``providers.carrier.guard`` and ``.exceptions``, never
pulls in httpx or the file stores.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.settings import Settings
    from providers.carrier.base import CarrierProvider


def carrier_from_settings(
    settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None
) -> CarrierProvider:
    """The carrier adapter the settings choose: ``simulator``, ``manual`` or ``telnyx``.

    ``clock`` is the time the adapter sees (the simulator computes its answers from it, the
    others stamp records and check the FOC guard with it); default: the wall clock, UTC.
    """
    from core.settings import get_settings

    s = settings or get_settings()
    if s.carrier_provider == "simulator":
        from providers.carrier.simulator import CarrierSimulator

        return CarrierSimulator(s, clock=clock)
    if s.carrier_provider == "manual":
        from providers.carrier.manual import ManualCarrier

        return ManualCarrier(s, clock=clock)
    if s.carrier_provider == "telnyx":
        from providers.carrier.telnyx import TelnyxCarrier

        return TelnyxCarrier(s, clock=clock)
    raise ValueError(
        f"unknown carrier_provider {s.carrier_provider!r}: use simulator, manual or telnyx"
    )
