"""Port day runs its duties once whatever the timing of the carrier's "ported" (issue 12).

The carrier may say the numbers ported before portflow's FOC timer fired: it ported early,
or the server was down across the FOC and the carrier's word and the timer reach the order
in one workflow task (the carrier-wait loop applies the carrier's word first, so that is the
same path as "early"; the time-skipping server cannot hold a fired timer back while a worker
is away: it locks its clock while the dead worker's activity counts as started). Port day
must still run: the port-day mail, the check for unassigned numbers (a P3), then
verification; never ``foc_confirmed`` straight to ``ported`` (``models/status.py`` no longer
allows that move).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from models.status import PortStatus
from models.workflow import OrderView
from tests.mail_helpers import outbox, wait_mail
from tests.settings_helpers import configure
from tests.workflows import carrier_helpers as ch
from tests.workflows.adapter_helpers import (
    PM,
    adapter_settings,
    one_account_request,
    port_day_foc,
    run_starter,
    sleep_past,
    submitted,
    wait_order,
    walked,
)
from worker import build_worker

S = PortStatus


async def _to_foc(env: WorkflowEnvironment, tmp: Path) -> tuple:
    req = await one_account_request(env)
    oid = req.order_id(0)
    handle, _ = await submitted(env, req, tmp)
    for args in (("--carrier-order-id", "LUM-1"), ("--foc", port_day_foc(req.requested_port_date).isoformat())):
        result = await run_starter(env, "carrier-event", oid, *args, "--by", PM)
        assert result.exit_code == 0, result.output
    o = await wait_order(env.client, oid, lambda v: v.status == S.FOC_CONFIRMED and v.next.what.startswith("port day"),
                         what="FOC confirmed")
    return req, oid, handle, o


def _assert_port_day_ran_once(port_var: Path, o: OrderView, oid: str) -> None:
    path = walked(o)
    assert path.index(S.FOC_CONFIRMED) < path.index(S.ACTIVATION) < path.index(S.PORTED), path
    assert path.count(S.ACTIVATION) == 1
    assert len(outbox(port_var, "port_day")) == 1, [m.subject for m in outbox(port_var)]
    [p3] = outbox(port_var, "unassigned_escalation")
    assert p3.order_id == oid


async def test_carrier_ported_before_the_foc_timer(env: WorkflowEnvironment, port_var: Path, task_queue: str,
                                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The carrier ports a day early (the PM records it): port day's mail and the unassigned
    check still run, once; the order goes on to verification and completes."""
    configure(monkeypatch, port_var, task_queue, **adapter_settings(env, monkeypatch, "manual"))
    async with build_worker(env.client):
        req, oid, handle, o = await _to_foc(env, tmp_path)
        await sleep_past(env, o.foc_at - timedelta(days=1))
        result = await run_starter(env, "carrier-event", oid, "--completed", "--by", PM)
        assert result.exit_code == 0, result.output
        o = await wait_order(env.client, oid, lambda v: v.status == S.COMPLETED, what="completed")
        await wait_mail(port_var, "unassigned_escalation", oid)
    _assert_port_day_ran_once(port_var, o, oid)
    assert "port day: the carrier reports the numbers ported" in next(
        c.reason for c in o.timeline if c.to_status == S.ACTIVATION)


async def test_the_first_look_after_an_outage_finds_the_numbers_ported(
    env: WorkflowEnvironment, port_var: Path, task_queue: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by the fault suite: nobody looked while the carrier confirmed the FOC and ported
    (the carrier is asked every 2 h; it confirms 30 s after the submission and ports an hour
    later). Its first answer is "ported" to an order still "submitted": the order used to
    keep that answer and wait in "submitted" forever. Now the FOC's and port day's duties
    run, once each, and the port completes."""
    configure(monkeypatch, port_var, task_queue, CARRIER_POLL_SECONDS=7200,
              profile=ch.profile_for("accept", foc_in_seconds=3600))
    req = await ch.english_request(env, accounts=1)
    oid = req.order_id(0)
    async with build_worker(env.client):
        await ch.to_carrier(env, req, tmp_path, assign=False)
        o = await ch.skip_until(env, oid, lambda v: v.status == S.COMPLETED, step=timedelta(hours=1),
                                limit=timedelta(hours=12), what="completion")
        await wait_mail(port_var, "unassigned_escalation", oid)
    path = walked(o)
    assert path.index(S.SUBMITTED) < path.index(S.FOC_CONFIRMED) < path.index(S.ACTIVATION) < path.index(S.PORTED)
    for template in ("foc_confirmed", "numbers_ready", "port_day", "unassigned_escalation"):
        assert len(outbox(port_var, template)) == 1, (template, [m.subject for m in outbox(port_var)])
    assert {n.state for n in o.numbers} == {"active"}
