"""``Idempotency-Key`` on every POST under /v1: a retried request gets the first answer.

A route hands its work to :func:`once` with a fingerprint of what was asked (method, path,
query and the parsed body: a retry with other whitespace, or another multipart boundary,
is the same request). The first call runs the work and stores its answer (status and
body, errors included, unless the error is worth retrying: 5xx); a retry with the same
key, the same key's owner and the same fingerprint gets that answer back with the header
``Idempotent-Replayed: true`` and runs nothing; the same key with another body is refused
(422), and a retry while the first call is still running is told to wait (409).

Keys are scoped per API key (two callers may pick the same key) and kept 24 hours
(``store.idempotency.EXPIRY``). Without the header a POST runs every time.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from api.v1.auth import Principal
from api.v1.problems import ApiProblem, ProblemItem, problem_response
from store import idempotency as records

MAX_KEY = 255
REPLAYED = "Idempotent-Replayed"
LOCATION = "_location"  # kept with the record: a replayed 201 names the port it made, as the first did

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", max_length=MAX_KEY,
    description="Any unique string (a UUID): a retry with the same key and body gets the first answer, "
                "and never acts twice. Kept 24 hours, per API key.")]


@dataclass
class Attempt:
    """What the work may keep for a retry (``reserve``) and what an earlier attempt kept."""

    key_id: str
    key: str | None
    reserved: dict[str, Any] = field(default_factory=dict)

    async def reserve(self, **values: Any) -> None:
        self.reserved.update(values)
        if self.key is not None:
            await run_in_threadpool(records.reserve, self.key_id, self.key, **values)


def fingerprint(request: Request, payload: Any) -> str:
    canon = json.dumps([request.method, request.url.path, sorted(request.query_params.multi_items()), payload],
                       sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()


def _check_key(key: str) -> str:
    value = key.strip()
    if not value or not value.isascii() or not value.isprintable():
        raise ApiProblem(422, "Idempotency-Key must be 1 to 255 printable ASCII characters, e.g. a UUID",
                         problems=[ProblemItem(code="invalid_idempotency_key", where="header:Idempotency-Key",
                                               message="give a UUID or another unique printable string")])
    return value


_last_purge = 0.0
PURGE_EVERY = 3600.0  # seconds: expired records are dropped at most once an hour per process


async def _purge_now_and_then() -> None:
    global _last_purge
    now = time.monotonic()
    if now - _last_purge >= PURGE_EVERY:
        _last_purge = now
        await run_in_threadpool(records.purge)


async def once(request: Request, who: Principal, key: str | None, payload: Any,
               work: Callable[[Attempt], Awaitable[Response]]) -> Response:
    """Run ``work`` once per (``who``, ``key``, ``payload``); see the module's docstring."""
    if key is None:
        return await work(Attempt(who.key_id, None))
    key = _check_key(key)
    await _purge_now_and_then()
    claim = await run_in_threadpool(records.claim, who.key_id, key, fingerprint(request, payload))
    if claim.outcome == "mismatch":
        raise ApiProblem(422, f"Idempotency-Key {key[:60]!r} was used for a different request: use a new key for "
                         "a new request, or send exactly the first request again", slug="idempotency-key-reused",
                         problems=[ProblemItem(code="idempotency_key_reused", where="header:Idempotency-Key",
                                               message="this key belongs to another request body or endpoint")])
    if claim.outcome == "running":
        raise ApiProblem(409, f"a request with Idempotency-Key {key[:60]!r} is still being processed: retry in "
                         "a few seconds to get its answer", slug="idempotency-in-progress",
                         headers={"Retry-After": "2"})
    if claim.outcome == "replay":
        location = (claim.reserved or {}).get(LOCATION)
        return Response(claim.body or "", status_code=claim.status_code or 200, media_type=claim.media_type,
                        headers={REPLAYED: "true", **({"Location": location} if location else {})})
    attempt = Attempt(who.key_id, key, dict(claim.reserved or {}))
    try:
        response = await work(attempt)
    except ApiProblem as problem:
        if problem.status >= 500:
            await run_in_threadpool(records.release, who.key_id, key)
            raise
        response = problem_response(request, problem.status, problem.detail, problems=problem.problems,
                                    slug=problem.slug, title=problem.title, headers=problem.headers)
    except BaseException:
        await run_in_threadpool(records.release, who.key_id, key)
        raise
    if response.status_code >= 500:
        await run_in_threadpool(records.release, who.key_id, key)
        return response
    body = bytes(response.body).decode("utf-8")
    if response.headers.get("location"):
        await attempt.reserve(**{LOCATION: response.headers["location"]})
    await run_in_threadpool(records.finish, who.key_id, key, response.status_code, body,
                            response.media_type or "application/json")
    return response


def json_response(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)
