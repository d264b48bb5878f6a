"""issue 17, go-live gate and temporary numbers.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

Reserved in the chain so that the branches building these features never fork Alembic's
head; the branch that owns this slot fills upgrade() and downgrade(). An empty slot is a
no-op and is removed before release.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
