"""The port commands against real workflows on a dev server: what a PM types and sees.

Each test drives the ``cmd_*`` functions (what ``starter.py`` calls after parsing) with a
client and a worker running the production workflows, and checks the views the commands
return and the pages they print. ``test_ports_cli_args.py`` covers the command line itself.
"""

from __future__ import annotations

import asyncio
import io

import pytest
from rich.console import Console

from models.request import DocumentKind
from models.workflow import AmendOrder, OrderView, RequestView
from portflow.cli import actions, order_actions, render
from portflow.cli.errors import CliError
from portflow.cli.files import plan_start, read_assignments
from portflow.cli.listing import ListFilter, cmd_list
from store import vault
from tests.cli.conftest import EXAMPLES, PM, Harness, business_days_ahead
from tests.polling import eventually


def text_of(renderable: object) -> str:
    out = Console(record=True, width=200, file=io.StringIO(), highlight=False)
    out.print(renderable)
    return " ".join(out.export_text().split())


async def start(cli: Harness, *, check_waiving: str | None = None, **kw: object) -> str:
    """Start the harness's request; ``check_waiving`` passes the check as an expedite would
    (the port itself starts without one)."""
    plan = plan_start(cli.request_file(**kw), expedite=check_waiving)  # type: ignore[arg-type]
    rid = await actions.fresh_request_id(cli.client)
    await actions.cmd_start(cli.client, plan.request.model_copy(update={"id": rid}), base_dir=plan.base_dir,
                            actor=PM)
    return rid


async def page_when(cli: Harness, rid: str, check, what: str, timeout: float = 90.0) -> actions.StatusPage:
    return await eventually(lambda: actions.cmd_status(cli.client, rid), check, what=what, timeout=timeout)


def statuses(page: actions.StatusPage) -> list[str]:
    assert page.request is not None
    return [page.orders.get(o.order_id, o).status.value for o in page.request.orders]


async def test_a_port_from_start_to_completed_through_the_commands(cli: Harness) -> None:
    async with cli.worker():
        rid = await start(cli, port_date=business_days_ahead(30), documents=False)
        page = await actions.cmd_status(cli.client, rid)
        assert page.request is not None and page.request.status.value == "documents"
        assert len(page.request.missing_documents) == 4
        assert page.request.next.waiting_on.value == "customer"

        # documents: by order id (the order's own), the same file twice is refused
        view = await actions.cmd_attach(cli.client, f"{rid}-1", EXAMPLES / "documents/lumen-csr.pdf",
                                        DocumentKind.CSR, actor=PM)
        assert not any("CSR for Lumen" in m for m in view.missing_documents)
        with pytest.raises(CliError, match="is already attached"):
            await actions.cmd_attach(cli.client, f"{rid}-1", EXAMPLES / "documents/lumen-csr.pdf",
                                     DocumentKind.CSR, actor=PM)
        with pytest.raises(CliError, match=f"order {rid}-3 is not part of {rid}"):
            await actions.cmd_attach(cli.client, rid, EXAMPLES / "documents/lumen-bill.pdf", DocumentKind.BILL,
                                     actor=PM, order_id=f"{rid}-3")
        for name, kind, order in (("lumen-bill.pdf", DocumentKind.BILL, 1), ("comcast-csr.pdf", DocumentKind.CSR, 2),
                                  ("comcast-bill.pdf", DocumentKind.BILL, 2)):
            await actions.cmd_attach(cli.client, rid, EXAMPLES / "documents" / name, kind, actor=PM,
                                     order_id=f"{rid}-{order}")
        page = await page_when(cli, rid, lambda p: statuses(p) == ["loa_sent", "loa_sent"]
                               and p.request.status.value == "loa_sent", "both LOAs out")

        shown = text_of(render.status_page(page))
        assert f"{rid} · {cli.customer} · stage loa_sent" in shown
        assert "Dr. Samuel Greene signs the LOA · waiting on signer · until" in shown
        assert "(773) 555-0140" in shown and "(708) 555-0162" in shown  # national format
        assert "LOA v1 sent to Dr. Samuel Greene" in shown
        assert f"Temporal UI: http://localhost:8233/namespaces/default/workflows/{rid}" in shown

        # the local e-signature: the name must match, a second delivery changes nothing
        with pytest.raises(CliError, match="addressed to Dr. Samuel Greene, not 'Sam Greene'"):
            await order_actions.cmd_sign(cli.client, f"{rid}-1", name="Sam Greene")
        event, ack = await order_actions.cmd_sign(cli.client, f"{rid}-1", name="Dr. Samuel Greene")
        assert event.status.value == "completed" and not ack.duplicate
        _, again = await order_actions.cmd_sign(cli.client, f"{rid}-1", name="Dr. Samuel Greene")
        assert again.duplicate

        # order 2: declined, the signer corrected (a new LOA goes out), then signed
        await order_actions.cmd_sign(cli.client, f"{rid}-2", decline="the fax line is listed but stays")
        await eventually(lambda: actions.query_order(cli.client, f"{rid}-2"),
                         lambda v: v.status.value == "loa_declined", what="LOA declined")
        fix = AmendOrder(actor=PM, order_id=f"{rid}-2", reason="signer asked for his direct address",
                         signer={"name": "Dr. Samuel Greene", "title": "Managing Partner",
                                 "email": "samuel@northwindpeds.example"})
        assert isinstance(await order_actions.cmd_amend(cli.client, fix), OrderView)
        await eventually(lambda: actions.query_order(cli.client, f"{rid}-2"),
                         lambda v: v.status.value == "loa_sent", what="LOA v2 out")
        await order_actions.cmd_sign(cli.client, f"{rid}-2", name="Dr. Samuel Greene")

        page = await page_when(cli, rid, lambda p: statuses(p) == ["foc_confirmed", "foc_confirmed"], "both FOCs")
        with pytest.raises(CliError, match="is not a number of"):
            await actions.cmd_assign(cli.client, rid, {"(212) 555-0100": "x@example.com"}, actor=PM)
        for kind, group in read_assignments(EXAMPLES / "demo-assignments.csv").items():
            await actions.cmd_assign(cli.client, rid, group, actor=PM, kind=kind)
        page = await actions.settle_assignments(cli.client, rid, {n.tn for o in page.orders.values() for n in o.numbers})
        assignees = {n.tn: n.assigned_to for o in page.orders.values() for n in o.numbers}
        assert assignees["+17735550140"] == "main-aa@northwindpeds.example"
        assert all(assignees.values())

        # the carrier says ported (a PM records it by hand), the PM confirms test calls
        with pytest.raises(CliError, match="test calls are confirmed once the numbers are ported"):
            await order_actions.cmd_verify(cli.client, f"{rid}-1", actor=PM, ok=True, notes="test calls in and out")
        seen: list[str] = []
        watching = asyncio.create_task(actions.cmd_watch(
            cli.client, rid, lambda p: seen.append(p.request.status.value), interval=0.2, timeout=60))
        for order in (1, 2):
            _, ack = await order_actions.cmd_carrier_event(cli.client, f"{rid}-{order}", actor=PM, completed=True)
            await actions.settle_order(cli.client, f"{rid}-{order}", ack.status)
            await eventually(lambda o=order: actions.query_order(cli.client, f"{rid}-{o}"),
                             lambda v: v.status.value == "ported", what="ported")
            await order_actions.cmd_verify(cli.client, f"{rid}-{order}", actor=PM, ok=True,
                                           notes="test calls in and out from two numbers")
        final = await watching
    assert final.finished and final.request.status.value == "completed"
    compact = text_of(render.watch_page(final, width=80))
    assert f"{rid} · stage completed" in compact and "5/5" in compact and "3/3" in compact
    assert "timeline (last 8 of" in compact and "every order ported and verified [system]" in compact
    assert seen[-1] == "completed" and "foc_confirmed" in seen
    data = final.to_json()
    timeline = [e for o in data["orders"] for e in o["timeline"]]
    assert any(e["actor"] == "signer:Dr. Samuel Greene" and e["to_status"] == "loa_signed" for e in timeline)
    assert any(e["actor"] == PM and e["to_status"] == "verified" for e in timeline)
    assert {n["state"] for o in data["orders"] for n in o["numbers"]} == {"active"}


async def test_manual_carrier_rejection_amend_and_foc(cli: Harness) -> None:
    async with cli.worker(CARRIER_PROVIDER="manual", AUTO_SIGN="true", REVIEW_BEFORE_SUBMIT="true"):
        rid = await start(cli, port_date=business_days_ahead(30), accounts=1)
        order = f"{rid}-1"
        view = await eventually(lambda: actions.query_order(cli.client, order),
                                lambda v: v.status.value == "loa_signed" and v.next.waiting_on.value == "pm",
                                what="waiting for approval")
        assert "approves submission" in view.next.what
        view = await order_actions.cmd_approve(cli.client, order, actor=PM, note="documents match the CSR")
        with pytest.raises(CliError, match=f"already approved by {PM}"):
            await order_actions.cmd_approve(cli.client, order, actor=PM)
        view = await eventually(lambda: actions.query_order(cli.client, order),
                                lambda v: v.status.value == "submitted" and v.carrier_raw_status, what="submitted")
        assert view.carrier_raw_status.startswith("manual: awaiting PM entry")

        await order_actions.cmd_carrier_event(cli.client, order, actor=PM, carrier_order_id="LUM-88213")
        view = await eventually(lambda: actions.query_order(cli.client, order),
                                lambda v: v.status.value == "carrier_pending", what="pending")
        assert view.carrier_order_id == "LUM-88213"
        await order_actions.cmd_carrier_event(cli.client, order, actor=PM, reject_code="BTN_ATN_MISMATCH",
                                              reject_text="BTN does not match the CSR")
        view = await eventually(lambda: actions.query_order(cli.client, order),
                                lambda v: v.status.value == "exception" and v.remediation, what="exception")
        shown = text_of(render.status_page(actions.StatusPage(order=view)))
        assert "BTN_ATN_MISMATCH" in shown and "to fix" in shown and "btn" in shown

        # the PM fixes the BTN and the PIN (typed hidden, sealed in the vault): a SUP3
        fix = AmendOrder(actor=PM, order_id=order, reason="BTN and PIN corrected from the CSR",
                         btn="+17735550141", pin=vault.put_secret("640021"))
        await order_actions.cmd_amend(cli.client, fix)
        await eventually(lambda: actions.query_order(cli.client, order),
                         lambda v: v.status.value == "supplement", what="SUP3 sent")
        foc = f"{business_days_ahead(30).isoformat()}T10:00-06:00"
        await order_actions.cmd_carrier_event(cli.client, order, actor=PM, foc=foc)
        view = await eventually(lambda: actions.query_order(cli.client, order),
                                lambda v: v.status.value == "foc_confirmed", what="FOC")
        assert view.foc_at is not None and view.foc_at.hour == 16
        history = await cli.client.get_workflow_handle(order).fetch_history()
        raw = history.to_json()
        assert "640021" not in raw and "508316" not in raw and "619-204-7781" not in raw  # PINs, account number


async def test_refusals_say_what_to_fix(cli: Harness) -> None:
    async with cli.worker():
        rid = await start(cli, port_date=business_days_ahead(8), documents=False, check_waiving="later")
        with pytest.raises(CliError, match="an expedite applies to the whole request"):
            await actions.cmd_expedite(cli.client, f"{rid}-1", actor=PM, reason="customer moves offices")
        view = await actions.cmd_expedite(cli.client, rid, actor=PM, reason="customer moves offices on the 20th")
        assert view.expedited

        # before the orders run, an amendment goes to the request (test_amend_before_the_orders_run)
        drop = AmendOrder(actor=PM, order_id=f"{rid}-1", reason="fax leaves the port", remove_numbers=["+17735550144"])
        with pytest.raises(CliError, match="numbers can be removed once the order runs"):
            await order_actions.cmd_amend(cli.client, drop)
        with pytest.raises(CliError, match=f"no port {rid}-1: check the id with `starter.py list`"):
            await order_actions.cmd_approve(cli.client, f"{rid}-1", actor=PM)
        with pytest.raises(CliError, match="no port PR-2099-9999: check the id with `starter.py list`"):
            await actions.cmd_status(cli.client, "PR-2099-9999")

        found = await eventually(lambda: cmd_list(cli.client, ListFilter(customer=cli.customer, status="documents")),
                                 lambda rows: [r.workflow_id for r in rows] == [rid], what="list by status")
        assert found[0].carriers == ["Comcast Business", "Lumen"] and found[0].waiting_on == "customer"

        view = await actions.cmd_cancel(cli.client, rid, actor=PM, reason="the customer stays with Lumen")
        assert view is not None and view.status.value == "cancelled"
        with pytest.raises(CliError, match=f"{rid}: refused: request is cancelled: nothing to cancel|{rid} has finished"):
            await actions.cmd_cancel(cli.client, rid, actor=PM, reason="again")
        with pytest.raises(CliError, match=f"{rid} has finished|request is cancelled"):
            await actions.cmd_assign(cli.client, rid, {"(773) 555-0140": "x@northwindpeds.example"}, actor=PM)
        rows = await eventually(lambda: cmd_list(cli.client, ListFilter(customer=cli.customer, status="cancelled")),
                                lambda rows: len(rows) == 1 and rows[0].execution == "Completed",
                                what="list cancelled")
        assert rows[0].status == "cancelled"
        table = text_of(render.list_table(rows, "q"))
        assert f"│ {rid} │ {cli.customer} │ cancelled │" in table
        assert await cmd_list(cli.client, ListFilter(customer=cli.customer, status="loa_sent")) == []
        orders = await cmd_list(cli.client, ListFilter(customer=cli.customer, orders=True))
        assert orders == []  # cancelled before any order started


async def test_start_refuses_numbers_in_another_port(cli: Harness) -> None:
    async with cli.worker():
        first = await start(cli, port_date=business_days_ahead(30), documents=False)
        with pytest.raises(CliError, match=f"not started: numbers already taken: .* is in {first}"):
            await start(cli, port_date=business_days_ahead(30), documents=False)
        await actions.cmd_cancel(cli.client, first, actor=PM, reason="test over")


async def test_amend_before_the_orders_run(cli: Harness) -> None:
    async with cli.worker():
        rid = await start(cli, port_date=business_days_ahead(30), documents=False)
        early = AmendOrder(actor=PM, order_id=f"{rid}-1", reason="BTN from the new CSR", btn="+17735550141")
        assert isinstance(await order_actions.cmd_amend(cli.client, early), RequestView)
        view = await actions.cmd_attach(cli.client, f"{rid}-1", EXAMPLES / "documents/lumen-csr.pdf",
                                        DocumentKind.CSR, actor=PM)
        assert any(f"{rid}-1: amended btn" in e.reason for e in view.timeline)
        await actions.cmd_cancel(cli.client, rid, actor=PM, reason="test over")


async def test_a_stopped_workflow_shows_on_the_status_page(cli: Harness) -> None:
    async with cli.worker():
        rid = await start(cli, port_date=business_days_ahead(30))
        await page_when(cli, rid, lambda p: statuses(p) == ["loa_sent", "loa_sent"], "LOAs out")
        await cli.client.get_workflow_handle(f"{rid}-2").terminate(reason="ops stopped it: duplicate account")
        page = await page_when(cli, rid, lambda p: f"{rid}-2" in p.broken, "the stopped order shown")
        assert page.broken[f"{rid}-2"] == "its workflow terminated: ops stopped it: duplicate account"
        assert not page.finished  # the request itself still runs
        shown = text_of(render.status_page(page))
        assert "STOPPED its workflow terminated: ops stopped it: duplicate account" in shown
        await cli.client.get_workflow_handle(rid).terminate(reason="test over")
        final = await actions.cmd_watch(cli.client, rid, lambda p: None, interval=0.2, timeout=10)
        assert final.finished and final.to_json()["workflow_problems"][rid] == "its workflow terminated: test over"
