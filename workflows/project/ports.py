"""The port requests of a project: started from it as its children, or attached by id.

A child is started exactly as ``portflow.ports.start_port`` starts a port (the client has
already run its checks, stored the documents and sealed the secrets: ``PortLaunch``), with
the request id as workflow id, so the same request never runs twice. The project awaits
each child's result, which completes its ``numbers_ported`` task. An attached port keeps
running on its own; the client reads its stage and, when the task is completed, its outcome.
The parent close policy is ABANDON: closing or terminating a project never stops a port.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, ChildWorkflowError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from models.project import PortLaunch, PortLink
    from models.workflow import PortResult
    from workflows.common import initial_search_attributes
    from workflows.project.state import Project

PORT_WORKFLOW = "PortRequestWorkflow"


async def start_child(p: Project, launch: PortLaunch) -> PortLink:
    try:
        handle = await workflow.start_child_workflow(
            PORT_WORKFLOW,
            launch.input,
            id=launch.request_id,
            task_queue=launch.task_queue,
            result_type=PortResult,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            search_attributes=initial_search_attributes(
                request_id=launch.request_id, customer=launch.customer, carriers=launch.carriers,
                port_date=launch.port_date, status="intake"),
            memo={**launch.memo, "project": p.spec.id},
            static_summary=launch.static_summary,
            static_details=launch.static_details,
        )
    except WorkflowAlreadyStartedError:
        raise ApplicationError(f"{launch.request_id} was already started: attach it to the project instead "
                               f"(`starter.py project attach {p.spec.id} {launch.request_id}`)",
                               type="PortAlreadyStarted", non_retryable=True) from None
    link = PortLink(request_id=launch.request_id, how="started", by=launch.by, at=workflow.now())
    p.ports[launch.request_id] = link
    p.changed = True
    # a request file may list temporary numbers (issue 17's go-live branch): then acceptance
    # includes removing their forwarding
    p.temporary_numbers(launch.request_id, len(getattr(launch.input.request, "temporary_numbers", None) or []))
    # on the workflow's own (deterministic) event loop; kept so it is not garbage-collected
    p.followers.append(asyncio.create_task(follow(p, launch.request_id, handle)))
    return link


async def follow(p: Project, request_id: str, handle: workflow.ChildWorkflowHandle) -> None:
    """Wait for a child port's end and record its outcome."""
    try:
        result: PortResult = await handle
        p.port_ended(request_id, result.status.value)
    except ChildWorkflowError:
        p.port_ended(request_id, "failed")


def attach(p: Project, request_id: str, by: str) -> PortLink:
    link = PortLink(request_id=request_id, how="attached", by=by, at=workflow.now())
    p.ports[request_id] = link
    p.changed = True
    return link
