"""Support cases on the time-skipping server (issue 17, seed 003): a snapback opens a P1 case
whose first response and hourly updates are due (and escalate when missed), P3/P4 targets skip
nights, weekends and holidays, a resolved case reopened then closed after the reopen window, a
change planned in the maintenance window, and a case closed without the customer's answer.
Each path records its history for tests/workflows/test_replay.py."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.support import open_support_case
from core.calendar import PortCalendar
from models.support import CaseInput, CaseState, CaseView, Priority
from portflow import cases
from tests.mail_helpers import wait_mail
from tests.polling import eventually
from tests.settings_helpers import configure
from tests.workflows import carrier_helpers as ch
from tests.workflows import paths_helpers as ph
from tests.workflows.helpers import record_histories
from worker import build_worker
from workflows.port_order.support import ACTIVATION_FAILED, case_id
from workflows.support_case import SupportCaseWorkflow

DEN = ZoneInfo("America/Denver")
CONTACT = "lee@acme-dental.example"
AGENT = "agent@portflow.local"


async def _view(env: WorkflowEnvironment, cid: str) -> CaseView:
    return await env.client.get_workflow_handle(cid).query(SupportCaseWorkflow.status)


async def _maybe_view(env: WorkflowEnvironment, cid: str) -> CaseView | None:
    from temporalio.service import RPCError

    try:
        return await _view(env, cid)
    except RPCError:
        return None


async def _until(env: WorkflowEnvironment, at: datetime) -> None:
    """Skip the server's clock to ``at``, then let the woken workflows finish their task."""
    left = at - await env.get_current_time()
    if left > timedelta(0):
        await env.sleep(left)


async def _open(env: WorkflowEnvironment, priority: str, *, language: str = "en", summary: str = "phone not registering") \
        -> CaseView:
    return await cases.open_case(env.client, customer="Acme Dental", priority=priority, summary=summary,
                                 opened_by=AGENT, contact=CONTACT, language=language)


async def test_snapback_opens_a_p1_case_with_hourly_updates(env: WorkflowEnvironment, port_var: Path, task_queue: str,
                                                           monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Activation fails: the order opens case-<order>-activation-failed (P1, once), whose first
    response is due in 15 minutes and escalates when missed; after the response an update is
    due every hour, and a missed one escalates to the PM and ops."""
    configure(monkeypatch, port_var, task_queue, profile=ch.profile_for("activation_failure"))
    req = await ch.english_request(env, accounts=1)
    oid = req.order_id(0)
    cid = case_id(oid, ACTIVATION_FAILED)
    async with build_worker(env.client):
        handle = await ch.to_carrier(env, req, tmp_path)
        view = await ch.skip_until(env, oid, lambda o: o.status == "foc_confirmed", step=timedelta(hours=3), what="FOC")
        await _until(env, view.foc_at)
        await ch.skip_until(env, oid, lambda o: o.status == "snapback", step=timedelta(minutes=5),
                            limit=timedelta(hours=1), what="snapback")
        case = await eventually(lambda: _maybe_view(env, cid), lambda v: v is not None, what="the P1 case", timeout=15)
        assert case.priority == Priority.P1 and case.state == CaseState.NEW
        assert case.order_id == oid and case.request_id == req.id and case.trigger == ACTIVATION_FAILED
        assert case.first_response_due == case.opened_at + timedelta(minutes=15)
        assert case.summary.startswith("ported numbers not routing (activation-failed)")
        [opened] = await wait_mail(port_var, "case_opened", cid)
        assert set(opened.to) == {str(req.contact.email), ch.PM_MAIL}
        assert opened.subject == f"Support case {cid} opened (P1) for Contoso Dental"
        due_ny = case.first_response_due.astimezone(ZoneInfo(req.time_zone))
        assert f"First response due by {due_ny:%Y-%m-%d %H:%M} ({req.time_zone})" in opened.text  # the customer's zone
        order = await ph.order_status(env.client, oid)
        assert any(c.reason.startswith(f"P1 support case {cid} opened") for c in order.timeline)

        # the same order and trigger: the activity finds the case, it never starts a second one
        again = await ActivityEnvironment(client=env.client).run(open_support_case, CaseInput(
            case_id=cid, customer_name="Contoso Dental", contact_email=CONTACT, priority=Priority.P1,
            summary="ported numbers not routing", opened_by="system", pm_email=ch.PM_MAIL, ops_email=ch.OPS_MAIL))
        assert again.case_id == cid and not again.started

        # nobody responds within 15 minutes: escalation round 1
        await _until(env, case.opened_at + timedelta(minutes=16))
        [late] = await wait_mail(port_var, "case_escalation", cid)
        assert set(late.to) == {ch.PM_MAIL, ch.OPS_MAIL} and late.subject.startswith(f"P1 case {cid} for Contoso")
        assert "first response overdue" in late.subject
        responded = await cases.act(env.client, cid, "respond", by=AGENT, note="on the bridge with the carrier")
        assert responded.state == CaseState.IN_PROGRESS and responded.first_response_at is not None
        assert responded.next_update_due == responded.first_response_at + timedelta(hours=1)
        assert (await ch.search_attributes(env.client, cid))["Escalated"] is False

        # an update within the hour moves the next one; then two hours of silence: two rounds
        await _until(env, responded.next_update_due - timedelta(minutes=10))
        updated = await cases.act(env.client, cid, "update", by=AGENT, note="carrier re-sent the NPAC activation")
        assert updated.next_update_due == updated.history[-1].at + timedelta(hours=1) and updated.updates == 1
        await _until(env, updated.next_update_due + timedelta(hours=1, minutes=5))
        rounds = await wait_mail(port_var, "case_escalation", cid, count=3)
        assert ["update overdue" in m.subject for m in rounds] == [False, True, True]
        sent = await ph.notifications_sent(env.client, cid, "case_escalation")
        assert [round((at - updated.next_update_due) / timedelta(minutes=1)) for at, _ in sent[1:]] == [0, 60]
        sa = await ch.search_attributes(env.client, cid)
        assert sa["PortflowCasePriority"] == "P1" and sa["PortflowCaseState"] == "in_progress" and sa["Escalated"] is True
        assert [ev.action for ev in (await _view(env, cid)).history] == \
            ["open", "escalate", "respond", "update", "escalate", "escalate"]
        await cases.act(env.client, cid, "resolve", by=AGENT, note="numbers route again after the carrier's fix")
        await cases.act(env.client, cid, "close", by=AGENT, note="customer confirmed calls in and out")
        final = await env.client.get_workflow_handle_for(SupportCaseWorkflow.run, cid).result()
        await record_histories(env.client, "case_snapback_p1", [oid, cid])
        # a case a person opens about the same port takes its customer, contact and language from the store
        manual = await cases.open_case(env.client, customer=None, priority="P2", summary="callers hear silence",
                                       opened_by=AGENT, request_id=req.id.lower())
        assert (manual.customer_name, manual.request_id, manual.order_id) == ("Contoso Dental", req.id, None)
        await wait_mail(port_var, "case_opened", manual.case_id, to=str(req.contact.email))
        await ph.terminate_running(env.client, [req.id, oid])
    assert final.state == CaseState.CLOSED and final.closed_at is not None
    assert handle is not None


def _minute(at: datetime) -> datetime:
    """When a timer fired, to the minute, in Mountain Time (the task starts a few ms after)."""
    return at.astimezone(DEN).replace(second=0, microsecond=0)


def _friday_before_a_monday_holiday(cal: PortCalendar, after: datetime) -> datetime:
    day = after.astimezone(DEN).date() + timedelta(days=1)
    while not (day.weekday() == 0 and cal.holiday_name(day)):
        day += timedelta(days=1)
    return datetime.combine(day - timedelta(days=3), time(15, 0), DEN)


async def test_p3_and_p4_targets_skip_nights_weekends_and_holidays(
        env: WorkflowEnvironment, port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opened on the Friday afternoon before a Monday holiday: the P3's 4 business hours end on
    Tuesday 10:00, the P4's business day on Tuesday 16:00; the P3's update after a response on
    Tuesday 16:00 is due Wednesday 16:00, and it escalates then, not over the night."""
    configure(monkeypatch, port_var, task_queue)
    cal = PortCalendar.from_settings()
    friday = _friday_before_a_monday_holiday(cal, await env.get_current_time())
    tuesday = friday.date() + timedelta(days=4)
    async with build_worker(env.client):
        await _until(env, friday.astimezone(UTC))
        p3 = await _open(env, "P3", summary="phone not registering for one user")
        await _until(env, (friday + timedelta(hours=1)).astimezone(UTC))
        p4 = await _open(env, "p4", summary="message waiting light off for one user")
        assert _minute(p3.first_response_due) == datetime.combine(tuesday, time(10, 0), DEN)
        assert _minute(p4.first_response_due) == datetime.combine(tuesday, time(16, 0), DEN)
        assert p3.target == "first response within 4 business hours, updates every business day"

        # the long weekend passes without an escalation; Tuesday 10:00 the P3's first response is late
        await _until(env, datetime.combine(tuesday, time(9, 59), DEN).astimezone(UTC))
        assert not await ph.notifications_sent(env.client, p3.case_id, "case_escalation")
        await _until(env, datetime.combine(tuesday, time(10, 1), DEN).astimezone(UTC))
        [late] = await wait_mail(port_var, "case_escalation", p3.case_id)
        assert "first response overdue" in late.subject
        await _until(env, datetime.combine(tuesday, time(16, 0), DEN).astimezone(UTC))
        resp = await cases.act(env.client, p3.case_id, "respond", by=AGENT, note="re-provisioning the handset")
        assert _minute(resp.next_update_due) == datetime.combine(tuesday + timedelta(days=1), time(16, 0), DEN)
        await _until(env, resp.next_update_due + timedelta(minutes=1))
        await wait_mail(port_var, "case_escalation", p3.case_id, count=2)
        sent = await ph.notifications_sent(env.client, p3.case_id, "case_escalation")
        assert [_minute(at) for at, _ in sent] == [datetime.combine(tuesday, time(10, 0), DEN),
                                                 datetime.combine(tuesday + timedelta(days=1), time(16, 0), DEN)]
        p4_late = await ph.notifications_sent(env.client, p4.case_id, "case_escalation")
        assert [_minute(at) for at, _ in p4_late][:1] == [datetime.combine(tuesday, time(16, 0), DEN)]
        for cid in (p3.case_id, p4.case_id):
            await cases.act(env.client, cid, "close", by=AGENT, note="fixed with the customer on the phone")
        await record_histories(env.client, "case_business_hours", [p3.case_id, p4.case_id])


async def test_a_resolved_case_reopens_then_closes_after_the_window(
        env: WorkflowEnvironment, port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolved, reopened by the customer within the window, resolved again: closed by the
    system once the reopen window (PORTFLOW_CASE_REOPEN_DAYS) passes; after that a reopen is
    refused with what to do. The customer reads every step in Spanish."""
    configure(monkeypatch, port_var, task_queue, CASE_REOPEN_DAYS=7)
    async with build_worker(env.client):
        case = await _open(env, "P2", language="es", summary="intermittent drops on transfers")
        assert case.case_id.startswith(f"case-{case.opened_at.year}-")
        assert case.first_response_due == case.opened_at + timedelta(minutes=30)
        cid = case.case_id
        await cases.act(env.client, cid, "respond", by=AGENT, note="looking at the SIP traces")
        resolved = await cases.act(env.client, cid, "resolve", by=AGENT, note="codec mismatch fixed")
        assert resolved.state == CaseState.RESOLVED
        assert resolved.reopen_until == resolved.resolved_at + timedelta(days=7)
        await env.sleep(timedelta(days=3))
        reopened = await cases.act(env.client, cid, "reopen", by=CONTACT, note="drops are back on the second floor")
        assert reopened.state == CaseState.IN_PROGRESS and reopened.reopened == 1 and reopened.resolved_at is None
        assert reopened.next_update_due == reopened.history[-1].at + timedelta(hours=2)
        again = await cases.act(env.client, cid, "resolve", by=AGENT, note="second floor switch replaced")
        await _until(env, again.reopen_until + timedelta(minutes=1))
        final = await env.client.get_workflow_handle_for(SupportCaseWorkflow.run, cid).result()
        assert final.state == CaseState.CLOSED and final.history[-1].by == "system"
        assert final.history[-1].note == "not reopened within 7 days of the resolution"
        with pytest.raises(cases.CaseProblem, match="closed"):
            await cases.act(env.client, cid, "reopen", by=CONTACT, note="still dropping")
        mails = await wait_mail(port_var, "case_update", cid, count=5)
        await record_histories(env.client, "case_reopened", [cid])
    assert [m.subject.split(": ")[-1] for m in mails] == ["en curso", "resuelto", "en curso", "resuelto", "cerrado"]
    assert all(m.is_to(CONTACT) and len(m.to) == 1 for m in mails)
    assert "abra un caso nuevo" in " ".join(mails[-1].text.split())


async def test_changes_in_the_maintenance_window_are_flagged_and_silence_closes(
        env: WorkflowEnvironment, port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A change planned inside the calendar's maintenance window is flagged, one at its end is
    not; a case waiting on a customer who never answers closes after 2 business days."""
    configure(monkeypatch, port_var, task_queue)
    cal = PortCalendar.from_settings()
    now = await env.get_current_time()
    local = now.astimezone(DEN)
    start, end = cal.maintenance_window(local.year, local.month)
    if end <= now:
        nxt = local.replace(day=1) + timedelta(days=32)
        start, end = cal.maintenance_window(nxt.year, nxt.month)
    async with build_worker(env.client):
        case = await _open(env, "P4", summary="new auto attendant greeting")
        cid = case.case_id
        await cases.act(env.client, cid, "respond", by=AGENT, note="greeting recorded, scheduling the change")
        flagged = await cases.act(env.client, cid, "plan_change", by=AGENT, note="publish the greeting",
                                  at=(start + timedelta(hours=1)).isoformat())
        clear = await cases.act(env.client, cid, "plan_change", by=AGENT, note="publish the greeting",
                                at=end.astimezone(DEN).isoformat())
        assert [c.in_maintenance_window for c in clear.planned_changes] == [True, False]
        assert (flagged.planned_changes[0].window_start, flagged.planned_changes[0].window_end) == (start, end)
        assert "IN THE MAINTENANCE WINDOW" in flagged.history[-1].note
        waiting = await cases.act(env.client, cid, "wait", by=AGENT, note="which greeting file should we use?")
        assert waiting.state == CaseState.WAITING_ON_CUSTOMER and waiting.next_update_due is None
        silent_until = cal.add_business_hours(waiting.history[-1].at, timedelta(hours=18), "America/Denver")
        await _until(env, silent_until - timedelta(minutes=1))
        assert (await _view(env, cid)).state == CaseState.WAITING_ON_CUSTOMER
        await _until(env, silent_until + timedelta(minutes=1))
        final = await env.client.get_workflow_handle_for(SupportCaseWorkflow.run, cid).result()
        await record_histories(env.client, "case_no_answer", [cid])
    assert final.state == CaseState.CLOSED and final.history[-1].by == "system"
    assert final.history[-1].note.startswith("closed without response")
    waited = final.history[-2].at
    silence = cal.business_time_between(waited, final.closed_at, "America/Denver")
    assert timedelta(hours=18) <= silence < timedelta(hours=18, seconds=5)  # 2 business days (+ the task's start)
    assert await ch.execution_status(env.client, cid) == "COMPLETED"


async def test_a_new_priority_brings_its_targets_and_bad_moves_are_refused(
        env: WorkflowEnvironment, port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A P4 raised to P1 before its first response is due 15 minutes after it was opened (and
    escalates then); moves that do not apply are refused with what to do instead."""
    configure(monkeypatch, port_var, task_queue)
    async with build_worker(env.client):
        case = await _open(env, "P4", summary="calls to the main line fail")
        cid = case.case_id
        await env.sleep(timedelta(minutes=5))
        raised = await cases.act(env.client, cid, "priority", by=AGENT, priority="1", note="the whole site is down")
        assert raised.priority == Priority.P1 and raised.first_response_due == case.opened_at + timedelta(minutes=15)
        assert raised.history[-1].note == "P4 -> P1: the whole site is down"
        for action, kw, refusal in (
                ("priority", {"priority": "P1"}, f"case {cid} is already P1"),
                ("reopen", {"note": "again"}, "only a resolved case can be reopened"),
                ("update", {"note": "x"}, "--note is too short"),
                ("plan_change", {"note": "firmware", "at": "2027-03-19T23:00"}, "has no offset")):
            with pytest.raises(cases.CaseProblem, match=refusal):
                await cases.act(env.client, cid, action, by=AGENT, **kw)
        await _until(env, case.opened_at + timedelta(minutes=16))
        [late] = await wait_mail(port_var, "case_escalation", cid)
        assert late.subject.startswith(f"P1 case {cid}") and "first response overdue" in late.subject
        # two agents respond at once: both pass the validator, one records it, the other is told why not
        both = await asyncio.gather(*(cases.act(env.client, cid, "respond", by=who, note="carrier ticket opened")
                                      for who in (AGENT, "second@portflow.local")), return_exceptions=True)
        refused = [r for r in both if isinstance(r, Exception)]
        assert len(refused) == 1 and isinstance(refused[0], cases.CaseProblem), both
        assert "already had its first response" in str(refused[0]) and refused[0].kind == "state"
        assert [e.action for e in (await _view(env, cid)).history].count("respond") == 1
        await cases.act(env.client, cid, "close", by=AGENT, note="routing fixed")
        await record_histories(env.client, "case_priority_raised", [cid])


async def test_a_long_case_continues_as_new_with_its_state(
        env: WorkflowEnvironment, port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A P1 nobody answers for hours: escalations every hour; past PORTFLOW_CASE_CONTINUE_AFTER_EVENTS
    the case starts a new run that keeps its state, numbering and targets, and goes on escalating."""
    configure(monkeypatch, port_var, task_queue, CASE_CONTINUE_AFTER_EVENTS=40)
    async with build_worker(env.client):
        case = await _open(env, "P1", summary="site down after the cutover")
        cid = case.case_id
        await _until(env, case.opened_at + timedelta(hours=6, minutes=20))
        view = await eventually(lambda: _view(env, cid), lambda v: len(v.escalations) == 7 and v.runs > 1,
                                what="7 escalations over more than one run", timeout=15)
        assert view.state == CaseState.NEW and view.first_response_due == case.opened_at + timedelta(minutes=15)
        assert [e.split(", round ")[-1] for e in view.escalations] == [f"{n})" for n in range(1, 8)]
        mails = await wait_mail(port_var, "case_escalation", cid, count=7)
        assert len({m.subject for m in mails}) == 7  # each round once, none repeated by the new run
        await cases.act(env.client, cid, "respond", by=AGENT, note="on it")
        done = await cases.act(env.client, cid, "close", by=AGENT, note="power restored at the site")
        assert done.history[0].action == "open" and done.history[0].at == case.opened_at
        assert (await ch.search_attributes(env.client, cid))["PortflowCaseState"] == "closed"
