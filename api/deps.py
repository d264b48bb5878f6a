"""Dependencies shared by the routers."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from temporalio.client import Client

from api.events import EventSink, TemporalEventSink

_lock = asyncio.Lock()


async def get_sink(request: Request) -> EventSink:
    """The app's event sink; connects a Temporal client the first time it is needed."""
    sink = request.app.state.sink
    if sink is None:
        async with _lock:
            if request.app.state.sink is None:
                from portflow.temporal import connect

                request.app.state.sink = TemporalEventSink(await connect())
            sink = request.app.state.sink
    return sink


SinkDep = Annotated[EventSink, Depends(get_sink)]

_client_lock = asyncio.Lock()
CONNECT_TIMEOUT_S = 15


async def app_client(request: Request) -> Client:
    """The app's one Temporal client, shared by /v1 and the customer page: the one given to
    ``create_app(client=...)``, else the event sink's, else connected once on first use per
    ``PORTFLOW_TEMPORAL_*`` (giving up after 15 s). Raises what the connection raised."""
    state = request.app.state
    if getattr(state, "client", None) is None:
        async with _client_lock:
            if getattr(state, "client", None) is None:
                sink_client = getattr(state.sink, "client", None)
                if isinstance(sink_client, Client):
                    state.client = sink_client
                else:
                    from portflow.temporal import connect

                    state.client = await asyncio.wait_for(connect(), timeout=CONNECT_TIMEOUT_S)
    return state.client


# --- reading what a webhook sent ---------------------------------------------------------
# A Connect or Telnyx message is a few KB; anything over this is refused (413) unread.
MAX_BODY = 1024 * 1024


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The raw body, read no further than ``limit`` bytes (413 beyond)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the body is over {limit:,} bytes: not a webhook message")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the body is over {limit:,} bytes: not a webhook message")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json_object(raw: bytes, what: str, status: int = 400) -> dict[str, Any]:
    """``raw`` as a JSON object, or a ``status`` error saying why not (never a 500)."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than Python's stack
        raise HTTPException(status, f"the {what} is not JSON") from None
    if not isinstance(body, dict):
        raise HTTPException(status, f"the {what} is a JSON {type(body).__name__}, not an object")
    return body


def obj(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one: a field of the wrong type reads
    as absent, and the message is refused or ignored for lacking it."""
    return value if isinstance(value, dict) else {}


def text(value: Any, what: str, limit: int = 200) -> str | None:
    """A JSON string (or number) field as text, None when absent; 422 when it is another type
    or longer than ``limit``."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise HTTPException(422, f"{what} must be a string, not a JSON {type(value).__name__}")
    out = str(value).strip()
    if len(out) > limit:
        raise HTTPException(422, f"{what} is longer than {limit} characters")
    return out or None
