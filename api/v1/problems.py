"""Errors of the REST API as ``application/problem+json`` (RFC 9457).

Every error under ``/v1`` (401, 403, 404, 409, 413, 415, 422, FastAPI's own validation
errors, a 500 should one happen) answers with a :class:`Problem`: ``type``, ``title``,
``status``, ``detail``, ``instance`` and the ``problems`` extension, a list of
:class:`ProblemItem` whose ``code`` is the offline check's code (``portflow.check``) when
the request body is at fault. Routes outside ``/v1`` (webhooks, codec server) keep
FastAPI's default error bodies.

Raise :class:`ApiProblem` from a route; ``install(app)`` registers the handlers, and
``ERRORS`` (or :func:`errors`) documents the responses in the OpenAPI schema.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
PREFIX = "/v1"
TYPE_BASE = "urn:portflow:problem:"

TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Not allowed for this key's role",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Body too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Internal error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Timed out",
}
SLUGS = {
    400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
    406: "not-acceptable", 409: "conflict", 413: "body-too-large", 415: "unsupported-media-type",
    422: "invalid-request", 429: "too-many-requests", 500: "internal-error", 502: "bad-gateway",
    503: "unavailable", 504: "timeout",
}


class ProblemItem(BaseModel):
    """One thing wrong: ``code`` as the offline check names it (``missing_field``,
    ``invalid_tn``, ``lead_time``...), where it is, and what to do about it."""

    code: str
    message: str
    where: str | None = None
    severity: str = "error"
    section: str | None = None
    line: int | None = None


class Problem(BaseModel):
    """An RFC 9457 problem detail, with the ``problems`` extension (every problem found)."""

    type: str = Field(description="A URI naming the kind of problem (urn:portflow:problem:...)")
    title: str
    status: int
    detail: str
    instance: str | None = Field(None, description="The path of the request that failed")
    problems: list[ProblemItem] = Field(default_factory=list)


class ApiProblem(Exception):
    """Raise from a route: answered as a :class:`Problem`."""

    def __init__(self, status: int, detail: str, *, problems: list[ProblemItem] | None = None,
                 slug: str | None = None, title: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.problems = status, detail, problems or []
        self.slug = slug or SLUGS.get(status, "error")
        self.title = title or TITLES.get(status, "Error")
        self.headers = headers or {}


def problem_response(request: Request, status: int, detail: str, *, problems: list[ProblemItem] | None = None,
                     slug: str | None = None, title: str | None = None,
                     headers: dict[str, str] | None = None) -> JSONResponse:
    body = Problem(type=TYPE_BASE + (slug or SLUGS.get(status, "error")), title=title or TITLES.get(status, "Error"),
                   status=status, detail=detail, instance=request.url.path, problems=problems or [])
    return JSONResponse(body.model_dump(mode="json"), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _ours(request: Request) -> bool:
    path = request.url.path
    return path == PREFIX or path.startswith(PREFIX + "/")


def _validation_items(exc: RequestValidationError) -> list[ProblemItem]:
    items = []
    for e in exc.errors()[:100]:
        loc = [str(p) for p in e.get("loc", ())]
        where = ".".join(loc[1:]) if loc and loc[0] in ("body", "query", "path", "header", "form") else ".".join(loc)
        kind = loc[0] if loc else "request"
        code = "missing_field" if e.get("type") == "missing" else "invalid_field"
        items.append(ProblemItem(code=code, where=f"{kind}:{where}" if where else kind,
                                 message=f"{where or kind}: {e.get('msg', 'invalid')}"[:500]))
    return items


def install(app: FastAPI) -> None:
    """Answer every error under /v1 as problem+json; elsewhere as FastAPI always did."""

    @app.exception_handler(ApiProblem)
    async def _problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(request, exc.status, exc.detail, problems=exc.problems, slug=exc.slug,
                                title=exc.title, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Any:
        if not _ours(request):
            return await http_exception_handler(request, exc)
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
        if exc.status_code == 400 and "parsing the body" in detail:  # FastAPI's: the JSON body does not parse
            return problem_response(request, 422, "the body is not JSON (or not UTF-8): send a JSON object",
                                    problems=[ProblemItem(code="invalid_json", where="body", message="not JSON")])
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such endpoint: {request.method} {request.url.path} (see /openapi.json)"
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path} (see /openapi.json)"
        return problem_response(request, exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Any:
        if not _ours(request):
            return await request_validation_exception_handler(request, exc)
        items = _validation_items(exc)
        return problem_response(request, 422, f"{len(items)} problem(s) with the request: "
                                + "; ".join(i.message for i in items[:3]), problems=items)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if not _ours(request):
            return JSONResponse({"detail": "Internal Server Error"}, status_code=500)
        return problem_response(request, 500, "an internal error: it is logged; retry later or report it")


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for these error statuses, each a :class:`Problem`."""
    return {s: {"model": Problem, "description": TITLES.get(s, "Error"),
                "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}} for s in statuses}


def as_json(problem: Problem) -> Any:
    return jsonable_encoder(problem)
