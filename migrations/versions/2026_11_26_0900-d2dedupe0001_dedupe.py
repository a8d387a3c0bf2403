"""Dedupe: merged sources on report items, story tokens and a canonical-URL index on articles.

Revision ID: d2dedupe0001
Revises: f1feeds00001
Create Date: 2026-11-26 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "d2dedupe0001"
down_revision: str | None = "f1feeds00001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("report_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sources", JSON_TYPE, nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("articles", schema=None) as batch_op:
        # Computed when an article is next placed in a report: no backfill needed.
        batch_op.add_column(sa.Column("story_tokens", JSON_TYPE, nullable=True))
        batch_op.create_index(
            batch_op.f("ix_articles_canonical_url"), ["canonical_url"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_articles_canonical_url"))
        batch_op.drop_column("story_tokens")
    with op.batch_alter_table("report_items", schema=None) as batch_op:
        batch_op.drop_column("sources")
