"""``POST /v1/ports``: start a port from a request given as JSON.

The body is checked exactly as ``starter.py check``/``start`` check a request file
(``portflow.cli.files.plan_start_data``): a refused request answers 422 with every problem
(the check's codes) and nothing is stored or started. It then starts through the CLI's own
path (``portflow.cli.starting.cmd_start`` -> ``portflow.ports.start_port``), with the key's
owner as the actor. ``?expedite=REASON`` waives the 3-week lead time as ``--expedite``
does. Documents are uploaded afterwards (``POST /v1/ports/{id}/documents``).

With an ``Idempotency-Key`` the request id is reserved before the start, so a retry after
a crash mid-way finds the same port instead of starting a second one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.v1.auth import PM, Principal, require
from api.v1.common import get_client, problem_of, read_json
from api.v1.idempotency import Attempt, IdempotencyKey, once
from api.v1.models import Started
from api.v1.problems import ApiProblem, ProblemItem, errors
from api.v1.schema import REQUEST_BODY
from portflow.cli import actions
from portflow.cli.errors import CliError
from portflow.cli.files import StartRefused, plan_start_data
from portflow.cli.starting import StartUnconfirmed

router = APIRouter(prefix="/v1", tags=["ports"], responses=errors(401, 403, 409, 413, 415, 422, 503, 504))


def _items(problems: list) -> list[ProblemItem]:
    return [ProblemItem(code=p.code, message=p.message, where=p.where, severity=str(p.severity), section=p.section,
                        line=p.line) for p in problems]


@router.post("/ports", status_code=201, response_model=Started, openapi_extra=REQUEST_BODY,
             summary="Start a port (starter.py start)",
             responses={202: {"model": Started, "description": "Started; no worker confirmed it yet"}})
async def start_port(
    request: Request,
    who: Annotated[Principal, Depends(require(*PM))],
    idempotency_key: IdempotencyKey = None,
    expedite: Annotated[str | None, Query(min_length=3, max_length=2000,
                                          description="Waive the 3-week lead time, saying why")] = None,
    allow_unknown_fields: Annotated[bool, Query(description="Start although unknown keys are present")] = False,
) -> JSONResponse:
    body = await read_json(request)

    async def work(attempt: Attempt) -> JSONResponse:
        try:
            plan = await run_in_threadpool(plan_start_data, body, expedite=expedite,
                                           allow_unknown_fields=allow_unknown_fields, source="<request body>")
        except StartRefused as refused:
            errs = refused.report.errors
            hint = (" (or pass ?expedite=REASON if only the lead time is short)"
                    if any(p.code == "lead_time" for p in errs) and not expedite else "")
            raise ApiProblem(422, f"not started: the request does not pass the check: {len(errs)} error(s), "
                             f"first: {errs[0].message}{hint}" if errs else "not started: the check refused it",
                             slug="check-failed", title="The request does not pass the check",
                             problems=_items(refused.report.problems)) from None
        client = await get_client(request)  # only now: a refused request needs no server
        req = plan.request
        reserved = attempt.reserved.get("request_id")
        rid = req.id if plan.has_own_id else reserved or await actions.fresh_request_id(client)
        await attempt.reserve(request_id=rid)
        req = req.model_copy(update={"id": rid})
        orders = [p.order_id for p in req.order_parts()]
        try:
            view = await actions.cmd_start(client, req, base_dir=plan.base_dir, actor=who.owner, expedite=expedite)
        except StartUnconfirmed:
            out = Started(id=rid, orders=orders, confirmed=False, waived=[p.to_dict() for p in plan.waived])
            return JSONResponse(out.model_dump(mode="json"), status_code=202, headers={"Location": f"/v1/ports/{rid}"})
        except CliError as err:
            if reserved == rid and "was already started" in err.message:
                view = None  # our own earlier attempt started it: answer as it would have
            elif "numbers already taken" in err.message or "was already started" in err.message:
                code = "numbers_taken" if "numbers already taken" in err.message else "duplicate_request"
                raise ApiProblem(409, err.message, slug="not-started", title="The port was not started",
                                 problems=[ProblemItem(code=code, message=err.message)]) from None
            else:
                raise problem_of(err) from None
        if view is not None and view.status.value == "failed":
            why = view.timeline[-1].reason if view.timeline else "see its status page"
            raise ApiProblem(409, f"{rid} was refused at intake: {why.removeprefix('intake refused: ')}",
                             slug="refused-at-intake", title="Refused at intake",
                             problems=[ProblemItem(code="numbers_taken", message=why)])
        try:
            page = (await actions.cmd_status(client, rid)).to_json()
        except CliError:
            page = None
        out = Started(id=rid, orders=orders, confirmed=True, port=page, waived=[p.to_dict() for p in plan.waived])
        return JSONResponse(out.model_dump(mode="json"), status_code=201, headers={"Location": f"/v1/ports/{rid}"})

    return await once(request, who, idempotency_key, body, work)
