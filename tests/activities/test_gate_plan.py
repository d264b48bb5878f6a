"""When the go-live gate warns (``gate_plan``): 09:00 local N business days before the FOC,
skipping weekends and holidays, and earlier still while that would be inside the FOC guard
(a SUP2 must still be allowed when the warning comes); and the date a SUP2 moves to."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from activities.calendar import gate_plan
from models.golive import GatePlanInput

NY = ZoneInfo("America/New_York")


def _plan(foc_local: datetime, days: int = 2, guard: int = 0, slip: int = 5):
    return gate_plan(GatePlanInput(foc_at=foc_local.astimezone(UTC), time_zone="America/New_York",
                                   warn_business_days=days, slip_business_days=slip, guard_hours=guard))


@pytest.mark.parametrize(("foc", "days", "guard", "warn_day"), [
    (datetime(2027, 3, 15, 9, 0, tzinfo=NY), 2, 0, date(2027, 3, 11)),   # Mon FOC: Thu before
    (datetime(2027, 3, 17, 9, 0, tzinfo=NY), 2, 0, date(2027, 3, 15)),   # Wed FOC: Mon
    (datetime(2027, 3, 17, 9, 0, tzinfo=NY), 2, 48, date(2027, 3, 12)),  # Mon 09:00 is exactly 48 h: Fri
    (datetime(2027, 3, 17, 14, 0, tzinfo=NY), 2, 48, date(2027, 3, 15)),  # a 14:00 FOC leaves Mon 09:00 free
    (datetime(2027, 11, 26, 9, 0, tzinfo=NY), 1, 0, date(2027, 11, 24)),  # Fri after Thanksgiving: Wed
])
def test_warn_time(foc: datetime, days: int, guard: int, warn_day: date) -> None:
    plan = _plan(foc, days, guard)
    assert plan.warn_at.astimezone(NY).date() == warn_day and plan.warn_at.astimezone(NY).hour == 9
    assert plan.warn_at.tzinfo is not None and plan.foc_at == foc.astimezone(UTC)


def test_slip_date_is_business_days_after_the_foc() -> None:
    assert _plan(datetime(2027, 11, 24, 9, 0, tzinfo=NY), slip=2).slip_date == date(2027, 11, 29)  # over Thanksgiving
    assert _plan(datetime(2027, 3, 15, 9, 0, tzinfo=NY), slip=5).slip_date == date(2027, 3, 22)
