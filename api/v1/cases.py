"""Support cases over REST (issue 17), the same functions as ``starter.py case ...``
(``portflow.cases``): the same checks, the same refusals.

* ``GET /v1/cases`` (``case list``: ``?state=``, ``?priority=``) and ``GET /v1/cases/{id}``
  (``case status --json``): any key.
* ``POST /v1/cases`` (``case open``) and ``POST /v1/cases/{id}/{action}`` with ``action`` one
  of respond, update, wait, resolve, reopen, close, priority, plan-change: roles ``pm`` and
  ``ops``. The key's owner is who acted, on the case's history. With an ``Idempotency-Key``
  a retry gets the first answer and never opens a second case or records a move twice.

Refusals: 422 for the input, 409 when the case's state refuses the move (a closed case, a
reopen after the window), 404 for an unknown case, 503 when Temporal does not answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.v1.auth import ANY, OPS, Principal, require
from api.v1.common import get_client
from api.v1.idempotency import Attempt, IdempotencyKey, once
from api.v1.problems import ApiProblem, ProblemItem, errors
from models.support import CaseView
from portflow import cases

router = APIRouter(prefix="/v1/cases", tags=["support cases"], responses=errors(401, 403, 404, 409, 422, 503))
Reader = Annotated[Principal, Depends(require(*ANY))]
Agent = Annotated[Principal, Depends(require(*OPS))]
CaseId = Annotated[str, Path(description="A case id, e.g. case-2026-0001", max_length=130)]
ACTIONS = {"respond": "respond", "update": "update", "wait": "wait", "resolve": "resolve", "reopen": "reopen",
           "close": "close", "priority": "priority", "plan-change": "plan_change"}
STATUS = {"input": 422, "state": 409, "missing": 404, "unavailable": 503}


class OpenCase(BaseModel):
    priority: str = Field(max_length=10, description="P1..P4")
    summary: str = Field(max_length=2000)
    customer: str | None = Field(default=None, max_length=400, description="default: the request's customer")
    contact: str | None = Field(default=None, max_length=400, description="default: the request's contact")
    request: str | None = Field(default=None, max_length=40, description="the port request the case is about")
    language: str | None = Field(default=None, max_length=10, description="en, es, pt or fr")


class CaseMove(BaseModel):
    note: str = Field(default="", max_length=4000)
    priority: str | None = Field(default=None, max_length=10, description="priority: the new one")
    at: str | None = Field(default=None, max_length=60, description="plan-change: ISO 8601 with offset")


class CaseRow(BaseModel):
    case_id: str
    priority: str
    state: str
    next_deadline: datetime | None = None
    escalated: bool = False
    started: datetime | None = None


def _problem(err: cases.CaseProblem) -> ApiProblem:
    status = STATUS.get(err.kind, 422)
    extra = {"headers": {"Retry-After": "10"}} if status == 503 else {}
    return ApiProblem(status, str(err), problems=[ProblemItem(code=f"case_{err.kind}", message=str(err))], **extra)


def _json(view: CaseView, status: int = 200) -> JSONResponse:
    return JSONResponse(view.model_dump(mode="json"), status_code=status,
                        headers={"Location": f"/v1/cases/{view.case_id}"} if status == 201 else None)


@router.get("", response_model=list[CaseRow], summary="List support cases (starter.py case list)")
async def list_cases(request: Request, who: Reader,
                     state: Annotated[str | None, Query(max_length=40)] = None,
                     priority: Annotated[str | None, Query(max_length=10)] = None,
                     limit: Annotated[int, Query(ge=1, le=500)] = 100) -> JSONResponse:
    try:
        rows = await cases.list_cases(await get_client(request), state=state, priority=priority, limit=limit)
    except cases.CaseProblem as err:
        raise _problem(err) from None
    return JSONResponse([CaseRow(**r).model_dump(mode="json") for r in rows])


@router.get("/{id}", response_model=CaseView, summary="A case's state, targets and history (starter.py case status)")
async def get_case(request: Request, id: CaseId, who: Reader) -> JSONResponse:  # noqa: A002
    try:
        cid = cases.case_id_of(id)  # a bad id needs no server
        return _json(await cases.status(await get_client(request), cid))
    except cases.CaseProblem as err:
        raise _problem(err) from None


@router.post("", status_code=201, response_model=CaseView, summary="Open a support case (starter.py case open)")
async def open_case(request: Request, body: OpenCase, who: Agent,
                    idempotency_key: IdempotencyKey = None) -> JSONResponse:
    async def work(attempt: Attempt) -> JSONResponse:
        client = await get_client(request)
        reserved = attempt.reserved.get("case_id")
        if reserved is not None:  # an earlier attempt allocated (and maybe started) it
            try:
                return _json(await cases.status(client, reserved), 201)
            except cases.CaseProblem as err:
                if err.kind != "missing":
                    raise _problem(err) from None
        try:
            cases.priority_of(body.priority)  # refuse bad input before an id is allocated
            cases.text_of(body.summary, "summary", cases.SUMMARY_EXAMPLE, hi=500)
            from fastapi.concurrency import run_in_threadpool

            from store.cases import allocate_case_id

            case_id = reserved or await run_in_threadpool(allocate_case_id)
            await attempt.reserve(case_id=case_id)
            view = await cases.open_case(client, customer=body.customer, priority=body.priority, summary=body.summary,
                                         opened_by=who.owner, request_id=body.request, contact=body.contact,
                                         language=body.language, case_id=case_id)
        except cases.CaseProblem as err:
            raise _problem(err) from None
        return _json(view, 201)

    return await once(request, who, idempotency_key, body.model_dump(mode="json"), work)


@router.post("/{id}/{action}", response_model=CaseView, summary="Respond, update, wait, resolve, reopen, close, "
             "change the priority or plan a change (starter.py case ...)")
async def move(request: Request, id: CaseId,  # noqa: A002
               action: Annotated[Literal["respond", "update", "wait", "resolve", "reopen", "close", "priority",
                                         "plan-change"], Path()],
               body: CaseMove, who: Agent, idempotency_key: IdempotencyKey = None) -> JSONResponse:
    async def work(_: Attempt) -> JSONResponse:
        try:
            cid = cases.case_id_of(id)  # a bad id needs no server
            view = await cases.act(await get_client(request), cid, ACTIONS[action], by=who.owner, note=body.note,
                                   priority=body.priority, at=body.at)
        except cases.CaseProblem as err:
            raise _problem(err) from None
        return _json(view)

    return await once(request, who, idempotency_key, body.model_dump(mode="json"), work)
