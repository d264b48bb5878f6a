"""Reading ports: ``GET /v1/ports`` (``starter.py list``'s filters, one page at a time) and
``GET /v1/ports/{id}`` (``starter.py status --json``: a request id or an order id).

Both call what the CLI calls (``portflow.cli.listing``, ``portflow.cli.actions.cmd_status``),
so the terminal, the API and the Temporal UI agree. Any key may read (roles ``pm``,
``ops``, ``read``).
"""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from temporalio.client import Client

from api.v1.auth import ANY, Principal, require
from api.v1.common import get_client, port_id, problem_of
from api.v1.models import OrderPage, PortList, PortRow, RequestPage
from api.v1.problems import ApiProblem, ProblemItem, errors
from models.status import PortStatus
from models.workflow import WaitingOn
from portflow.cli import actions
from portflow.cli.errors import CliError
from portflow.cli.listing import ListFilter, build_query, list_page

router = APIRouter(prefix="/v1", tags=["ports"], responses=errors(401, 403, 422, 503))
Reader = Annotated[Principal, Depends(require(*ANY))]
PortId = Annotated[str, Path(description="A request id (PR-2026-0042) or an order id (PR-2026-0042-1)",
                             max_length=40)]


def _cursor(text: str | None) -> bytes | None:
    if not text:
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ApiProblem(422, "cursor is not one this API gave: pass next_cursor from the previous page as it is",
                         problems=[ProblemItem(code="invalid_cursor", where="query:cursor", message="unknown cursor")]
                         ) from None


@router.get("/ports", response_model=PortList, summary="List ports (starter.py list)")
async def list_ports(
    request: Request, who: Reader,
    status: Annotated[PortStatus | None, Query(description="A stage, e.g. foc_confirmed")] = None,
    carrier: Annotated[str | None, Query(max_length=200, description="A losing carrier, as written")] = None,
    customer: Annotated[str | None, Query(max_length=200, description="The customer's name, exactly")] = None,
    port_date_before: date | None = None,
    port_date_after: date | None = None,
    waiting_on: WaitingOn | None = None,
    escalated: bool = False,
    kind: Annotated[Literal["request", "order"], Query(description="requests (default) or port orders")] = "request",
    running: Annotated[bool, Query(description="only ports still in flight")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=4000, description="next_cursor of the previous page")] = None,
) -> JSONResponse:
    f = ListFilter(status=status.value if status else None, carrier=carrier, customer=customer,
                   port_date_before=port_date_before, port_date_after=port_date_after,
                   waiting_on=waiting_on.value if waiting_on else None, escalated=escalated,
                   orders=kind == "order", running=running)
    try:
        query = build_query(f)
        client = await get_client(request)
        rows, token = await list_page(client, f, limit=limit, page_token=_cursor(cursor))
    except CliError as err:
        if "the server refused" in err.message and cursor:
            raise ApiProblem(422, "cursor is not valid for this listing: start again without it",
                             problems=[ProblemItem(code="invalid_cursor", where="query:cursor",
                                                   message="unknown cursor")]) from None
        raise problem_of(err) from None
    items = [PortRow(id=r.workflow_id, kind=r.kind, customer=r.customer, status=r.status, port_date=r.port_date,
                     carriers=r.carriers, waiting_on=r.waiting_on, next_deadline=r.next_deadline,
                     escalated=r.escalated, execution=r.execution, started=r.started) for r in rows]
    body = PortList(items=items, limit=limit, query=query,
                    next_cursor=base64.urlsafe_b64encode(token).decode().rstrip("=") if token else None)
    return JSONResponse(body.model_dump(mode="json"))


async def page_json(client: Client, target: str) -> dict:
    """The status page of ``target`` as JSON (what every action answers with)."""
    try:
        page = await actions.cmd_status(client, target)
    except CliError as err:
        raise problem_of(err) from None
    return page.to_json()


@router.get("/ports/{id}", summary="A port's status page (starter.py status)", responses={
    200: {"model": RequestPage | OrderPage, "description": "The request's page, or the order's"}, **errors(404)})
async def get_port(request: Request, id: PortId, who: Reader) -> JSONResponse:  # noqa: A002
    request_id, order_id = port_id(id)
    return JSONResponse(await page_json(await get_client(request), order_id or request_id))
