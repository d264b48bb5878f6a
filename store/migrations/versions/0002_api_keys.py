"""issue 16, REST API: API keys (hashed, owner, role) and Idempotency-Key records.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03

Written by hand to match ``store/api_keys.py`` and ``store/idempotency.py``
(tests/store/test_migrations.py checks that they agree).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(12), primary_key=True),
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("last_used_at", TS, nullable=True),
    )
    op.create_index("ix_api_keys_owner", "api_keys", ["owner"])
    op.create_table(
        "api_idempotency",
        sa.Column("key_id", sa.String(12), primary_key=True),
        sa.Column("idempotency_key", sa.String(255), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("media_type", sa.String(100), nullable=True),
        sa.Column("reserved", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_index("ix_api_idempotency_expires_at", "api_idempotency", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_api_idempotency_expires_at", "api_idempotency")
    op.drop_table("api_idempotency")
    op.drop_index("ix_api_keys_owner", "api_keys")
    op.drop_table("api_keys")
