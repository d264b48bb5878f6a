"""The manual carrier: the PM enters the order in the carrier's portal and records the answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.settings import get_settings
from models.carrier import CarrierOrderStatus as St
from models.carrier import NumberOutcome, Supplement, SupplementKind
from providers.carrier.base import CarrierGuard, CarrierRejected
from providers.carrier.manual import ManualCarrier, ManualEventError, build_event
from tests.providers.carrier_fixtures import (
    ACCOUNT,
    NUMBERS,
    PIN,
    PORT_DATE,
    SECRETS,
    TOLL_FREE,
    Clock,
    submission,
)

ORDER = "PR-2026-0042-1"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def manual(var_dir: Path, clock: Clock) -> ManualCarrier:
    return ManualCarrier(get_settings(), clock=clock)


async def test_submit_records_a_local_order_awaiting_the_pm(
    manual: ManualCarrier, var_dir: Path
) -> None:
    state = await manual.submit(submission(), SECRETS)
    assert state.carrier_order_id.startswith(f"MAN-{ORDER}-")
    assert (state.status, state.provider) == (St.SUBMITTED, "manual")
    assert state.raw_status.startswith("manual: awaiting PM entry")
    assert (await manual.submit(submission(), SECRETS)) == state  # idempotent
    assert await manual.status(state.carrier_order_id) == state
    text = "".join(p.read_text() for p in (var_dir / "carrier-manual").glob("*.json"))
    assert ACCOUNT not in text and PIN not in text


async def test_recorded_answers_become_states_and_events(
    manual: ManualCarrier, clock: Clock
) -> None:
    local = (await manual.submit(submission(), SECRETS)).carrier_order_id
    clock.tick(3600)
    state = manual.record_event(ORDER, carrier_order_id="ATT-778812")
    assert (state.status, state.carrier_order_id) == (St.PENDING, "ATT-778812")
    assert "ATT-778812" in state.raw_status
    assert await manual.status("ATT-778812") == state == await manual.status(local)
    state = manual.record_event(
        ORDER, reject_code="btn_atn_mismatch", reject_text="BTN does not match CSR"
    )
    assert state.status is St.EXCEPTION
    assert (state.exceptions[0].code, state.exceptions[0].raw_code) == (
        "BTN_ATN_MISMATCH",
        "btn_atn_mismatch",
    )
    state = await manual.supplement(
        local,
        Supplement(
            kind=SupplementKind.SUP3,
            idempotency_key="s1",
            corrections={"btn": "+14155550101"},
            reason="BTN from bill",
        ),
        {},
    )
    assert state.status is St.SUBMITTED and "SUP3 (btn) awaiting PM entry" in state.raw_status
    foc = manual.record_event(
        ORDER, foc_at=datetime(2026, 4, 15, 9, 0)
    )  # naive: the customer's zone
    assert foc.status is St.FOC_CONFIRMED and foc.foc_at == datetime(2026, 4, 15, 13, 0, tzinfo=UTC)
    done = manual.record_event(ORDER, completed=True, failed_numbers=["415-555-0103"])
    outcomes = {n.tn: n.outcome for n in done.numbers}
    assert done.status is St.PORTED and outcomes.pop("+14155550103") is NumberOutcome.FAILED
    assert set(outcomes.values()) == {NumberOutcome.PORTED}
    event = build_event(ORDER, done, note="PM confirmed test calls")
    assert event.order_id == ORDER and event.actor == "pm" and event.state == done
    assert (
        build_event(ORDER, done, note="x").event_id == event.event_id
    )  # same record, same dedupe key


async def test_not_portable_numbers_recorded_by_the_pm(manual: ManualCarrier) -> None:
    await manual.submit(submission(), SECRETS)
    state = manual.record_event(
        ORDER,
        reject_code="PHONE_NUMBER_NOT_PORTABLE",
        numbers=[NUMBERS[3]],
        reject_text="number disconnected",
    )
    assert state.exceptions[0].numbers == [NUMBERS[3]]
    assert {n.tn: n.outcome for n in state.numbers}[NUMBERS[3]] is NumberOutcome.NOT_PORTABLE


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "nothing to record"),
        ({"completed": True, "cancelled": True}, "one carrier answer at a time"),
        ({"reject_text": "no"}, "needs its code"),
        ({"reject_code": "OTHER", "numbers": ["+16175550100"]}, "not on this order"),
        ({"reject_code": "OTHER", "numbers": ["12"]}, "not a valid|not a phone"),
    ],
)
async def test_nonsense_entries_are_refused(
    manual: ManualCarrier, kwargs: dict, message: str
) -> None:
    await manual.submit(submission(), SECRETS)
    with pytest.raises(ManualEventError, match=message):
        manual.record_event(ORDER, **kwargs)


def test_recording_before_submission_is_refused(manual: ManualCarrier) -> None:
    with pytest.raises(ManualEventError, match="no manual carrier submission"):
        manual.record_event("PR-2026-0099-1", completed=True)


async def test_cancel_is_guarded_and_then_awaits_the_pm(
    manual: ManualCarrier, clock: Clock
) -> None:
    local = (await manual.submit(submission(), SECRETS)).carrier_order_id
    foc = manual.record_event(ORDER, foc_at=datetime(2026, 4, 15, 13, 0, tzinfo=UTC)).foc_at
    assert foc is not None
    clock.to(foc - timedelta(hours=47))
    with pytest.raises(CarrierGuard, match="47.0 hours"):
        await manual.cancel(local, "customer changed their mind")
    clock.to(foc - timedelta(hours=49))
    state = await manual.cancel(local, "customer changed their mind")
    assert state.status is St.CANCEL_PENDING and "awaiting PM entry" in state.raw_status
    assert manual.record_event(ORDER, cancelled=True).status is St.CANCELLED
    with pytest.raises(CarrierRejected, match="no supplement"):
        await manual.supplement(
            local,
            Supplement(kind=SupplementKind.SUP2, idempotency_key="d", new_foc_date=PORT_DATE),
            {},
        )


async def test_toll_free_manual_order_says_resporg(manual: ManualCarrier) -> None:
    state = await manual.submit(submission(numbers=TOLL_FREE, toll_free=True), SECRETS)
    assert "RespOrg change" in state.raw_status
