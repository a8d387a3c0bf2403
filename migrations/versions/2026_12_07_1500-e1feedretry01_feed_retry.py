"""Feed retry: pulls that failed in a row, so that a failed feed is tried again sooner.

One column on `feeds`, `pull_failures` (NOT NULL, 0 for every existing row: no feed has
failed in a row as far as this release knows); the time of the next try is the existing
`next_pull_at`. Added in batch mode: SQLite adds the column in place (no trigger is on
`feeds`), PostgreSQL alters the table.

Revision ID: e1feedretry01
Revises: d1delivery001
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e1feedretry01"
down_revision: str | None = "d1delivery001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pull_failures", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("pull_failures")
