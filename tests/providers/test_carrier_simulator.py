"""The carrier simulator plays every answer a carrier gives, driven by its profile and the clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.settings import get_settings
from models.carrier import CarrierOrderStatus as St
from models.carrier import NumberOutcome, Supplement, SupplementKind
from models.request import DocumentKind
from providers.carrier import carrier_from_settings
from providers.carrier.base import CarrierError, CarrierGuard, CarrierRejected
from providers.carrier.exceptions import CODES, remediation_for
from providers.carrier.sim_profile import parse_profile
from providers.carrier.simulator import CarrierSimulator
from tests.providers.carrier_fixtures import (
    ACCOUNT,
    NUMBERS,
    PIN,
    PORT_DATE,
    SECRETS,
    START,
    TOLL_FREE,
    Clock,
    document,
    submission,
    supplement_for,
)
from tests.settings_helpers import use_settings

FOC = datetime(2026, 4, 15, 13, 0, tzinfo=UTC)  # 09:00 in New York on the port date


def sim(var_dir: Path, clock: Clock, **rule: object) -> CarrierSimulator:
    rules = {"answer_after_seconds": 10, **rule}
    return CarrierSimulator(
        get_settings(), clock=clock, profile=parse_profile({"carriers": {"acme telecom": rules}})
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def test_accept_walks_from_submission_to_ported_and_survives_a_restart(
    var_dir: Path, clock: Clock
) -> None:
    s = sim(var_dir, clock)
    state = await s.submit(submission(), SECRETS)
    assert (state.status, state.raw_status, state.provider) == (
        St.SUBMITTED,
        "in-process",
        "simulator",
    )
    clock.tick(6)
    assert (await s.status(state.carrier_order_id)).raw_status == "submitted"
    clock.tick(5)
    state = await s.status(state.carrier_order_id)
    assert (state.status, state.foc_at, state.fast_port_eligible) == (St.FOC_CONFIRMED, FOC, False)
    assert {n.outcome for n in state.numbers} == {NumberOutcome.PENDING}
    clock.to(FOC)
    restarted = sim(var_dir, clock)  # a new worker process reads the same record
    state = await restarted.status(state.carrier_order_id)
    assert state.status is St.PORTED and [n.tn for n in state.numbers] == NUMBERS
    assert {n.outcome for n in state.numbers} == {NumberOutcome.PORTED}


async def test_submit_is_idempotent_and_keeps_no_secret(var_dir: Path, clock: Clock) -> None:
    s = sim(var_dir, clock)
    first = await s.submit(submission(), SECRETS)
    clock.tick(60)
    again = await s.submit(submission(), SECRETS)
    assert again.carrier_order_id == first.carrier_order_id and again.status is St.FOC_CONFIRMED
    files = list((var_dir / "carrier-sim").glob("*.json"))
    assert len(files) == 1
    text = files[0].read_text()
    assert ACCOUNT not in text and PIN not in text
    assert json.loads(text)["account_hint"] == "********70"


@pytest.mark.parametrize("code", CODES)
async def test_every_reject_code_round_trips_through_its_remediation(
    var_dir: Path, clock: Clock, code: str
) -> None:
    s = sim(var_dir, clock, behaviour="reject", code=code, text=f"carrier says {code}")
    state = await s.submit(submission(), SECRETS)
    clock.tick(11)
    state = await s.status(state.carrier_order_id)
    assert state.status is St.EXCEPTION and state.raw_status == "exception"
    (exc,) = state.exceptions
    assert (exc.code, exc.raw_code, exc.message) == (code, code, f"carrier says {code}")
    rem = remediation_for(exc.code, exc.message, exc.numbers)
    if "remove_numbers" in rem.fields_to_amend:
        assert exc.numbers == [NUMBERS[-1]]
    loa = document(
        get_settings().documents_dir, DocumentKind.SIGNED_LOA, b"%PDF new LOA", "loa-v2.pdf"
    )
    if rem.fields_to_amend and rem.fields_to_amend != ["port_date"]:
        wrong = Supplement(
            kind=SupplementKind.SUP3,
            idempotency_key="wrong",
            reason="unrelated",
            corrections={"entity_name": "Nobody"}
            if "entity_name" not in rem.fields_to_amend
            else {"btn": "+14155550100"},
        )
        await s.supplement(state.carrier_order_id, wrong, SECRETS)
        clock.tick(11)
        assert (await s.status(state.carrier_order_id)).status is St.EXCEPTION, (
            "an unrelated fix is rejected again"
        )
    state = await s.supplement(
        state.carrier_order_id, supplement_for(rem, exc.numbers, loa), SECRETS
    )
    assert state.status is St.SUBMITTED
    clock.tick(11)
    state = await s.status(state.carrier_order_id)
    assert state.status is St.FOC_CONFIRMED, state.exceptions
    if rem.action == "new_date":
        assert state.foc_at == FOC + timedelta(days=7)
    if rem.action in ("remove_numbers", "split"):
        assert NUMBERS[-1] not in [
            n.tn for n in state.numbers if n.outcome is NumberOutcome.PENDING
        ]


async def test_a_carrier_that_always_rejects_keeps_rejecting(var_dir: Path, clock: Clock) -> None:
    s = sim(
        var_dir, clock, behaviour="reject", code="BTN_ATN_MISMATCH", first_submission_only=False
    )
    state = await s.submit(submission(), SECRETS)
    clock.tick(11)
    await s.supplement(
        state.carrier_order_id,
        Supplement(
            kind=SupplementKind.SUP3, idempotency_key="k", corrections={"btn": "+14155550101"}
        ),
        SECRETS,
    )
    clock.tick(11)
    assert (await s.status(state.carrier_order_id)).exceptions[0].code == "BTN_ATN_MISMATCH"


async def test_sup2_moves_the_date_outside_the_guard_and_is_refused_inside(
    var_dir: Path, clock: Clock
) -> None:
    s = sim(var_dir, clock)
    oid = (await s.submit(submission(), SECRETS)).carrier_order_id
    clock.tick(11)
    sup2 = Supplement(
        kind=SupplementKind.SUP2,
        idempotency_key="sup2",
        new_foc_date=PORT_DATE + timedelta(days=2),
        reason="customer asked for Friday",
    )
    state = await s.supplement(oid, sup2, {})
    assert state.status is St.SUBMITTED and state.foc_at is None
    assert (await s.supplement(oid, sup2, {})).carrier_order_id == oid  # same key: applied once
    clock.tick(11)
    new_foc = FOC + timedelta(days=2)
    assert (await s.status(oid)).foc_at == new_foc
    clock.to(new_foc - timedelta(hours=30))
    with pytest.raises(CarrierGuard, match=r"30\.0 hours from now"):
        await s.supplement(
            oid, sup2.model_copy(update={"idempotency_key": "late", "new_foc_date": PORT_DATE}), {}
        )
    record = json.loads((var_dir / "carrier-sim" / f"{oid}.json").read_text())
    assert [e["kind"] for e in record["events"]] == ["submit", "SUP2"]


async def test_cancel_before_the_guard_inside_it_and_after_the_port(
    var_dir: Path, clock: Clock
) -> None:
    s = sim(var_dir, clock)
    early = (await s.submit(submission(), SECRETS)).carrier_order_id
    clock.tick(11)
    state = await s.cancel(early, "customer stays")
    assert (state.status, state.raw_status) == (St.CANCEL_PENDING, "cancel-pending")
    clock.tick(5)
    assert (await s.cancel(early, "again")).status is St.CANCELLED
    late = (await s.submit(submission("PR-2026-0042-2"), SECRETS)).carrier_order_id
    clock.to(FOC - timedelta(hours=20))
    with pytest.raises(CarrierGuard, match="porting desk"):
        await s.cancel(late, "too late")
    clock.to(FOC + timedelta(minutes=1))
    with pytest.raises(CarrierRejected, match="snapback"):
        await s.cancel(late, "after the port")
    with pytest.raises(CarrierRejected, match="no supplement"):
        await s.supplement(late, Supplement(kind=SupplementKind.SUP3, idempotency_key="x"), {})


async def test_sup1_through_supplement_cancels(var_dir: Path, clock: Clock) -> None:
    s = sim(var_dir, clock)
    oid = (await s.submit(submission(), SECRETS)).carrier_order_id
    state = await s.supplement(
        oid, Supplement(kind=SupplementKind.SUP1, idempotency_key="c", reason="stop"), {}
    )
    assert state.status is St.CANCEL_PENDING


async def test_not_portable_numbers_leave_the_order_and_the_rest_port(
    var_dir: Path, clock: Clock
) -> None:
    s = sim(
        var_dir,
        clock,
        behaviour="not_portable",
        numbers=["415 555 0102"],
        text="rate center closed",
    )
    oid = (await s.submit(submission(), SECRETS)).carrier_order_id
    clock.tick(11)
    state = await s.status(oid)
    assert state.exceptions[0].numbers == ["+14155550102"]
    assert {n.tn: n.outcome for n in state.numbers}["+14155550102"] is NumberOutcome.NOT_PORTABLE
    await s.supplement(
        oid,
        Supplement(
            kind=SupplementKind.SUP3,
            idempotency_key="rm",
            reason="not portable",
            corrections={"remove_numbers": "+14155550102"},
        ),
        {},
    )
    clock.to(FOC)
    state = await s.status(oid)
    outcomes = {n.tn: (n.outcome, n.reason) for n in state.numbers}
    assert state.status is St.PORTED
    assert outcomes.pop("+14155550102") == (NumberOutcome.NOT_PORTABLE, "rate center closed")
    assert {o for o, _ in outcomes.values()} == {NumberOutcome.PORTED} and len(outcomes) == 3


async def test_split_required_until_the_numbers_move_to_another_order(
    var_dir: Path, clock: Clock
) -> None:
    s = sim(var_dir, clock, behaviour="split")
    oid = (await s.submit(submission(), SECRETS)).carrier_order_id
    clock.tick(11)
    (exc,) = (await s.status(oid)).exceptions
    assert exc.code == "PORTING_ORDER_SPLIT_REQUIRED" and exc.numbers == NUMBERS[2:]
    with pytest.raises(CarrierRejected, match="cancel it instead"):
        await s.supplement(
            oid,
            Supplement(
                kind=SupplementKind.SUP3,
                idempotency_key="all",
                corrections={"remove_numbers": ",".join(NUMBERS)},
            ),
            {},
        )
    with pytest.raises(CarrierRejected, match="not on order"):
        await s.supplement(
            oid,
            Supplement(
                kind=SupplementKind.SUP3,
                idempotency_key="bad",
                corrections={"remove_numbers": "+14155550177"},
            ),
            {},
        )
    await s.supplement(
        oid,
        Supplement(
            kind=SupplementKind.SUP3,
            idempotency_key="split",
            reason="split",
            corrections={"remove_numbers": ",".join(exc.numbers)},
        ),
        {},
    )
    clock.tick(11)
    state = await s.status(oid)
    assert state.status is St.FOC_CONFIRMED and [n.tn for n in state.numbers] == NUMBERS[:2]


async def test_toll_free_is_a_resporg_change_without_pin(var_dir: Path, clock: Clock) -> None:
    s = sim(var_dir, clock)
    secrets = {k: v for k, v in SECRETS.items() if v != PIN}
    state = await s.submit(submission(numbers=TOLL_FREE, toll_free=True), secrets)
    assert state.raw_status == "resporg-change-requested" and state.status is St.SUBMITTED
    clock.tick(11)
    assert (await s.status(state.carrier_order_id)).raw_status == "resporg-change-approved"
    clock.to(FOC)
    state = await s.status(state.carrier_order_id)
    assert (state.status, state.raw_status) == (St.PORTED, "resporg-change-complete")
    with pytest.raises(CarrierRejected, match="RespOrg"):
        await s.submit(submission("PR-2026-0042-3", numbers=[*NUMBERS[:1], *TOLL_FREE]), SECRETS)
    with pytest.raises(CarrierError, match="PIN"):  # a geographic order needs its PIN revealed
        await s.submit(submission("PR-2026-0042-4"), secrets)


async def test_on_demand_activation_inside_the_window(var_dir: Path, clock: Clock) -> None:
    s = sim(var_dir, clock, fast_port=True, activation_window_seconds=3600, activation_seconds=30)
    oid = (await s.submit(submission(), SECRETS)).carrier_order_id
    clock.tick(11)
    state = await s.status(oid)
    assert state.fast_port_eligible and state.activation_window == (FOC, FOC + timedelta(hours=1))
    with pytest.raises(CarrierRejected, match="opens at the FOC"):
        await s.activate(oid)
    clock.to(FOC + timedelta(minutes=10))
    assert (await s.status(oid)).status is St.FOC_CONFIRMED, "on-demand orders wait for activate()"
    assert (await s.activate(oid)).status is St.ACTIVATING
    clock.tick(30)
    assert (await s.activate(oid)).status is St.PORTED


async def test_without_activation_the_numbers_port_at_the_end_of_the_window(
    var_dir: Path, clock: Clock
) -> None:
    s = sim(var_dir, clock, fast_port=True, activation_window_seconds=3600)
    oid = (await s.submit(submission(), SECRETS)).carrier_order_id
    clock.to(FOC + timedelta(minutes=59))
    assert (await s.status(oid)).status is St.FOC_CONFIRMED
    clock.to(FOC + timedelta(hours=1))
    assert (await s.status(oid)).status is St.PORTED


async def test_activation_failure_then_a_new_date_ports(var_dir: Path, clock: Clock) -> None:
    s = sim(var_dir, clock, behaviour="activation_failure")
    oid = (await s.submit(submission(), SECRETS)).carrier_order_id
    clock.to(FOC)
    state = await s.activate(oid)
    assert (state.status, state.raw_status) == (St.ACTIVATION_FAILED, "activation-failed")
    assert {n.outcome for n in state.numbers} == {NumberOutcome.FAILED}
    await s.supplement(
        oid,
        Supplement(
            kind=SupplementKind.SUP2,
            idempotency_key="again",
            new_foc_date=PORT_DATE + timedelta(days=1),
        ),
        {},
    )
    clock.to(FOC + timedelta(days=1))
    assert (await s.status(oid)).status is St.PORTED


async def test_partial_success_marks_the_failed_numbers(var_dir: Path, clock: Clock) -> None:
    s = sim(var_dir, clock, behaviour="partial", numbers=["+14155550101"])
    oid = (await s.submit(submission(), SECRETS)).carrier_order_id
    clock.to(FOC)
    state = await s.status(oid)
    assert state.status is St.PORTED
    failed = [n.tn for n in state.numbers if n.outcome is NumberOutcome.FAILED]
    assert failed == ["+14155550101"] and state.exceptions[0].numbers == failed


async def test_foc_given_then_moved(var_dir: Path, clock: Clock) -> None:
    s = sim(var_dir, clock, behaviour="foc_moved", move_after_seconds=60, move_by_seconds=86400)
    oid = (await s.submit(submission(), SECRETS)).carrier_order_id
    clock.tick(11)
    assert (await s.status(oid)).foc_at == FOC
    clock.tick(60)
    assert (await s.status(oid)).foc_at == FOC + timedelta(days=1)


async def test_foc_expired_then_sup2(var_dir: Path, clock: Clock) -> None:
    s = sim(var_dir, clock, behaviour="foc_expired")
    oid = (await s.submit(submission(), SECRETS)).carrier_order_id
    clock.to(FOC)
    state = await s.status(oid)
    assert state.status is St.EXCEPTION and state.exceptions[0].code == "FOC_EXPIRED"
    rem = remediation_for("FOC_EXPIRED")
    await s.supplement(oid, supplement_for(rem, [], None), {})  # type: ignore[arg-type]
    clock.tick(11)
    assert (await s.status(oid)).foc_at == FOC + timedelta(days=7)
    clock.to(FOC + timedelta(days=7))
    assert (await s.status(oid)).status is St.PORTED


async def test_a_silent_carrier_never_answers(var_dir: Path, clock: Clock) -> None:
    s = sim(var_dir, clock, behaviour="silent")
    oid = (await s.submit(submission(), SECRETS)).carrier_order_id
    clock.tick(days=30)
    state = await s.status(oid)
    assert (state.status, state.raw_status, state.foc_at) == (St.PENDING, "submitted", None)


async def test_a_past_port_date_is_refused_as_foc_rejected(var_dir: Path, clock: Clock) -> None:
    s = sim(var_dir, clock)
    oid = (await s.submit(submission(requested_foc_date=START.date()), SECRETS)).carrier_order_id
    clock.tick(11)
    state = await s.status(oid)
    assert (
        state.exceptions[0].code == "FOC_REJECTED"
        and "not in the future" in state.exceptions[0].message
    )


async def test_bad_corrections_say_what_to_send(var_dir: Path, clock: Clock) -> None:
    s = sim(var_dir, clock)
    oid = (await s.submit(submission(), SECRETS)).carrier_order_id
    with pytest.raises(CarrierRejected, match="unknown correction colour: use account_number"):
        await s.supplement(
            oid,
            Supplement(kind=SupplementKind.SUP3, idempotency_key="a", corrections={"colour": "x"}),
            {},
        )
    with pytest.raises(CarrierRejected, match="service_address: city"):
        await s.supplement(
            oid,
            Supplement(
                kind=SupplementKind.SUP3,
                idempotency_key="b",
                corrections={
                    "service_address": '{"street": "1 Main", "state": "CA", "postal_code": "94105"}'
                },
            ),
            {},
        )
    with pytest.raises(CarrierRejected, match="give new_foc_date"):
        await s.supplement(oid, Supplement(kind=SupplementKind.SUP2, idempotency_key="c"), {})
    with pytest.raises(CarrierRejected, match="no order SIM-NOPE"):
        await s.status("SIM-NOPE")


async def test_profile_file_matches_carrier_names_and_number_prefixes(
    var_dir: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = var_dir.parent / "sim.yaml"
    profile.write_text(
        "carriers:\n"
        "  '*': {behaviour: silent}\n"
        "  ACME TELECOM:\n"
        "    - {number_prefix: '+1415555010', behaviour: reject, code: LSR_PENDING, answer_after_seconds: 1}\n"
        "    - {behaviour: accept, answer_after_seconds: 1, foc_in_seconds: 120}\n"
    )
    use_settings(monkeypatch, SIMULATOR_PROFILE=profile)
    s = carrier_from_settings(clock=clock)
    assert isinstance(s, CarrierSimulator)
    rejected = (await s.submit(submission(), SECRETS)).carrier_order_id
    accepted = (
        await s.submit(submission("PR-2026-0042-2", numbers=["+16175550100"]), SECRETS)
    ).carrier_order_id
    other = (
        await s.submit(submission("PR-2026-0042-3", carrier="Other Co"), SECRETS)
    ).carrier_order_id
    clock.tick(2)
    assert (await s.status(rejected)).exceptions[0].code == "LSR_PENDING"
    assert (await s.status(accepted)).foc_at == clock.now - timedelta(seconds=2) + timedelta(
        seconds=120
    )
    assert (await s.status(other)).status is St.SUBMITTED


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"carriers": {"acme": {"behaviour": "reject"}}}, "carrier 'acme', rule 1: .*needs a code"),
        ({"carriers": {"acme": [{}, {"behaviour": "explode"}]}}, "rule 2: behaviour"),
        ({"carriers": {"acme": {"colour": "red"}}}, "colour: Extra inputs"),
        (
            {"carriers": {"acme": {"foc_in_seconds": 5, "answer_after_seconds": 10}}},
            "must be later",
        ),
        ({"carriers": {"acme": {"behaviour": "partial", "numbers": ["12"]}}}, "numbers:"),
        ({"carrier": {}}, "the keys carriers"),
        ({"faults": {"rate": 2}}, "faults: rate: .*less than or equal to 1"),
        ({"faults": {"kinds": ["meteor"]}}, "faults: kinds.0"),
    ],
)
def test_a_broken_profile_says_which_rule(data: object, message: str) -> None:
    with pytest.raises(CarrierError, match=message) as info:
        parse_profile(data)
    assert info.value.retryable is False


async def test_the_example_profile_loads_and_gives_the_demo_an_foc_minutes_away(
    var_dir: Path, clock: Clock
) -> None:
    from providers.carrier.sim_profile import load_profile

    profile = load_profile(
        Path(__file__).resolve().parents[2] / "examples" / "carrier-simulator.yaml"
    )
    assert profile.behaviour_for("reject telecom", NUMBERS).code == "BTN_ATN_MISMATCH"
    assert profile.behaviour_for("Partial Networks", ["+13125550101"]).behaviour == "partial"
    assert profile.behaviour_for("BANDWIDTH", NUMBERS).guard_hours == 24
    s = CarrierSimulator(get_settings(), clock=clock, profile=profile)
    oid = (await s.submit(submission(carrier="Some Carrier"), SECRETS)).carrier_order_id
    clock.tick(10)
    assert (await s.status(oid)).foc_at == START + timedelta(seconds=120)
    clock.tick(110)
    assert (await s.status(oid)).status is St.PORTED
