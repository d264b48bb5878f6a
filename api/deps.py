"""Dependencies shared by the routers."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, Request

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
