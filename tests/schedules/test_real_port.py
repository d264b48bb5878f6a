"""The sweep against a real PortRequestWorkflow: its search attributes, its status view and
the stored request are what the sweep reads, so a change in any of them shows here."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import yaml

from core.calendar import PortCalendar
from models.reminders import SweepResult
from portflow import schedules
from portflow.cli import actions
from portflow.cli.files import plan_start
from portflow.ports import options_from_settings
from tests.polling import eventually
from tests.schedules.conftest import Sweeps

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PM = "carla.pm@provider.example"


async def test_a_real_port_waiting_for_documents_is_found_and_its_contact_reminded(
    sweeps: Sweeps, tmp_path: Path
) -> None:
    cal = PortCalendar.from_settings()
    port_date = cal.next_business_day(datetime.now(UTC).date() + timedelta(days=30))
    data = yaml.safe_load((EXAMPLES / "demo-request.yaml").read_text("utf-8"))
    customer = f"Northwind {sweeps.tag}"
    data["customer"]["name"] = customer
    data["requested_port_date"] = port_date.isoformat()
    data["accounts"] = data["accounts"][:1]
    data["documents"] = []
    path = tmp_path / "request.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    plan = plan_start(path)
    contact = str(plan.request.contact.email)
    carrier = plan.request.accounts[0].carrier

    # 25 days before the port date (a business day): documents due in 4 days or less
    day = cal.previous_business_day(port_date - timedelta(days=25))
    sweeps.fix_clock(datetime.combine(day, time(14, 0), tzinfo=UTC))
    await schedules.sync_schedule(sweeps.client)
    async with sweeps.workers():
        rid = await actions.fresh_request_id(sweeps.client)
        await actions.cmd_start(sweeps.client, plan.request.model_copy(update={"id": rid}), base_dir=path.parent,
                                actor=PM, options=options_from_settings(pm_email=PM))
        sweeps.ports.append(sweeps.client.get_workflow_handle(rid))  # ended with the test
        query = f"WorkflowId = '{rid}' AND PortStatus = 'documents'"
        await eventually(lambda: _count(sweeps, query), lambda n: n == 1, what="the port in documents")

        handle = await _trigger_and_wait(sweeps)
        result = await handle.result()
    assert result.findings == 1 and len(result.sent) == 2, result
    sent = {}
    for p in sorted((sweeps.var / "outbox").glob("*.eml")):
        msg = message_from_bytes(p.read_bytes(), policy=policy.default)
        if msg["X-Portflow-Template"] in ("digest", "port_reminder"):
            sent[msg["X-Portflow-Template"]] = msg
    due = port_date - timedelta(days=21)
    digest = sent["digest"].get_body(("plain",)).get_content()
    assert sent["digest"]["To"].addresses[0].addr_spec == PM  # the port's PM, not PORTFLOW_PM_EMAIL
    assert f"- {rid} {customer}: documents missing (CSR for {carrier} ({rid}-1), BILL for {carrier} ({rid}-1))" in digest
    assert f"({due}); port date {port_date}" in digest
    reminder = sent["port_reminder"]
    assert reminder["To"].addresses[0].addr_spec == contact
    body = reminder.get_body(("plain",)).get_content()
    assert f"Documents (please send them by {due}):" in body
    assert f"- Customer Service Record (CSR) from your current provider - {carrier}" in body
    assert f"- a recent phone bill from your current provider (all pages) - {carrier}" in body


async def _count(sweeps: Sweeps, query: str) -> int:
    return len([wf async for wf in sweeps.client.list_workflows(query)])


async def _trigger_and_wait(sweeps: Sweeps):  # noqa: ANN202
    await schedules.trigger_schedule(sweeps.client)
    view = await eventually(lambda: schedules.describe_schedule(sweeps.client),
                            lambda v: v.recent and v.recent[-1].status == "Completed", what="the sweep")
    return sweeps.client.get_workflow_handle(view.recent[-1].workflow_id, result_type=SweepResult)
