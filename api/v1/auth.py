"""Who calls ``/v1``: an API key (``starter.py apikey create``), sent as
``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.

``require(*roles)`` is the dependency a route declares; it answers 401 (with
``WWW-Authenticate``) without a live key and 403 when the key's role is not among
``roles``, and otherwise gives the route the :class:`Principal` whose ``owner`` is the
actor recorded on the port's timeline.

Roles (``store.api_keys.Role``):

* ``pm``: everything (``PM``).
* ``ops``: reading, checks, and the porting-day actions: carrier events, verify,
  activate (``OPS``).
* ``read``: reading and checks only (``ANY``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.v1.problems import ApiProblem
from store.api_keys import Role, authenticate

ANY = (Role.PM.value, Role.OPS.value, Role.READ.value)
OPS = (Role.PM.value, Role.OPS.value)
PM = (Role.PM.value,)

_bearer = HTTPBearer(auto_error=False, scheme_name="bearer", description="Authorization: Bearer pf_...")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="apiKey", description="X-API-Key: pf_...")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="portflow"'}


@dataclass(frozen=True)
class Principal:
    key_id: str
    owner: str
    role: str


def require(*roles: str) -> Callable[..., object]:
    """A dependency: the calling key's :class:`Principal` when its role is in ``roles``
    (any role when none is given)."""
    allowed = tuple(roles) or ANY
    unknown = [r for r in allowed if r not in ANY]
    if unknown:
        raise ValueError(f"unknown role(s) {unknown}: use {', '.join(ANY)}")

    async def dependency(
        bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
        api_key: Annotated[str | None, Security(_header)] = None,
    ) -> Principal:
        token = (bearer.credentials if bearer is not None else None) or api_key
        if not token:
            raise ApiProblem(401, "no API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>` "
                             "(create one with `python starter.py apikey create --owner you@example.com --role pm`)",
                             headers=CHALLENGE)
        info = await run_in_threadpool(authenticate, token)
        if info is None:
            raise ApiProblem(401, "the API key is not valid: unknown, mistyped or revoked "
                             "(see `python starter.py apikey list`)",
                             headers={"WWW-Authenticate": 'Bearer realm="portflow", error="invalid_token"'})
        if info.role not in allowed:
            raise ApiProblem(403, f"a key with role {info.role} may not do this: it needs role "
                             f"{' or '.join(allowed)}")
        return Principal(key_id=info.id, owner=info.owner, role=info.role)

    return dependency


def principal(*roles: str) -> type[Principal]:
    """``Annotated[Principal, Depends(require(*roles))]``, for a route's signature."""
    return Annotated[Principal, Depends(require(*roles))]  # type: ignore[return-value]
