"""Ports end to end through the real carrier adapters, on the time-skipping test server.

Manual: the PM submits in the carrier's portal and records each answer with
``starter.py carrier-event``, run here as the command itself against the test server.
Telnyx: the real httpx adapter talks to the Telnyx stand-in over HTTP; the stand-in plays
Telnyx's porting ops, and Telnyx's Ed25519-signed webhooks go through the real FastAPI app
and the Temporal event sink to the order's workflow.
Both: ``starter.py status`` shows each order's status beside the carrier's raw status and codes.
(The simulator runs end to end in ``test_happy_path.py``.)
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import WorkflowHandle, WorkflowUpdateStage
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.events import TemporalEventSink
from core.settings import get_settings
from models.request import DocumentKind, PortRequest
from models.status import PortStatus
from models.workflow import AmendOrder, Cancel, OrderView
from portflow.cli.actions import cmd_cancel, send_update
from providers.carrier.manual import ManualCarrier
from providers.carrier.telnyx_map import customer_reference, iso_z
from store import inventory
from store.db import session_scope
from store.documents import documents_of
from tests.mail_helpers import mail_to, wait_mail
from tests.polling import eventually
from tests.settings_helpers import configure
from tests.telnyx_standin import TelnyxStandIn, serve
from tests.workflows.adapter_helpers import (
    PM,
    PUBLIC_URL,
    TelnyxWebhooks,
    assign_all,
    adapter_settings,
    order_status,
    order_json,
    port_day_foc,
    run_starter,
    sleep_past,
    standin_calls,
    status_json,
    status_text,
    submitted_port,
    updates_admitted,
    wait_order,
    walked,
)
from tests.workflows.helpers import record_histories
from tests.workflows.paths_helpers import PM_MAIL
from workflows.port_order import PortOrderWorkflow
from workflows.port_request import PortRequestWorkflow

S = PortStatus


def change_to(o: OrderView, status: PortStatus):
    return next(c for c in o.timeline if c.to_status == status and c.from_status != status)


async def carrier_event(env: WorkflowEnvironment, order_id: str, *args: str) -> str:
    """``starter.py carrier-event <order> <args> --by PM``; its output."""
    result = await run_starter(env, "carrier-event", order_id, *args, "--by", PM)
    assert result.exit_code == 0, result.output
    return result.output


def explained(o: OrderView) -> bool:
    """In exception, with the next step worked out from the remediation."""
    return o.status == S.EXCEPTION and o.next.what.startswith("fix the carrier exception")


def manual_record(var: Path, order_id: str) -> dict[str, Any]:
    [path] = (var / "carrier-manual").glob(f"MAN-{order_id}-*.json")
    return json.loads(path.read_text("utf-8"))


def assert_completed(final: OrderView, req: PortRequest) -> None:
    assert final.status == S.COMPLETED
    path = walked(final)
    for a, b in zip([S.SUBMITTED, S.FOC_CONFIRMED, S.ACTIVATION, S.PORTED, S.VERIFIED],
                    [S.FOC_CONFIRMED, S.ACTIVATION, S.PORTED, S.VERIFIED, S.COMPLETED]):
        assert path.index(a) < path.index(b), path
    assert {(n.state, n.carrier_outcome) for n in final.numbers} == {("active", "ported")}
    with session_scope() as s:
        rows = inventory.numbers_of(session=s, request_id=req.id)
    assert sorted(r.tn for r in rows) == sorted(req.all_numbers)
    assert {str(r.state) for r in rows} == {"active"} and all(r.assigned_to for r in rows)


# --------------------------------------------------------------------------- manual
async def test_manual_port_runs_end_to_end_with_the_pm_recording_each_carrier_answer(
    env: WorkflowEnvironment, port_var: Path, task_queue: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(monkeypatch, port_var, task_queue, **adapter_settings(env, monkeypatch, "manual"))
    async with submitted_port(env, tmp_path) as (req, handle, o):
        oid = req.order_id(0)
        # Nothing has reached Lumen: the order is recorded for the PM to enter in its portal.
        assert o.status == S.SUBMITTED and o.carrier_order_id.startswith(f"MAN-{oid}-")
        assert o.carrier_raw_status == "manual: awaiting PM entry (port order in Lumen's portal)"
        page = await status_text(env, oid)
        assert f"{o.carrier_order_id} · raw status 'manual: awaiting PM entry (port order in Lumen's portal)'" in page

        # The PM entered it; Lumen gave its order number.
        out = await carrier_event(env, oid, "--carrier-order-id", "LUM-778812")
        assert f"{oid}: recorded 'manual: carrier order id (carrier order LUM-778812) recorded by {PM}'" in out
        o = await wait_order(env.client, oid, lambda v: v.status == S.CARRIER_PENDING, what="carrier pending")
        assert o.carrier_order_id == "LUM-778812" and change_to(o, S.CARRIER_PENDING).actor == PM

        # Lumen confirms the FOC: the port day at 09:00 in New York, as the carrier wrote it.
        foc = port_day_foc(o.port_date)
        out = await carrier_event(env, oid, "--foc", foc.isoformat())
        raw_foc = f"manual: FOC {foc.astimezone(UTC):%Y-%m-%d %H:%M} UTC recorded by {PM} (carrier order LUM-778812)"
        assert f"recorded '{raw_foc}'" in out
        o = await wait_order(env.client, oid, lambda v: v.status == S.FOC_CONFIRMED and v.next.what.startswith("port day"),
                             what="FOC confirmed")
        assert o.foc_at == foc and change_to(o, S.FOC_CONFIRMED).actor == PM
        # the customer and the PM are told (in the customer's language)
        [foc_mail, *_] = await wait_mail(port_var, to=PM_MAIL,
                                         containing=f"Fecha de portabilidad confirmada: {foc:%Y-%m-%d}")
        assert "09:00" in foc_mail.text

        # `starter.py status`: our status beside the carrier's order id and its raw status.
        page = order_json(await status_json(env, req.id), oid)
        assert (page["status"], page["carrier_order_id"], page["carrier_raw_status"]) == (
            "foc_confirmed", "LUM-778812", raw_foc)
        text = await status_text(env, req.id)
        assert f"{oid} · Lumen · foc_confirmed" in text
        assert f"carrier order LUM-778812 · raw status '{raw_foc}'" in text

        # Port day: the carrier activates; the PM records it when Lumen confirms.
        await assign_all(handle, req.all_numbers)
        await sleep_past(env, foc)
        o = await wait_order(env.client, oid, lambda v: v.status == S.ACTIVATION and v.next.waiting_on == "carrier",
                             what="port day")
        assert o.next.what in ("carrier activates the numbers", "Lumen confirms the activation")
        await carrier_event(env, oid, "--completed")
        result = await handle.result()
        final = await wait_order(env.client, oid, lambda v: v.status == S.COMPLETED, what="completed")
        text = await status_text(env, req.id)
        await record_histories(env.client, "manual_carrier_port", [req.id, oid])

    assert result.status == S.COMPLETED
    assert_completed(final, req)
    assert f"manual: completion recorded by {PM}" in change_to(final, S.PORTED).reason
    assert f"{oid} · Lumen · completed" in text
    assert f"raw status 'manual: completion recorded by {PM} (carrier order LUM-778812)'" in text
    # The adapter's own record: what the system asked and each answer the PM typed, by whom.
    record = manual_record(port_var, oid)
    assert record["carrier_reference"] == "LUM-778812"
    assert [(h["actor"], h["what"]) for h in record["history"]] == [
        ("system", "port order recorded for manual entry"), (PM, "carrier order id"), (PM, "foc"),
        (PM, "completed")]


async def test_manual_rejection_is_remediated_and_the_supplement_is_a_task_for_the_pm(
    env: WorkflowEnvironment, port_var: Path, task_queue: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(monkeypatch, port_var, task_queue, **adapter_settings(env, monkeypatch, "manual"), CARRIER_SILENCE_HOURS=24)
    async with submitted_port(env, tmp_path) as (req, handle, o):
        oid = req.order_id(0)
        man_id = o.carrier_order_id

        # The PM records nothing for a day (PORTFLOW_CARRIER_SILENCE_HOURS=24): the workflow
        # reminds them that the carrier has been silent.
        sent = change_to(o, S.SUBMITTED).at
        await sleep_past(env, sent, margin=timedelta(hours=23))
        assert not [m for m in mail_to(port_var, PM_MAIL) if "No word from" in m]
        await sleep_past(env, sent, margin=timedelta(hours=24, minutes=30))
        silent = (await wait_mail(port_var, to=PM_MAIL, containing="No word from Lumen for 24 h"))[0].text
        assert man_id in silent and "manual: awaiting PM entry" in silent
        assert "record any FOC or rejection they give you by hand" in silent

        # Lumen rejects the order; the PM records its code and words.
        words = "BTN on the LSR is not the main billing number of the account"
        out = await carrier_event(env, oid, "--reject", "BTN_ATN_MISMATCH", "--text", words)
        assert f"recorded 'manual: rejected BTN_ATN_MISMATCH recorded by {PM}'" in out
        o = await wait_order(env.client, oid, explained, what="exception explained")
        [exc] = o.carrier_exceptions
        assert (exc.code, exc.raw_code, exc.message) == ("BTN_ATN_MISMATCH", "BTN_ATN_MISMATCH", words)
        [fix] = o.remediation
        assert fix.startswith("BTN_ATN_MISMATCH: Ask the customer for the BTN shown on the bill or CSR")
        assert fix.endswith("(fix btn; customer)") and words in fix
        assert o.next.waiting_on == "customer" and o.next.what.startswith("fix the carrier exception")
        [exc_mail, *_] = await wait_mail(port_var, to=PM_MAIL, containing="BTN_ATN_MISMATCH")
        assert oid in exc_mail.text  # with the customer, in Spanish

        page = order_json(await status_json(env, req.id), oid)
        assert page["status"] == "exception"
        assert page["carrier_raw_status"] == f"manual: rejected BTN_ATN_MISMATCH recorded by {PM}"
        assert [(e["code"], e["message"]) for e in page["carrier_exceptions"]] == [("BTN_ATN_MISMATCH", words)]
        text = await status_text(env, req.id)
        assert f"raw status 'manual: rejected BTN_ATN_MISMATCH recorded by {PM}'" in text
        assert f"carrier codes BTN_ATN_MISMATCH: {words}" in text
        assert f"to fix {fix}" in text

        # The customer gives the BTN on their bill; the PM amends; the SUP3 waits for the PM
        # to enter it in Lumen's portal.
        new_btn = req.all_numbers[1]
        await send_update(env.client, oid, PortOrderWorkflow.amend, AmendOrder(
            actor=PM, order_id=oid, reason="the bill shows the second line as the BTN", btn=new_btn), wait=30)
        sup_raw = "manual: SUP3 (btn) awaiting PM entry"
        o = await wait_order(env.client, oid, lambda v: v.status == S.SUPPLEMENT and v.carrier_raw_status == sup_raw,
                             what="SUP3 recorded for the PM")
        assert o.carrier_exceptions == []
        assert change_to(o, S.SUPPLEMENT).reason == "SUP3: the bill shows the second line as the BTN"
        assert f"raw status '{sup_raw}'" in await status_text(env, oid)
        last = manual_record(port_var, oid)["history"][-1]
        assert (last["actor"], last["what"]) == ("system", "SUP3 (btn) requested: the bill shows the second line as the BTN")

        # Lumen accepts the supplement and gives the FOC.
        foc = port_day_foc(o.port_date)
        await carrier_event(env, oid, "--foc", foc.isoformat())
        o = await wait_order(env.client, oid, lambda v: v.status == S.FOC_CONFIRMED, what="FOC after SUP3")
        assert o.foc_at == foc and o.remediation == [] and o.carrier_exceptions == []
        assert walked(o)[-4:] == [S.SUBMITTED, S.EXCEPTION, S.SUPPLEMENT, S.FOC_CONFIRMED]
        # The PM cancels; the SUP1 is a task for them too, and they record Lumen's confirmation.
        await end_by_cancel(env, handle, req, manual_cancelled(port_var, oid))
    record = manual_record(port_var, oid)
    assert [(h["actor"], h["what"]) for h in record["history"][-2:]] == [
        ("system", "cancel requested: the customer stays with Lumen"), (PM, "cancelled")]
    assert record["state"]["raw_status"] == f"manual: cancellation recorded by {PM}"


def manual_cancelled(var: Path, order_id: str):
    """The PM records Lumen's confirmation of the cancel, once the SUP1 waits for them
    (``starter.py carrier-event`` has no option for it: ``ManualCarrier.record_event`` does)."""
    async def confirm() -> None:
        await eventually(lambda: manual_record(var, order_id)["state"],
                         lambda state: state["raw_status"] == "manual: cancel (SUP1) awaiting PM entry",
                         what=f"{order_id}: the cancel (SUP1) awaiting the PM", timeout=15, interval=0.1)
        ManualCarrier(get_settings()).record_event(order_id, cancelled=True, actor=PM)
    return confirm


async def test_a_manual_order_waits_on_the_pm_to_enter_it_and_record_the_answer(
    env: WorkflowEnvironment, port_var: Path, task_queue: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(monkeypatch, port_var, task_queue, **adapter_settings(env, monkeypatch, "manual"))
    async with submitted_port(env, tmp_path) as (req, handle, o):
        oid = req.order_id(0)
        try:
            # the carrier stage has worked out the next step (whoever it names)
            o = await wait_order(env.client, oid, lambda v: v.next.waiting_on in ("pm", "carrier"), what="next step")
            assert o.status == S.SUBMITTED
            assert o.next.waiting_on == "pm", o.next
            assert "carrier-event" in o.next.what and "Lumen" in o.next.what, o.next
        finally:
            await end_by_cancel(env, handle, req, manual_cancelled(port_var, oid))


async def end_by_cancel(env: WorkflowEnvironment, handle: WorkflowHandle, req: PortRequest,
                        confirm=None) -> OrderView:
    """The PM cancels the port (outside the FOC guard); ``confirm()`` plays the carrier's
    confirmation once the SUP1 is sent. Every workflow of a test ends before the next test.

    The cancel update is sent as ``cmd_cancel`` sends it, up to its acceptance: its answer
    comes once the carrier confirms, and ``cmd_cancel``'s own wait for it cannot be used here
    (see the report on ``send_update``)."""
    await env.client.get_workflow_handle(req.id).start_update(
        PortRequestWorkflow.cancel, Cancel(actor=PM, reason="the customer stays with Lumen"),
        wait_for_stage=WorkflowUpdateStage.ACCEPTED)
    oid = req.order_id(0)
    await wait_order(env.client, oid, lambda v: v.status in (S.CANCEL_REQUESTED, S.CANCELLED), what="cancel sent")
    if confirm is not None:
        await confirm()
    await handle.result()
    final = await wait_order(env.client, oid, lambda v: v.status == S.CANCELLED, what="cancelled")
    assert [n.state for n in final.numbers] == ["released"] * len(final.numbers)
    return final


# --------------------------------------------------------------------------- Telnyx
@pytest.fixture(scope="module")
def telnyx_server() -> Iterator[tuple[TelnyxStandIn, str]]:
    standin = TelnyxStandIn()
    with serve(standin.app()) as url:
        yield standin, url


@pytest.fixture
async def telnyx(env: WorkflowEnvironment, telnyx_server: tuple[TelnyxStandIn, str], port_var: Path, task_queue: str,
                 monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[TelnyxStandIn, TelnyxWebhooks]]:
    """Settings for the Telnyx adapter at the stand-in, and Telnyx's webhook deliveries into
    the real app (Temporal event sink) at PUBLIC_URL."""
    standin, url = telnyx_server
    standin.reset(api_key="test-key")
    app = create_app(TemporalEventSink(env.client))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL, timeout=30) as http:
        hooks = TelnyxWebhooks(http)
        configure(monkeypatch, port_var, task_queue, **adapter_settings(env, monkeypatch, "telnyx"),
                  TELNYX_API_KEY="test-key", TELNYX_BASE_URL=f"{url}/v2", TELNYX_PUBLIC_KEY=hooks.public_key,
                  TELNYX_TIMEOUT_SECONDS=10, PUBLIC_URL=PUBLIC_URL)
        yield standin, hooks


def porting_order(standin: TelnyxStandIn, order_id: str) -> dict[str, Any]:
    """The stand-in's porting order of our order's first submission."""
    [order] = standin.by_reference(customer_reference(order_id, f"{order_id}:submit"))
    return order


async def deliver(hooks: TelnyxWebhooks, standin: TelnyxStandIn, porting_id: str, order_id: str) -> dict[str, Any]:
    resp = await hooks.status_changed(standin.order(porting_id))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["order_id"] == order_id and body["accepted"] is True, body
    return body


def telnyx_cancelled(standin: TelnyxStandIn, porting_id: str):
    """Telnyx's porting ops finish a cancel the adapter asked for."""
    async def confirm() -> None:
        await eventually(lambda: standin.order(porting_id)["status"], lambda status: status["value"] == "cancel-pending",
                         what=f"Telnyx order {porting_id} cancel-pending", timeout=15, interval=0.1)
        standin.set_status(porting_id, "cancelled")
    return confirm


async def test_telnyx_port_runs_end_to_end_through_signed_webhooks(
    env: WorkflowEnvironment, telnyx: tuple[TelnyxStandIn, TelnyxWebhooks], port_var: Path, tmp_path: Path,
) -> None:
    standin, hooks = telnyx
    async with submitted_port(env, tmp_path) as (req, handle, o):
        oid, acc = req.order_id(0), req.accounts[0]
        porting = porting_order(standin, oid)
        pid = porting["id"]
        # One porting order, filled in and submitted: end user, location, FOC, documents.
        assert (o.status, o.carrier_order_id, o.carrier_raw_status) == (S.SUBMITTED, pid, "in-process")
        assert porting["status"]["value"] == "in-process"
        assert porting["webhook_url"] == f"{PUBLIC_URL}/webhooks/telnyx"
        assert porting["end_user"]["admin"] == {
            "entity_name": "Contoso Dental", "auth_person_name": "Luis Ortega", "billing_phone_number": acc.btn,
            "account_number": "8831-2207-19", "pin_passcode": "4417"}
        assert porting["end_user"]["location"] == {
            "street_address": "350 Fifth Ave", "extended_address": None, "locality": "New York",
            "administrative_area": "NY", "postal_code": "10118", "country_code": "US"}
        assert porting["misc"] == {"type": "full"}
        foc = port_day_foc(o.port_date)
        assert porting["activation_settings"]["foc_datetime_requested"] == iso_z(foc)
        assert [n["phone_number"] for n in porting["phone_numbers"]] == req.all_numbers
        [signed_loa] = documents_of(request_id=req.id, order_id=oid, kind=DocumentKind.SIGNED_LOA)
        [bill] = [d for d in documents_of(request_id=req.id, order_id=oid, kind=DocumentKind.BILL)]
        uploaded = {k: standin.documents[porting["documents"][k]]["sha256"] for k in ("loa", "invoice")}
        assert uploaded == {"loa": signed_loa.sha256, "invoice": bill.sha256}
        assert len(standin_calls(standin, "POST", "/v2/porting_orders")) == 1
        assert len(standin_calls(standin, "POST", f"/{pid}/actions/confirm")) == 1

        # Telnyx passes the order to Lumen, then Lumen confirms the FOC: a webhook each.
        standin.set_status(pid, "submitted")
        await deliver(hooks, standin, pid, oid)
        o = await wait_order(env.client, oid, lambda v: v.status == S.CARRIER_PENDING, what="carrier pending")
        assert o.carrier_raw_status == "submitted" and change_to(o, S.CARRIER_PENDING).actor == "carrier:telnyx"
        standin.confirm_foc(pid, foc)
        ack = await deliver(hooks, standin, pid, oid)
        assert ack["duplicate"] is False
        o = await wait_order(env.client, oid, lambda v: v.status == S.FOC_CONFIRMED and v.next.what.startswith("port day"),
                             what="FOC confirmed")
        assert o.foc_at == foc and o.carrier_raw_status == "foc-date-confirmed"
        # Only the webhook can have told it: time stands still between the test's skips,
        # and the next poll is hours away.
        assert change_to(o, S.FOC_CONFIRMED).actor == "carrier:telnyx"
        # Telnyx retries a delivery it thinks was lost: acknowledged, nothing happens twice.
        again = await hooks.redeliver(standin.order(pid))
        assert again.status_code == 200 and again.json()["duplicate"] is True

        page = order_json(await status_json(env, req.id), oid)
        assert (page["status"], page["carrier_order_id"], page["carrier_raw_status"]) == (
            "foc_confirmed", pid, "foc-date-confirmed")
        text = await status_text(env, req.id)
        assert f"{oid} · Lumen · foc_confirmed" in text
        assert f"carrier order {pid} · raw status 'foc-date-confirmed'" in text

        # Port day: Telnyx activates at the FOC and says so.
        await assign_all(handle, req.all_numbers)
        await sleep_past(env, foc)
        await wait_order(env.client, oid, lambda v: v.status == S.ACTIVATION, what="port day")
        standin.finish_activation(pid)
        await deliver(hooks, standin, pid, oid)
        await wait_order(env.client, oid, lambda v: v.status in (S.PORTED, S.VERIFIED, S.COMPLETED), what="ported")
        result = await handle.result()
        final = await wait_order(env.client, oid, lambda v: v.status == S.COMPLETED, what="completed")
        text = await status_text(env, req.id)
        await record_histories(env.client, "telnyx_carrier_port", [req.id, oid])

    assert result.status == S.COMPLETED
    assert_completed(final, req)
    assert "(ported)" in change_to(final, S.PORTED).reason
    assert f"carrier order {pid} · raw status 'ported'" in text and f"{oid} · Lumen · completed" in text
    assert len(standin.orders) == 1 and len(standin.documents) == 2
    # The account number and PIN went to Telnyx only: not into history, mail or our cache.
    history = (await env.client.get_workflow_handle(oid).fetch_history()).to_json()
    kept = history + "".join(mail_to(port_var, "@")) + "".join(
        p.read_text() for p in (port_var / "carrier-telnyx").glob("*.json"))
    assert "8831-2207-19" not in kept and '"4417"' not in kept


BTN_FIX = "the bill shows the second line as the BTN"


async def telnyx_exception_amended(env: WorkflowEnvironment, standin: TelnyxStandIn, hooks: TelnyxWebhooks,
                                   port_var: Path, req: PortRequest) -> OrderView:
    """Lumen refuses the BTN; Telnyx's webhook brings the exception; the PM amends the BTN
    and the adapter sends it to Telnyx as a SUP3. Returns the order once resubmitted."""
    oid, btn = req.order_id(0), req.accounts[0].btn
    o = await order_status(env.client, oid)
    pid = o.carrier_order_id
    standin.set_status(pid, "submitted")
    words = f"Billing telephone number {btn} does not match the account at the losing carrier"
    standin.raise_exception(pid, ("BTN_ATN_MISMATCH", words))
    await deliver(hooks, standin, pid, oid)
    o = await wait_order(env.client, oid, explained, what="exception explained")
    [exc] = o.carrier_exceptions
    assert (exc.code, exc.raw_code, exc.message, exc.numbers) == ("BTN_ATN_MISMATCH", "BTN_ATN_MISMATCH", words, [btn])
    [fix] = o.remediation
    assert fix.startswith("BTN_ATN_MISMATCH: Ask the customer for the BTN") and fix.endswith("(fix btn; customer)")
    assert change_to(o, S.EXCEPTION).actor == "carrier:telnyx"
    assert o.next.waiting_on == "customer"
    await wait_mail(port_var, to=PM_MAIL, containing="BTN_ATN_MISMATCH")

    page = order_json(await status_json(env, req.id), oid)
    assert (page["status"], page["carrier_raw_status"]) == ("exception", "exception")
    assert [(e["code"], e["raw_code"], e["message"]) for e in page["carrier_exceptions"]] == [
        ("BTN_ATN_MISMATCH", "BTN_ATN_MISMATCH", words)]
    text = await status_text(env, req.id)
    assert f"{oid} · Lumen · exception" in text
    assert f"carrier order {pid} · raw status 'exception'" in text
    assert f"carrier codes BTN_ATN_MISMATCH: {words}" in text
    assert f"to fix {fix}" in text

    # The PM amends the BTN: the adapter PATCHes the order and leaves porting ops a note.
    new_btn = req.all_numbers[1]
    await send_update(env.client, oid, PortOrderWorkflow.amend,
                      AmendOrder(actor=PM, order_id=oid, reason=BTN_FIX, btn=new_btn), wait=30)
    o = await wait_order(env.client, oid, lambda v: v.status == S.CARRIER_PENDING, what="resubmitted")
    assert standin_calls(standin, "PATCH", f"/porting_orders/{pid}")[-1] == {
        "end_user": {"admin": {"billing_phone_number": new_btn}}}
    assert standin.order(pid)["end_user"]["admin"]["billing_phone_number"] == new_btn
    assert [c["body"] for c in standin.comments[pid]] == [f"[portflow {oid}:sup:1] SUP3: btn: {BTN_FIX}"]
    assert (o.carrier_raw_status, o.carrier_exceptions) == ("submitted", [])
    assert walked(o)[-3:] == [S.EXCEPTION, S.SUPPLEMENT, S.CARRIER_PENDING]
    assert change_to(o, S.SUPPLEMENT).reason == f"SUP3: {BTN_FIX}"
    return o


async def test_telnyx_exception_by_webhook_is_amended_as_a_sup3_patch_then_confirmed(
    env: WorkflowEnvironment, telnyx: tuple[TelnyxStandIn, TelnyxWebhooks], port_var: Path, tmp_path: Path,
) -> None:
    standin, hooks = telnyx
    async with submitted_port(env, tmp_path) as (req, handle, o):
        oid = req.order_id(0)
        pid = o.carrier_order_id
        o = await telnyx_exception_amended(env, standin, hooks, port_var, req)

        # Lumen accepts the corrected order: FOC.
        foc = port_day_foc(o.port_date)
        standin.confirm_foc(pid, foc)
        await deliver(hooks, standin, pid, oid)
        o = await wait_order(env.client, oid, lambda v: v.status == S.FOC_CONFIRMED, what="FOC")
        assert (o.foc_at, o.carrier_raw_status, o.carrier_exceptions, o.remediation) == (
            foc, "foc-date-confirmed", [], [])
        text = await status_text(env, req.id)
        assert "raw status 'foc-date-confirmed'" in text and "carrier codes" not in text and "to fix" not in text
        await end_by_cancel(env, handle, req, telnyx_cancelled(standin, pid))
    assert len(standin.orders) == 1 and standin.order(pid)["status"]["value"] == "cancelled"


async def test_once_the_carrier_takes_the_fix_the_status_page_no_longer_asks_for_it(
    env: WorkflowEnvironment, telnyx: tuple[TelnyxStandIn, TelnyxWebhooks], port_var: Path, tmp_path: Path,
) -> None:
    standin, hooks = telnyx
    async with submitted_port(env, tmp_path) as (req, handle, o):
        oid = req.order_id(0)
        try:
            await telnyx_exception_amended(env, standin, hooks, port_var, req)
            o = await wait_order(env.client, oid, lambda v: v.next.waiting_on == "carrier", what="waiting on Lumen")
            text = await status_text(env, req.id)
            assert o.remediation == [], o.remediation
            assert "to fix" not in text and "fix the carrier exception" not in o.next.what
        finally:
            await end_by_cancel(env, handle, req, telnyx_cancelled(standin, o.carrier_order_id))


async def test_telnyx_webhook_with_a_bad_signature_is_refused_and_changes_nothing(
    env: WorkflowEnvironment, telnyx: tuple[TelnyxStandIn, TelnyxWebhooks], port_var: Path, tmp_path: Path,
) -> None:
    standin, hooks = telnyx
    async with submitted_port(env, tmp_path) as (req, handle, o):
        oid = req.order_id(0)
        pid = o.carrier_order_id
        standin.confirm_foc(pid, port_day_foc(o.port_date))
        order = standin.order(pid)
        body = hooks.body(order)
        raw = json.dumps(body).encode()
        admitted = await updates_admitted(env.client, oid)
        reads = len(standin_calls(standin, "GET", f"/porting_orders/{pid}"))

        forged = await hooks.post(order, raw, hooks.sign(raw, key=Ed25519PrivateKey.generate()))
        tampered_headers = hooks.sign(raw)
        tampered = await hooks.post(order, raw.replace(b"foc-date-confirmed", b"ported"), tampered_headers)
        unsigned = await hooks.post(order, raw, {"content-type": "application/json"})
        assert (forged.status_code, tampered.status_code, unsigned.status_code) == (401, 401, 401)
        assert "bad Telnyx signature" in forged.json()["detail"]

        o = await wait_order(env.client, oid, lambda v: True, what="order")
        assert (o.status, o.carrier_raw_status, o.foc_at) == (S.SUBMITTED, "in-process", None)
        assert await updates_admitted(env.client, oid) == admitted, "a forged webhook reached the workflow"
        assert len(standin_calls(standin, "GET", f"/porting_orders/{pid}")) == reads, "read Telnyx before verifying"

        # The same message, genuinely signed, goes through: it was the signature that mattered.
        resp = await hooks.post(order, raw, hooks.sign(raw))
        assert resp.status_code == 200 and resp.json()["accepted"] is True
        await wait_order(env.client, oid, lambda v: v.status == S.FOC_CONFIRMED, what="FOC")
        await end_by_cancel(env, handle, req, telnyx_cancelled(standin, pid))


async def test_starter_cancel_says_accepted_while_telnyx_has_yet_to_confirm(
    env: WorkflowEnvironment, telnyx: tuple[TelnyxStandIn, TelnyxWebhooks], port_var: Path, tmp_path: Path,
) -> None:
    standin, _ = telnyx
    async with submitted_port(env, tmp_path) as (req, handle, o):
        try:
            # what `starter.py cancel` runs (its wait is 30 s): None is "accepted, the carrier
            # has not confirmed yet", which the command prints as such
            assert await cmd_cancel(env.client, req.id, actor=PM, reason="the customer stays with Lumen", wait=2) is None
        finally:
            await telnyx_cancelled(standin, o.carrier_order_id)()
            await handle.result()
