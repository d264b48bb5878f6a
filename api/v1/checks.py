"""``POST /v1/checks``: the offline check as a service (``starter.py check --json``).

The body is a port request as JSON, the schema ``POST /v1/ports`` takes; the answer is the
check's report, 200 whether or not the request passes (``ok``), and nothing is stored or
started. Any key may check (roles ``pm``, ``ops``, ``read``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.v1.auth import ANY, Principal, require
from api.v1.common import read_json
from api.v1.idempotency import Attempt, IdempotencyKey, once
from api.v1.models import CheckResult
from api.v1.problems import errors
from api.v1.schema import REQUEST_BODY
from portflow.cli.files import check_data

router = APIRouter(prefix="/v1", tags=["checks"], responses=errors(401, 403, 409, 413, 415, 422))


@router.post("/checks", response_model=CheckResult, summary="Check a port request without starting it",
             openapi_extra=REQUEST_BODY)
async def check(
    request: Request,
    who: Annotated[Principal, Depends(require(*ANY))],
    idempotency_key: IdempotencyKey = None,
    today: Annotated[date | None, Query(description="Check as if today were this date")] = None,
    allow_unknown_fields: Annotated[bool, Query(description="Keys no field matches are warnings")] = False,
) -> JSONResponse:
    body = await read_json(request)

    async def work(_: Attempt) -> JSONResponse:
        report = await run_in_threadpool(check_data, body, today=today, allow_unknown_fields=allow_unknown_fields,
                                         source="<request body>")
        return JSONResponse(report.to_dict())

    return await once(request, who, idempotency_key, body, work)
