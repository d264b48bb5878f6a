"""Tables of the customer self-service page (issue 16): link generations and upload attempts.

Migration ``0004_customer_links``. Imported at the end of ``store/tables.py`` so that every
user of the metadata (Alembic, the migrations test) sees them.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from store.tables import UTCDateTime, utcnow


class CustomerLinkRow(SQLModel, table=True):
    """A request's current link generation: a link of an earlier generation is revoked.

    No row means generation 1 (nothing revoked yet). No foreign key: a PM may revoke the
    links of a request whose first activity has not saved it yet."""

    __tablename__ = "customer_links"

    request_id: str = Field(primary_key=True, sa_type=sa.String(32))
    generation: int = Field(default=1)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    revoked_by: str | None = Field(default=None, sa_type=sa.String(320))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class CustomerUpload(SQLModel, table=True):
    """One upload attempt through a customer link (accepted or not): the per-link rate limit
    counts these, so it holds across restarts and API processes."""

    __tablename__ = "customer_uploads"
    __table_args__ = (sa.Index("ix_customer_uploads_request_at", "request_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(sa_type=sa.String(32))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    outcome: str = Field(sa_type=sa.String(24), description="accepted, refused, too_large, wrong_type")
