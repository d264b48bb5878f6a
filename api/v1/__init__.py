"""The REST API, ``/v1`` (issue 16): ports, their actions, the offline check, API keys'
auth (``api.v1.auth.require``), problem+json errors (``api.v1.problems``) and
``Idempotency-Key`` (``api.v1.idempotency``), outgoing webhook subscriptions (``api.v1.webhooks``). ``mount(app)`` adds it to the service."""

from __future__ import annotations

from fastapi import FastAPI


def mount(app: FastAPI) -> None:
    from api.v1 import cases, checks, gate, limits, port_actions, ports, problems, projects, schema, start, webhooks

    problems.install(app)
    app.add_middleware(limits.V1BodyLimits)
    for module in (ports, start, port_actions, checks, gate, cases, projects, webhooks):
        app.include_router(module.router)
    schema.install(app)
