"""What each port-steering command does, given a Temporal client.

``starter.py`` (``portflow.cli.ports``) parses the command line, connects and calls these;
tests call them with their own client. Each sends one update or query to the right
workflow (a request's id is its workflow id, an order's id is its child workflow's id) and
returns the view the workflow answers with. Temporal's refusals become :class:`CliError`
with a message that says what to fix (``portflow.cli.errors``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.service import RPCError, RPCStatusCode

from models.numbers import NumberProblem, parse_tn
from models.request import DocumentKind, PortRequest
from models.status import TERMINAL
from models.workflow import (
    AssignNumbers,
    Cancel,
    ExpediteRequest,
    OrderView,
    RequestView,
)
from portflow.cli.errors import CliError, about, deepest_message, parse_id
from portflow.temporal import execution_status
from workflows.port_order import PortOrderWorkflow
from workflows.port_request import PortRequestWorkflow

QUERY_TIMEOUT = timedelta(seconds=10)
UPDATE_TIMEOUT = timedelta(seconds=30)


@dataclass
class StatusPage:
    """What ``status`` shows: a request with its orders' full views, or one order."""

    request: RequestView | None = None
    order: OrderView | None = None
    orders: dict[str, OrderView] = field(default_factory=dict)
    # workflow id -> what went wrong with the workflow itself (failed, terminated): a bug
    # or an operator's act, which the workflow's own view cannot tell
    broken: dict[str, str] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return self.request.request_id if self.request else self.order.order_id if self.order else "-"

    @property
    def finished(self) -> bool:
        """The port ended: a final status, or its workflow stopped (failed, terminated)."""
        status = self.request.status if self.request else self.order.status if self.order else None
        return status in TERMINAL or self.target in self.broken

    def to_json(self) -> dict[str, Any]:
        if self.request is not None:
            data = self.request.model_dump(mode="json")
            data["orders"] = [self.orders.get(o.order_id, o).model_dump(mode="json") for o in self.request.orders]
        else:
            assert self.order is not None
            data = self.order.model_dump(mode="json")
        data["workflow_problems"] = dict(self.broken)
        return data


# --------------------------------------------------------------------------- helpers
async def query_request(client: Client, request_id: str) -> RequestView:
    async with about(request_id):
        return await _query(client, request_id, PortRequestWorkflow.status)


async def query_order(client: Client, order_id: str) -> OrderView:
    async with about(order_id):
        return await _query(client, order_id, PortOrderWorkflow.status)


async def _query(client: Client, workflow_id: str, query: Any) -> Any:
    """A status query; its failure message decoded (failures are encrypted: issue 14)."""
    from temporalio.client import WorkflowQueryFailedError

    from portflow.temporal import query_failure_message

    try:
        return await client.get_workflow_handle(workflow_id).query(query, rpc_timeout=QUERY_TIMEOUT)
    except WorkflowQueryFailedError as err:
        raise WorkflowQueryFailedError(await query_failure_message(client, err)) from err


async def send_update(client: Client, target: str, update: Any, arg: Any, *, wait: float | None = None) -> Any:
    """Send an update; its validator's refusal becomes a CliError. With ``wait`` the result
    is awaited that long only (handlers that wait for the workflow, such as cancel): None
    means accepted and still in progress."""
    handle = client.get_workflow_handle(target)
    async with about(target):
        if wait is None:
            return await handle.execute_update(update, arg, rpc_timeout=UPDATE_TIMEOUT)
        started = await handle.start_update(update, arg, wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                                            rpc_timeout=UPDATE_TIMEOUT)
        try:
            return await asyncio.wait_for(started.result(), timeout=wait)
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            return None  # accepted; the workflow is still at it (e.g. waiting for the carrier)


async def running_state(client: Client, workflow_id: str) -> bool | None:
    """True running, False closed, None no such workflow."""
    try:
        status = await execution_status(client, workflow_id, QUERY_TIMEOUT)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        async with about(workflow_id):
            raise
    return status == WorkflowExecutionStatus.RUNNING


def normalize_tn(text: str) -> str:
    """E.164 of a number typed on the command line, or a CliError saying what is wrong."""
    try:
        return parse_tn(text)
    except NumberProblem as exc:
        raise CliError(exc.message) from None


def check_text(value: str, option: str, example: str, limit: int = 2000) -> str:
    """A reason or note of 3 to ``limit`` characters (the workflow models require it)."""
    if len(value.strip()) < 3:
        raise CliError(f"{option} is too short: say why, e.g. {option} \"{example}\"")
    if len(value.strip()) > limit:
        raise CliError(f"{option} is {len(value.strip()):,} characters long, more than {limit:,}: shorten it")
    return value.strip()


# --------------------------------------------------------------------------- start
async def fresh_request_id(client: Client) -> str:
    """The next sequential request id (``store.requests``) that Temporal has not seen
    either: a database restored or reset under a long-lived server must not reuse one."""
    from store.db import ensure_migrated
    from store.requests import allocate_request_id

    ensure_migrated()
    for _ in range(1000):
        rid = allocate_request_id()
        if await running_state(client, rid) is None:
            return rid
    raise CliError("1000 request ids in a row already exist in Temporal: the id counter of this database "
                   "is far behind the server's; point PORTFLOW_DATABASE_URL at the right database")


async def cmd_start(client: Client, request: PortRequest, **kw: Any) -> RequestView:
    """Start a checked request: ``portflow.cli.starting.cmd_start``."""
    from portflow.cli.starting import cmd_start as start

    return await start(client, request, **kw)


# --------------------------------------------------------------------------- documents
async def cmd_attach(client: Client, target: str, content: Path | bytes, kind: DocumentKind, *, actor: str,
                     order_id: str | None = None, file_name: str | None = None) -> RequestView:
    """Attach a document to a request (or one of its orders): ``starter.py attach`` with a file,
    the customer page (api/customer.py) with the bytes of an upload named ``file_name``."""
    from portflow import ports

    request_id, from_target = parse_id(target)
    order_id = order_id or from_target
    if order_id is not None and parse_id(order_id)[0] != request_id:
        raise CliError(f"order {order_id} is not part of {request_id}")
    if isinstance(content, Path) and not content.is_file():
        raise CliError(f"{content} is not a readable file: check the path")
    if await running_state(client, request_id) is None:
        raise CliError(f"no port {request_id}: check the id with `starter.py list`")
    from store.documents import DocumentError

    try:
        async with about(request_id):
            return await ports.attach(client, request_id, content, kind, actor=actor, order_id=order_id,
                                      file_name=file_name)
    except DocumentError as exc:
        raise CliError(str(exc)) from None


# --------------------------------------------------------------------------- request steps
async def cmd_assign(client: Client, target: str, assignments: dict[str, str], *, actor: str,
                     kind: str = "user") -> RequestView:
    request_id, _ = parse_id(target)
    if not assignments:
        raise CliError("nothing to assign: give --tn NUMBER --to WHO (repeatable) or --file CSV")
    clean: dict[str, str] = {}
    problems = []
    for raw, who in assignments.items():
        try:
            tn = parse_tn(raw)
        except NumberProblem as exc:
            problems.append(exc.message)
            continue
        if tn in clean:
            problems.append(f"{raw} is listed twice")
        if not who.strip():
            problems.append(f"{raw}: say who gets it (a user's e-mail or a resource account)")
        elif len(who.strip()) > 254:
            problems.append(f"{raw}: who gets it is {len(who.strip()):,} characters long, more than 254")
        clean[tn] = who.strip()
    if problems:
        raise CliError("; ".join(problems))
    return await send_update(client, request_id, PortRequestWorkflow.assign,
                         AssignNumbers(actor=actor, assignments=clean, kind=kind))


async def cmd_expedite(client: Client, target: str, *, actor: str, reason: str,
                       port_date: date | None = None) -> RequestView:
    request_id, order_id = parse_id(target)
    if order_id is not None:
        raise CliError(f"an expedite applies to the whole request: use {request_id}")
    reason = check_text(reason, "--reason", "the customer moves offices on the 20th")
    return await send_update(client, request_id, PortRequestWorkflow.expedite_port,
                         ExpediteRequest(actor=actor, reason=reason, port_date=port_date))


async def cmd_cancel(client: Client, target: str, *, actor: str, reason: str,
                     wait: float = 30.0) -> OrderView | RequestView | None:
    """Cancel a request (every order) or one order. Returns the final view, or None when the
    cancel was accepted but the carrier has not confirmed it within ``wait`` seconds."""
    request_id, order_id = parse_id(target)
    arg = Cancel(actor=actor, reason=check_text(reason, "--reason", "the customer stays with the carrier"))
    if order_id is not None:
        return await send_update(client, order_id, PortOrderWorkflow.cancel, arg, wait=wait)
    return await send_update(client, request_id, PortRequestWorkflow.cancel, arg, wait=wait)


# --------------------------------------------------------------------------- reading
async def settle_order(client: Client, order_id: str, before: str, *, seconds: float = 3.0) -> OrderView:
    """The order's view once it moved on from ``before`` (an update only queues work; the
    workflow acts on it a moment later), or its view after ``seconds``."""
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    while True:
        view = await query_order(client, order_id)
        if view.status.value != before or loop.time() >= until:
            return view
        await asyncio.sleep(0.2)


async def settle_assignments(client: Client, request_id: str, tns: set[str], *, seconds: float = 3.0) -> StatusPage:
    """The status page once the orders show ``tns`` assigned (or after ``seconds``)."""
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    while True:
        page = await cmd_status(client, request_id)
        shown = {n.tn for o in page.orders.values() for n in o.numbers if n.assigned_to}
        if tns <= shown or loop.time() >= until:
            return page
        await asyncio.sleep(0.2)


async def workflow_problem(client: Client, workflow_id: str) -> str | None:
    """Why a workflow stopped without finishing the port (failed, terminated, timed out), or
    None while it runs or when it completed."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        status = await execution_status(client, workflow_id, QUERY_TIMEOUT)
    except RPCError:
        return None
    if status in (WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.COMPLETED,
                  WorkflowExecutionStatus.CONTINUED_AS_NEW):
        return None
    what = status.name.lower().replace("_", " ")
    try:
        await handle.result(follow_runs=False, rpc_timeout=QUERY_TIMEOUT)
    except WorkflowFailureError as err:
        return f"its workflow {what}: {deepest_message(err)}"
    except Exception:  # noqa: BLE001, S110 - the status word alone still says it stopped
        pass
    return f"its workflow {what}"


async def cmd_status(client: Client, target: str) -> StatusPage:
    request_id, order_id = parse_id(target)
    if order_id is not None:
        page = StatusPage(order=await query_order(client, order_id))
        if problem := await workflow_problem(client, order_id):
            page.broken[order_id] = problem
        return page
    view = await query_request(client, request_id)
    page = StatusPage(request=view)
    if problem := await workflow_problem(client, request_id):
        page.broken[request_id] = problem
    for o in view.orders:
        if problem := await workflow_problem(client, o.order_id):
            page.broken[o.order_id] = problem
        try:
            page.orders[o.order_id] = await client.get_workflow_handle(o.order_id).query(
                PortOrderWorkflow.status, rpc_timeout=QUERY_TIMEOUT)
        except Exception:  # noqa: BLE001, S112 - the request's copy of the order is shown instead
            continue
    return page


async def cmd_watch(client: Client, target: str, show: Callable[[StatusPage], None], *, interval: float = 1.0,
                    timeout: float | None = None) -> StatusPage:
    """Show the status page every ``interval`` seconds until the port ends (or ``timeout``)."""
    loop = asyncio.get_running_loop()
    until = loop.time() + timeout if timeout else None
    while True:
        page = await cmd_status(client, target)
        show(page)
        if page.finished or (until is not None and loop.time() >= until):
            return page
        await asyncio.sleep(interval)
