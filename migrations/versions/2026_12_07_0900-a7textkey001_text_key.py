"""Text dedupe: a unique key on articles for texts submitted without a URL.

Revision ID: a7textkey001
Revises: d2dedupe0001
Create Date: 2026-12-07 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7textkey001"
down_revision: str | None = "d2dedupe0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text_key", sa.String(length=64), nullable=True))
    # The previous release stored a text sent twice as two articles (with two entries). The
    # oldest article of each text takes the key and answers for that text from now on; the
    # later copies keep no key and stay as they are, report entries included (a unique key
    # cannot be given twice, and deleting them would delete entries analysts may have
    # curated). content_hash was already the hash of the whitespace-normalised text.
    op.execute(
        sa.text(
            "UPDATE articles SET text_key = content_hash WHERE id IN ("
            "SELECT MIN(id) FROM articles WHERE source = 'text' AND url IS NULL "
            "GROUP BY content_hash)"
        )
    )
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_articles_text_key"), ["text_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_articles_text_key"))
        batch_op.drop_column("text_key")
