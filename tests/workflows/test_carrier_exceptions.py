"""Carrier exceptions through the simulator: every reject code people can fix, round trip.

The simulated carrier rejects the first submission with a code; the PM sees the
remediation in the status query and the exception mail, amends the fields it names, the
order goes back as a supplement (SUP3, or SUP2 for a new date) and ports.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from models.request import Address, Signer
from models.secrets import hint_of
from models.status import PortStatus
from models.workflow import OrderView
from providers.carrier.exceptions import CODES, CORRECTION_ALIASES, NOT_PORTABLE_CODES, remediation_for
from store import vault
from tests.dates import port_date_in
from tests.mail_helpers import Mail, outbox, wait_mail
from tests.polling import eventually
from tests.settings_helpers import configure
from tests.workflows import carrier_helpers as ch
from tests.workflows import paths_helpers as ph
from tests.workflows.helpers import record_histories
from worker import build_worker

S = PortStatus

# every code whose remediation names fields for the PM to amend. Not here: the not-portable
# codes (those numbers leave the order by themselves: test_not_portable_numbers_leave_the_order),
# a split (the request starts a new order for them: test_split.py) and a wrong signer (a new
# LOA first: test_wrong_signer_gets_a_new_loa_that_goes_out_as_sup3)
AMENDABLE = sorted(c for c in CODES if remediation_for(c).fields_to_amend
                   and c not in NOT_PORTABLE_CODES and remediation_for(c).action != "split"
                   and c != "AUTH_PERSON_MISMATCH")

FIELD_LABELS = ch.template_words("_labels.j2", "field_names")
FIXES = ch.template_words("_exceptions.j2", "fixes")


def _amendment(code: str, view: OrderView, req, new_date) -> dict[str, Any]:
    """What a PM sends for ``code``: a corrected value for each field its remediation names."""
    acc = req.accounts[0]
    out: dict[str, Any] = {}
    for field in remediation_for(code).fields_to_amend:
        if field == "account_number":
            out[field] = vault.put_secret("8831-2207-91")
        elif field == "pin":
            out[field] = vault.put_secret("5520")
        elif field == "btn":
            out[field] = acc.numbers[1]
        elif field == "new_btn":
            out[field] = "+12125550098"
        elif field == "entity_name":
            out[field] = "Contoso Dental Group LLC"
        elif field == "service_address":
            out[field] = Address(street="350 Fifth Ave", line2="Suite 2100", city="New York", state="NY",
                                 postal_code="10001")
        elif field == "port_type":
            out.update(port_type="partial", remaining_numbers="keep", new_btn="+12125550097")
        elif field == "port_date":
            out[field] = new_date
        elif field == "remove_numbers":
            out[field] = sorted({n for e in view.carrier_exceptions for n in e.numbers})
            assert out[field], f"{code}: the carrier names no numbers to remove"
        else:
            raise AssertionError(f"no amend value for field {field!r} of {code}: add one here")
    return out


async def _exception_for_pm(env: WorkflowEnvironment, var: Path, oid: str) -> tuple[OrderView, Mail]:
    """Skip time until the carrier's answer makes the order an exception, then wait (real
    time) for its explanation, its mail and its next step; an order that moves on by itself
    fails at once."""
    await ch.skip_until(env, oid, lambda o: any(c.to_status == S.EXCEPTION for c in o.timeline),
                        step=timedelta(hours=1), what="carrier exception")
    async def look() -> tuple[OrderView, list[Mail]]:
        view = await ph.order_status(env.client, oid)
        assert view.status == S.EXCEPTION, (
            f"{oid} left the exception without the PM: {[f'{c.to_status}: {c.reason}' for c in view.timeline][-3:]}")
        return view, [m for m in outbox(var, "exception") if m.order_id == oid]

    view, mails = await eventually(
        look, lambda seen: bool(seen[1] and seen[0].remediation and seen[0].next.what.startswith(
            "fix the carrier exception")),
        what=f"{oid}: the exception mail, remediation and next step", timeout=15, interval=0.1,
        show=lambda seen: f"mails {[m.subject for m in seen[1]]}, remediation {seen[0].remediation}, "
                          f"next {seen[0].next.what!r}")
    assert len(mails) == 1, [m.subject for m in mails]
    return view, mails[0]




@pytest.mark.parametrize("code", AMENDABLE)
async def test_rejection_amend_resubmit(code: str, env: WorkflowEnvironment, port_var: Path, task_queue: str,
                                        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    configure(monkeypatch, port_var, task_queue, profile=ch.profile_for("reject", code=code))
    rem = remediation_for(code)
    req = await ch.english_request(env, accounts=1)
    oid = req.order_id(0)
    async with build_worker(env.client):
        handle = await ch.to_carrier(env, req, tmp_path)
        view, mail = await _exception_for_pm(env, port_var, oid)

        # the status query: what is wrong, who acts, which fields
        assert [e.code for e in view.carrier_exceptions] == [code]
        assert view.carrier_raw_status == "exception"
        [line] = view.remediation
        assert line.startswith(f"{code}: ") and rem.what_is_wrong in line
        assert f"(fix {', '.join(rem.fields_to_amend)}; {rem.who_acts})" in line
        assert view.next.waiting_on == rem.who_acts
        # the exception mail, to the customer's contact and the PM, says what to fix
        assert set(mail.to) == {str(req.contact.email), ch.PM_MAIL}
        assert mail.subject == f"Action needed: Lumen returned the port order for Contoso Dental ({oid})"
        assert f"(code {code})" in mail.body and " ".join(FIXES[code].split()) in " ".join(mail.body.split())
        for field in rem.fields_to_amend:
            assert FIELD_LABELS[field] in mail.body, (field, mail.body)

        fix = _amendment(code, view, req, await port_date_in(env, 45))
        amended = await ch.amend(env.client, oid, reason=f"fixed {code} from the CSR", **fix)
        assert amended.status in (S.EXCEPTION, S.SUPPLEMENT)
        result = await handle.result()
        final = await ph.order_status(env.client, oid)
        if code == "BTN_ATN_MISMATCH":
            await record_histories(env.client, "carrier_rejection_amend", [req.id, oid])

    assert result.status == S.COMPLETED and final.status == S.COMPLETED
    # the supplement the carrier received: SUP2 for a new date, SUP3 with the corrections
    rec = ph.carrier_record(final.carrier_order_id)
    [sup] = [e for e in rec["events"] if e["kind"] in ("SUP2", "SUP3")]
    assert sup["kind"] == rem.supplement_kind
    for field in rem.fields_to_amend:
        if field == "port_date":
            assert sup["port_date"] == fix["port_date"].isoformat()
        elif field == "remove_numbers":
            assert sup["removed"] == fix["remove_numbers"]
        else:
            assert field in {CORRECTION_ALIASES[k] for k in sup["corrections"]}, (field, sup)
    assert any(c.to_status == S.SUPPLEMENT and c.reason.startswith(f"{rem.supplement_kind}: fixed {code}")
               and c.actor == ph.PM for c in final.timeline)
    assert [c.to_status for c in final.timeline if c.from_status != c.to_status].count(S.FOC_CONFIRMED) == 1
    if "port_date" in fix:
        assert final.foc_at is not None and final.foc_at.date() == fix["port_date"]
    # corrected secrets reach the carrier as vault refs: never in mail, nor in what it keeps
    for secret in (v for k, v in fix.items() if k in ("account_number", "pin")):
        # as a whole token: a 4-digit PIN may well occur inside a timestamp's microseconds
        plain = re.compile(rf"(?<![0-9]){re.escape(vault.reveal(secret))}(?![0-9])")
        assert not plain.search(json.dumps(rec)) and not any(plain.search(m.body) for m in outbox(port_var))
    removed = set(fix.get("remove_numbers", []))
    states = {r.tn: r.state for r in ph.inventory_rows(req.id, include_released=False)}
    for n in final.numbers:
        if n.tn in removed:
            assert n.state != "active" and states.get(n.tn) != "active", n
        else:
            assert n.state == "active" and states[n.tn] == "active", n


async def test_wrong_signer_gets_a_new_loa_that_goes_out_as_sup3(
        env: WorkflowEnvironment, port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    configure(monkeypatch, port_var, task_queue, profile=ch.profile_for("reject", code="AUTH_PERSON_MISMATCH"))
    req = await ch.english_request(env, accounts=1)
    oid = req.order_id(0)
    owner = Signer(name="Marta Quiroga", title="Owner", email="marta@contoso.example")
    async with build_worker(env.client):
        handle = await ch.to_carrier(env, req, tmp_path)
        view, mail = await _exception_for_pm(env, port_var, oid)
        [line] = view.remediation
        assert line.startswith("AUTH_PERSON_MISMATCH: ") and "(fix signer, loa; customer)" in line
        assert FIELD_LABELS["signer"] in mail.body and FIELD_LABELS["loa"] in mail.body
        first_loa_docs = list(ph.carrier_record(view.carrier_order_id)["documents"])

        # the corrected signer gets LOA v2; the carrier order stays open meanwhile
        await ch.amend(env.client, oid, reason="the owner is the authorized person", signer=owner)
        view = await ch.skip_until(env, oid, lambda o: o.status == S.LOA_SENT, step=timedelta(minutes=1),
                                   what="LOA v2 out")
        assert any(c.reason.startswith("LOA v2 sent to Marta Quiroga") for c in view.timeline)
        loa_mails = await wait_mail(port_var, "loa_sent", oid, count=2)
        assert "marta@contoso.example" in loa_mails[-1].to and "luis@contoso.example" not in loa_mails[-1].to
        assert view.carrier_order_id is not None

        await ph.sign(env, oid, owner.name)
        result = await handle.result()
        final = await ph.order_status(env.client, oid)
        await record_histories(env.client, "carrier_wrong_signer_new_loa", [req.id, oid])

    assert result.status == S.COMPLETED and final.status == S.COMPLETED
    # one carrier order: the new signed LOA went to it as a SUP3, not as a new submission
    assert final.carrier_order_id == view.carrier_order_id
    rec = ph.carrier_record(final.carrier_order_id)
    [sup] = [e for e in rec["events"] if e["kind"] in ("SUP2", "SUP3")]
    assert sup["kind"] == "SUP3"
    assert {"auth_person_name", "loa"} <= set(sup["corrections"])
    assert rec["auth_person_name"] == "Marta Quiroga"
    new_docs = [d for d in rec["documents"] if d not in first_loa_docs]
    assert len(new_docs) == 1  # the LOA v2 Marta signed
    assert any(c.to_status == S.SUPPLEMENT and "new LOA signed by Marta Quiroga" in c.reason for c in final.timeline)
    assert {n.state for n in final.numbers} == {"active"}


async def _refused_at_submission(env: WorkflowEnvironment, port_var: Path, tmp_path: Path):
    """A port whose PIN reads empty (blanks copied from a form): the carrier refuses the
    submission itself. Returns the request, its handle, the order's view and exception mail."""
    req = await ch.english_request(env, accounts=1)
    req.accounts[0].pin = vault.put_secret("   ")
    oid = req.order_id(0)
    handle = await ch.to_carrier(env, req, tmp_path)
    view, mail = await _exception_for_pm(env, port_var, oid)
    return req, handle, view, mail


async def test_refused_submission_is_an_exception_the_pm_fixes(
        env: WorkflowEnvironment, port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    """The carrier refuses the order itself: not a failed workflow but an exception the PM
    fixes, then a fresh submission (EXCEPTION -> SUBMITTED)."""
    configure(monkeypatch, port_var, task_queue, profile=ch.profile_for("accept"))
    async with build_worker(env.client):
        req, handle, view, mail = await _refused_at_submission(env, port_var, tmp_path)
        oid = req.order_id(0)
        assert view.carrier_order_id is None  # the carrier holds no order
        refused = next(c for c in view.timeline if c.to_status == S.EXCEPTION)
        assert refused.from_status == S.LOA_SIGNED and refused.actor == "carrier:Lumen"
        assert "refused at submission" in refused.reason and "PIN is empty" in refused.reason
        assert view.next.waiting_on == "pm" and view.remediation
        assert ch.PM_MAIL in mail.to and mail.subject.startswith("Action needed: Lumen returned the port order")
        assert await ch.execution_status(env.client, oid) == "RUNNING"

        await ch.amend(env.client, oid, reason="PIN read out by the customer", pin=vault.put_secret("4417"))
        result = await handle.result()
        final = await ph.order_status(env.client, oid)
        await record_histories(env.client, "refused_at_submission", [oid])

    assert result.status == S.COMPLETED and final.status == S.COMPLETED
    walked = [(c.from_status, c.to_status) for c in final.timeline]
    assert (S.LOA_SIGNED, S.EXCEPTION) in walked and (S.EXCEPTION, S.SUBMITTED) in walked
    resubmitted = next(c for c in final.timeline if c.from_status == S.EXCEPTION and c.to_status == S.SUBMITTED)
    assert "resubmitted" in resubmitted.reason and "corrected pin" in resubmitted.reason
    rec = ph.carrier_record(final.carrier_order_id)
    assert rec["pin_hint"] == hint_of("4417") and [e["kind"] for e in rec["events"]] == ["submit"]
    assert {n.state for n in final.numbers} == {"active"}


async def test_refused_submission_says_what_the_carrier_refused(
        env: WorkflowEnvironment, port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    configure(monkeypatch, port_var, task_queue, profile=ch.profile_for("accept"))
    async with build_worker(env.client):
        req, handle, view, mail = await _refused_at_submission(env, port_var, tmp_path)
        await ph.terminate_running(env.client, [req.id])
    [line] = view.remediation
    assert "PIN is empty" in line, line
    assert "PIN is empty" in mail.body, mail.body


@pytest.mark.parametrize("code", sorted(NOT_PORTABLE_CODES))
async def test_not_portable_numbers_leave_the_order(code: str, env: WorkflowEnvironment, port_var: Path,
                                                    task_queue: str, monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    """The carrier calls one number not portable: it leaves the order with the carrier's
    reason (status, inventory, the completion mail) and the other numbers port."""
    req = await ch.english_request(env, accounts=1)
    stuck = req.accounts[0].numbers[-1]
    configure(monkeypatch, port_var, task_queue, profile=ch.profile_for(
        "not_portable", code=code, numbers=[stuck], text="wireless-only rate center, no portability agreement"))
    oid = req.order_id(0)
    async with build_worker(env.client):
        handle = await ch.to_carrier(env, req, tmp_path)
        view = await ch.skip_until(env, oid, lambda o: o.status == S.FOC_CONFIRMED, step=timedelta(hours=3),
                                   what="FOC for the portable numbers")
        # while the others wait for port day, the refused number is out, with the carrier's words
        by_tn = {n.tn: n for n in view.numbers}
        assert by_tn[stuck].state == "not_portable" and by_tn[stuck].carrier_outcome == "not_portable"
        assert "wireless-only rate center" in (by_tn[stuck].reason or "")
        assert all(n.state != "not_portable" for tn, n in by_tn.items() if tn != stuck)
        walked = [c.to_status for c in view.timeline]
        assert walked.index(S.EXCEPTION) < walked.index(S.SUPPLEMENT) < walked.index(S.FOC_CONFIRMED)
        removed = next(c for c in view.timeline if c.to_status == S.SUPPLEMENT)
        assert removed.reason == f"SUP3: removed not-portable numbers {stuck}"
        assert not [m for m in outbox(port_var, "exception") if m.order_id == oid]  # nobody had to act
        result = await handle.result()
        final = await ph.order_status(env.client, oid)

    assert result.status == S.COMPLETED and final.status == S.COMPLETED
    rec = ph.carrier_record(final.carrier_order_id)
    assert rec["numbers"] == [n for n in req.accounts[0].numbers if n != stuck]
    states = {r.tn: r.state for r in ph.inventory_rows(req.id, include_released=False)}
    assert states == {**{n: "active" for n in req.accounts[0].numbers}, stuck: "not_portable"}
    assert {n.tn: n.state for n in final.numbers}[stuck] == "not_portable"
    [done] = outbox(port_var, "port_complete")
    did_not_port = done.body.split("did NOT port")[1]
    national = f"({stuck[2:5]}) {stuck[5:8]}-{stuck[8:]}"
    assert national in did_not_port and national not in done.body.split("did NOT port")[0]




async def test_exception_left_past_its_sla_is_escalated(env: WorkflowEnvironment, port_var: Path, task_queue: str,
                                                        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An exception nobody fixes for longer than its SLA (EXCEPTION: 48 h by default) alerts
    ops; the Escalated search attribute and the current details say so until it is fixed."""
    configure(monkeypatch, port_var, task_queue, profile=ch.profile_for("reject", code="BTN_ATN_MISMATCH"))
    req = await ch.english_request(env, accounts=1)
    oid = req.order_id(0)
    async with build_worker(env.client):
        handle = await ch.to_carrier(env, req, tmp_path)
        view, _ = await _exception_for_pm(env, port_var, oid)
        assert view.stage_since is not None
        assert (await ch.search_attributes(env.client, oid)).get("Escalated") is False
        assert "**Escalated**" not in await ch.current_details(env.client, oid)

        await ch.skip_until(env, oid, lambda o: o.escalated, step=timedelta(hours=6), limit=timedelta(days=3),
                            what="SLA escalation")
        [mail] = await wait_mail(port_var, "escalation", oid)
        assert ch.OPS_MAIL in mail.to and ch.PM_MAIL in mail.to
        assert mail.subject.startswith(f"P2 escalation for Contoso Dental ({oid}): SLA: exception for more than 48 h")
        sent = await ph.notifications_sent(env.client, oid, "escalation")
        assert sent[0][0] >= view.stage_since + timedelta(hours=48)
        assert (await ch.search_attributes(env.client, oid))["Escalated"] is True
        await ch.wait_search_attribute(env.client, req.id, "Escalated", True)
        details = await ch.current_details(env.client, oid)
        assert "**Escalated**: P2: SLA: exception for more than 48 h" in details

        await ch.amend(env.client, oid, reason="BTN from the bill", btn=req.accounts[0].numbers[1])
        view = await ch.skip_until(env, oid, lambda o: o.status == S.FOC_CONFIRMED, step=timedelta(hours=3),
                                   what="FOC after the fix")
        assert not view.escalated and view.escalations  # the alert stays in the record
        assert (await ch.search_attributes(env.client, oid))["Escalated"] is False
        assert "**Escalated**" not in await ch.current_details(env.client, oid)
        result = await handle.result()
    assert result.status == S.COMPLETED
