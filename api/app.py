"""The HTTP service: the REST API ``/v1`` (``api/v1/``), webhooks from DocuSign Connect and
carriers, the codec server for the Temporal UI and CLI (``api/codec.py``), and a health check.

    uvicorn --factory api.app:create_app

Each external system has its own router module (``api/docusign.py``, ``api/telnyx.py``);
this file only assembles them.
"""

from __future__ import annotations

from fastapi import FastAPI
from temporalio.client import Client

from api import codec, customer, docusign, telnyx, v1
from api.events import EventSink


def create_app(sink: EventSink | None = None, client: Client | None = None) -> FastAPI:
    """Build the app. ``sink`` delivers events to workflows; ``client`` is the Temporal client
    of /v1 and the customer page (api/customer.py). By default a client is connected on
    first use (settings: temporal_address, namespace, TLS)."""
    app = FastAPI(title="portflow", version="0.1.0")
    app.state.sink = sink
    app.state.client = client

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    for module in (docusign, telnyx, codec, customer):
        app.include_router(module.router)
    v1.mount(app)
    return app
