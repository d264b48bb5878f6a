"""issue 16, customer self-service page: link revocations and upload rate limits.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

``customer_links``: a request's current link generation (links of earlier generations are
revoked). ``customer_uploads``: every upload attempt through a link, which the per-link rate
limit counts. Matches ``store/customer_link_tables.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "customer_links",
        sa.Column("request_id", sa.String(32), primary_key=True),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("revoked_by", sa.String(320), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "customer_uploads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.String(32), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
    )
    op.create_index("ix_customer_uploads_request_at", "customer_uploads", ["request_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_customer_uploads_request_at", table_name="customer_uploads")
    op.drop_table("customer_uploads")
    op.drop_table("customer_links")
