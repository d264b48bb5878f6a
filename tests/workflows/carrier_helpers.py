"""Driving port orders through the carrier simulator in time-skipping tests.

Builds on ``helpers`` (requests, search attributes, current details), ``paths_helpers``
(server clock, signing, the simulator's records), ``tests.dates``, ``tests.mail_helpers``
and ``tests.settings_helpers``: what is here is what
the carrier paths add: a one-rule simulator profile, a request whose mail is in English,
skipping server time until an order reaches a state, and the PM's amend.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from models.request import PortRequest
from models.workflow import AmendOrder, OrderView
from providers.notify.render import environment as notify_templates
from tests.dates import port_date_in
from tests.polling import eventually
from tests.workflows.helpers import assign_all, attach_all, order_status, sample_request, start, wait_for
from tests.workflows.helpers import current_details, search_attributes  # noqa: F401 - for the carrier tests
from tests.workflows.helpers import PM
from tests.workflows.paths_helpers import PM_MAIL, sign  # noqa: F401 - PM_MAIL for the carrier tests
from workflows.port_order import PortOrderWorkflow

OPS_MAIL = "ops@portflow.local"


def profile_for(behaviour: str, carrier: str = "*", **fields: Any) -> str:
    """A simulator profile: one rule for ``carrier``; every other carrier accepts."""
    lines = ["carriers:", f'  "{carrier}":', f"    behaviour: {behaviour}", "    answer_after_seconds: 30"]
    for k, v in fields.items():
        if isinstance(v, list):
            lines.append(f"    {k}: [{', '.join(repr(x) for x in v)}]")
        elif isinstance(v, bool):
            lines.append(f"    {k}: {'true' if v else 'false'}")
        else:
            lines.append(f"    {k}: {v}")
    if carrier != "*":
        lines += ['  "*":', "    behaviour: accept", "    answer_after_seconds: 30"]
    return "\n".join(lines) + "\n"


async def english_request(env: WorkflowEnvironment, *, days: int = 30, **over: Any) -> PortRequest:
    """A sample request (mail in English) dated ``days`` after the server's today."""
    over.setdefault("customer", {"name": "Contoso Dental", "language": "en"})
    return sample_request(port_date=await port_date_in(env, days), **over)


async def to_loa_sent(env: WorkflowEnvironment, req: PortRequest, tmp: Path, *, assign: bool = True) -> WorkflowHandle:
    """Start ``req``, attach its documents, (assign its numbers) and wait until every LOA is out."""
    handle = await start(env.client, req)
    await wait_for(handle, lambda v: bool(v.missing_documents), what="documents stage")
    await attach_all(env.client, req, tmp)
    n = len(req.order_parts())
    await wait_for(handle, lambda v: len(v.orders) == n and all(o.status == "loa_sent" for o in v.orders),
                   what="every LOA sent")
    if assign:
        await assign_all(handle, req.all_numbers)
    return handle


async def to_carrier(env: WorkflowEnvironment, req: PortRequest, tmp: Path, *, assign: bool = True) -> WorkflowHandle:
    """:func:`to_loa_sent` for a one-account request, then its signer signs (at the server's
    time): the order goes to the carrier."""
    handle = await to_loa_sent(env, req, tmp, assign=assign)
    await sign(env, req.order_id(0), req.signer.name)
    return handle


async def skip_until(env: WorkflowEnvironment, order_id: str, pred: Callable[[OrderView], bool], *,
                     step: timedelta = timedelta(minutes=30), limit: timedelta = timedelta(days=2),
                     what: str = "condition") -> OrderView:
    """Skip server time in ``step``s (at most ``limit``) until the order's status query
    satisfies ``pred``; between steps the worker gets a moment of real time to finish what
    the timers woke."""
    skipped = timedelta(0)
    while True:
        for _ in range(3):
            view = await order_status(env.client, order_id)
            if pred(view):
                return view
            await asyncio.sleep(0.05)
        if skipped >= limit:
            raise AssertionError(f"{order_id}: no {what} after skipping {skipped}; last status {view.status}; "
                                 f"timeline: {[f'{c.to_status}: {c.reason}' for c in view.timeline][-4:]}")
        await env.sleep(step)
        skipped += step


async def wait_search_attribute(client: Client, workflow_id: str, name: str, value: Any, *,
                                timeout: float = 10.0) -> None:
    """Until the server holds ``value`` for search attribute ``name`` (real time: a request
    upserts after its order's signal reaches it)."""
    await eventually(lambda: search_attributes(client, workflow_id), lambda attrs: attrs.get(name) == value,
                     what=f"{workflow_id}: search attribute {name} = {value!r}", timeout=timeout, interval=0.1,
                     show=lambda attrs: f"{name} = {attrs.get(name)!r}")


async def amend(client: Client, order_id: str, reason: str = "corrected from the CSR", **fields: Any) -> OrderView:
    return await client.get_workflow_handle(order_id).execute_update(
        PortOrderWorkflow.amend, AmendOrder(actor=PM, order_id=order_id, reason=reason, **fields))


async def execution_status(client: Client, workflow_id: str) -> str:
    """RUNNING, COMPLETED, FAILED... as the Temporal UI lists the execution (a raw describe:
    the time-skipping server's describe() fails on an unset Datetime search attribute)."""
    raw = await client.workflow_service.describe_workflow_execution(DescribeWorkflowExecutionRequest(
        namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id)))
    return WorkflowExecutionStatus.Name(raw.workflow_execution_info.status).removeprefix("WORKFLOW_EXECUTION_STATUS_")


def template_words(name: str, variable: str) -> dict[str, str]:
    """A dict the English mail templates define (field labels, customer-facing fixes), so a
    test looks for the words the customer reads."""
    return getattr(notify_templates().get_template(f"en/{name}").module, variable)
