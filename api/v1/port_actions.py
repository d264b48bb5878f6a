"""The PM's actions on a port, one endpoint each, calling the functions ``starter.py`` calls
(``portflow.cli.actions``, ``portflow.cli.order_actions``): the same rules, the same
refusals. The key's owner is the actor on the port's timeline. Each answers with the
port's status page after the action (200), or 202 with the page when the port accepted
the action but is still carrying it out (cancel waits for the carrier, activation and
verification for the order's next step).

Roles: ``pm`` may do all; ``ops`` may record carrier events, verify and activate
(``api.v1.auth``); ``read`` none.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path as FilePath
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from fastapi.responses import JSONResponse
from temporalio.client import Client

from api.v1.auth import OPS, PM, Principal, require
from api.v1.common import get_client, order_of, port_id, problem_of
from api.v1.idempotency import Attempt, IdempotencyKey, once
from api.v1.models import (
    ActivateBody,
    AmendBody,
    ApproveBody,
    AssignBody,
    CarrierEventBody,
    ExpediteBody,
    OrderPage,
    ReasonBody,
    RequestPage,
    VerifyBody,
)
from api.v1.ports import page_json
from api.v1.problems import ApiProblem, ProblemItem, errors
from models.request import DocumentKind
from portflow.cli import actions, order_actions
from portflow.cli.errors import CliError

router = APIRouter(prefix="/v1/ports/{id}", tags=["port actions"],
                   responses=errors(401, 403, 404, 409, 413, 415, 422, 503, 504))
Pm = Annotated[Principal, Depends(require(*PM))]
Ops = Annotated[Principal, Depends(require(*OPS))]
PortId = Annotated[str, Path(description="A request id (PR-2026-0042) or an order id (PR-2026-0042-1)",
                             max_length=40)]
OrderId = Annotated[str, Path(description="An order id (PR-2026-0042-1)", max_length=40)]
PAGE = {200: {"model": RequestPage | OrderPage, "description": "The port's status page after the action"},
        202: {"model": RequestPage | OrderPage, "description": "Accepted, still in progress: the page now"}}


async def _act(request: Request, target: str, step: Callable[[Client], Awaitable[Any]], *,
               page_of: str | None = None) -> JSONResponse:
    """Run ``step`` (a shared action) with the Temporal client; its refusal as a problem; the
    page of ``page_of`` (default ``target``) after it. The client is connected only here: a
    request refused for its input (401, 403, 422) needs no server."""
    client = await get_client(request)
    try:
        result = await step(client)
    except CliError as err:
        raise problem_of(err) from None
    try:
        page = await page_json(client, page_of or target)
    except ApiProblem:
        if not hasattr(result, "model_dump"):
            raise
        # done, but the page could not be read just now: answer with the view the action
        # returned rather than an error a retry would repeat the action for
        page = {**result.model_dump(mode="json"), "workflow_problems": {}}
    return JSONResponse(page, status_code=202 if result is None else 200)


@router.post("/documents", summary="Attach a document (starter.py attach)", responses=PAGE)
async def attach(
    request: Request, id: PortId, who: Pm,  # noqa: A002
    file: Annotated[UploadFile, File(description="The document: PDF, image or text")],
    kind: Annotated[Literal["csr", "bill", "other"], Form(description="What it is")],
    order: Annotated[str | None, Form(max_length=40, description="The order it belongs to (default: all)")] = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    request_id, _ = port_id(id)
    data = await file.read()
    name = (file.filename or "document").replace("\x00", "")[-200:] or "document"
    payload = {"sha256": hashlib.sha256(data).hexdigest(), "name": name, "kind": kind, "order": order}

    async def work(_: Attempt) -> JSONResponse:
        with tempfile.TemporaryDirectory(prefix="portflow-upload-") as tmp:
            safe = FilePath(name.replace("\\", "/")).name.strip() or "document"
            if safe in (".", ".."):
                safe = "document"
            path = FilePath(tmp) / safe[:200]
            try:
                path.write_bytes(data)
            except OSError:
                path = FilePath(tmp) / "document"
                path.write_bytes(data)
            return await _act(request, request_id, lambda client: actions.cmd_attach(
                client, id, path, DocumentKind(kind), actor=who.owner,
                order_id=order.strip().upper() if order else None), page_of=request_id)

    return await once(request, who, idempotency_key, payload, work)


@router.post("/assign", summary="Assign ported numbers (starter.py assign)", responses=PAGE)
async def assign(request: Request, id: PortId, body: AssignBody, who: Pm,  # noqa: A002
                 idempotency_key: IdempotencyKey = None) -> JSONResponse:
    request_id, _ = port_id(id)

    async def work(_: Attempt) -> JSONResponse:
        client = await get_client(request)
        try:
            await actions.cmd_assign(client, id, body.assignments, actor=who.owner, kind=body.kind)
            tns = {actions.normalize_tn(t) for t in body.assignments}
            page = await actions.settle_assignments(client, request_id, tns)
        except CliError as err:
            raise problem_of(err) from None
        return JSONResponse(page.to_json())

    return await once(request, who, idempotency_key, body.model_dump(mode="json"), work)


@router.post("/expedite", summary="Expedite: waive the lead time (starter.py expedite)", responses=PAGE)
async def expedite(request: Request, id: PortId, body: ExpediteBody, who: Pm,  # noqa: A002
                   idempotency_key: IdempotencyKey = None) -> JSONResponse:
    request_id, _ = port_id(id)
    return await once(request, who, idempotency_key, body.model_dump(mode="json"), lambda _: _act(
        request, request_id, lambda client: actions.cmd_expedite(client, id, actor=who.owner, reason=body.reason,
                                                 port_date=body.port_date)))


@router.post("/cancel", summary="Cancel a request or one order (starter.py cancel)", responses=PAGE)
async def cancel(request: Request, id: PortId, body: ReasonBody, who: Pm,  # noqa: A002
                 idempotency_key: IdempotencyKey = None) -> JSONResponse:
    request_id, order_id = port_id(id)
    return await once(request, who, idempotency_key, body.model_dump(mode="json"), lambda _: _act(
        request, order_id or request_id, lambda client: actions.cmd_cancel(client, id, actor=who.owner, reason=body.reason)))


@router.post("/amend", summary="Correct an order (starter.py amend)", responses=PAGE)
async def amend(request: Request, id: OrderId, body: AmendBody, who: Pm,  # noqa: A002
                idempotency_key: IdempotencyKey = None) -> JSONResponse:
    order_id = order_of(id)
    fields = body.model_dump(exclude={"reason"})

    async def work(_: Attempt) -> JSONResponse:
        try:
            change = order_actions.build_amend(actor=who.owner, order_id=order_id, reason=body.reason,
                                               **{**fields, "signer": body.signer,
                                                  "service_address": body.service_address})
        except CliError as err:
            raise ApiProblem(422, err.message, problems=[ProblemItem(code="invalid_field", message=err.message)]
                             ) from None
        return await _act(request, order_id, lambda client: order_actions.cmd_amend(client, change))

    # only the fingerprint (a hash) of the body is stored, never the new account number or PIN
    return await once(request, who, idempotency_key, body.model_dump(mode="json"), work)


@router.post("/approve", summary="Approve submission to the carrier (starter.py approve)", responses=PAGE)
async def approve(request: Request, id: OrderId, body: ApproveBody, who: Pm,  # noqa: A002
                  idempotency_key: IdempotencyKey = None) -> JSONResponse:
    order_id = order_of(id)

    async def work(_: Attempt) -> JSONResponse:
        client = await get_client(request)
        try:
            view = await order_actions.cmd_approve(client, order_id, actor=who.owner, note=body.note)
            await actions.settle_order(client, order_id, view.status.value)
        except CliError as err:
            raise problem_of(err) from None
        return JSONResponse(await page_json(client, order_id))

    return await once(request, who, idempotency_key, body.model_dump(mode="json"), work)


@router.post("/verify", summary="Confirm or fail test calls (starter.py verify)", responses=PAGE)
async def verify(request: Request, id: OrderId, body: VerifyBody, who: Ops,  # noqa: A002
                 idempotency_key: IdempotencyKey = None) -> JSONResponse:
    order_id = order_of(id)
    return await once(request, who, idempotency_key, body.model_dump(mode="json"), lambda _: _act(
        request, order_id, lambda client: order_actions.cmd_verify(client, order_id, actor=who.owner, ok=body.ok, notes=body.notes)))


@router.post("/activate", summary="Activate a fast-port order now (starter.py activate)", responses=PAGE)
async def activate(request: Request, id: OrderId, body: ActivateBody, who: Ops,  # noqa: A002
                   idempotency_key: IdempotencyKey = None) -> JSONResponse:
    order_id = order_of(id)
    return await once(request, who, idempotency_key, body.model_dump(mode="json"), lambda _: _act(
        request, order_id, lambda client: order_actions.cmd_activate(client, order_id, actor=who.owner, reason=body.reason)))


@router.post("/carrier-events", summary="Record what the carrier said (starter.py carrier-event)", responses=PAGE)
async def carrier_event(request: Request, id: OrderId, body: CarrierEventBody, who: Ops,  # noqa: A002
                        idempotency_key: IdempotencyKey = None) -> JSONResponse:
    order_id = order_of(id)

    async def work(_: Attempt) -> JSONResponse:
        client = await get_client(request)
        try:
            _event, ack = await order_actions.cmd_carrier_event(
                client, order_id, actor=who.owner, carrier_order_id=body.carrier_order_id, foc=body.foc,
                reject_code=body.reject_code, reject_text=body.reject_text, completed=body.completed,
                note=body.note, cancelled=body.cancelled, activation_failed=body.activation_failed)
            await actions.settle_order(client, order_id, ack.status)
        except CliError as err:
            raise problem_of(err) from None
        return JSONResponse(await page_json(client, order_id))

    return await once(request, who, idempotency_key, body.model_dump(mode="json"), work)
