"""The Telnyx stand-in: the Porting Orders v2 endpoints portflow uses, with Telnyx's shapes.

It keeps orders in memory and checks what Telnyx checks: Bearer key, E.164 numbers,
portability (non-portable numbers refused at creation), automatic split by losing carrier
(``spid_prefixes``) and number type, the fields ``actions/confirm`` needs, the allowed FOC
windows, cancel refused within 48 h of the FOC, on-demand activation only for FastPort
orders inside the window. Porting ops are played by test calls (``confirm_foc``,
``raise_exception``, ``finish_activation``) and by the stand-in itself: an order in ``exception``
goes back to ``submitted`` once a PATCH changes the fields its codes are about, or a
comment asks to remove the numbers a not-portable code names.

Faults: :meth:`fail_next` answers an error (429 with Retry-After, 5xx, ...);
:meth:`delay_next` does the work and answers late (a lost response).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request

from tests.telnyx_standin.wire import err, iso


class TelnyxStandIn:
    def __init__(
        self, api_key: str = "test-key", clock: Callable[[], datetime] | None = None
    ) -> None:
        self.lock = threading.Lock()
        self.reset(api_key, clock)

    def reset(self, api_key: str = "test-key", clock: Callable[[], datetime] | None = None) -> None:
        """Forget everything (one server serves a whole test module)."""
        self.api_key = api_key
        self.clock = clock or (lambda: datetime.now(UTC))
        self.orders: dict[str, dict[str, Any]] = {}
        self.deleted: list[str] = []
        self.documents: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self.jobs: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.not_portable: dict[str, str] = {}
        self.spid_prefixes: list[
            str
        ] = []  # numbers starting with one of these belong to another losing carrier
        self.fast_port = False
        self.windows: list[tuple[datetime, datetime]] = []
        self.faults: list[tuple[str, str, int, dict[str, str]]] = []
        self.delays: list[tuple[str, str, float]] = []

    # ------------------------------------------------------------------ test controls
    def fail_next(
        self, method: str, path_end: str, status: int, retry_after: str | None = None
    ) -> None:
        self.faults.append(
            (method, path_end, status, {"Retry-After": retry_after} if retry_after else {})
        )

    def delay_next(self, method: str, path_end: str, seconds: float) -> None:
        self.delays.append((method, path_end, seconds))

    def order(self, order_id: str) -> dict[str, Any]:
        return self.orders[order_id]

    def by_reference(self, ref: str) -> list[dict[str, Any]]:
        return [o for o in self.orders.values() if o["customer_reference"] == ref]

    def set_status(
        self, order_id: str, value: str, details: list[tuple[str, str]] | None = None
    ) -> None:
        with self.lock:
            self.orders[order_id]["status"] = {
                "value": value,
                "details": [{"code": c, "description": d} for c, d in details or []],
            }

    def raise_exception(self, order_id: str, *details: tuple[str, str]) -> None:
        self.set_status(order_id, "exception", list(details))

    def confirm_foc(self, order_id: str, foc_at: datetime, window_hours: float = 14) -> None:
        with self.lock:
            o = self.orders[order_id]
            o["status"] = {"value": "foc-date-confirmed", "details": []}
            o["activation_settings"]["foc_datetime_actual"] = iso(foc_at)
            if o["activation_settings"]["fast_port_eligible"]:
                self.jobs[order_id] = [
                    {
                        "id": str(uuid.uuid4()),
                        "record_type": "porting_activation_job",
                        "status": "created",
                        "activation_type": "on-demand",
                        "activate_at": iso(foc_at + timedelta(hours=window_hours)),
                        "activation_windows": [
                            {
                                "start_at": iso(foc_at),
                                "end_at": iso(foc_at + timedelta(hours=window_hours)),
                            }
                        ],
                        "created_at": iso(self.clock()),
                    }
                ]

    def finish_activation(
        self, order_id: str, failed: list[str] | None = None, job_failed: bool = False
    ) -> None:
        """Porting ops: the activation ran. Numbers in ``failed`` did not activate."""
        with self.lock:
            o = self.orders[order_id]
            for job in self.jobs.get(order_id, []):
                job["status"] = "failed" if job_failed else "completed"
            if job_failed:
                return
            for n in o["phone_numbers"]:
                n["activation_status"] = (
                    "Failed" if n["phone_number"] in (failed or []) else "Active"
                )
                n["porting_order_status"] = "ported"
            o["status"] = {"value": "ported", "details": []}

    # ------------------------------------------------------------------ the API

    # ------------------------------------------------------------------ the API
    def app(self) -> FastAPI:
        from tests.telnyx_standin.routes import extras_router, orders_router

        api = FastAPI()

        @api.middleware("http")
        async def gate(request: Request, call_next):  # type: ignore[no-untyped-def]
            body = await request.body()
            self.requests.append(
                (request.method, request.url.path, body.decode() if body else None)
            )
            if request.headers.get("authorization") != f"Bearer {self.api_key}":
                return err(
                    401,
                    "Authentication failed",
                    "The required authentication headers were invalid",
                    code="10009",
                )
            for i, (method, end, status, headers) in enumerate(self.faults):
                if method == request.method and request.url.path.endswith(end):
                    del self.faults[i]
                    title = "Too many requests" if status == 429 else "Service unavailable"
                    code = "10011" if status == 429 else "10007"
                    return err(
                        status, title, f"stand-in fault {status}", code=code, headers=headers
                    )
            response = await call_next(request)
            for i, (method, end, seconds) in enumerate(self.delays):
                if method == request.method and request.url.path.endswith(end):
                    del self.delays[i]
                    await asyncio.sleep(seconds)  # the work is done; the answer comes too late
                    break
            return response

        api.include_router(orders_router(self))
        api.include_router(extras_router(self))
        return api
