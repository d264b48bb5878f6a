"""Customer links: a signed, expiring token that opens one request's self-service page.

A token is four dot-separated fields, all safe in a URL path:

    PR-2026-0042.3.1767225600.<signature>

the request id, the link generation (the PM revokes every link issued so far by moving the
request to the next generation: ``store.customer_links``), the expiry as Unix seconds, and
base64url(HMAC-SHA256(key, "portflow-customer-link:v1:<id>:<generation>:<expiry>")).

This module is pure (no clock of its own, no storage): the caller passes the key and the
time, so every branch is tested without patching. :func:`parse` never raises anything but
:class:`BadLink`, whatever text it is given.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

# Longer text is refused before any other work: a real token is about 70 characters.
MAX_TOKEN_CHARS = 200
_CONTEXT = "portflow-customer-link:v1"
_SHAPE = re.compile(r"(PR-\d{4}-\d{4,9})\.([1-9]\d{0,8})\.(\d{10,11})\.([A-Za-z0-9_-]{43})")


class LinkProblem(StrEnum):
    """Why a link does not open its page. MALFORMED and TAMPERED say nothing about any request
    (the token may be forged); EXPIRED and REVOKED come from a token we really issued."""

    MALFORMED = "malformed"
    TAMPERED = "tampered"
    EXPIRED = "expired"
    REVOKED = "revoked"


class BadLink(ValueError):
    def __init__(self, problem: LinkProblem, request_id: str | None = None) -> None:
        super().__init__(problem.value)
        self.problem = problem
        # set only for EXPIRED and REVOKED: a token whose signature is ours
        self.request_id = request_id


@dataclass(frozen=True)
class LinkClaims:
    request_id: str
    generation: int
    expires_at: datetime


def _signature(key: bytes, request_id: str, generation: int, expires: int) -> str:
    message = f"{_CONTEXT}:{request_id}:{generation}:{expires}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(key: bytes, request_id: str, generation: int, *, now: datetime, days: int) -> str:
    """A token for ``request_id`` at ``generation``, valid ``days`` days from ``now``."""
    if not key:
        raise ValueError("the customer link key is empty")
    if generation < 1:
        raise ValueError(f"link generation {generation} must be 1 or more")
    if now.tzinfo is None:
        raise ValueError("now needs a time zone (UTC)")
    expires = int((now + timedelta(days=days)).timestamp())
    token = f"{request_id}.{generation}.{expires}.{_signature(key, request_id, generation, expires)}"
    if not _SHAPE.fullmatch(token):
        raise ValueError(f"{request_id!r} is not a request id such as PR-2026-0042")
    return token


def parse(token: object, key: bytes) -> LinkClaims:
    """The claims of a token whose signature is ours (expiry and revocation are checked by
    :func:`check`). Raises :class:`BadLink` (MALFORMED or TAMPERED) and nothing else."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
        raise BadLink(LinkProblem.MALFORMED)
    match = _SHAPE.fullmatch(token)
    if match is None:
        raise BadLink(LinkProblem.MALFORMED)
    request_id, generation, expires, signature = match.groups()
    expected = _signature(key, request_id, int(generation), int(expires))
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise BadLink(LinkProblem.TAMPERED)
    try:
        expires_at = datetime.fromtimestamp(int(expires), UTC)
    except (OverflowError, OSError, ValueError):  # a signed token never holds one; belt and braces
        raise BadLink(LinkProblem.MALFORMED) from None
    return LinkClaims(request_id=request_id, generation=int(generation), expires_at=expires_at)


def check(token: object, key: bytes, *, now: datetime, current_generation: int) -> LinkClaims:
    """The claims of a token that opens its page now: signed by ``key``, of the request's
    ``current_generation`` (earlier ones were revoked), not expired. Raises :class:`BadLink`."""
    claims = parse(token, key)
    if claims.generation != current_generation:
        raise BadLink(LinkProblem.REVOKED, claims.request_id)
    if now >= claims.expires_at:
        raise BadLink(LinkProblem.EXPIRED, claims.request_id)
    return claims


def request_id_of(token: object, key: bytes) -> str:
    """The request id of a token signed by ``key`` (expired or revoked alike); BadLink else."""
    return parse(token, key).request_id
