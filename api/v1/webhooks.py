"""``/v1/webhooks``: outgoing webhook subscriptions over HTTP (role ``pm``), the same store
functions as ``starter.py webhooks`` (``store.webhooks``).

* ``POST /v1/webhooks`` subscribes a URL; the answer (201) holds the signing ``secret``, the
  only time it is shown. With an ``Idempotency-Key`` a retry gets the same answer, secret
  included: the idempotency record stores the answer without it and the secret is read
  back from the vault, so it is never kept in clear outside the vault.
* ``GET /v1/webhooks`` lists them (never a secret), ``?all=true`` with the removed ones.
* ``DELETE /v1/webhooks/{id}`` removes one (pending deliveries are skipped).
* ``GET /v1/webhooks/{id}/deliveries``: its newest deliveries, state, attempts, last error.
* ``POST /v1/webhooks/{id}/deliveries/{n}/redeliver``: a failed delivery sent again (409 for
  one that is not failed: a retried call never sends twice).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.v1.auth import PM, Principal, require
from api.v1.common import get_client
from api.v1.idempotency import REPLAYED, Attempt, IdempotencyKey, once
from api.v1.problems import ApiProblem, ProblemItem, errors
from models.webhooks import MAX_URL, EventType, SubscriptionProblem, check_request_id, check_url, parse_events

router = APIRouter(prefix="/v1", tags=["webhooks"], responses=errors(401, 403, 404, 409, 413, 415, 422))
SubId = Annotated[str, Path(max_length=40, description="A subscription id, whs_...")]


class SubscribeBody(BaseModel):
    url: str = Field(max_length=MAX_URL, description="https://..., or http://localhost / 127.0.0.1 for local use")
    events: list[str] | None = Field(default=None, max_length=20, description=(
        "Event types: " + ", ".join(e.value for e in EventType) + ", or all (default: all)"))
    request_id: str | None = Field(default=None, max_length=40, description="Only this port request's events")


class RedeliverBody(BaseModel):
    reason: str | None = Field(default=None, max_length=500, description="Why, e.g. 'receiver fixed'")


class Subscription(BaseModel):
    id: str
    url: str
    events: list[str]
    request_id: str | None
    owner: str
    created_at: datetime
    disabled_at: datetime | None = None


class Subscribed(Subscription):
    secret: str = Field(description="Signs every delivery (Portflow-Signature); shown only in this answer")


class Delivery(BaseModel):
    id: int
    event_id: str
    event_type: str
    subject: str
    to_status: str
    state: str = Field(description="pending, delivered, failed or skipped")
    attempts: int
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None


def _view(row) -> Subscription:  # noqa: ANN001
    return Subscription(id=row.id, url=row.url, events=row.events, request_id=row.request_id, owner=row.owner,
                        created_at=row.created_at, disabled_at=row.disabled_at)


def _checked(body: SubscribeBody) -> tuple[str, list[EventType], str | None]:
    """Every problem of the body at once, as the offline check reports a request's."""
    problems, out = [], {}
    for name, check in (("url", lambda: check_url(body.url)), ("events", lambda: parse_events(body.events)),
                        ("request_id", lambda: check_request_id(body.request_id))):
        try:
            out[name] = check()
        except SubscriptionProblem as exc:
            problems.append(ProblemItem(code=f"invalid_{name}", message=str(exc), where=f"body.{name}"))
    if problems:
        raise ApiProblem(422, "not subscribed: " + "; ".join(p.message for p in problems), problems=problems)
    return out["url"], out["events"], out["request_id"]


@router.post("/webhooks", status_code=201, response_model=Subscribed,
             summary="Subscribe a URL to port events (starter.py webhooks subscribe)")
async def subscribe(request: Request, body: SubscribeBody, who: Annotated[Principal, Depends(require(*PM))],
                    idempotency_key: IdempotencyKey = None) -> JSONResponse:
    from store import webhooks

    url, events, rid = _checked(body)

    async def work(_: Attempt) -> JSONResponse:
        row, _secret = await run_in_threadpool(
            lambda: webhooks.subscribe(url=url, events=events, owner=who.owner, request_id=rid))
        # the secret is added below, after the idempotency record stored this answer
        return JSONResponse(_view(row).model_dump(mode="json"), status_code=201,
                            headers={"Location": f"/v1/webhooks/{row.id}"})

    answer = await once(request, who, idempotency_key, body.model_dump(mode="json"), work)
    if answer.status_code != 201:
        return answer  # type: ignore[return-value]
    sub = json.loads(bytes(answer.body))
    secret = await run_in_threadpool(webhooks.secret_of, sub["id"])
    headers = {"Location": f"/v1/webhooks/{sub['id']}"}
    if answer.headers.get(REPLAYED):
        headers[REPLAYED] = "true"
    return JSONResponse({**sub, "secret": secret}, status_code=201, headers=headers)


@router.get("/webhooks", response_model=list[Subscription], summary="The subscriptions (never their secrets)")
async def list_subscriptions(_: Annotated[Principal, Depends(require(*PM))],
                             all: Annotated[bool, Query(description="Also the removed ones")] = False,  # noqa: A002
                             ) -> list[Subscription]:
    from store import webhooks

    rows = await run_in_threadpool(lambda: webhooks.subscriptions(include_disabled=all))
    return [_view(r) for r in rows]


@router.delete("/webhooks/{sub_id}", response_model=Subscription,
               summary="Remove a subscription: nothing more is sent to it")
async def unsubscribe(sub_id: SubId, _: Annotated[Principal, Depends(require(*PM))]) -> Subscription:
    from store import webhooks

    try:
        row, _skipped = await run_in_threadpool(webhooks.unsubscribe, sub_id)
    except webhooks.UnknownSubscription as exc:
        raise ApiProblem(404, str(exc)) from None
    return _view(row)


@router.get("/webhooks/{sub_id}/deliveries", response_model=list[Delivery],
            summary="A subscription's newest deliveries (starter.py webhooks deliveries)")
async def deliveries(sub_id: SubId, _: Annotated[Principal, Depends(require(*PM))],
                     limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[Delivery]:
    from store import webhooks

    try:
        rows = await run_in_threadpool(lambda: webhooks.deliveries(subscription_id=sub_id, limit=limit))
    except webhooks.UnknownSubscription as exc:
        raise ApiProblem(404, str(exc)) from None
    return [_delivery(d, e) for d, e in rows]


@router.post("/webhooks/{sub_id}/deliveries/{delivery_id}/redeliver", response_model=Delivery,
             responses=errors(503, 504), summary="Send a failed delivery again (starter.py webhooks redeliver)")
async def redeliver(request: Request, sub_id: SubId, delivery_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
                    body: RedeliverBody, who: Annotated[Principal, Depends(require(*PM))],
                    idempotency_key: IdempotencyKey = None) -> JSONResponse:
    from activities.webhook_dispatch import redeliver as send_again
    from core.settings import get_settings
    from store import webhooks

    async def work(_: Attempt) -> JSONResponse:
        try:
            rows = await run_in_threadpool(lambda: webhooks.deliveries(subscription_id=sub_id, limit=10_000))
        except webhooks.UnknownSubscription as exc:
            raise ApiProblem(404, str(exc)) from None
        if not any(d.id == delivery_id for d, _ in rows):
            raise ApiProblem(404, f"subscription {sub_id} has no delivery {delivery_id}")
        try:
            await run_in_threadpool(webhooks.check_redeliverable, delivery_id)
            client = await get_client(request)  # only now: a refused redelivery needs no server
            by = who.owner + (f" ({' '.join(body.reason.split())})" if body.reason else "")
            await send_again(client, get_settings().temporal_task_queue, delivery_id, by=by)
        except webhooks.CannotRedeliver as exc:
            raise ApiProblem(409, str(exc)) from None
        d, e = next((d, e) for d, e in await run_in_threadpool(
            lambda: webhooks.deliveries(subscription_id=sub_id, limit=10_000)) if d.id == delivery_id)
        return JSONResponse(_delivery(d, e).model_dump(mode="json"))

    return await once(request, who, idempotency_key, body.model_dump(mode="json"), work)


def _delivery(d, e) -> Delivery:  # noqa: ANN001
    return Delivery(id=d.id, event_id=e.id, event_type=e.type, subject=e.subject, to_status=e.to_status,
                    state=d.state, attempts=d.attempts, last_status_code=d.last_status_code,
                    last_error=d.last_error, delivered_at=d.delivered_at)
