"""IOC flags: benign, source-site, documentation, private... (marks, never a drop).

Revision ID: 7c2d9e41a0b5
Revises: 4114e1dcdfb8
Create Date: 2026-11-25 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "7c2d9e41a0b5"
down_revision: str | None = "4114e1dcdfb8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("article_iocs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("flags", JSON_TYPE, nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("article_iocs", schema=None) as batch_op:
        batch_op.drop_column("flags")
