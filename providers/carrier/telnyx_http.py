"""HTTP to the Telnyx API v2: Bearer key, one connection pool per adapter call, errors
classified for the workflow's retry policy.

Network failures, timeouts, 429 and 5xx raise a retryable :class:`CarrierError` (with
``retry_after`` in seconds when Telnyx sent Retry-After); 401/403/404/4xx raise
:class:`CarrierRejected` with Telnyx's ``errors[].title/detail (at source.pointer)``.
Only method, path and status are logged: request bodies carry the account number and PIN.
"""

from __future__ import annotations

import functools
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ParamSpec, TypeVar

import httpx

from providers.carrier.base import CarrierError, CarrierRejected

log = logging.getLogger("providers.carrier.telnyx")
_CLIENT: ContextVar[httpx.AsyncClient | None] = ContextVar("telnyx_client", default=None)
P = ParamSpec("P")
R = TypeVar("R")


@functools.cache
def _tls() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def retry_after(resp: httpx.Response) -> float | None:
    """Retry-After in seconds (a number or an HTTP date); None when absent or unreadable."""
    value = resp.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None


def error_details(resp: httpx.Response) -> str:
    """Telnyx's words from ``{"errors": [{code, title, detail, source: {pointer}}]}``."""
    try:
        errors = resp.json().get("errors") or []
    except (ValueError, AttributeError):
        return resp.text[:300] or resp.reason_phrase
    parts = []
    for e in errors:
        where = ((e.get("source") or {}).get("pointer") or "").strip()
        text = ": ".join(p for p in (e.get("title"), e.get("detail")) if p)
        parts.append(f"{text} (at {where})" if where else text)
    return "; ".join(p for p in parts if p) or resp.reason_phrase


class TelnyxHttp:
    """The calls of one adapter; the key stays out of reprs."""

    def __init__(self, api_key: str, base_url: str, timeout: float) -> None:
        self._key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"TelnyxHttp(base_url={self.base_url!r})"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[None]:
        """Share one client (and its connections) across the calls inside the block."""
        if _CLIENT.get() is not None:
            yield
            return
        async with httpx.AsyncClient(timeout=self.timeout, verify=_tls()) as client:
            token = _CLIENT.set(client)
            try:
                yield
            finally:
                _CLIENT.reset(token)

    async def request(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        client = _CLIENT.get()
        if client is None:
            async with self.session():
                return await self.request(method, path, json=json, params=params)
        headers = {"Authorization": f"Bearer {self._key}", "Accept": "application/json"}
        try:
            resp = await client.request(
                method, f"{self.base_url}{path}", json=json, params=params, headers=headers
            )
        except httpx.TimeoutException:
            raise CarrierError(
                f"Telnyx did not answer {method} {path} within {self.timeout:g} s; retrying is safe"
            ) from None
        except httpx.TransportError as exc:
            raise CarrierError(
                f"cannot reach Telnyx at {self.base_url} ({type(exc).__name__}: {exc}); will retry"
            ) from None
        log.info("telnyx %s %s -> %s", method, path, resp.status_code)
        code = resp.status_code
        if code == 429 or code >= 500:
            err = CarrierError(
                f"Telnyx answered {code} to {method} {path} ({error_details(resp)}); will retry"
            )
            err.retry_after = retry_after(resp)  # type: ignore[attr-defined]
            raise err
        if code in (401, 403):
            raise CarrierRejected(
                f"Telnyx refused the API key ({code}: {error_details(resp)}): check PORTFLOW_TELNYX_API_KEY"
            )
        if code == 404:
            raise CarrierRejected(
                f"Telnyx has no {path} (404): the porting order may have been deleted"
            )
        if code >= 400:
            raise CarrierRejected(f"Telnyx refused {method} {path} ({code}): {error_details(resp)}")
        return resp.json() if resp.content else {}


def one_session(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Run an adapter method's calls over one connection pool (a submit makes about ten)."""

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        async with args[0].http.session():  # type: ignore[attr-defined]
            return await method(*args, **kwargs)

    return wrapper
