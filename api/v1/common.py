"""What the /v1 routes share: the Temporal client, reading a JSON body, and turning the
shared actions' refusals (``portflow.cli.errors.CliError``) into problems."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Request
from temporalio.client import Client

from api.deps import app_client
from api.v1.problems import ApiProblem, ProblemItem
from portflow.cli.errors import EXIT_UNREACHABLE, CliError, parse_id

MAX_JSON = 2 * 1024 * 1024  # a request of 10,000 numbers is about 600 KB of JSON
MAX_DEPTH = 64


async def get_client(request: Request) -> Client:
    """The app's Temporal client (``api.deps.app_client``); 503 with what to check when
    Temporal cannot be reached."""
    try:
        return await app_client(request)
    except Exception as err:  # noqa: BLE001 - any failure to connect is a 503
        from portflow.cli.errors import unreachable_message

        raise ApiProblem(503, unreachable_message(str(err)), headers={"Retry-After": "10"}) from None


ClientDep = Annotated[Client, Depends(get_client)]


def problem_of(err: CliError) -> ApiProblem:
    """A shared action's refusal as a problem: 404 for an unknown port, 409 for a change the
    port's state refuses, 503/504 when Temporal or the worker does not answer, else 422."""
    from temporalio.client import WorkflowUpdateFailedError
    from temporalio.service import RPCError, RPCStatusCode

    msg = err.message
    cause = err.__cause__
    if err.code == EXIT_UNREACHABLE:
        return ApiProblem(503, msg, headers={"Retry-After": "10"})
    if "no worker answered" in msg:
        return ApiProblem(504, msg, slug="no-worker")
    if msg.startswith("no port ") or (isinstance(cause, RPCError) and cause.status == RPCStatusCode.NOT_FOUND
                                      and "already completed" not in str(cause)) or " has no order " in msg:
        return ApiProblem(404, msg, problems=[ProblemItem(code="unknown_port", message=msg)])
    if isinstance(cause, WorkflowUpdateFailedError) or ": refused: " in msg or "is already attached" in msg or "has finished" in msg \
            or "has not started yet" in msg or "never started" in msg or "has not been submitted" in msg:
        return ApiProblem(409, msg, slug="refused-by-port", title="Refused by the port's current state",
                          problems=[ProblemItem(code="refused", message=msg)])
    return ApiProblem(422, msg, problems=[ProblemItem(code="invalid_field", message=msg)])


def port_id(value: str) -> tuple[str, str | None]:
    """(request id, order id or None) of a path's id; 404 when it is not a port id at all."""
    try:
        return parse_id(value)
    except CliError as err:
        raise ApiProblem(404, err.message, problems=[ProblemItem(code="invalid_id", where="path:id",
                                                                  message=err.message)]) from None


def order_of(value: str) -> str:
    request_id, order_id = port_id(value)
    if order_id is None:
        raise ApiProblem(422, f"{request_id} is a request; this action works on one of its orders, such as "
                         f"{request_id}-1", problems=[ProblemItem(code="order_id_required", where="path:id",
                                                                  message="give an order id (PR-2026-0042-1)")])
    return order_id


def _depth(value: Any, limit: int) -> int:
    stack, deepest = [(value, 1)], 0
    while stack:
        v, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > limit:
            return deepest
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
    return deepest


async def read_json(request: Request, *, limit: int = MAX_JSON) -> dict[str, Any]:
    """The body as a JSON object: 415 unless it is JSON, 413 over ``limit``, 422 unless an object."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json" and not (ctype.startswith("application/") and ctype.endswith("+json")):
        raise ApiProblem(415, f"send the body as application/json, not {ctype[:60] or 'nothing'}",
                         headers={"Accept-Post": "application/json"})
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiProblem(413, f"the body is over {limit:,} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiProblem(413, f"the body is over {limit:,} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiProblem(422, "the body is not JSON (or not UTF-8): send a JSON object",
                         problems=[ProblemItem(code="invalid_json", where="body", message="not JSON")]) from None
    if not isinstance(body, dict):
        raise ApiProblem(422, f"the body is a JSON {type(body).__name__}, not an object",
                         problems=[ProblemItem(code="invalid_json", where="body", message="send a JSON object")])
    if _depth(body, MAX_DEPTH) > MAX_DEPTH:
        raise ApiProblem(422, f"the body nests deeper than {MAX_DEPTH} levels",
                         problems=[ProblemItem(code="invalid_json", where="body", message="too deeply nested")])
    return body
