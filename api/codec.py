"""The codec server: the Temporal UI and CLI send it encrypted payloads and show what it
returns (``temporal workflow show --codec-endpoint http://127.0.0.1:8000/codec ...``; the dev
server's ``--ui-codec-endpoint``, which ``make demo`` sets).

``POST /codec/decode`` and ``POST /codec/encode`` speak Temporal's codec-server protocol: a
JSON body ``{"payloads": [{"metadata": {"key": "<base64>"}, "data": "<base64>"}]}`` answered
in the same shape, the namespace in ``X-Namespace``. Every call needs
``Authorization: Bearer <PORTFLOW_CODEC_TOKEN>`` (401 without it, before the body is read;
with no token configured every call is refused). Browsers may call it only from
``PORTFLOW_CODEC_CORS_ORIGIN`` (default ``PORTFLOW_TEMPORAL_UI_URL``): the preflight names
that origin and nothing else. The key ring is the workers' (``portflow.temporal.data_converter``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload

from api.deps import parse_json_object, read_body
from core.payload_keys import PayloadKeyError
from core.settings import Settings, get_settings

router = APIRouter(prefix="/codec")

MAX_CODEC_BODY = 8 * 1024 * 1024  # a page of the UI sends one event's payloads; the largest is ~150 KB
MAX_PAYLOADS = 10_000
_ALLOW_HEADERS = "Authorization, Content-Type, X-Namespace"


def _origin(s: Settings) -> str:
    return (s.codec_cors_origin or s.temporal_ui_url).rstrip("/")


def _cors(request: Request, response: Response, s: Settings) -> Response:
    origin = request.headers.get("origin", "")
    if origin and origin.rstrip("/") == _origin(s):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Vary"] = "Origin"
    return response


def _authorized(request: Request, s: Settings) -> None:
    token = s.codec_token.get_secret_value()
    if not token:
        raise HTTPException(401, "this codec server has no PORTFLOW_CODEC_TOKEN set: it decodes nothing")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise HTTPException(401, "send Authorization: Bearer <PORTFLOW_CODEC_TOKEN>",
                            headers={"WWW-Authenticate": "Bearer"})


def _payloads(body: dict[str, Any]) -> list[Payload]:
    items = body.get("payloads")
    if not isinstance(items, list):
        raise HTTPException(400, 'the body must be {"payloads": [...]}, a list of payloads')
    if len(items) > MAX_PAYLOADS:
        raise HTTPException(413, f"more than {MAX_PAYLOADS:,} payloads in one call")
    return [_payload(n, item) for n, item in enumerate(items)]


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise HTTPException(400, f"{what} must be a base64 string, not a JSON {type(value).__name__}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise HTTPException(400, f"{what} is not base64") from None


def _payload(n: int, item: Any) -> Payload:
    if not isinstance(item, dict):
        raise HTTPException(400, f"payload {n} is a JSON {type(item).__name__}, not an object")
    metadata = item.get("metadata", {})
    if not isinstance(metadata, dict):
        raise HTTPException(400, f"payload {n}: metadata must be an object of base64 strings")
    return Payload(metadata={str(k): _b64(v, f"payload {n}: metadata {str(k)[:40]!r}") for k, v in metadata.items()},
                   data=_b64(item.get("data", ""), f"payload {n}: data"))


async def _run(request: Request, decode: bool) -> Response:
    s = get_settings()
    try:
        _authorized(request, s)
        namespace = request.headers.get("x-namespace", s.temporal_namespace)
        if namespace != s.temporal_namespace:
            raise HTTPException(400, f"this codec server holds the keys of namespace {s.temporal_namespace!r}, "
                                f"not {namespace[:100]!r}")
        payloads = _payloads(parse_json_object(await read_body(request, MAX_CODEC_BODY), "codec request"))
        codec = _codec(request, s)
        try:
            done = (await codec.decode(payloads) if decode else await codec.encode(payloads)) if codec else payloads
        except ValueError as exc:  # a key not in the ring, a payload altered: say which
            raise HTTPException(400, str(exc)) from None
        response: Response = JSONResponse({"payloads": [json_format.MessageToDict(p) for p in done]})
    except HTTPException as exc:
        response = JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
    return _cors(request, response, s)


def _codec(request: Request, s: Settings):  # noqa: ANN202 - a PayloadCodec or None (encryption off)
    cached = getattr(request.app.state, "codec", None)
    if cached is None or cached[0] is not s:
        from portflow.temporal import data_converter

        try:
            cached = (s, data_converter(s).payload_codec)
        except PayloadKeyError as exc:
            raise HTTPException(503, f"the codec server's key ring is unusable: {exc}") from None
        request.app.state.codec = cached
    return cached[1]


@router.post("/decode")
async def decode(request: Request) -> Response:
    return await _run(request, decode=True)


@router.post("/encode")
async def encode(request: Request) -> Response:
    return await _run(request, decode=False)


@router.options("/{action}")
async def preflight(request: Request, action: str) -> Response:
    """CORS preflight: allowed for the configured UI origin only (no token is sent on it)."""
    s = get_settings()
    if action not in ("decode", "encode") or request.headers.get("origin", "").rstrip("/") != _origin(s):
        return Response(status_code=403)
    response = Response(status_code=204)
    response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = _ALLOW_HEADERS
    response.headers["Access-Control-Max-Age"] = "600"
    return _cors(request, response, s)
