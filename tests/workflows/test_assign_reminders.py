"""What the customer and the PM are told about assigning numbers, as `make demo` showed it:
a late FOC gave two reminders 60 ms apart saying "before -" and "in 3 business days" on port
day, and the timeline said "assigned 1 numbers"."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from temporalio.testing import WorkflowEnvironment

from core.calendar import PortCalendar
from models.status import PortStatus
from models.workflow import AssignNumbers
from tests.mail_helpers import outbox, wait_mail
from tests.settings_helpers import configure
from tests.workflows import carrier_helpers as ch
from tests.workflows import paths_helpers as ph
from worker import build_worker
from workflows.port_request import PortRequestWorkflow

S = PortStatus
NY = ZoneInfo("America/New_York")


async def test_a_late_foc_sends_one_assign_reminder_with_the_real_date(
    env: WorkflowEnvironment, port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The FOC comes minutes before port time (as in the demo): both reminders (3 and 1
    business days before) are already past, so one goes out, naming the port date and the
    business days really left, and none is sent twice."""
    configure(monkeypatch, port_var, task_queue, CARRIER_POLL_SECONDS=60,
              profile=ch.profile_for("accept", foc_in_seconds=900))
    req = await ch.english_request(env, accounts=1)
    oid = req.order_id(0)
    numbers = req.accounts[0].numbers
    async with build_worker(env.client):
        await ch.to_carrier(env, req, tmp_path, assign=False)
        try:
            view = await ch.skip_until(env, oid, lambda o: o.status == S.FOC_CONFIRMED, step=timedelta(seconds=20),
                                       limit=timedelta(minutes=10), what="FOC")
            now = await ph.server_now(env)
            assert view.foc_at is not None and view.foc_at - now < timedelta(minutes=15)
            # on to port day: every reminder that was going to go has gone by then
            await ch.skip_until(env, oid, lambda o: any(c.to_status == S.ACTIVATION for c in o.timeline),
                                step=timedelta(minutes=5),
                                limit=timedelta(minutes=30), what="port day")
            [mail] = await wait_mail(port_var, "assign_reminder", oid)
            sent = await ph.notifications_sent(env.client, oid, "assign_reminder")
        finally:
            await ph.terminate_running(env.client, [req.id, oid])

    port_day = view.foc_at.astimezone(NY).date()
    left = PortCalendar.from_settings().business_days_between(now.astimezone(NY).date(), port_day)
    assert len(sent) == 1 and len(outbox(port_var, "assign_reminder")) == 1
    assert sent[0][1].context["business_days_left"] == left
    assert mail.subject == f"Reminder: {len(numbers)} numbers still to assign before {port_day}"
    said = " ".join(mail.body.split())
    when = "today" if left == 0 else f"in {left} business day" + ("" if left == 1 else "s")
    assert f"takes place on {port_day}, {when}." in said, said
    assert " - " not in mail.subject and "on -" not in said


async def test_the_timeline_counts_assigned_numbers_in_words(
    env: WorkflowEnvironment, port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    configure(monkeypatch, port_var, task_queue, profile=ch.profile_for("accept"))
    req = await ch.english_request(env, accounts=1)
    first, *others = req.accounts[0].numbers
    async with build_worker(env.client):
        handle = await ch.to_loa_sent(env, req, tmp_path, assign=False)
        try:
            await handle.execute_update(PortRequestWorkflow.assign, AssignNumbers(
                actor=ch.PM, assignments={first: "desk@contoso.example"}))
            view = await handle.execute_update(PortRequestWorkflow.assign, AssignNumbers(
                actor=ch.PM, assignments={tn: "desk@contoso.example" for tn in others}))
        finally:
            await ph.terminate_running(env.client, [req.id, req.order_id(0)])
    notes = [c.reason for c in view.timeline if c.reason.startswith("assigned")]
    assert notes == ["assigned 1 number", f"assigned {len(others)} numbers"]
