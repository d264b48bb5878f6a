"""The FOC guard: changes refused inside the window before the FOC, with a message people can use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from providers.carrier.base import CarrierGuard, CarrierRejected
from providers.carrier.guard import check_change_allowed, guard_window, is_change_allowed

FOC = datetime(2026, 4, 15, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("before", "allowed"),
    [
        (timedelta(hours=72), True),
        (timedelta(hours=48, seconds=1), True),
        (timedelta(hours=48), False),  # the guard starts exactly 48 h before
        (timedelta(hours=10), False),
        (timedelta(seconds=1), False),
        # an FOC that still stands and has passed: port day is under way, the carrier activates
        # (core.guard decides this once; the request workflow and the adapters used to differ)
        (timedelta(0), False),
        (-timedelta(hours=5), False),
    ],
)
def test_the_window_is_the_last_guard_hours_before_the_foc(
    before: timedelta, allowed: bool
) -> None:
    assert is_change_allowed(FOC, FOC - before, 48) is allowed


def test_after_the_foc_the_message_says_port_day_is_under_way() -> None:
    with pytest.raises(CarrierGuard, match=r"5.0 hours ago: port day is under way") as err:
        check_change_allowed(FOC, FOC + timedelta(hours=5), 48, "cancel")
    assert err.value.hours_remaining == pytest.approx(-5.0)  # type: ignore[attr-defined]


def test_no_foc_or_no_guard_allows_everything() -> None:
    check_change_allowed(None, FOC, 48, "cancel")
    check_change_allowed(FOC, FOC - timedelta(hours=1), 0, "cancel")
    assert guard_window(None, 48) is None


def test_the_message_says_hours_left_when_the_guard_started_and_what_to_do() -> None:
    with pytest.raises(CarrierGuard) as info:
        check_change_allowed(FOC, FOC - timedelta(hours=37, minutes=30), 48, "cancel")
    err = info.value
    text = str(err)
    assert "cannot cancel now" in text
    assert "37.5 hours from now" in text
    assert "2026-04-13 13:00 UTC" in text  # when the guard started
    assert "porting desk" in text and "snapback" in text
    assert err.hours_remaining == pytest.approx(37.5)
    assert err.guard_started_at == FOC - timedelta(hours=48)
    assert isinstance(err, CarrierRejected) and err.retryable is False


def test_a_supplement_gets_its_own_advice_and_a_24_hour_carrier_its_own_window() -> None:
    with pytest.raises(CarrierGuard, match="make the change by phone"):
        check_change_allowed(FOC, FOC - timedelta(hours=20), 24, "supplement")
    check_change_allowed(FOC, FOC - timedelta(hours=30), 24, "supplement")


def test_time_zones_and_naive_times_are_read_as_instants() -> None:
    eastern = timezone(timedelta(hours=-4))
    local = (FOC - timedelta(hours=47)).astimezone(eastern)
    assert not is_change_allowed(FOC, local, 48)
    assert not is_change_allowed(
        FOC.replace(tzinfo=None), (FOC - timedelta(hours=1)).replace(tzinfo=None), 48
    )
