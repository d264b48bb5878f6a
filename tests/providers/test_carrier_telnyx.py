"""The real TelnyxCarrier over HTTP against the local Telnyx stand-in."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.settings import get_settings
from models.carrier import CarrierOrderStatus as St
from models.carrier import NumberOutcome, Supplement, SupplementKind
from models.request import DocumentKind, DocumentRef
from providers.carrier.base import CarrierError, CarrierGuard, CarrierRejected
from providers.carrier.exceptions import remediation_for
from providers.carrier.telnyx import TelnyxCarrier
from providers.carrier.telnyx_map import customer_reference, order_id_from_reference
from tests.providers.carrier_fixtures import (
    ACCOUNT,
    NUMBERS,
    PIN,
    PORT_DATE,
    SECRETS,
    TOLL_FREE,
    Clock,
    document,
    submission,
    supplement_for,
)
from tests.telnyx_standin import TelnyxStandIn, serve

FOC = datetime(2026, 4, 15, 13, 0, tzinfo=UTC)
ORDER = "PR-2026-0042-1"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[TelnyxStandIn, str]]:
    standin = TelnyxStandIn()
    with serve(standin.app()) as url:
        yield standin, url


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def standin(server: tuple[TelnyxStandIn, str], clock: Clock) -> TelnyxStandIn:
    server[0].reset(clock=clock)
    return server[0]


@pytest.fixture
def carrier(
    var_dir: Path, server: tuple[TelnyxStandIn, str], standin: TelnyxStandIn, clock: Clock
) -> TelnyxCarrier:
    return TelnyxCarrier(
        get_settings(), api_key="test-key", base_url=f"{server[1]}/v2", clock=clock, timeout=2
    )


@pytest.fixture
def docs(var_dir: Path) -> list[DocumentRef]:
    d = get_settings().documents_dir
    return [
        document(d, DocumentKind.SIGNED_LOA, b"%PDF signed LOA", "loa-signed.pdf"),
        document(d, DocumentKind.BILL, b"%PDF March bill", "bill-2026-03.pdf"),
    ]


def sent(standin: TelnyxStandIn, method: str, path_end: str) -> list[dict]:
    return [
        json.loads(b) if b else {}
        for m, p, b in standin.requests
        if m == method and p.endswith(path_end)
    ]


async def test_submit_creates_fills_documents_and_confirms(
    carrier: TelnyxCarrier,
    standin: TelnyxStandIn,
    docs: list[DocumentRef],
    var_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    state = await carrier.submit(submission(documents=docs), SECRETS)
    assert (state.status, state.raw_status, state.provider) == (
        St.SUBMITTED,
        "in-process",
        "telnyx",
    )
    order = standin.order(state.carrier_order_id)
    ref = customer_reference(ORDER, f"{ORDER}:submit")
    assert order["customer_reference"] == ref and order_id_from_reference(ref) == ORDER
    admin, location = order["end_user"]["admin"], order["end_user"]["location"]
    assert admin == {
        "entity_name": "Acme Dental",
        "auth_person_name": "Dana Whitfield",
        "billing_phone_number": NUMBERS[0],
        "account_number": ACCOUNT,
        "pin_passcode": PIN,
    }
    assert location == {
        "street_address": "500 Market St",
        "extended_address": "Suite 4",
        "locality": "San Francisco",
        "administrative_area": "CA",
        "postal_code": "94105",
        "country_code": "US",
    }
    assert order["misc"] == {"type": "full"}
    assert order["activation_settings"]["foc_datetime_requested"] == "2026-04-15T13:00:00Z"
    assert {standin.documents[order["documents"][k]]["filename"] for k in ("loa", "invoice")} == {
        "loa-signed.pdf",
        "bill-2026-03.pdf",
    }
    assert [n.tn for n in state.numbers] == NUMBERS
    standin.set_status(state.carrier_order_id, "submitted")
    assert (await carrier.status(state.carrier_order_id)).status is St.PENDING
    standin.confirm_foc(state.carrier_order_id, FOC)
    state = await carrier.status(state.carrier_order_id)
    assert (state.status, state.foc_at, state.raw_status) == (
        St.FOC_CONFIRMED,
        FOC,
        "foc-date-confirmed",
    )
    standin.finish_activation(state.carrier_order_id)
    state = await carrier.status(state.carrier_order_id)
    assert state.status is St.PORTED and {n.outcome for n in state.numbers} == {
        NumberOutcome.PORTED
    }
    kept = "".join(p.read_text() for p in (var_dir / "carrier-telnyx").glob("*.json"))
    assert ACCOUNT not in kept + caplog.text and PIN not in kept + caplog.text


async def test_a_lost_create_response_still_makes_exactly_one_order(
    carrier: TelnyxCarrier, standin: TelnyxStandIn, docs: list[DocumentRef]
) -> None:
    carrier.http.timeout = 0.3
    standin.delay_next("POST", "/v2/porting_orders", 1.0)
    with pytest.raises(CarrierError, match="did not answer") as info:
        await carrier.submit(submission(documents=docs), SECRETS)
    assert info.value.retryable
    standin.delay_next("POST", "/actions/confirm", 1.0)
    with pytest.raises(CarrierError):
        await carrier.submit(submission(documents=docs), SECRETS)
    state = await carrier.submit(submission(documents=docs), SECRETS)
    ref = customer_reference(ORDER, f"{ORDER}:submit")
    assert [o["id"] for o in standin.by_reference(ref)] == [state.carrier_order_id]
    assert state.raw_status == "in-process"
    assert len(sent(standin, "POST", "/actions/confirm")) == 1
    assert len(standin.documents) == 2, "documents are looked up before uploading again"


@pytest.mark.parametrize(
    "code",
    [
        "BTN_ATN_MISMATCH",
        "LOCATION_MISMATCH",
        "PASSCODE_PIN_INVALID",
        "ACCOUNT_NUMBER_MISMATCH",
        "AUTH_PERSON_MISMATCH",
        "FOC_EXPIRED",
        "PHONE_NUMBER_NOT_PORTABLE",
    ],
)
async def test_remediation_round_trip(
    carrier: TelnyxCarrier, standin: TelnyxStandIn, docs: list[DocumentRef], code: str
) -> None:
    oid = (await carrier.submit(submission(documents=docs), SECRETS)).carrier_order_id
    standin.set_status(oid, "submitted")
    standin.raise_exception(oid, (code, f"{code.lower()}: {NUMBERS[3]} per the CSR"))
    state = await carrier.status(oid)
    assert state.status is St.EXCEPTION
    (exc,) = state.exceptions
    assert (exc.code, exc.raw_code, exc.numbers) == (code, code, [NUMBERS[3]])
    rem = remediation_for(exc.code, exc.message, exc.numbers)
    if rem.fields_to_amend != ["remove_numbers"]:
        await carrier.supplement(
            oid,
            Supplement(
                kind=SupplementKind.SUP3,
                idempotency_key="wrong",
                corrections={"entity_name": "Acme Dental LLC"},
            ),
            SECRETS,
        )
        assert (await carrier.status(oid)).status is St.EXCEPTION
    loa = document(
        get_settings().documents_dir, DocumentKind.SIGNED_LOA, b"%PDF LOA v2", "loa-v2.pdf"
    )
    sup = supplement_for(rem, exc.numbers, loa, key="fix")
    state = await carrier.supplement(oid, sup, SECRETS)
    assert (state.status, state.raw_status) == (St.PENDING, "submitted"), state.exceptions
    assert (await carrier.supplement(oid, sup, SECRETS)).status is St.PENDING
    marks = [c for c in standin.comments[oid] if "[portflow fix]" in c["body"]]
    assert len(marks) == 1, "a supplement is applied once per idempotency key"
    order = standin.order(oid)
    if code == "PASSCODE_PIN_INVALID":
        assert order["end_user"]["admin"]["pin_passcode"] == "9876"
    if code == "FOC_EXPIRED":
        assert order["activation_settings"]["foc_datetime_requested"] == "2026-04-22T13:00:00Z"
    if code == "PHONE_NUMBER_NOT_PORTABLE":
        assert NUMBERS[3] not in [n["phone_number"] for n in order["phone_numbers"]]


async def test_numbers_telnyx_cannot_port_never_enter_the_order(
    carrier: TelnyxCarrier, standin: TelnyxStandIn, docs: list[DocumentRef]
) -> None:
    standin.not_portable[NUMBERS[3]] = "no_coverage"
    state = await carrier.submit(submission(documents=docs), SECRETS)
    assert [
        n["phone_number"] for n in standin.order(state.carrier_order_id)["phone_numbers"]
    ] == NUMBERS[:3]
    for s in (state, await carrier.status(state.carrier_order_id)):
        gone = {n.tn: n for n in s.numbers}[NUMBERS[3]]
        assert gone.outcome is NumberOutcome.NOT_PORTABLE and "no_coverage" in (gone.reason or "")
    standin.not_portable.update({n: "no_coverage" for n in NUMBERS})
    with pytest.raises(CarrierRejected, match="cannot port any number"):
        await carrier.submit(submission("PR-2026-0042-2", documents=docs), SECRETS)


async def test_a_split_by_telnyx_holds_the_order_until_the_numbers_move(
    carrier: TelnyxCarrier, standin: TelnyxStandIn, docs: list[DocumentRef]
) -> None:
    numbers = [NUMBERS[0], NUMBERS[1], "+16175550102", "+16175550103"]
    standin.spid_prefixes = ["+1617"]
    state = await carrier.submit(submission(numbers=numbers, documents=docs), SECRETS)
    assert (state.status, state.raw_status) == (St.EXCEPTION, "draft")
    (exc,) = state.exceptions
    assert exc.code == "PORTING_ORDER_SPLIT_REQUIRED" and exc.numbers == numbers[2:]
    assert len(standin.deleted) == 1 and list(standin.orders) == [state.carrier_order_id]
    assert remediation_for(exc.code).action == "split"
    state = await carrier.supplement(
        state.carrier_order_id,
        Supplement(
            kind=SupplementKind.SUP3,
            idempotency_key="split",
            reason="moved to PR-2026-0042-2",
            corrections={"remove_numbers": ",".join(numbers[2:])},
        ),
        SECRETS,
    )
    assert (state.status, state.raw_status, state.exceptions) == (St.SUBMITTED, "in-process", [])


async def test_toll_free_is_a_resporg_order_without_pin_or_bill(
    carrier: TelnyxCarrier, standin: TelnyxStandIn, docs: list[DocumentRef]
) -> None:
    secrets = {k: v for k, v in SECRETS.items() if v != PIN}
    state = await carrier.submit(
        submission(numbers=TOLL_FREE, toll_free=True, documents=docs[:1]), secrets
    )
    assert state.raw_status == "in-process"
    order = standin.order(state.carrier_order_id)
    assert order["phone_number_type"] == "toll_free" and order["documents"]["invoice"] is None
    patches = sent(standin, "PATCH", state.carrier_order_id)
    assert "pin_passcode" not in patches[0]["end_user"]["admin"]


async def test_cancel_before_and_inside_the_guard(
    carrier: TelnyxCarrier, standin: TelnyxStandIn, clock: Clock, docs: list[DocumentRef]
) -> None:
    oid = (await carrier.submit(submission(documents=docs), SECRETS)).carrier_order_id
    standin.confirm_foc(oid, FOC)
    clock.to(FOC - timedelta(hours=47))
    with pytest.raises(CarrierGuard, match="47.0 hours"):
        await carrier.cancel(oid, "customer stays")
    assert not sent(standin, "POST", "/actions/cancel"), "refused before asking Telnyx"
    clock.to(FOC - timedelta(days=5))
    state = await carrier.cancel(oid, "customer stays")
    assert (state.status, state.raw_status) == (St.CANCEL_PENDING, "cancel-pending")
    assert standin.comments[oid][-1]["body"] == "[portflow cancel] customer stays"
    assert (await carrier.cancel(oid, "again")).status is St.CANCEL_PENDING
    assert len(sent(standin, "POST", "/actions/cancel")) == 1


async def test_a_draft_is_deleted_on_cancel_and_telnyx_refusals_are_shown(
    carrier: TelnyxCarrier, standin: TelnyxStandIn, docs: list[DocumentRef], clock: Clock
) -> None:
    standin.spid_prefixes = ["+1617"]
    held = await carrier.submit(
        submission(numbers=[NUMBERS[0], "+16175550100"], documents=docs), SECRETS
    )
    state = await carrier.cancel(held.carrier_order_id, "customer stays")
    assert (state.status, state.raw_status) == (St.CANCELLED, "draft deleted")
    assert held.carrier_order_id in standin.deleted
    oid = (
        await carrier.submit(submission("PR-2026-0042-2", documents=docs), SECRETS)
    ).carrier_order_id
    standin.confirm_foc(oid, FOC)
    standin.clock = lambda: (
        FOC - timedelta(hours=30)
    )  # Telnyx's clock says 30 h, ours 44 days: Telnyx refuses
    with pytest.raises(CarrierRejected, match="within 48 hours") as info:
        await carrier.cancel(oid, "too late")
    assert info.value.retryable is False


async def test_on_demand_activation_inside_the_window(
    carrier: TelnyxCarrier, standin: TelnyxStandIn, clock: Clock, docs: list[DocumentRef]
) -> None:
    standin.fast_port = True
    oid = (await carrier.submit(submission(documents=docs), SECRETS)).carrier_order_id
    standin.confirm_foc(oid, FOC, window_hours=14)
    state = await carrier.status(oid)
    assert state.fast_port_eligible and state.activation_window == (FOC, FOC + timedelta(hours=14))
    with pytest.raises(CarrierRejected, match="window opens"):
        await carrier.activate(oid)
    clock.to(FOC + timedelta(hours=2))
    assert (await carrier.activate(oid)).status is St.ACTIVATING
    assert (await carrier.activate(oid)).status is St.ACTIVATING
    assert len(sent(standin, "POST", "/actions/activate")) == 1
    standin.finish_activation(oid, failed=[NUMBERS[2]])
    state = await carrier.status(oid)
    assert state.status is St.PORTED
    assert {n.tn: n.outcome for n in state.numbers}[NUMBERS[2]] is NumberOutcome.FAILED


async def test_activation_at_the_window_end_and_activation_failure(
    carrier: TelnyxCarrier, standin: TelnyxStandIn, clock: Clock, docs: list[DocumentRef]
) -> None:
    standin.fast_port = True
    oid = (await carrier.submit(submission(documents=docs), SECRETS)).carrier_order_id
    standin.confirm_foc(oid, FOC, window_hours=14)
    clock.to(FOC + timedelta(hours=15))
    assert (
        await carrier.activate(oid)
    ).status is St.FOC_CONFIRMED  # Telnyx ports it at the end by itself
    assert not sent(standin, "POST", "/actions/activate")
    standin.finish_activation(oid)
    assert (await carrier.status(oid)).status is St.PORTED
    other = (
        await carrier.submit(submission("PR-2026-0042-2", documents=docs), SECRETS)
    ).carrier_order_id
    standin.confirm_foc(other, FOC + timedelta(days=1))
    standin.finish_activation(other, job_failed=True)
    assert (await carrier.status(other)).status is St.ACTIVATION_FAILED


async def test_foc_is_moved_into_the_allowed_windows(
    carrier: TelnyxCarrier, standin: TelnyxStandIn, docs: list[DocumentRef]
) -> None:
    standin.windows = [
        (datetime(2026, 4, d, 15, tzinfo=UTC), datetime(2026, 4, d, 23, tzinfo=UTC))
        for d in (14, 15, 16)
    ]
    state = await carrier.submit(submission(documents=docs), SECRETS)
    assert (
        standin.order(state.carrier_order_id)["activation_settings"]["foc_datetime_requested"]
        == "2026-04-15T15:00:00Z"
    )
    with pytest.raises(CarrierRejected, match="choose a port date in that range"):
        await carrier.submit(
            submission(
                "PR-2026-0042-2", requested_foc_date=PORT_DATE + timedelta(days=30), documents=docs
            ),
            SECRETS,
        )


async def test_errors_are_classified(
    carrier: TelnyxCarrier,
    standin: TelnyxStandIn,
    docs: list[DocumentRef],
    server: tuple[TelnyxStandIn, str],
) -> None:
    standin.fail_next("POST", "/portability_checks", 429, retry_after="7")
    with pytest.raises(CarrierError, match="429") as info:
        await carrier.submit(submission(documents=docs), SECRETS)
    assert info.value.retryable and info.value.retry_after == 7  # type: ignore[attr-defined]
    standin.fail_next("GET", "/porting_orders/x", 503)
    with pytest.raises(CarrierError, match="503") as info:
        await carrier.status("x")
    assert info.value.retryable
    with pytest.raises(CarrierRejected, match="404"):
        await carrier.status("no-such-order")
    wrong = TelnyxCarrier(get_settings(), api_key="nope", base_url=f"{server[1]}/v2")
    with pytest.raises(CarrierRejected, match="PORTFLOW_TELNYX_API_KEY"):
        await wrong.status("x")
    down = TelnyxCarrier(
        get_settings(), api_key="test-key", base_url="http://127.0.0.1:9/v2", timeout=1
    )
    with pytest.raises(CarrierError, match="cannot reach Telnyx") as info:
        await down.status("x")
    assert info.value.retryable and "test-key" not in repr(down)
    with pytest.raises(CarrierRejected, match="no bill"):
        await carrier.submit(submission(documents=docs[:1]), SECRETS)
    with pytest.raises(CarrierRejected, match="no signed LOA"):
        await carrier.submit(submission(documents=docs[1:]), SECRETS)


async def test_a_document_missing_from_the_store_is_a_clear_permanent_error(
    carrier: TelnyxCarrier, standin: TelnyxStandIn, docs: list[DocumentRef]
) -> None:
    lost = docs[1].model_copy(update={"sha256": "0" * 64, "file_name": "lost-bill.pdf"})
    with pytest.raises(
        CarrierError, match="lost-bill.pdf.*missing from the document store"
    ) as info:
        await carrier.submit(submission(documents=[docs[0], lost]), SECRETS)
    assert info.value.retryable is False
