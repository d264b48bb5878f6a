"""Serve an ASGI app with uvicorn on 127.0.0.1 and an ephemeral port, in a background thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from tests.polling import eventually_sync


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Yield the base URL (``http://127.0.0.1:<port>``) while the app is served."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="telnyx-standin", daemon=True)
    thread.start()
    def started() -> bool:
        assert thread.is_alive(), "the Telnyx stand-in's server thread ended before it started"
        return server.started

    eventually_sync(started, what="the Telnyx stand-in to start", timeout=10, interval=0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
