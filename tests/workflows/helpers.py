"""Building sample requests and driving port workflows in tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from core.calendar import PortCalendar
from models.request import DocumentKind, PortRequest
from models.workflow import OrderView, RequestView
from portflow import ports
from providers.esign.local import LocalESign
from tests.dates import port_date_ahead
from tests.polling import eventually
from workflows.port_order import PortOrderWorkflow
from workflows.port_request import PortRequestWorkflow

PM = "pm@provider.example"

_counter = 0


def sample_request(*, port_date: date | None = None, accounts: int = 2, **over: Any) -> PortRequest:
    global _counter
    _counter += 1
    base = 100 + _counter * 10
    accts = [
        {
            "carrier": "Lumen",
            "account_number": "8831-2207-19",
            "pin": "4417",
            "btn": f"+1212555{base:04d}",
            "service_address": {"street": "350 Fifth Ave", "city": "New York", "state": "NY", "postal_code": "10118"},
            "numbers": [f"+1212555{base:04d}-{base + 2:04d}"],
        },
        {
            "carrier": "Verizon",
            "account_number": "55-0192-7731",
            "btn": f"+1312555{base:04d}",
            "service_address": {"street": "233 S Wacker Dr", "city": "Chicago", "state": "IL", "postal_code": "60606"},
            "port_type": "partial",
            "remaining_numbers": "keep",
            "new_btn": f"+1312555{base + 5:04d}",
            "numbers": [f"+1312555{base + 1:04d}", f"+1312555{base + 2:04d}"],
        },
    ][:accounts]
    data: dict[str, Any] = {
        "id": f"PR-2099-{_counter + 1000 * (datetime.now().microsecond % 9 + 1)}",
        "customer": {"name": "Contoso Dental", "language": "es"},
        "contact": {"name": "Ana Ruiz", "email": "ana@contoso.example", "phone": "+12125550199"},
        "signer": {"name": "Luis Ortega", "title": "CFO", "email": "luis@contoso.example"},
        "requested_port_date": (port_date or port_date_ahead()).isoformat(),
        "accounts": accts,
    }
    data.update(over)
    return PortRequest.model_validate(data)


async def start(client: Client, request: PortRequest, **kw: Any) -> WorkflowHandle:
    return await ports.start_port(client, request, started_by="pm@provider.example", **kw)


async def attach_all(client: Client, request: PortRequest, tmp: Path) -> None:
    for i, _ in enumerate(request.accounts):
        for kind in (DocumentKind.CSR, DocumentKind.BILL):
            f = tmp / f"{kind.value}-{i}.pdf"
            f.write_bytes(f"%PDF-1.4 {kind.value} of account {i} of {request.id}".encode())
            await ports.attach(client, request.id, f, kind, actor="pm@provider.example", order_id=request.order_id(i))


def _status_dump(view: RequestView | OrderView) -> str:
    """A status view as a timeout message shows it: its status, then the whole view."""
    return f"status {view.status}: {view.model_dump_json(indent=1)[:3000]}"


async def wait_for(
    handle: WorkflowHandle, pred: Callable[[RequestView], bool], *, timeout: float = 30.0, what: str = "condition"
) -> RequestView:
    """Poll the request's status query (real time) until ``pred`` holds."""
    return await eventually(lambda: handle.query(PortRequestWorkflow.status), pred, what=what, timeout=timeout,
                            show=_status_dump)


def order(view: RequestView, index: int) -> OrderView:
    return sorted(view.orders, key=lambda o: o.order_id)[index]


async def server_now(env: WorkflowEnvironment) -> datetime:
    """The test server's clock (earlier tests of the session may have skipped it ahead)."""
    return await env.get_current_time()


async def order_status(client: Client, order_id: str) -> OrderView:
    """One order's own status query."""
    return await client.get_workflow_handle(order_id).query(PortOrderWorkflow.status)


async def wait_order(client: Client, order_id: str, pred: Callable[[OrderView], bool], *, what: str,
                     timeout: float = 30.0) -> OrderView:
    """Poll the order's own status query (real time) until ``pred`` holds."""
    return await eventually(lambda: order_status(client, order_id), pred, what=f"{order_id}: {what}",
                            timeout=timeout, show=_status_dump)


async def assign_all(handle: WorkflowHandle, numbers: list[str]) -> None:
    """The PM assigns each number to a user (user0@, user1@... in the order given)."""
    await handle.execute_update("assign", {"actor": PM, "assignments": {
        tn: f"user{i}@contoso.example" for i, tn in enumerate(numbers)}})


async def sign_all(client: Client, request: PortRequest, *, now: datetime | None = None) -> None:
    """The signer signs each order's LOA with the local flow, delivered as the CLI does.
    ``now``: the signing time (the time-skipping server's clock when a test skipped time)."""
    esign = LocalESign(clock=(lambda: now) if now is not None else None)
    for i, _ in enumerate(request.accounts):
        oid = request.order_id(i)
        ev = await esign.sign(oid, request.signer.name)
        await client.get_workflow_handle(oid).execute_update(PortOrderWorkflow.esign_event, ev)


HISTORIES = Path(__file__).resolve().parent.parent / "histories"


async def record_histories(client: Client, name: str, workflow_ids: list[str]) -> None:
    """With PORTFLOW_RECORD_HISTORIES=1, store these workflows' histories for the replay test."""
    import json
    import os

    if os.environ.get("PORTFLOW_RECORD_HISTORIES") != "1":
        return
    HISTORIES.mkdir(exist_ok=True)
    for i, wid in enumerate(workflow_ids):
        history = await client.get_workflow_handle(wid).fetch_history()
        # compact JSON: the same history in two thirds of the bytes
        (HISTORIES / f"{name}-{i}.json").write_text(json.dumps(json.loads(history.to_json()), separators=(",", ":")))


async def search_attributes(client: Client, workflow_id: str) -> dict[str, Any]:
    """A workflow's search attributes by name, decoded one by one.

    ``describe()`` cannot be used on the time-skipping server once a workflow unset one
    (NextDeadline when nothing is due): that server keeps it as a null the SDK refuses to
    decode. An unset attribute is simply absent here, as on a real server.
    """
    import json

    from temporalio.api.common.v1 import WorkflowExecution
    from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest

    resp = await client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id))
    )
    out: dict[str, Any] = {}
    for name, payload in resp.workflow_execution_info.search_attributes.indexed_fields.items():
        value = json.loads(payload.data) if payload.data else None
        if value is not None:
            out[name] = value
    return out


async def current_details(client: Client, workflow_id: str) -> str:
    """The workflow's current details (the markdown the Temporal UI shows), via its metadata query."""
    meta = await client.get_workflow_handle(workflow_id).query("__temporal_workflow_metadata")
    return getattr(meta, "current_details", "") if not isinstance(meta, dict) else meta.get("currentDetails", "")
