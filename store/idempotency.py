"""Idempotency-Key records of the REST API (issue 16): a retried POST gets the first answer.

One row per (API key, Idempotency-Key). ``claim`` inserts it (the primary key makes two
racing requests meet in the database: one wins, the other sees the row), the handler runs,
and ``finish`` stores its status and body. A retry with the same body gets that answer; a
different body under the same key is refused; a retry while the first is still running
is told so (409). A handler that failed in a way worth retrying (5xx) ``release``s its row.

``reserved`` keeps what a handler chose before its side effect (the request id of a port
being started), so a retry after a crash mid-way reuses it instead of starting another
port. Rows expire (``EXPIRY``) and ``purge`` drops them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, delete

from store.db import session_scope
from store.tables import UTCDateTime, utcnow

EXPIRY = timedelta(hours=24)
# a request still "running" this long after it began died with its process: a retry takes over
STALE = timedelta(minutes=5)


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "api_idempotency"

    key_id: str = Field(primary_key=True, sa_type=sa.String(12))
    idempotency_key: str = Field(primary_key=True, sa_type=sa.String(255))
    fingerprint: str = Field(sa_type=sa.String(64))
    state: str = Field(default="running", sa_type=sa.String(8))  # running | done
    status_code: int | None = Field(default=None)
    body: str | None = Field(default=None, sa_type=sa.Text())
    media_type: str | None = Field(default=None, sa_type=sa.String(100))
    reserved: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON())
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    expires_at: datetime = Field(sa_type=UTCDateTime(), index=True)


@dataclass(frozen=True)
class Claim:
    """What ``claim`` found: ``new`` (go ahead), ``replay`` (the stored answer), ``running``
    (another request with this key is in progress), or ``mismatch`` (another body)."""

    outcome: str
    status_code: int | None = None
    body: str | None = None
    media_type: str | None = None
    reserved: dict[str, Any] | None = None


def claim(key_id: str, idempotency_key: str, fingerprint: str, *, now: datetime | None = None) -> Claim:
    at = now or datetime.now(UTC)
    for _ in range(3):
        with session_scope() as s:
            row = s.get(IdempotencyRecord, (key_id, idempotency_key))
            if row is not None and row.expires_at <= at:
                s.delete(row)
                s.flush()
                row = None
            if row is None:
                try:
                    s.add(IdempotencyRecord(key_id=key_id, idempotency_key=idempotency_key,
                                            fingerprint=fingerprint, created_at=at, expires_at=at + EXPIRY))
                    s.flush()
                except IntegrityError:
                    s.rollback()
                    continue  # another request inserted it first: look again
                return Claim("new", reserved={})
            if row.fingerprint != fingerprint:
                return Claim("mismatch")
            if row.state == "done":
                return Claim("replay", row.status_code, row.body, row.media_type, dict(row.reserved or {}))
            if at - row.created_at > STALE:
                row.created_at = at  # the first attempt died mid-way: this one takes over
                s.add(row)
                return Claim("new", reserved=dict(row.reserved or {}))
            return Claim("running")
    return Claim("running")


def reserve(key_id: str, idempotency_key: str, **values: Any) -> None:
    """Remember ``values`` for this key before a side effect (a retry reuses them)."""
    with session_scope() as s:
        row = s.get(IdempotencyRecord, (key_id, idempotency_key))
        if row is not None:
            row.reserved = {**(row.reserved or {}), **values}
            s.add(row)


def finish(key_id: str, idempotency_key: str, status_code: int, body: str, media_type: str) -> None:
    with session_scope() as s:
        row = s.get(IdempotencyRecord, (key_id, idempotency_key))
        if row is not None:
            row.state, row.status_code, row.body, row.media_type = "done", status_code, body, media_type
            s.add(row)


def release(key_id: str, idempotency_key: str) -> None:
    """Forget a request that failed before deciding anything (a retry runs it afresh); the
    values it reserved are kept only while its row is, so a port id is not lost: see claim."""
    with session_scope() as s:
        row = s.get(IdempotencyRecord, (key_id, idempotency_key))
        if row is not None and row.state == "running":
            if row.reserved:
                row.created_at = datetime.now(UTC) - STALE - timedelta(seconds=1)  # free to retry now
                s.add(row)
            else:
                s.delete(row)


def purge(now: datetime | None = None) -> int:
    with session_scope() as s:
        result = s.exec(delete(IdempotencyRecord).where(col(IdempotencyRecord.expires_at) <= (now or datetime.now(UTC))))
        return int(result.rowcount or 0)
