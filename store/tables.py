"""The database tables (SQLModel), one class per table.

The schema itself is owned by the Alembic migrations in ``store/migrations/versions``;
a test checks that they and these classes agree. Rules the data must keep are written
into the schema so that no code path (or a second process) can break them:

* a telephone number is in at most one active port: ``uq_inventory_active_tn`` is a
  unique index on ``inventory_numbers(tn)`` over the rows not yet released;
* an identical document is recorded once per request, order and kind;
* the same status change is recorded once, so a retried activity cannot double it;
* a ledger key is written once.

Statuses and states are stored as plain strings (not database enums) so that adding a
status is a code change, not a schema change; inventory states are checked in the
database because other systems read that table.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from models.status import STORED_NUMBER_STATES, NumberState  # noqa: F401 - NumberState: the store's states


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always stored and returned in UTC, with its time zone.

    SQLite has no time zone type and would hand back naive datetimes; this keeps both
    databases alike and refuses naive input instead of guessing its zone.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(
                f"naive datetime {value.isoformat()}: give a time zone, e.g. datetime.now(UTC)"
            )
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class AssigneeKind(StrEnum):
    USER = "user"
    RESOURCE_ACCOUNT = "resource_account"  # auto attendant, call queue


class PortRequestRow(SQLModel, table=True):
    """A customer's port request. ``summary`` is the sealed request: no plain secrets."""

    __tablename__ = "port_requests"

    id: str = Field(primary_key=True, sa_type=sa.String(32), description="PR-2026-0042")
    customer_name: str = Field(sa_type=sa.String(200))
    contact_email: str = Field(sa_type=sa.String(320))
    pm_email: str = Field(sa_type=sa.String(320), index=True)
    status: str = Field(sa_type=sa.String(32), index=True)
    requested_port_date: date = Field(sa_type=sa.Date())
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    summary: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON())


class PortOrderRow(SQLModel, table=True):
    """One port order: one losing-carrier account of a request."""

    __tablename__ = "port_orders"

    id: str = Field(primary_key=True, sa_type=sa.String(40), description="PR-2026-0042-1")
    request_id: str = Field(sa_type=sa.String(32), foreign_key="port_requests.id", index=True)
    carrier: str = Field(sa_type=sa.String(100))
    port_type: str = Field(sa_type=sa.String(16))
    status: str = Field(sa_type=sa.String(32), index=True)
    carrier_status_raw: str | None = Field(default=None, sa_type=sa.String(200))
    carrier_order_id: str | None = Field(default=None, sa_type=sa.String(100))
    envelope_id: str | None = Field(default=None, sa_type=sa.String(100))
    foc_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    toll_free: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


_ACTIVE_ONLY = sa.text("released_at IS NULL")


class InventoryNumber(SQLModel, table=True):
    """A number in our inventory. Released rows stay as history; at most one row per TN is live."""

    __tablename__ = "inventory_numbers"
    __table_args__ = (
        sa.Index(
            "uq_inventory_active_tn",
            "tn",
            unique=True,
            sqlite_where=_ACTIVE_ONLY,
            postgresql_where=_ACTIVE_ONLY,
        ),
        sa.CheckConstraint(
            "state IN (" + ", ".join(f"'{s.value}'" for s in STORED_NUMBER_STATES) + ")",
            name="ck_inventory_state",
        ),
        sa.CheckConstraint(
            "assigned_kind IS NULL OR assigned_kind IN ("
            + ", ".join(f"'{k.value}'" for k in AssigneeKind)
            + ")",
            name="ck_inventory_assigned_kind",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    tn: str = Field(sa_type=sa.String(16), index=True, description="E.164")
    state: str = Field(sa_type=sa.String(24))
    request_id: str = Field(sa_type=sa.String(32), foreign_key="port_requests.id", index=True)
    order_id: str = Field(sa_type=sa.String(40), foreign_key="port_orders.id", index=True)
    assigned_to: str | None = Field(default=None, sa_type=sa.String(320))
    assigned_kind: str | None = Field(default=None, sa_type=sa.String(24))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    release_reason: str | None = Field(default=None, sa_type=sa.String(500))


_NO_ORDER = sa.text("order_id IS NULL")


class DocumentRow(SQLModel, table=True):
    """A stored document's record; the bytes live in the document store by sha256."""

    __tablename__ = "documents"
    __table_args__ = (
        # Idempotency: one row per identical (request, order, kind, bytes). Two indexes
        # because NULL order ids never collide in a plain unique index.
        sa.Index("uq_documents_order", "request_id", "order_id", "kind", "sha256", unique=True),
        sa.Index(
            "uq_documents_request",
            "request_id",
            "kind",
            "sha256",
            unique=True,
            sqlite_where=_NO_ORDER,
            postgresql_where=_NO_ORDER,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    # No foreign keys: the starter stores a request's documents before the workflow's
    # first activity saves the request itself.
    request_id: str = Field(sa_type=sa.String(32), index=True)
    order_id: str | None = Field(default=None, sa_type=sa.String(40))
    kind: str = Field(sa_type=sa.String(24))
    file_name: str = Field(sa_type=sa.String(255))
    size: int = Field(sa_type=sa.BigInteger())
    sha256: str = Field(sa_type=sa.String(64))
    uploaded_by: str = Field(default="system", sa_type=sa.String(320))
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class AuditEvent(SQLModel, table=True):
    """One status change of a request or an order: who, from, to, why, when."""

    __tablename__ = "audit_events"
    __table_args__ = (sa.UniqueConstraint("subject", "to_status", "at", name="uq_audit_event"),)

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(sa_type=sa.String(40), index=True)
    from_status: str | None = Field(default=None, sa_type=sa.String(32))
    to_status: str = Field(sa_type=sa.String(32))
    actor: str = Field(sa_type=sa.String(320))
    reason: str = Field(sa_type=sa.Text())
    at: datetime = Field(sa_type=UTCDateTime())
    details: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON())


class VaultSecret(SQLModel, table=True):
    """A sealed secret: Fernet ciphertext only."""

    __tablename__ = "vault_secrets"

    ref: str = Field(primary_key=True, sa_type=sa.String(36))
    ciphertext: str = Field(sa_type=sa.Text())
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class LedgerEntry(SQLModel, table=True):
    """A side effect that happened once (keyed by its idempotency key) and what it returned."""

    __tablename__ = "ledger_entries"

    key: str = Field(primary_key=True, sa_type=sa.String(255))
    value: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON())
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class RequestIdCounter(SQLModel, table=True):
    """The last request number handed out per year (PR-<year>-<last>)."""

    __tablename__ = "request_id_counters"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last: int = Field(default=0)


# Tables of later issues live in modules of their own; importing them here registers them
# on the metadata that Alembic and the migrations test compare.
from store import customer_link_tables  # noqa: E402,F401 - issue 16's customer page
from store import cases  # noqa: E402,F401 - issue 17's support case ids
from store import api_keys, idempotency  # noqa: E402, F401 - issue 16's REST API
from store import webhook_tables  # noqa: E402, F401 - issue 16's outgoing webhooks
