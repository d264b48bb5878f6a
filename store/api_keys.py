"""API keys of the REST API (issue 16): who may call ``/v1`` and in which role.

A key is shown once, when it is created: ``pf_<id>_<secret>``. Only the SHA-256 of the
secret is stored (the secret is 256 random bits, so a plain hash is enough: there is
nothing to brute-force), and it is compared in constant time. The id part finds the row,
so a wrong secret costs one lookup and one comparison, whatever the key table holds.

Roles (``api/v1/auth.py`` enforces them):

* ``pm``: every call, reading and acting.
* ``ops``: reading, the offline check, and the actions ops take on the porting day:
  carrier events, verification and activation.
* ``read``: reading and the offline check; never a change to a port.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select

from store.db import ensure_migrated, session_scope
from store.tables import UTCDateTime, utcnow

_TOKEN = re.compile(r"^pf_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")
MAX_OWNER = 320


class Role(StrEnum):
    PM = "pm"
    OPS = "ops"
    READ = "read"


class ApiKeyError(ValueError):
    """A key that cannot be created or revoked: the message says what to fix."""


class ApiKey(SQLModel, table=True):
    """One API key: its owner (the actor on the timeline), role, and the hash of its secret."""

    __tablename__ = "api_keys"

    id: str = Field(primary_key=True, sa_type=sa.String(12))
    owner: str = Field(sa_type=sa.String(MAX_OWNER), index=True)
    role: str = Field(sa_type=sa.String(8))
    secret_sha256: str = Field(sa_type=sa.String(64))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


@dataclass(frozen=True)
class KeyInfo:
    id: str
    owner: str
    role: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


def _info(row: ApiKey) -> KeyInfo:
    return KeyInfo(row.id, row.owner, row.role, row.created_at, row.revoked_at, row.last_used_at)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(owner: str, role: str) -> tuple[KeyInfo, str]:
    """A new key for ``owner`` in ``role``; returns its record and the token (shown once)."""
    who = (owner or "").strip()
    if not who or len(who) > MAX_OWNER or not who.isprintable():
        raise ApiKeyError(f"--owner must be an e-mail or a name of 1 to {MAX_OWNER} printable characters")
    try:
        r = Role(role.strip().lower())
    except ValueError:
        raise ApiKeyError(f"--role '{role[:20]}' is not one of: {', '.join(r.value for r in Role)}") from None
    ensure_migrated()
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = ApiKey(id=key_id, owner=who, role=r.value, secret_sha256=_digest(secret))
    with session_scope() as s:
        s.add(row)
        s.flush()
        info = _info(row)
    return info, f"pf_{key_id}_{secret}"


def list_keys(*, include_revoked: bool = True) -> list[KeyInfo]:
    ensure_migrated()
    with session_scope() as s:
        q = select(ApiKey).order_by(col(ApiKey.created_at))
        if not include_revoked:
            q = q.where(col(ApiKey.revoked_at).is_(None))
        return [_info(r) for r in s.exec(q).all()]


def revoke_key(key_id: str) -> KeyInfo:
    """Revoke ``key_id`` (idempotent: revoking a revoked key keeps its first revocation time)."""
    ensure_migrated()
    with session_scope() as s:
        row = s.get(ApiKey, key_id.strip().lower())
        if row is None:
            raise ApiKeyError(f"no API key {key_id[:20]!r}: see `python starter.py apikey list`")
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
            s.add(row)
        s.flush()
        return _info(row)


def authenticate(token: str) -> KeyInfo | None:
    """The live key ``token`` is, or None (malformed, unknown, wrong secret, revoked)."""
    m = _TOKEN.match(token.strip()) if isinstance(token, str) and len(token) < 200 else None
    if m is None:
        return None
    ensure_migrated()
    with session_scope() as s:
        row = s.get(ApiKey, m[1])
        # compare even when there is no such key, so timing does not tell ids apart
        stored = row.secret_sha256 if row is not None else "0" * 64
        if not hmac.compare_digest(stored, _digest(m[2])) or row is None or row.revoked_at is not None:
            return None
        now = datetime.now(UTC)
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            row.last_used_at = now  # at most once a minute: a busy key does not write on every call
            s.add(row)
        return _info(row)
