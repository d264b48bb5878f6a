"""Port day through the simulator: the FOC moved by the carrier or by the PM (SUP2 and its
guard), numbers nobody assigned, activation and verification failures (snapback, P1), and
toll-free numbers (a RespOrg change order of their own)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from core.calendar import PortCalendar
from models.request import DocumentKind, PortRequest
from models.status import PortStatus
from models.workflow import ConfirmVerification
from portflow import ports
from tests.dates import port_date_in
from tests.mail_helpers import wait_mail
from tests.settings_helpers import configure
from tests.workflows import carrier_helpers as ch
from tests.workflows import paths_helpers as ph
from tests.workflows.helpers import record_histories, start, wait_for
from worker import build_worker
from workflows.port_order import PortOrderWorkflow

S = PortStatus
NY = ZoneInfo("America/New_York")


def _national(tn: str) -> str:
    return f"({tn[2:5]}) {tn[5:8]}-{tn[8:]}"


async def test_carrier_moves_the_foc(env: WorkflowEnvironment, port_var: Path, task_queue: str,
                                     monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The carrier confirms an FOC, then moves it two days later: the customer and the PM
    are told old and new, the status shows the new FOC, and the port happens then."""
    configure(monkeypatch, port_var, task_queue, CARRIER_FOC_POLL_SECONDS=86400,
              profile=ch.profile_for("foc_moved", move_after_seconds=2 * 86400, move_by_seconds=2 * 86400))
    req = await ch.english_request(env, accounts=1)
    oid = req.order_id(0)
    async with build_worker(env.client):
        handle = await ch.to_carrier(env, req, tmp_path)
        first = await ch.skip_until(env, oid, lambda o: o.status == S.FOC_CONFIRMED, step=timedelta(hours=3),
                                    what="first FOC")
        assert first.foc_at is not None
        moved = await ch.skip_until(env, oid, lambda o: o.foc_at != first.foc_at, step=timedelta(hours=12),
                                    limit=timedelta(days=4), what="the FOC move")
        assert moved.status == S.FOC_CONFIRMED and moved.foc_at == first.foc_at + timedelta(days=2)
        assert any(c.reason.startswith("FOC moved from") and c.actor == "carrier:Lumen" for c in moved.timeline)
        [mail] = await wait_mail(port_var, "foc_changed", oid)
        old_day, new_day = first.foc_at.astimezone(NY).date(), moved.foc_at.astimezone(NY).date()
        assert set(mail.to) == {str(req.contact.email), ch.PM_MAIL}
        assert mail.subject == f"Port date changed: now {new_day} for Contoso Dental"
        assert f"has changed from {old_day} to {new_day}" in " ".join(mail.body.split())
        result = await handle.result()
        final = await ph.order_status(env.client, oid)

    assert result.status == S.COMPLETED
    port_day = next(c for c in final.timeline if c.to_status == S.ACTIVATION)
    assert port_day.at >= moved.foc_at and port_day.at - moved.foc_at < timedelta(minutes=5)
    moves = [c.to_status for c in final.timeline if c.from_status != c.to_status]
    assert moves.count(S.FOC_CONFIRMED) == 1  # a move of the FOC (a note), not a second confirmation


async def test_pm_moves_the_date_with_a_sup2_until_the_guard(env: WorkflowEnvironment, port_var: Path,
                                                             task_queue: str, monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    """A new port date weeks ahead goes to the carrier as a SUP2 and gets a new FOC; inside
    the 48 h before that FOC the amend is refused, saying why and what to do instead."""
    configure(monkeypatch, port_var, task_queue, profile=ch.profile_for("accept"))
    req = await ch.english_request(env, accounts=1)
    oid = req.order_id(0)
    async with build_worker(env.client):
        handle = await ch.to_carrier(env, req, tmp_path)
        first = await ch.skip_until(env, oid, lambda o: o.status == S.FOC_CONFIRMED, step=timedelta(hours=3),
                                    what="first FOC")
        later = await port_date_in(env, 40)
        await ch.amend(env.client, oid, reason="customer's office move slipped", port_date=later)
        second = await ch.skip_until(env, oid, lambda o: o.status == S.FOC_CONFIRMED and o.foc_at != first.foc_at,
                                     step=timedelta(hours=1), what="FOC for the new date")
        assert second.foc_at is not None and second.foc_at.astimezone(NY).date() == later
        assert any(c.to_status == S.SUPPLEMENT and c.reason == "SUP2: customer's office move slipped"
                   and c.actor == ph.PM for c in second.timeline)
        rec = ph.carrier_record(second.carrier_order_id)
        assert [(e["kind"], e.get("port_date")) for e in rec["events"]] == [("submit", None), ("SUP2", later.isoformat())]

        # 24 h before the new FOC: carriers refuse changes now, and the PM hears it at once
        now = await ph.server_now(env)
        await env.sleep(second.foc_at - timedelta(hours=24) - now)
        message = await ph.refusal(ch.amend(env.client, oid, reason="one more week",
                                            port_date=await port_date_in(env, 10)))
        assert message.startswith("cannot change now: the FOC is ") and "within 48 hours of the FOC" in message
        assert "call the carrier's porting desk" in message
        assert (await ph.order_status(env.client, oid)).foc_at == second.foc_at
        result = await handle.result()
        final = await ph.order_status(env.client, oid)

    assert result.status == S.COMPLETED
    port_day = next(c for c in final.timeline if c.to_status == S.ACTIVATION)
    assert second.foc_at <= port_day.at < second.foc_at + timedelta(minutes=5)
    assert len(ph.carrier_record(final.carrier_order_id)["events"]) == 2  # nothing sent inside the guard


async def test_numbers_unassigned_on_port_day(env: WorkflowEnvironment, port_var: Path, task_queue: str,
                                              monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nobody assigns the numbers: reminders 3 and 1 business days ahead, then on port day a
    P3 escalation to the PM and ops, visible to ops as Escalated and in the current details."""
    # the carrier keeps the numbers 'activating' for an hour: port day can be looked at
    configure(monkeypatch, port_var, task_queue, profile=ch.profile_for("accept", activation_seconds=3600))
    req = await ch.english_request(env, accounts=1)
    oid = req.order_id(0)
    numbers = req.accounts[0].numbers
    async with build_worker(env.client):
        await ch.to_carrier(env, req, tmp_path, assign=False)
        view = await ch.skip_until(env, oid, lambda o: o.status == S.FOC_CONFIRMED, step=timedelta(hours=3),
                                   what="FOC")
        assert view.foc_at is not None
        assert view.next.waiting_on == "customer" and f"{len(numbers)} numbers to assign" in view.next.what
        assert (await ch.search_attributes(env.client, oid))["NumbersUnassigned"] == len(numbers)

        now = await ph.server_now(env)
        await env.sleep(view.foc_at + timedelta(minutes=2) - now)
        view = await ch.skip_until(env, oid, lambda o: o.status == S.ACTIVATION and o.escalated,
                                   step=timedelta(minutes=1), limit=timedelta(minutes=10), what="port-day escalation")
        reminders = await wait_mail(port_var, "assign_reminder", oid, count=2)
        [escalation] = await wait_mail(port_var, "unassigned_escalation", oid)
        sa = await ch.search_attributes(env.client, oid)
        details = await ch.current_details(env.client, oid)
        await ch.wait_search_attribute(env.client, req.id, "Escalated", True)  # ops find the request too
        sent = await ph.notifications_sent(env.client, oid, "assign_reminder")

    cal = PortCalendar.from_settings()
    port_day = view.foc_at.astimezone(NY).date()
    assert [n.context["business_days_left"] for _, n in sent] == [3, 1]
    assert [at.astimezone(NY).date() for at, _ in sent] == [cal.subtract_business_days(port_day, 3),
                                                             cal.subtract_business_days(port_day, 1)]
    for mail, left in zip(reminders, ("3 business days", "1 business day")):
        assert set(mail.to) == {str(req.contact.email), ch.PM_MAIL}
        assert mail.subject.startswith(f"Reminder: {len(numbers)} numbers still to assign before")
        assert f"in {left}." in mail.body and all(_national(tn) in mail.body for tn in numbers)
    assert set(escalation.to) == {ch.PM_MAIL, ch.OPS_MAIL}
    assert escalation.subject == f"ESCALATION: {len(numbers)} numbers unassigned on port day for Contoso Dental"
    assert str(req.contact.email) in escalation.body
    assert sa["Escalated"] is True and sa["NumbersUnassigned"] == len(numbers)
    assert f"**Escalated**: P3: port day with {len(numbers)} numbers unassigned" in details


async def _to_port_day(env: WorkflowEnvironment, req: PortRequest, tmp_path: Path):
    oid = req.order_id(0)
    handle = await ch.to_carrier(env, req, tmp_path)
    view = await ch.skip_until(env, oid, lambda o: o.status == S.FOC_CONFIRMED, step=timedelta(hours=3), what="FOC")
    assert view.foc_at is not None
    now = await ph.server_now(env)
    await env.sleep(view.foc_at - now)
    return handle, view


async def _snapped_back(env: WorkflowEnvironment, req: PortRequest, tmp_path: Path):
    """:func:`_to_port_day` with a carrier whose activation fails: skip until the order snaps
    back. Returns the request's handle, the order before port day and the snapped-back order."""
    handle, before = await _to_port_day(env, req, tmp_path)
    view = await ch.skip_until(env, req.order_id(0), lambda o: o.status == S.SNAPBACK, step=timedelta(minutes=5),
                               limit=timedelta(hours=1), what="snapback")
    return handle, before, view


async def test_activation_failure_snaps_back_then_ports_on_a_new_date(
        env: WorkflowEnvironment, port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    """Activation fails at the carrier: SNAPBACK and a P1 to ops and the PM; the PM sets a
    new date (SUP2) and the port goes through then, verified and completed."""
    configure(monkeypatch, port_var, task_queue, profile=ch.profile_for("activation_failure"))
    req = await ch.english_request(env, accounts=1)
    oid = req.order_id(0)
    async with build_worker(env.client):
        handle, before, view = await _snapped_back(env, req, tmp_path)
        [p1] = await wait_mail(port_var, "activation_failed", oid)
        assert set(p1.to) == {ch.PM_MAIL, ch.OPS_MAIL}
        assert p1.subject == f"P1: activation failed for Contoso Dental ({oid}), numbers may not route"
        assert before.carrier_order_id in p1.body and "activation-failed" in p1.body
        view = await ph.wait_order(env.client, oid, lambda o: o.next.waiting_on == "pm", what="the PM's next step")
        assert view.escalated and view.escalations[-1] == "P1: activation failed: ported numbers not routing"
        assert view.next.waiting_on == "pm" and "amend --port-date" in view.next.what
        assert {n.carrier_outcome for n in view.numbers} == {"failed"}
        assert (await ch.search_attributes(env.client, oid))["Escalated"] is True

        new_date = await port_date_in(env, 7)
        await ch.amend(env.client, oid, reason="carrier fixed the NPAC record", port_date=new_date)
        result = await handle.result()
        final = await ph.order_status(env.client, oid)
        await record_histories(env.client, "activation_failure_snapback", [req.id, oid])

    assert result.status == S.COMPLETED and final.status == S.COMPLETED
    walked = [c.to_status for c in final.timeline if c.from_status != c.to_status]  # not the notes
    assert walked[walked.index(S.SNAPBACK):] == [S.SNAPBACK, S.SUPPLEMENT, S.FOC_CONFIRMED, S.ACTIVATION, S.PORTED,
                                                 S.VERIFIED, S.COMPLETED]
    assert final.foc_at is not None and final.foc_at.astimezone(NY).date() == new_date
    assert not final.escalated and final.escalations
    assert {r.state for r in ph.inventory_rows(req.id, include_released=False)} == {"active"}




async def test_snapback_repeats_the_p1_every_hour(env: WorkflowEnvironment, port_var: Path, task_queue: str,
                                                  monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """P1 support plan: an update every hour until the snapback is resolved (SNAPBACK SLA 1 h)."""
    configure(monkeypatch, port_var, task_queue, profile=ch.profile_for("activation_failure"))
    req = await ch.english_request(env, accounts=1)
    oid = req.order_id(0)
    async with build_worker(env.client):
        handle, _, view = await _snapped_back(env, req, tmp_path)
        snapped = next(c.at for c in view.timeline if c.to_status == S.SNAPBACK)
        await env.sleep(snapped + timedelta(hours=2, minutes=5) - await ph.server_now(env))
        updates = await wait_mail(port_var, "escalation", oid, count=2, timeout=3)
        sent = await ph.notifications_sent(env.client, oid, "escalation")
        await ph.terminate_running(env.client, [req.id, oid])
    assert [re.search(r"\bupdate \d+", m.subject).group() for m in updates] == ["update 1", "update 2"]
    assert all(m.subject.startswith("P1 escalation") and ch.OPS_MAIL in m.to for m in updates)
    assert [round((at - snapped) / timedelta(hours=1)) for at, _ in sent] == [1, 2]


async def test_failed_verification_snaps_back_with_a_p1(env: WorkflowEnvironment, port_var: Path, task_queue: str,
                                                        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The PM's test calls fail after the carrier ported the numbers: SNAPBACK and a P1."""
    configure(monkeypatch, port_var, task_queue, profile=ch.profile_for("accept"), VERIFICATION="pm")
    req = await ch.english_request(env, accounts=1)
    oid = req.order_id(0)
    async with build_worker(env.client):
        _, before = await _to_port_day(env, req, tmp_path)
        view = await ch.skip_until(env, oid, lambda o: o.status == S.PORTED and o.next.waiting_on == "pm",
                                   step=timedelta(minutes=5), limit=timedelta(hours=1), what="ported, the PM to verify")
        assert "test calls" in view.next.what
        after = await env.client.get_workflow_handle(oid).execute_update(
            PortOrderWorkflow.verify, ConfirmVerification(actor=ph.PM, order_id=oid, ok=False,
                                                          notes="inbound calls to the main line hit a fast busy"))
        assert after.status == S.SNAPBACK
        [p1] = await wait_mail(port_var, "activation_failed", oid)
        [case_mail] = await wait_mail(port_var, "case_opened", f"case-{oid}-verification-failed")  # the P1 case
        after = await ph.order_status(env.client, oid)
        sa = await ch.search_attributes(env.client, oid)
        await record_histories(env.client, "case_verification_failed", [oid, f"case-{oid}-verification-failed"])
        await ph.terminate_running(env.client, [req.id, oid])

    moved = next(c for c in after.timeline if c.to_status == S.SNAPBACK)
    assert moved.from_status == S.PORTED and moved.actor == ph.PM
    assert moved.reason == "verification failed: inbound calls to the main line hit a fast busy"
    assert set(p1.to) == {ch.PM_MAIL, ch.OPS_MAIL} and p1.subject.startswith("P1: activation failed")
    assert "inbound calls to the main line hit a fast busy" in p1.body and before.carrier_order_id in p1.body
    assert after.escalated and sa["Escalated"] is True
    assert "(P1)" in case_mail.subject and any(f"P1 support case case-{oid}-verification-failed opened" in c.reason
                                               for c in after.timeline)


async def test_expired_foc_is_an_exception_fixed_with_a_new_date(
        env: WorkflowEnvironment, port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    """The carrier lets the FOC expire: the order goes EXCEPTION (FOC_EXPIRED, the PM sets a
    new date), and the SUP2 gets a new FOC on which the numbers port."""
    configure(monkeypatch, port_var, task_queue, profile=ch.profile_for("foc_expired"))
    req = await ch.english_request(env, accounts=1)
    oid = req.order_id(0)
    async with build_worker(env.client):
        handle, _ = await _to_port_day(env, req, tmp_path)
        try:
            view = await ch.skip_until(env, oid, lambda o: o.status == S.EXCEPTION and bool(o.remediation),
                                       step=timedelta(minutes=20), limit=timedelta(hours=1), what="FOC_EXPIRED")
            assert [e.code for e in view.carrier_exceptions] == ["FOC_EXPIRED"]
            assert "(fix port_date; pm)" in view.remediation[0] and view.next.waiting_on == "pm"
            await wait_mail(port_var, "exception", oid)
            new_date = await port_date_in(env, 7)
            await ch.amend(env.client, oid, reason="new date agreed with the customer", port_date=new_date)
            result = await handle.result()
        finally:
            await ph.terminate_running(env.client, [req.id, oid])
    assert result.status == S.COMPLETED


async def test_after_a_failed_verification_the_pms_next_step_keeps_the_port_alive(
        env: WorkflowEnvironment, port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    """What the snapback page tells the PM to do (a new date) is either refused by the amend
    validator, saying why, or carried out: never a failed port."""
    configure(monkeypatch, port_var, task_queue, profile=ch.profile_for("accept"), VERIFICATION="pm")
    req = await ch.english_request(env, accounts=1)
    oid = req.order_id(0)
    async with build_worker(env.client):
        await _to_port_day(env, req, tmp_path)
        await ch.skip_until(env, oid, lambda o: o.status == S.PORTED and o.next.waiting_on == "pm",
                            step=timedelta(minutes=5), limit=timedelta(hours=1), what="ported, the PM to verify")
        await env.client.get_workflow_handle(oid).execute_update(
            PortOrderWorkflow.verify, ConfirmVerification(actor=ph.PM, order_id=oid, ok=False, notes="fast busy inbound"))
        await wait_mail(port_var, "activation_failed", oid)
        try:
            await ch.amend(env.client, oid, reason="try again next week", port_date=await port_date_in(env, 7))
        except WorkflowUpdateFailedError as refused:
            assert "ported" in str(refused.cause), refused.cause
        await env.sleep(timedelta(minutes=10))
        status = await ch.execution_status(env.client, oid)
        await ph.terminate_running(env.client, [req.id, oid])
    assert status == "RUNNING"


def _toll_free_request(port_date) -> PortRequest:
    """Lumen: geographic numbers and a toll-free main line on one account; Verizon: a
    toll-free-only account."""
    data: dict[str, Any] = {
        "id": f"PR-2099-{7000 + port_date.toordinal() % 1000}",
        "customer": {"name": "Contoso Dental", "language": "en"},
        "contact": {"name": "Ana Ruiz", "email": "ana@contoso.example", "phone": "+12125550199"},
        "signer": {"name": "Luis Ortega", "title": "CFO", "email": "luis@contoso.example"},
        "requested_port_date": port_date.isoformat(),
        "accounts": [
            {"carrier": "Lumen", "account_number": "8831-2207-19", "pin": "4417", "btn": "+12125550140",
             "service_address": {"street": "350 Fifth Ave", "city": "New York", "state": "NY", "postal_code": "10118"},
             "numbers": ["+12125550140", "+12125550141", "+18005550142"]},
            {"carrier": "Verizon", "account_number": "55-0192-7731", "btn": "+18885550143",
             "service_address": {"street": "350 Fifth Ave", "city": "New York", "state": "NY", "postal_code": "10118"},
             "numbers": ["+18885550143"]},
        ],
    }
    return PortRequest.model_validate(data)


async def test_toll_free_numbers_go_by_resporg_change(env: WorkflowEnvironment, port_var: Path, task_queue: str,
                                                      monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A toll-free share of a mixed account becomes its own RespOrg-change order, numbered
    after the last account; a toll-free-only account needs no CSR; all three orders port."""
    configure(monkeypatch, port_var, task_queue, profile=ch.profile_for("accept"))
    req = _toll_free_request(await port_date_in(env, 30))
    geo, tf_only, tf_share = req.order_id(0), req.order_id(1), f"{req.id}-3"
    async with build_worker(env.client):
        handle = await start(env.client, req)
        view = await wait_for(handle, lambda v: bool(v.missing_documents), what="documents stage")
        assert sorted(view.missing_documents) == sorted([f"CSR for Lumen ({geo})", f"BILL for Lumen ({geo})",
                                                         f"BILL for Verizon ({tf_only})"])
        for i, kinds in ((0, (DocumentKind.CSR, DocumentKind.BILL)), (1, (DocumentKind.BILL,))):
            for kind in kinds:
                f = tmp_path / f"{kind.value}-{i}.pdf"
                f.write_bytes(f"%PDF-1.4 {kind.value} of account {i}".encode())
                await ports.attach(env.client, req.id, f, kind, actor=ph.PM, order_id=req.order_id(i))
        view = await wait_for(handle, lambda v: len(v.orders) == 3 and all(o.status == S.LOA_SENT for o in v.orders),
                              what="three LOAs out")
        orders = {o.order_id: o for o in view.orders}
        assert set(orders) == {geo, tf_only, tf_share}
        assert {oid: o.toll_free for oid, o in orders.items()} == {geo: False, tf_only: True, tf_share: True}
        assert orders[tf_share].carrier == "Lumen"
        await ch.assign_all(handle, req.all_numbers)
        for oid in (geo, tf_only, tf_share):
            await ph.sign(env, oid, req.signer.name)
        result = await handle.result()
        finals = {oid: await ph.order_status(env.client, oid) for oid in (geo, tf_only, tf_share)}

    assert result.status == S.COMPLETED and {o.status for o in finals.values()} == {S.COMPLETED}
    assert [n.tn for n in finals[geo].numbers] == ["+12125550140", "+12125550141"]
    assert [n.tn for n in finals[tf_share].numbers] == ["+18005550142"]
    for oid in (tf_only, tf_share):
        o = finals[oid]
        assert o.carrier_raw_status == "resporg-change-complete"
        assert any(c.to_status == S.SUBMITTED and c.reason.startswith("RespOrg change submitted") for c in o.timeline)
        rec = ph.carrier_record(o.carrier_order_id)
        assert rec["toll_free"] is True and rec["pin_hint"] == ""
    assert finals[geo].carrier_raw_status == "ported"
    assert ph.carrier_record(finals[geo].carrier_order_id)["toll_free"] is False
    states = {r.tn: r.state for r in ph.inventory_rows(req.id, include_released=False)}
    assert states == {tn: "active" for tn in req.all_numbers}
