"""Implementation projects over HTTP (issue 17): what ``starter.py project ...`` does, calling
the same functions (``portflow.projects``) with the same checks.

- ``POST /v1/projects``: start a project from a project file's data as JSON (pm);
- ``GET /v1/projects``: projects by phase (any key);
- ``GET /v1/projects/{id}``: ``project status --json`` (any key);
- ``POST /v1/projects/{id}/tasks/{task}/done``: ``project done`` (pm);
- ``POST /v1/projects/{id}/ports``: ``project attach`` (pm).

Starting the same project twice is refused (409): its workflow id is the project's, so a
retried start does nothing twice.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api.v1.auth import ANY, PM, Principal, require
from api.v1.common import get_client, problem_of, read_json
from api.v1.idempotency import LOCATION, Attempt, IdempotencyKey, once
from api.v1.problems import ApiProblem, ProblemItem, errors
from models.project import PROJECT_ID, TASK_ID, Phase, PortLink, ProjectTask, TaskAck, project_id_of
from portflow.cli.errors import CliError, about

router = APIRouter(prefix="/v1/projects", tags=["projects"], responses=errors(401, 403, 404, 409, 422, 503, 504))
Pm = Annotated[Principal, Depends(require(*PM))]
Reader = Annotated[Principal, Depends(require(*ANY))]
ProjectId = Annotated[str, Path(description="The project's id, e.g. ACME-2027", max_length=60)]
STATUS = {"state": 409, "missing": 404}


class ProjectStarted(BaseModel):
    id: str
    workflow_id: str
    phase: Phase = Phase.INITIATE
    tasks: int = Field(description="how many milestones the project has")


class ProjectRow(BaseModel):
    id: str
    phase: str
    next_deadline: datetime | None
    escalated: bool
    execution: str
    started: datetime | None


class ProjectList(BaseModel):
    items: list[ProjectRow]
    limit: int


class PortStage(BaseModel):
    request_id: str
    how: str
    stage: str
    next: str
    next_due_at: datetime | None
    waiting_on: str
    problem: str | None


class ProjectStatus(BaseModel):
    """``project status --json``: the project's view (every field of ``models.project.ProjectView``),
    its open tasks and its ports' stages."""

    model_config = ConfigDict(extra="allow")

    project_id: str
    workflow_id: str
    customer_name: str
    phase: Phase
    phase_since: datetime | None
    tasks: list[ProjectTask]
    ports: list[PortLink]
    next_what: str
    next_due_at: datetime | None
    escalated: list[str]
    ui_url: str
    open_tasks: list[ProjectTask]
    port_stages: list[PortStage]


class DoneBody(BaseModel):
    note: str = Field(default="", max_length=2000, description="what was done, for the project's record")


class AttachBody(BaseModel):
    request_id: str = Field(max_length=40, description="a port that runs or ran, e.g. PR-2026-0042")


def _id(value: str) -> str:
    pid = project_id_of(value)
    if not PROJECT_ID.match(pid):
        raise ApiProblem(404, f"'{value[:40]}' is not a project id (e.g. ACME-2027)",
                         problems=[ProblemItem(code="invalid_id", where="path:id", message="not a project id")])
    return pid


async def _call(request: Request, target: str, work: Any) -> Any:
    """Run a shared project action; its refusals as problems (422 input, 409 state, 404 missing)."""
    from portflow.projects import ProjectRefused

    client = await get_client(request)
    try:
        async with about(target):
            return await work(client)
    except ProjectRefused as err:
        status = STATUS.get(err.kind, 422)
        raise ApiProblem(status, str(err), problems=[ProblemItem(
            code={404: "unknown", 409: "refused"}.get(status, "invalid_field"), message=str(err))]) from None
    except CliError as err:
        raise problem_of(err) from None


@router.post("", status_code=201, response_model=ProjectStarted, summary="Start a project (starter.py project start)",
             responses=errors(413, 415))
async def start_project(request: Request, who: Pm, idempotency_key: IdempotencyKey = None) -> Response:
    from portflow import projects
    from portflow.project_file import check_project_data

    body = await read_json(request)
    spec, found = check_project_data(body)
    if spec is None:
        raise ApiProblem(422, f"the project has {len(found)} problem(s): " + "; ".join(f"{w}: {m}" for w, m in found)[:1500],
                         problems=[ProblemItem(code="invalid_field", where=f"body:{w}" if w else "body", message=m)
                                   for w, m in found])

    async def work(attempt: Attempt) -> JSONResponse:
        await attempt.reserve(**{LOCATION: f"/v1/projects/{spec.id}"})
        await _call(request, spec.id, lambda c: projects.start_project(c, spec, started_by=who.owner))
        out = ProjectStarted(id=spec.id, workflow_id=f"project-{spec.id}", tasks=len(spec.task_specs()))
        return JSONResponse(out.model_dump(mode="json"), status_code=201,
                            headers={"Location": f"/v1/projects/{spec.id}"})

    return await once(request, who, idempotency_key, body, work)


@router.get("", response_model=ProjectList, summary="List projects (starter.py project list)")
async def list_projects(request: Request, who: Reader,
                        phase: Annotated[Phase | None, Query(description="only projects in this phase")] = None,
                        running: Annotated[bool, Query(description="only projects still running")] = False,
                        limit: Annotated[int, Query(ge=1, le=200)] = 50) -> ProjectList:
    from portflow import projects

    rows = await _call(request, "projects", lambda c: projects.list_projects(
        c, phase=phase.value if phase else None, running=running, limit=limit))
    return ProjectList(items=[ProjectRow(id=r.project_id, phase=r.phase, next_deadline=r.next_deadline,
                                         escalated=r.escalated, execution=r.execution, started=r.started) for r in rows],
                       limit=limit)


@router.get("/{id}", response_model=ProjectStatus, summary="A project's status (starter.py project status)")
async def project_status(request: Request, id: ProjectId, who: Reader) -> JSONResponse:  # noqa: A002
    from portflow import projects

    pid = _id(id)
    page = await _call(request, pid, lambda c: projects.status(c, pid))
    return JSONResponse(page.to_json())


@router.post("/{id}/tasks/{task}/done", response_model=TaskAck, summary="Mark a task done (starter.py project done)")
async def task_done(request: Request, id: ProjectId, who: Pm,  # noqa: A002
                    task: Annotated[str, Path(max_length=40, description="the task's id, e.g. kick_off_call")],
                    body: DoneBody | None = None, idempotency_key: IdempotencyKey = None) -> Response:
    from portflow import projects

    pid = _id(id)
    if not re.match(TASK_ID, task):
        raise ApiProblem(422, f"'{task[:40]}' is not a task id: lower-case letters, digits and '_'",
                         problems=[ProblemItem(code="invalid_field", where="path:task", message="not a task id")])
    note = (body.note if body else "").strip()

    async def work(_: Attempt) -> JSONResponse:
        ack = await _call(request, pid, lambda c: projects.complete_task(c, pid, task, by=who.owner, note=note))
        return JSONResponse(ack.model_dump(mode="json"))

    return await once(request, who, idempotency_key, {"note": note}, work)


@router.post("/{id}/ports", response_model=PortLink, summary="Attach a running port (starter.py project attach)")
async def attach_port(request: Request, id: ProjectId, who: Pm, body: AttachBody,  # noqa: A002
                      idempotency_key: IdempotencyKey = None) -> Response:
    from portflow import projects

    pid = _id(id)
    rid = body.request_id.strip().upper()

    async def work(_: Attempt) -> JSONResponse:
        link = await _call(request, pid, lambda c: projects.attach_port(c, pid, rid, by=who.owner))
        return JSONResponse(link.model_dump(mode="json"))

    return await once(request, who, idempotency_key, body.model_dump(mode="json"), work)

