"""Initial schema: requests, orders, number inventory, documents, audit, vault, ledger.

Revision ID: 0001
Revises:
Create Date: 2026-05-10

Written by hand to match ``store/tables.py`` (tests/store/test_migrations.py checks
that they agree). The partial unique index ``uq_inventory_active_tn`` is what keeps a
telephone number in at most one active port.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
STATES = ("porting", "awaiting_assignment", "assigned", "active", "released", "not_portable")
KINDS = ("user", "resource_account")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    op.create_table(
        "port_requests",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("customer_name", sa.String(200), nullable=False),
        sa.Column("contact_email", sa.String(320), nullable=False),
        sa.Column("pm_email", sa.String(320), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("requested_port_date", sa.Date(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
    )
    op.create_index("ix_port_requests_pm_email", "port_requests", ["pm_email"])
    op.create_index("ix_port_requests_status", "port_requests", ["status"])

    op.create_table(
        "port_orders",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("request_id", sa.String(32), sa.ForeignKey("port_requests.id"), nullable=False),
        sa.Column("carrier", sa.String(100), nullable=False),
        sa.Column("port_type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("carrier_status_raw", sa.String(200), nullable=True),
        sa.Column("carrier_order_id", sa.String(100), nullable=True),
        sa.Column("envelope_id", sa.String(100), nullable=True),
        sa.Column("foc_at", TS, nullable=True),
        sa.Column("toll_free", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_port_orders_request_id", "port_orders", ["request_id"])
    op.create_index("ix_port_orders_status", "port_orders", ["status"])

    op.create_table(
        "inventory_numbers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tn", sa.String(16), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("request_id", sa.String(32), sa.ForeignKey("port_requests.id"), nullable=False),
        sa.Column("order_id", sa.String(40), sa.ForeignKey("port_orders.id"), nullable=False),
        sa.Column("assigned_to", sa.String(320), nullable=True),
        sa.Column("assigned_kind", sa.String(24), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("released_at", TS, nullable=True),
        sa.Column("release_reason", sa.String(500), nullable=True),
        sa.CheckConstraint(_in("state", STATES), name="ck_inventory_state"),
        sa.CheckConstraint(
            "assigned_kind IS NULL OR " + _in("assigned_kind", KINDS),
            name="ck_inventory_assigned_kind",
        ),
    )
    op.create_index("ix_inventory_numbers_tn", "inventory_numbers", ["tn"])
    op.create_index("ix_inventory_numbers_request_id", "inventory_numbers", ["request_id"])
    op.create_index("ix_inventory_numbers_order_id", "inventory_numbers", ["order_id"])
    # THE RULE: a number is in at most one active (not released) port.
    op.create_index(
        "uq_inventory_active_tn",
        "inventory_numbers",
        ["tn"],
        unique=True,
        sqlite_where=sa.text("released_at IS NULL"),
        postgresql_where=sa.text("released_at IS NULL"),
    )

    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        # no foreign keys: documents may be stored before their request is saved
        sa.Column("request_id", sa.String(32), nullable=False),
        sa.Column("order_id", sa.String(40), nullable=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by", sa.String(320), nullable=False),
        sa.Column("uploaded_at", TS, nullable=False),
    )
    op.create_index("ix_documents_request_id", "documents", ["request_id"])
    op.create_index(
        "uq_documents_order", "documents", ["request_id", "order_id", "kind", "sha256"], unique=True
    )
    op.create_index(
        "uq_documents_request",
        "documents",
        ["request_id", "kind", "sha256"],
        unique=True,
        sqlite_where=sa.text("order_id IS NULL"),
        postgresql_where=sa.text("order_id IS NULL"),
    )

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("subject", sa.String(40), nullable=False),
        sa.Column("from_status", sa.String(32), nullable=True),
        sa.Column("to_status", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.UniqueConstraint("subject", "to_status", "at", name="uq_audit_event"),
    )
    op.create_index("ix_audit_events_subject", "audit_events", ["subject"])

    op.create_table(
        "vault_secrets",
        sa.Column("ref", sa.String(36), primary_key=True),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )

    op.create_table(
        "ledger_entries",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )

    op.create_table(
        "request_id_counters",
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("last", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "request_id_counters",
        "ledger_entries",
        "vault_secrets",
        "audit_events",
        "documents",
        "inventory_numbers",
        "port_orders",
        "port_requests",
    ):
        op.drop_table(table)
