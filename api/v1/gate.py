"""The go-live gate and temporary numbers over ``/v1`` (issue 17), calling what
``starter.py gate ...`` and ``starter.py temp-numbers add`` call (``portflow.cli.gate_actions``):
the same parsing, the same refusals (a change window that misses an order's activation is a
409 with the reason). Reading needs any key; recording needs a ``pm`` key, whose owner is
the actor on the port's timeline. Each change answers with the request's status page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.v1.auth import ANY, PM, Principal, require
from api.v1.common import get_client, port_id, problem_of
from api.v1.idempotency import IdempotencyKey, once
from api.v1.port_actions import PAGE, _act
from api.v1.problems import ApiProblem, ProblemItem, errors
from models.golive import GoLiveChecklist
from portflow.cli import gate_actions
from portflow.cli.errors import CliError

router = APIRouter(prefix="/v1/ports/{id}", tags=["go-live gate"],
                   responses=errors(401, 403, 404, 409, 413, 415, 422, 503, 504))
Pm = Annotated[Principal, Depends(require(*PM))]
Reader = Annotated[Principal, Depends(require(*ANY))]
RequestId = Annotated[str, Path(description="A request id (PR-2026-0042): the gate belongs to the whole request",
                                max_length=40)]


class GatePage(BaseModel):
    """``GET /v1/ports/{id}/gate`` (``starter.py gate show --json``)."""

    request_id: str
    go_live: GoLiveChecklist
    temporary_numbers: list[str]
    held: dict[str, list[str] | None] = Field(description="order id -> what holds its activation ([]: ready)")


class ItemBody(BaseModel):
    note: str = Field(default="", max_length=2000, description="what was done: evidence, a link")


class WindowBody(BaseModel):
    start: str = Field(max_length=40, description="the board's wall-clock start, YYYY-MM-DD HH:MM", examples=["2027-11-16 08:00"])
    end: str = Field(max_length=40, description="its end: YYYY-MM-DD HH:MM, or HH:MM the same (or next) day",
                     examples=["12:00"])
    tz: str = Field(max_length=64, description="the zone it was approved in", examples=["America/Chicago"])
    approved_by: str = Field(max_length=254, description="the change board, a name, a CR id")
    reference: str = Field(default="", max_length=500, description="the change request's id or URL")


class RollbackBody(BaseModel):
    plan: str = Field(max_length=500, description="the rollback plan: a document reference or a URL")


class TempNumbersBody(BaseModel):
    numbers: list[str] = Field(max_length=50, description="temporary DIDs calls are forwarded to while pending")


def _request_of(value: str) -> str:
    port_id(value)  # 404 for what is no port id at all
    try:
        return gate_actions.request_id_of(value)
    except CliError as err:
        raise ApiProblem(422, err.message, problems=[ProblemItem(code="request_id_required", where="path:id",
                                                                  message=err.message)]) from None


def _invalid(err: CliError, where: str) -> ApiProblem:
    return ApiProblem(422, err.message, problems=[ProblemItem(code="invalid_field", where=where, message=err.message)])


@router.get("/gate", summary="The go-live checklist (starter.py gate show)", response_model=GatePage)
async def show(request: Request, id: RequestId, who: Reader) -> JSONResponse:  # noqa: A002, ARG001
    rid = _request_of(id)
    client = await get_client(request)
    try:
        view = await gate_actions.cmd_gate_show(client, rid)
    except CliError as err:
        if "has no go-live checklist" in err.message:
            raise ApiProblem(404, err.message, problems=[ProblemItem(code="no_gate", message=err.message)]) from None
        raise problem_of(err) from None
    assert view.go_live is not None
    page = GatePage(request_id=view.request_id, go_live=view.go_live, temporary_numbers=view.temporary_numbers,
                    held={o.order_id: o.gate_problems for o in view.orders})
    return JSONResponse(page.model_dump(mode="json"))


@router.post("/gate/items/{item}", summary="Record a checklist item done (starter.py gate done)", responses=PAGE)
async def done(request: Request, id: RequestId, item: Annotated[str, Path(max_length=60)], body: ItemBody,  # noqa: A002
               who: Pm, idempotency_key: IdempotencyKey = None) -> JSONResponse:
    rid = _request_of(id)
    try:
        name = gate_actions.parse_item(item)
    except CliError as err:
        raise _invalid(err, "path:item") from None
    return await once(request, who, idempotency_key, {"item": name, **body.model_dump(mode="json")}, lambda _: _act(
        request, rid, lambda client: gate_actions.cmd_gate_done(client, rid, name, actor=who.owner, note=body.note)))


@router.post("/gate/change-window", summary="Record the approved change window (starter.py gate change-window)",
             responses=PAGE)
async def change_window(request: Request, id: RequestId, body: WindowBody, who: Pm,  # noqa: A002
                        idempotency_key: IdempotencyKey = None) -> JSONResponse:
    rid = _request_of(id)
    try:
        gate_actions.parse_window(body.start, body.end, body.tz, body.approved_by, body.reference)
    except CliError as err:
        raise _invalid(err, "body") from None
    return await once(request, who, idempotency_key, body.model_dump(mode="json"), lambda _: _act(
        request, rid, lambda client: gate_actions.cmd_gate_window(
            client, rid, start=body.start, end=body.end, tz=body.tz, approved_by=body.approved_by,
            reference=body.reference, actor=who.owner)))


@router.post("/gate/rollback", summary="Name the rollback plan (starter.py gate rollback)", responses=PAGE)
async def rollback(request: Request, id: RequestId, body: RollbackBody, who: Pm,  # noqa: A002
                   idempotency_key: IdempotencyKey = None) -> JSONResponse:
    rid = _request_of(id)
    if len(body.plan.strip()) < 3:
        raise ApiProblem(422, "name the rollback plan: a document reference or a URL",
                         problems=[ProblemItem(code="invalid_field", where="body.plan", message="at least 3 characters")])
    return await once(request, who, idempotency_key, body.model_dump(mode="json"), lambda _: _act(
        request, rid, lambda client: gate_actions.cmd_gate_rollback(client, rid, plan=body.plan, actor=who.owner)))


@router.post("/temporary-numbers", summary="Record temporary numbers (starter.py temp-numbers add)", responses=PAGE)
async def temporary_numbers(request: Request, id: RequestId, body: TempNumbersBody, who: Pm,  # noqa: A002
                            idempotency_key: IdempotencyKey = None) -> JSONResponse:
    rid = _request_of(id)
    try:
        gate_actions.parse_temp_numbers(body.numbers)
    except CliError as err:
        raise _invalid(err, "body.numbers") from None
    return await once(request, who, idempotency_key, body.model_dump(mode="json"), lambda _: _act(
        request, rid, lambda client: gate_actions.cmd_temp_numbers_add(client, rid, body.numbers, actor=who.owner)))
