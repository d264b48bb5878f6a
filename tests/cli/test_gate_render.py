"""What `starter.py status` and `gate show` print of a port's go-live gate (issue 17): each
item with who did it and when, the change window, what holds an order's activation, and the
temporary numbers in national format (no server needed: the views are built here)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from rich.console import Console

from models.golive import ChangeWindow, GoLiveSection
from models.status import PortStatus
from models.workflow import OrderView, RequestView
from portflow.cli import render
from portflow.cli.actions import StatusPage
from portflow.cli.gate_render import gate_block

AT = datetime(2027, 1, 10, 15, 30, tzinfo=UTC)


def text_of(renderable: object) -> str:
    out = Console(record=True, width=200, file=io.StringIO(), highlight=False)
    out.print(renderable)
    return " ".join(out.export_text().split())


def _view(held: list[str] | None) -> RequestView:
    gate = GoLiveSection(on_not_ready="escalate", optional=["uat_passed"]).checklist(
        toll_free=False, warn_default=2, by="pm@x.example", at=AT)
    gate = gate.with_done("users_trained", by="ipm@x.example", at=AT, note="3 sessions, 41 agents")
    gate = gate.with_window(ChangeWindow(start="2027-01-15 18:00", end="2027-01-15 22:00", tz="America/Denver",
                                         approved_by="CAB", reference="CR-2211"), by="pm@x.example", at=AT)
    order = OrderView(order_id="PR-2027-0042-1", carrier="Lumen", status=PortStatus.FOC_CONFIRMED,
                      port_date=date(2027, 1, 15), gate_problems=held)
    return RequestView(request_id="PR-2027-0042", customer_name="Acme", status=PortStatus.FOC_CONFIRMED,
                       requested_port_date=date(2027, 1, 15), port_date=date(2027, 1, 15), orders=[order],
                       go_live=gate, temporary_numbers=["+13035550188"])


def test_the_gate_on_the_status_page() -> None:
    view = _view(["ops_signoff not done (operations signed off and ready for tickets)"])
    shown = text_of(render.status_page(StatusPage(request=view)))
    assert "go-live gate · 2/9 required items done · if not ready 2 business days before the FOC: escalate" in shown
    assert "✓ users_trained yes ipm@x.example 2027-01-10 15:30 3 sessions, 41 agents" in shown
    assert "✗ ops_signoff yes - - operations signed off" in shown
    assert "· uat_passed no" in shown
    assert "change window: 2027-01-15 18:00-22:00 America/Denver approved by CAB (CR-2211)" in shown
    assert "PR-2027-0042-1 activation held: ops_signoff not done" in shown
    assert "temporary numbers (remove the forwarding once the port completes): (303) 555-0188" in shown


def test_a_ready_gate_and_no_gate() -> None:
    assert "PR-2027-0042-1: gate ready" in text_of(gate_block(_view([])))
    bare = _view(None).model_copy(update={"go_live": None, "temporary_numbers": []})
    assert "go-live" not in text_of(render.status_page(StatusPage(request=bare)))
