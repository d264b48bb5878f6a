"""Starting and steering implementation projects from the client side (CLI, demo, tests).

``start_project`` starts one ``ImplementationWorkflow`` per project id (workflow id
``project-<id>``; the same project never runs twice). ``launcher`` lets
``portflow.ports.start_port`` start a port as the project's child: the same checks, stored
documents and sealed secrets as ``starter.py start``, then the project's ``start_port``
update starts the workflow with the same id and attributes. ``status`` reads the project
and, client-side, each of its ports' stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from core.settings import Settings, get_settings
from models.project import (
    PORTS_TASK,
    AttachPort,
    CompleteTask,
    PortLaunch,
    PortLink,
    ProjectInput,
    ProjectSpec,
    ProjectView,
    TaskAck,
    workflow_id,
)
from models.status import TERMINAL
from models.workflow import RequestView
from portflow.ports import Launcher, PortRefused, PreparedPort
from workflows import search
from workflows.port_request import PortRequestWorkflow
from workflows.project import ImplementationWorkflow

TIMEOUT = timedelta(seconds=30)


class ProjectRefused(ValueError):
    """The project (or its step) is refused: the message says why and what to do. ``kind``:
    ``input`` (the arguments), ``state`` (the project's state refuses it), ``missing`` (no
    such project or port): the API answers 422, 409 and 404."""

    def __init__(self, message: str, kind: str = "input") -> None:
        super().__init__(message)
        self.kind = kind


def _deepest(err: BaseException) -> str:
    while getattr(err, "cause", None) is not None:
        err = err.cause  # type: ignore[assignment]
    return str(getattr(err, "message", None) or err)


async def start_project(client: Client, spec: ProjectSpec, *, started_by: str,
                        settings: Settings | None = None) -> WorkflowHandle:
    s = settings or get_settings()
    wid = workflow_id(spec.id)
    go_live = spec.timeline.go_live
    try:
        return await client.start_workflow(
            ImplementationWorkflow.run,
            ProjectInput(spec=spec, started_by=started_by, ops_email=s.ops_email, ui_url=s.temporal_ui_url),
            id=wid,
            task_queue=s.temporal_task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=TypedSearchAttributes([
                SearchAttributePair(search.PORTFLOW_KIND, "project"),
                SearchAttributePair(search.PROJECT_PHASE, "initiate"),
                SearchAttributePair(search.ESCALATED, False),
            ]),
            # only what anyone with UI access may read: the customer's name is the port's too
            memo={"customer": spec.customer.name, "ipm_email": str(spec.ipm.email),
                  "go_live": go_live.isoformat(), "started_by": started_by},
            static_summary=f"Project {spec.id}: {spec.customer.name} implementation, go-live {go_live}",
            static_details=f"IPM {spec.ipm.name}; main point of contact {spec.contact.name}. Timeline "
                           + ", ".join(f"{k} {v}" for k, v in spec.timeline.model_dump().items()),
        )
    except WorkflowAlreadyStartedError:
        raise ProjectRefused(f"project {spec.id} was already started: see "
                             f"`python starter.py project status {spec.id}`", "state") from None


async def project_running(client: Client, project_id: str) -> bool | None:
    """True running, False closed, None no such project."""
    from temporalio.client import WorkflowExecutionStatus
    from temporalio.service import RPCError, RPCStatusCode

    from portflow.temporal import execution_status

    try:
        status = await execution_status(client, workflow_id(project_id), TIMEOUT)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    return status == WorkflowExecutionStatus.RUNNING


async def require_running(client: Client, project_id: str) -> None:
    state = await project_running(client, project_id)
    if state is None:
        raise ProjectRefused(f"no project {project_id}: check the id with `python starter.py project list`", "missing")
    if state is False:
        raise ProjectRefused(f"project {project_id} is closed", "state")


def launcher(project_id: str, by: str) -> Launcher:
    """A ``start_port`` launcher that starts the port as the child of project ``project_id``."""

    async def launch(client: Client, p: PreparedPort) -> WorkflowHandle:
        handle = client.get_workflow_handle(workflow_id(project_id))
        launch = PortLaunch(input=p.input, request_id=p.request_id, task_queue=p.task_queue, customer=p.customer,
                            carriers=p.carriers, port_date=p.port_date, memo=p.memo, static_summary=p.static_summary,
                            static_details=p.static_details, by=by)
        try:
            await handle.execute_update(ImplementationWorkflow.start_port, launch, rpc_timeout=TIMEOUT)
        except WorkflowUpdateFailedError as err:
            why = _deepest(err)
            if "was already started" in why:
                raise WorkflowAlreadyStartedError(p.request_id, "PortRequestWorkflow") from None
            raise PortRefused(f"project {project_id} refused the port: {why}") from None
        return client.get_workflow_handle_for(PortRequestWorkflow.run, p.request_id)

    return launch


async def _update(client: Client, project_id: str, update: Any, arg: Any) -> Any:
    try:
        return await client.get_workflow_handle(workflow_id(project_id)).execute_update(update, arg, rpc_timeout=TIMEOUT)
    except WorkflowUpdateFailedError as err:
        raise ProjectRefused(f"{project_id}: {_deepest(err)}", "state") from None


async def attach_port(client: Client, project_id: str, request_id: str, *, by: str) -> PortLink:
    """Follow a port that already runs (or ran) as part of the project."""
    from portflow.cli.actions import running_state

    from models.request import REQUEST_ID

    if not REQUEST_ID.match(request_id):
        raise ProjectRefused(f"'{request_id[:40]}' is not a request id (PR-YYYY-NNNN)")
    await require_running(client, project_id)
    if await running_state(client, request_id) is None:
        raise ProjectRefused(f"no port {request_id}: check the id with `python starter.py list`", "missing")
    temps = _temporary_numbers(await port_view(client, request_id))
    return await _update(client, project_id, ImplementationWorkflow.attach_port,
                         AttachPort(request_id=request_id, by=by, temporary_numbers=temps))


def _temporary_numbers(view: RequestView) -> int:
    """How many temporary numbers a port recorded (the go-live branch's RequestView field;
    0 where a view has none)."""
    return len(getattr(view, "temporary_numbers", None) or [])


async def port_view(client: Client, request_id: str) -> RequestView:
    return await client.get_workflow_handle(request_id).query(PortRequestWorkflow.status, rpc_timeout=TIMEOUT)


async def complete_task(client: Client, project_id: str, task: str, *, by: str, note: str = "") -> TaskAck:
    """Mark a task done. For ``numbers_ported`` the attached ports' final statuses are read
    here and handed over (the project cannot query them itself)."""
    from pydantic import ValidationError

    try:
        CompleteTask(task=task, by=by, note=note)
    except ValidationError as exc:
        raise ProjectRefused("; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())) from None
    await require_running(client, project_id)
    outcomes: dict[str, str] = {}
    temps: list[str] = []
    if task == PORTS_TASK:
        view = await project_view(client, project_id)
        for link in view.ports:
            port = await port_view(client, link.request_id)
            if link.how == "attached" and link.outcome is None:
                outcomes[link.request_id] = port.status.value
            if _temporary_numbers(port):
                temps.append(link.request_id)
    return await _update(client, project_id, ImplementationWorkflow.complete_task,
                         CompleteTask(task=task, by=by, note=note, port_outcomes=outcomes, with_temporary_numbers=temps))


async def project_view(client: Client, project_id: str) -> ProjectView:
    from temporalio.service import RPCError, RPCStatusCode

    try:
        return await client.get_workflow_handle(workflow_id(project_id)).query(ImplementationWorkflow.status,
                                                                               rpc_timeout=TIMEOUT)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise ProjectRefused(f"no project {project_id}: check the id with `python starter.py project list`",
                                 "missing") from None
        raise


@dataclass
class PortStage:
    request_id: str
    how: str
    stage: str
    next_what: str = ""
    next_due_at: datetime | None = None
    waiting_on: str = ""
    problem: str = ""


@dataclass
class ProjectPage:
    """What ``project status`` shows: the project's view and its ports' stages."""

    view: ProjectView
    ports: list[PortStage] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = self.view.model_dump(mode="json")
        data["open_tasks"] = [t.model_dump(mode="json") for t in self.view.open_tasks()]
        data["port_stages"] = [
            {"request_id": p.request_id, "how": p.how, "stage": p.stage, "next": p.next_what,
             "next_due_at": p.next_due_at.isoformat() if p.next_due_at else None, "waiting_on": p.waiting_on,
             "problem": p.problem or None} for p in self.ports]
        return data


async def status(client: Client, project_id: str) -> ProjectPage:
    view = await project_view(client, project_id)
    page = ProjectPage(view=view)
    for link in view.ports:
        try:
            rv = await port_view(client, link.request_id)
        except Exception as err:  # noqa: BLE001 - one unreadable port must not hide the project
            page.ports.append(PortStage(link.request_id, link.how, link.outcome or "unknown",
                                        problem=f"cannot read the port: {_deepest(err)}"))
            continue
        ended = rv.status in TERMINAL
        page.ports.append(PortStage(link.request_id, link.how, rv.status.value,
                                    next_what="" if ended else rv.next.what,
                                    next_due_at=None if ended else rv.next.due_at,
                                    waiting_on="" if ended else rv.next.waiting_on.value))
    return page


@dataclass(frozen=True)
class ProjectRow:
    project_id: str
    phase: str
    next_deadline: datetime | None
    escalated: bool
    execution: str
    started: datetime | None


async def list_projects(client: Client, *, phase: str | None = None, running: bool = False,
                        limit: int = 50) -> list[ProjectRow]:
    query = f"{search.PORTFLOW_KIND.name} = 'project'"
    if phase:
        query += f" AND {search.PROJECT_PHASE.name} = '{phase}'"
    if running:
        query += " AND ExecutionStatus = 'Running'"
    rows = []
    async for wf in client.list_workflows(query, limit=limit):
        sa = wf.typed_search_attributes
        rows.append(ProjectRow(project_id=wf.id.removeprefix("project-"), phase=sa.get(search.PROJECT_PHASE) or "-",
                               next_deadline=sa.get(search.NEXT_DEADLINE), escalated=bool(sa.get(search.ESCALATED)),
                               execution=wf.status.name.title() if wf.status else "-", started=wf.start_time))
        if len(rows) >= limit:
            break
    return rows

