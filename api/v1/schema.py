"""The OpenAPI schema of /v1: the routes that read a port request as raw JSON (so that the
offline check, not pydantic, reports its problems) declare it here, and ``install`` adds
its models to the served schema's components."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from models.request import PortRequest

NAME = "PortRequestFile"
_REF = "#/components/schemas/" + NAME


def _components() -> dict[str, Any]:
    schema = PortRequest.model_json_schema(ref_template=_REF + ".{model}")
    defs = schema.pop("$defs", {})
    schema["title"] = "Port request"
    schema["description"] = ("A port request: the schema of the YAML request file `starter.py check` reads. "
                             "Checked as `check` checks it; leave `documents` out and upload them once started.")
    schema.setdefault("properties", {})["documents_complete_on"] = {
        "type": "string", "format": "date", "description": "the day the CSR and bill are complete (lead time)"}
    out = {NAME: schema}
    out.update({f"{NAME}.{k}": v for k, v in defs.items()})
    return out


REQUEST_BODY: dict[str, Any] = {"requestBody": {"required": True, "description": "A port request (JSON)",
                                                "content": {"application/json": {"schema": {"$ref": _REF}}}}}


def install(app: FastAPI) -> None:
    """Serve the schema with the port request's models among its components."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes,
                                 description=app.description)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(_components())
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
