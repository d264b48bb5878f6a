"""What a POST under /v1 may send, checked before any route reads it: a JSON body
(``multipart/form-data`` for document uploads), and no more bytes than the route takes,
whether the sender declares a length or streams without one (413 either way)."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.v1.common import MAX_JSON
from api.v1.problems import problem_response

UPLOAD_SUFFIX = "/documents"


def _upload_limit() -> int:
    from core.settings import get_settings

    return int(get_settings().max_document_mb * 1024 * 1024) + 64 * 1024  # the form's own fields and boundaries


class V1BodyLimits:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path.startswith("/v1/") and scope.get("method") in ("POST", "PUT", "PATCH")):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        upload = path.rstrip("/").endswith(UPLOAD_SUFFIX)
        wanted = "multipart/form-data" if upload else "application/json"
        ok = ctype == wanted or (not upload and ctype.startswith("application/") and ctype.endswith("+json"))
        if not ok:
            detail = f"send the body as {wanted}, not {ctype[:60] or 'nothing'}"
            await self._answer(scope, receive, send, 415, detail, {"Accept-Post": wanted})
            return
        limit = _upload_limit() if upload else MAX_JSON
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._answer(scope, receive, send, 413, f"the body is {int(declared):,} bytes, over {limit:,}")
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, f"the body is over {limit:,} bytes")
            return message

        await self.app(scope, limited, send)

    @staticmethod
    async def _answer(scope: Scope, receive: Receive, send: Send, status: int, detail: str,
                      headers: dict[str, Any] | None = None) -> None:
        response = problem_response(Request(scope), status, detail, headers=headers)
        await response(scope, receive, send)
