"""Documents under the 3-week lead time: late documents slip the port date; an expedite keeps it.

Time-skipping: the test server jumps over the reminder timers and the due date, so what
takes three weeks for a customer takes a few seconds here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from core.calendar import PortCalendar
from models.request import PortRequest
from models.status import PortStatus
from models.workflow import ExpediteRequest, RequestView
from tests.dates import port_date_in
from tests.mail_helpers import outbox
from tests.settings_helpers import configure
from tests.workflows.helpers import (
    attach_all,
    order,
    record_histories,
    sample_request,
    search_attributes,
    start,
    wait_for,
)
from tests.workflows.paths_helpers import (
    ACCEPT_AT_ONCE,
    CONTACT,
    PM,
    notifications_sent,
    refusal,
    server_now,
    sign,
    terminate_running,
)
from worker import build_worker
from workflows.port_request import PortRequestWorkflow

S = PortStatus


@pytest.fixture
def docs_env(port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    return configure(monkeypatch, port_var, task_queue, profile=ACCEPT_AT_ONCE)


def _documents_stage(v) -> bool:
    return v.status == S.DOCUMENTS and v.next.due_at is not None


@asynccontextmanager
async def _waiting_for_documents(env: WorkflowEnvironment, *, accounts: int = 2
                                 ) -> AsyncIterator[tuple[PortRequest, WorkflowHandle, RequestView]]:
    """Under a worker: a port dated 30 days ahead of the server's clock, started and waiting
    for its documents with a due date; whatever it leaves running is ended afterwards."""
    req = sample_request(port_date=await port_date_in(env, 30), accounts=accounts)
    async with build_worker(env.client):
        handle = await start(env.client, req)
        try:
            yield req, handle, await wait_for(handle, _documents_stage, what="documents stage with a due date")
        finally:
            await terminate_running(env.client, [req.id, *(req.order_id(i) for i in range(accounts))])


async def test_late_documents_slip_the_port_date_then_the_port_proceeds(
    env: WorkflowEnvironment, docs_env: Path, tmp_path: Path
) -> None:
    cal = PortCalendar.from_settings()
    pm_email = "pm@portflow.local"
    async with _waiting_for_documents(env) as (req, handle, view):
        requested = req.requested_port_date
        due = view.next.due_at
        assert due is not None
        assert view.next.waiting_on == "customer"
        assert "CSR for Lumen" in view.next.what and "BILL for Verizon" in view.next.what
        # due by the end of the day three weeks before the port date, in the customer's zone
        assert due.astimezone(ZoneInfo(req.time_zone)).date() == requested - timedelta(days=21) + timedelta(days=1)

        # nobody sends anything: skip past the due date
        await env.sleep(due - await server_now(env) + timedelta(minutes=5))
        view = await wait_for(handle, lambda v: v.port_date != requested, what="the port date to slip")

        new_date = view.port_date
        assert new_date == cal.earliest_port_date(due), (new_date, due)
        assert new_date > requested and cal.is_business_day(new_date)
        assert (new_date - due.date()).days >= 21
        assert view.requested_port_date == requested  # what the customer asked for stays on record
        assert view.status == S.DOCUMENTS and not view.expedited
        assert view.next.waiting_on == "customer" and len(view.missing_documents) == 4

        slip = [c for c in view.timeline if "port date moved" in c.reason]
        assert len(slip) == 1, [c.reason for c in view.timeline]
        assert slip[0].actor == "system"
        assert "documents late" in slip[0].reason
        assert str(requested) in slip[0].reason and str(new_date) in slip[0].reason
        assert due <= slip[0].at < due + timedelta(minutes=5)  # moved when the due date passed, not before

        # ops filter by the port date: the search attribute follows the slip
        assert datetime.fromisoformat((await search_attributes(env.client, req.id))["PortDate"]).date() == new_date

        # three reminders to the contact, 7, 3 and 1 days before the due date
        reminders = outbox(docs_env, "documents_missing")
        assert len(reminders) == 3, [m.subject for m in outbox(docs_env)]
        assert all(m.to == (CONTACT,) and req.id in m.subject for m in reminders)
        sent = await notifications_sent(env.client, req.id, "documents_missing")
        assert [round((due - at) / timedelta(days=1)) for at, _ in sent] == [7, 3, 1]
        assert all(at < due for at, _ in sent)

        # everyone is told the new date, once
        (slipped,) = outbox(docs_env, "date_slipped")
        assert set(slipped.to) == {CONTACT, pm_email}
        assert str(new_date) in slipped.subject and req.id in slipped.subject

        # the documents arrive: no second slip, the orders carry the new date
        await attach_all(env.client, req, tmp_path)
        view = await wait_for(handle, lambda v: len(v.orders) == 2 and all(o.status == S.LOA_SENT for o in v.orders),
                              what="both LOAs sent")
        assert view.port_date == new_date
        assert {o.port_date for o in view.orders} == {new_date}
        assert len(outbox(docs_env, "date_slipped")) == 1
        validated = [c for c in view.timeline if c.to_status == S.VALIDATED]
        assert validated and validated[0].reason == "documents complete"

        await handle.execute_update(PortRequestWorkflow.assign, {
            "actor": PM, "assignments": {tn: f"user{i}@contoso.example" for i, tn in enumerate(req.all_numbers)}})
        for i in range(2):
            await sign(env, req.order_id(i), req.signer.name)
        result = await handle.result()
        final = await handle.query(PortRequestWorkflow.status)
        await record_histories(env.client, "documents_late", [req.id, req.order_id(0)])

    assert result.status == S.COMPLETED
    tz = ZoneInfo(req.time_zone)
    for o in final.orders:
        assert o.status == S.COMPLETED
        assert o.foc_at is not None and o.foc_at.astimezone(tz).date() == new_date, (o.order_id, o.foc_at)
    assert order(final, 0).port_date == new_date


async def test_expedite_keeps_the_port_date_and_is_refused_once_past_documents(
    env: WorkflowEnvironment, docs_env: Path, tmp_path: Path
) -> None:
    async with _waiting_for_documents(env, accounts=1) as (req, handle, view):
        requested = req.requested_port_date
        due = view.next.due_at
        assert due is not None

        # a date in the past is refused before it touches the port
        yesterday = (await server_now(env)).date() - timedelta(days=1)
        msg = await refusal(handle.execute_update(PortRequestWorkflow.expedite_port, ExpediteRequest(
            actor=PM, reason="customer's office moves", port_date=yesterday)))
        assert msg == f"port date {yesterday} is in the past"
        view = await handle.query(PortRequestWorkflow.status)
        assert not view.expedited and view.port_date == requested

        # the PM expedites to a date inside the lead time (documents would be due already)
        sooner = await port_date_in(env, 15)
        view = await handle.execute_update(PortRequestWorkflow.expedite_port, ExpediteRequest(
            actor=PM, reason="customer's office moves early", port_date=sooner))
        assert view.expedited and view.port_date == sooner
        note = view.timeline[-1]
        assert note.actor == PM and note.reason == f"expedite: customer's office moves early; port date {sooner}"
        assert datetime.fromisoformat((await search_attributes(env.client, req.id))["PortDate"]).date() == sooner

        # the documents come after the (original) due date: no slip, the expedited date holds
        await env.sleep(due - await server_now(env) + timedelta(hours=1))
        view = await handle.query(PortRequestWorkflow.status)
        assert view.status == S.DOCUMENTS and view.port_date == sooner and view.expedited
        assert not [c for c in view.timeline if "port date moved" in c.reason]
        assert outbox(docs_env, "date_slipped") == []

        await attach_all(env.client, req, tmp_path)
        view = await wait_for(handle, lambda v: len(v.orders) == 1 and order(v, 0).status == S.LOA_SENT,
                              what="LOA sent")
        assert view.port_date == sooner and order(view, 0).port_date == sooner
        validated = [c for c in view.timeline if c.to_status == S.VALIDATED]
        assert validated[0].reason == f"documents complete; expedited by {PM}: customer's office moves early"
        assert outbox(docs_env, "date_slipped") == []

        # past the documents stage an expedite means nothing: refused, saying what to do instead
        msg = await refusal(handle.execute_update(PortRequestWorkflow.expedite_port, ExpediteRequest(
            actor=PM, reason="even sooner please")))
        assert "an expedite waives the documents lead time, which has passed" in msg
        assert "amend --port-date" in msg
        after = await handle.query(PortRequestWorkflow.status)
        assert after.timeline == view.timeline


async def test_after_a_slip_the_status_and_reminders_give_the_new_due_date(
    env: WorkflowEnvironment, docs_env: Path
) -> None:
    async with _waiting_for_documents(env, accounts=1) as (req, handle, view):
        requested = req.requested_port_date
        old_due = view.next.due_at
        assert old_due is not None
        await env.sleep(old_due - await server_now(env) + timedelta(minutes=5))
        view = await wait_for(handle, lambda v: v.port_date != requested, what="the port date to slip")
        # documents for the new date are due by the end of the day three weeks before it
        tz = ZoneInfo(req.time_zone)
        new_due = datetime.combine(view.port_date - timedelta(days=20), datetime.min.time(), tz)
        assert view.next.waiting_on == "customer"
        assert view.next.due_at is not None and view.next.due_at > await server_now(env), view.next
        assert view.next.due_at == new_due, (view.next.due_at, new_due)

        # the next reminder (two days after the slip) asks for the documents by that new due date
        await env.sleep(timedelta(days=2, hours=1))
        late = outbox(docs_env, "documents_missing")[-1]
        assert str(view.port_date) in late.body
        assert old_due.strftime("%Y-%m-%d %H:%M") not in late.subject, late.subject
