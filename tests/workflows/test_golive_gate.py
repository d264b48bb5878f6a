"""The go-live gate on port day (issue 17), through the simulator on the time-skipping server:
a complete gate lets the port activate at its FOC; an incomplete one warns the PM and ops N
business days before and then moves the date by SUP2, or escalates and holds the activation
past the FOC; a change window that misses the activation is refused with the reason. The PM's
steps go through the same functions as ``starter.py gate ...`` (``portflow.cli.gate_actions``)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio.testing import WorkflowEnvironment

from core.calendar import PortCalendar
from models.golive import ITEM_IDS
from models.status import PortStatus
from portflow.cli import gate_actions as ga
from portflow.cli.errors import CliError
from tests.mail_helpers import wait_mail
from tests.settings_helpers import configure
from tests.workflows import carrier_helpers as ch
from tests.workflows import paths_helpers as ph
from tests.workflows.helpers import PM, record_histories, wait_order
from worker import build_worker
from workflows.port_request import PortRequestWorkflow

S = PortStatus
NY = ZoneInfo("America/New_York")
TEMP = "+13035550188"
OPS = "ops@portflow.local"


def _section(required: list[str], **over: Any) -> dict[str, Any]:
    """A go_live section that requires only ``required`` (the others optional)."""
    optional = [i for i in ITEM_IDS if i not in required and i != "live_metrics"]
    return {"optional": optional, **over}


async def _request(env: WorkflowEnvironment, section: dict[str, Any], **over: Any):
    return await ch.english_request(env, accounts=1, go_live=section, temporary_numbers=[TEMP], **over)


def _window_around(foc, before: int = 2, after: int = 2) -> tuple[str, str]:
    local = foc.astimezone(NY)
    return ((local - timedelta(hours=before)).strftime("%Y-%m-%d %H:%M"),
            (local + timedelta(hours=after)).strftime("%Y-%m-%d %H:%M"))


async def test_gate_complete_activates(env: WorkflowEnvironment, port_var: Path, task_queue: str,
                                       monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every required item done (UAT on the temporary number, the change window around the
    activation, the rollback plan): the port activates at its FOC; each step is on the
    timeline with who and when; the completion mail reminds to remove the forwarding."""
    configure(monkeypatch, port_var, task_queue, profile=ch.profile_for("accept"))
    req = await _request(env, _section(["uat_temp_number", "change_request", "rollback_plan", "users_trained"]))
    oid = req.order_id(0)
    async with build_worker(env.client):
        handle = await ch.to_carrier(env, req, tmp_path)
        view = await ch.skip_until(env, oid, lambda o: o.status == S.FOC_CONFIRMED, step=timedelta(hours=3),
                                   what="FOC")
        assert view.foc_at is not None
        assert view.gate_problems and any(p.startswith("users_trained not done") for p in view.gate_problems)
        assert "go-live gate: 4 open" in view.next.what and view.next.waiting_on == "pm"

        start, end = _window_around(view.foc_at)
        await ga.cmd_gate_done(env.client, req.id, "uat_temp_number", actor=PM, note="UAT scripts 1-14 on the temp DID")
        await ga.cmd_gate_done(env.client, req.id, "users-trained", actor="ipm@provider.example", note="3 sessions")
        await ga.cmd_gate_window(env.client, req.id, start=start, end=end, tz="America/New_York",
                                 approved_by="CAB (CR-2211)", actor=PM, reference="https://cab.example/CR-2211")
        page = await ga.cmd_gate_rollback(env.client, req.id, plan="https://wiki.example/rollback", actor=PM)
        assert page.go_live is not None and page.go_live.summary() == "4/4 required items done"
        done = {i.id: i.done for i in page.go_live.items if i.done}
        assert done["users_trained"].by == "ipm@provider.example" and done["users_trained"].note == "3 sessions"
        assert done["change_request"].note.startswith(f"{start}-{end[-5:]} America/New_York approved by CAB (CR-2211)")
        # the order heard it too: nothing holds its activation any more
        ready = await wait_order(env.client, oid, lambda o: o.gate_problems == [], what="gate ready")
        assert "go-live gate" not in ready.next.what
        details = await ch.current_details(env.client, req.id)
        assert "Go-live gate: 4/4 required items done" in details

        result = await handle.result()
        final = await ph.order_status(env.client, oid)
        request_view = await handle.query(PortRequestWorkflow.status)
        [complete] = await wait_mail(port_var, "port_complete")
        await record_histories(env.client, "golive_gate_complete", [req.id, oid])

    assert result.status == S.COMPLETED
    port_day = next(c for c in final.timeline if c.to_status == S.ACTIVATION)
    assert view.foc_at <= port_day.at < view.foc_at + timedelta(minutes=5)
    notes = [(c.actor, c.reason) for c in request_view.timeline if c.reason.startswith("go-live gate:")]
    assert ("ipm@provider.example", "go-live gate: users_trained done: 3 sessions") in notes
    assert any(a == PM and r.startswith("go-live gate: rollback plan named") for a, r in notes)
    assert any(c.reason == "go-live gate: users_trained done: 3 sessions" for c in final.timeline)  # the order's too
    assert not final.escalations
    assert "Remove that forwarding now" in complete.body and "(303) 555-0188" in complete.body
    sa = await ch.search_attributes(env.client, req.id)
    assert TEMP not in str(sa) and "3035550188" not in str(sa)  # never a number in search attributes


async def test_gate_not_ready_warns_then_moves_the_date_by_sup2(env: WorkflowEnvironment, port_var: Path,
                                                                task_queue: str, monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path) -> None:
    """Nobody trained the users: 2 business days before the FOC (09:00 local) the PM and ops
    are told, in the customer's language, and the date moves 5 business days by SUP2; the
    port does not activate at the old FOC, and activates at the new one once the gate is done."""
    configure(monkeypatch, port_var, task_queue, profile=ch.profile_for("accept"), GATE_WARN_BUSINESS_DAYS=2)
    req = await _request(env, _section(["users_trained"], on_not_ready="sup2", slip_business_days=5),
                         customer={"name": "Contoso Dental", "language": "fr"})
    oid = req.order_id(0)
    async with build_worker(env.client):
        handle = await ch.to_carrier(env, req, tmp_path)
        first = await ch.skip_until(env, oid, lambda o: o.status == S.FOC_CONFIRMED, step=timedelta(hours=3),
                                    what="FOC")
        assert first.foc_at is not None
        cal = PortCalendar.from_settings()
        foc_day = first.foc_at.astimezone(NY).date()
        warn_day = cal.subtract_business_days(foc_day, 2)
        while datetime.combine(warn_day, time(9, 0), NY) >= first.foc_at - timedelta(hours=48):
            warn_day = cal.previous_business_day(warn_day, include_today=False)  # before the FOC guard
        new_day = cal.add_business_days(foc_day, 5)
        now = await ph.server_now(env)
        await env.sleep(first.foc_at.astimezone(NY).replace(year=warn_day.year, month=warn_day.month,
                                                              day=warn_day.day, hour=8, minute=0) - now)
        assert (await ph.order_status(env.client, oid)).status == S.FOC_CONFIRMED  # not warned before 09:00
        moved = await ch.skip_until(env, oid, lambda o: o.status == S.FOC_CONFIRMED and o.foc_at != first.foc_at,
                                    step=timedelta(hours=1), limit=timedelta(days=1), what="the SUP2's new FOC")
        [mail] = await wait_mail(port_var, "gate_not_ready", oid)
        assert set(mail.to) == {ch.PM_MAIL, OPS}
        assert mail.subject.startswith("La liste de mise en ligne de Contoso Dental n'est pas prête")
        assert "- utilisateurs finaux formés à la nouvelle plateforme" in mail.body  # the item, in French
        assert f"déplacée par SUP2 au {new_day}" in mail.body
        assert moved.foc_at is not None and moved.foc_at.astimezone(NY).date() == new_day
        sup = next(c for c in moved.timeline if c.to_status == S.SUPPLEMENT)
        assert sup.actor == "system" and sup.reason.startswith("SUP2: go-live gate not ready 2 business days")
        warned = next(c for c in moved.timeline if c.reason.startswith("go-live gate not ready"))
        assert warned.at.astimezone(NY).date() == warn_day and warned.at.astimezone(NY).hour == 9
        rec = ph.carrier_record(moved.carrier_order_id)
        assert [(e["kind"], e.get("port_date")) for e in rec["events"]] == [("submit", None), ("SUP2", new_day.isoformat())]

        # past the old FOC: still waiting (no activation)
        now = await ph.server_now(env)
        await env.sleep(first.foc_at + timedelta(hours=2) - now)
        held = await ph.order_status(env.client, oid)
        assert held.status == S.FOC_CONFIRMED and not any(c.to_status == S.ACTIVATION for c in held.timeline)

        await ga.cmd_gate_done(env.client, req.id, "users_trained", actor=PM, note="trained at last")
        result = await handle.result()
        final = await ph.order_status(env.client, oid)
        await record_histories(env.client, "golive_gate_sup2", [oid])  # the request's is as in _complete

    assert result.status == S.COMPLETED
    port_day = next(c for c in final.timeline if c.to_status == S.ACTIVATION)
    assert moved.foc_at <= port_day.at < moved.foc_at + timedelta(minutes=5)
    assert len(await ph.notifications_sent(env.client, oid, "gate_not_ready")) == 1


async def test_gate_not_ready_escalates_and_holds_the_activation(env: WorkflowEnvironment, port_var: Path,
                                                                 task_queue: str, monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    """on_not_ready: escalate. The warning goes out with a P2 to ops; at the FOC portflow does
    not activate, says so on the timeline and pages ops once; the PM completes the gate and
    the port activates then."""
    configure(monkeypatch, port_var, task_queue, profile=ch.profile_for("accept"), GATE_WARN_BUSINESS_DAYS=3)
    req = await _request(env, _section(["ops_signoff", "status_bridge"], on_not_ready="escalate"))
    oid = req.order_id(0)
    async with build_worker(env.client):
        handle = await ch.to_carrier(env, req, tmp_path)
        view = await ch.skip_until(env, oid, lambda o: o.status == S.FOC_CONFIRMED, step=timedelta(hours=3),
                                   what="FOC")
        assert view.foc_at is not None
        await ga.cmd_gate_done(env.client, req.id, "ops_signoff", actor="ops-lead@provider.example", note="BAU ready")
        warned = await ch.skip_until(env, oid, lambda o: o.escalated, step=timedelta(hours=12),
                                     limit=timedelta(days=40), what="the gate's escalation")
        [mail] = await wait_mail(port_var, "gate_not_ready", oid)
        assert "- status bridge open" in mail.body and "ops are paged" in mail.body
        assert "operations team signed off" not in mail.body  # done before the warning
        [esc] = await wait_mail(port_var, "escalation", oid)
        assert esc.subject.startswith("P2 escalation") and "go-live gate not ready 3 business days" in esc.subject
        cal = PortCalendar.from_settings()
        assert warned.timeline[-1].at.astimezone(NY).date() == cal.subtract_business_days(
            view.foc_at.astimezone(NY).date(), 3)

        now = await ph.server_now(env)
        await env.sleep(view.foc_at + timedelta(hours=3) - now)
        held = await ch.skip_until(env, oid, lambda o: any("activation held" in c.reason for c in o.timeline),
                                   step=timedelta(minutes=10), limit=timedelta(hours=1), what="the hold")
        assert held.status == S.FOC_CONFIRMED
        assert sum("activation held" in e for e in held.escalations) == 1
        details = await ch.current_details(env.client, oid)
        assert "holds activation: status_bridge not done" in details
        await env.sleep(timedelta(hours=6))  # no second page for the same FOC
        assert sum("activation held" in e for e in (await ph.order_status(env.client, oid)).escalations) == 1

        await ga.cmd_gate_done(env.client, req.id, "status_bridge", actor=PM, note="bridge +1 555 0100 open")
        result = await handle.result()
        final = await ph.order_status(env.client, oid)
        await record_histories(env.client, "golive_gate_escalate", [oid])  # the request's is as in _complete

    assert result.status == S.COMPLETED
    port_day = next(c for c in final.timeline if c.to_status == S.ACTIVATION)
    assert port_day.at >= view.foc_at + timedelta(hours=9)  # after the gate, not at the FOC


async def test_change_window_missing_the_activation_is_refused(env: WorkflowEnvironment, port_var: Path,
                                                               task_queue: str, monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    """A window that ends before (or starts after) the activation is refused with the reason
    and what to ask the board for; nothing is recorded. Items with their own command, an item
    done twice and UAT on a temporary number without one are refused too."""
    configure(monkeypatch, port_var, task_queue, profile=ch.profile_for("accept"))
    req = await ch.english_request(env, accounts=1, go_live=_section(["change_request", "uat_temp_number"]))
    oid = req.order_id(0)
    async with build_worker(env.client):
        handle = await ch.to_carrier(env, req, tmp_path)
        view = await ch.skip_until(env, oid, lambda o: o.status == S.FOC_CONFIRMED, step=timedelta(hours=3),
                                   what="FOC")
        assert view.foc_at is not None
        act = view.foc_at.astimezone(NY)
        early_start, early_end = _window_around(view.foc_at, before=4, after=-1)
        with pytest.raises(CliError) as refused:
            await ga.cmd_gate_window(env.client, req.id, start=early_start, end=early_end, tz="America/New_York",
                                     approved_by="CAB", actor=PM)
        assert refused.value.message == f"{req.id}: refused: " + (
            f"{oid}: the change window {early_start}-{early_end[-5:]} America/New_York ends before activation at "
            f"{act:%H:%M}; ask the change board for a window that contains {act:%Y-%m-%d %H:%M} America/New_York, "
            "or move the port date")
        late_start, late_end = _window_around(view.foc_at, before=-1, after=3)
        with pytest.raises(CliError) as refused:
            await ga.cmd_gate_window(env.client, req.id, start=late_start, end=late_end, tz="America/New_York",
                                     approved_by="CAB", actor=PM)
        assert "starts after activation" in refused.value.message
        with pytest.raises(CliError) as refused:
            await ga.cmd_gate_done(env.client, req.id, "uat_temp_number", actor=PM)
        assert "record it first with `starter.py temp-numbers add" in refused.value.message
        with pytest.raises(CliError) as refused:
            await ga.cmd_temp_numbers_add(env.client, req.id, [req.accounts[0].numbers[0]], actor=PM)
        assert "is one of the numbers being ported" in refused.value.message
        page = await ga.cmd_gate_show(env.client, req.id)
        assert page.go_live is not None and page.go_live.change_window is None
        assert not any("change window" in c.reason for c in page.timeline)

        # the right window, then the temporary number and its UAT: the port goes ahead
        start, end = _window_around(view.foc_at)
        await ga.cmd_gate_window(env.client, req.id, start=start, end=end, tz="America/New_York",
                                 approved_by="CAB (CR-9)", actor=PM)
        page = await ga.cmd_temp_numbers_add(env.client, req.id, ["(303) 555-0188"], actor=PM)
        assert page.temporary_numbers == [TEMP]
        with pytest.raises(CliError) as refused:
            await ga.cmd_temp_numbers_add(env.client, req.id, [TEMP], actor=PM)
        assert refused.value.message.endswith(f"refused: {TEMP} is already recorded")
        await ga.cmd_gate_done(env.client, req.id, "uat_temp_number", actor=PM, note="passed")
        with pytest.raises(CliError) as refused:
            await ga.cmd_gate_done(env.client, req.id, "uat_temp_number", actor=PM)
        assert "refused: uat_temp_number is already done (by pm@provider.example at " in refused.value.message
        result = await handle.result()
        await record_histories(env.client, "golive_change_window_refused", [req.id])  # the updates; the order as in _complete

    assert result.status == S.COMPLETED


FAST_PORT = """
carriers:
  "*":
    behaviour: accept
    answer_after_seconds: 30
    fast_port: true
    activation_window_seconds: 14400
"""


async def test_on_demand_activation_waits_for_the_gate(env: WorkflowEnvironment, port_var: Path, task_queue: str,
                                                       monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A fast-port order inside the carrier's window: the PM's on-demand activation is refused
    while the gate is not ready, saying what is open; once it is done, it activates."""
    from models.workflow import ActivateNow
    from workflows.port_order import PortOrderWorkflow

    configure(monkeypatch, port_var, task_queue, profile=FAST_PORT, CARRIER_POLL_SECONDS=3600)
    req = await _request(env, _section(["production_deployed"], on_not_ready="escalate"))
    oid = req.order_id(0)
    async with build_worker(env.client):
        handle = await ch.to_carrier(env, req, tmp_path)
        view = await ch.skip_until(env, oid, lambda o: o.status == S.FOC_CONFIRMED, step=timedelta(minutes=30),
                                   what="FOC")
        assert view.foc_at is not None
        now = await ph.server_now(env)
        await env.sleep(view.foc_at - now + timedelta(minutes=30))
        order = env.client.get_workflow_handle(oid)
        message = await ph.refusal(order.execute_update(PortOrderWorkflow.activate_now,
                                                        ActivateNow(actor=PM, order_id=oid, reason="customer ready")))
        assert message.startswith("the go-live gate is not ready: production_deployed not done")
        assert f"starter.py gate show {req.id}" in message
        await ga.cmd_gate_done(env.client, req.id, "production_deployed", actor=PM, note="release 4.2 live")
        await wait_order(env.client, oid, lambda o: o.gate_problems == [], what="gate ready")
        done = await order.execute_update(PortOrderWorkflow.activate_now,
                                          ActivateNow(actor=PM, order_id=oid, reason="customer ready"))
        assert done.status in (S.PORTED, S.VERIFIED, S.COMPLETED)
        result = await handle.result()

    assert result.status == S.COMPLETED
