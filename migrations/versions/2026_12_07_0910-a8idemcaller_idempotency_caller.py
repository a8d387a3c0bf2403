"""Idempotency keys scoped per caller: a caller column, in the primary key.

Revision ID: a8idemcaller
Revises: a7textkey001
Create Date: 2026-12-07 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a8idemcaller"
down_revision: str | None = "a7textkey001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written here rather than imported: a migration must not change when app code does.
ANONYMOUS = "anonymous"  # app.http.idempotency.ANONYMOUS
LEGACY = "legacy"  # no caller is ever named this: such a row is replayed to no one


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("caller", sa.String(length=64), nullable=True))
    # Whose were the rows kept so far? Keys are revoked, never deleted: with no row in
    # api_keys no key ever existed, every request was anonymous, and the rows keep meaning
    # what they meant. Otherwise the caller is unknown, and replaying the row to anyone is
    # the leak this revision closes: it goes to no one (a retry across the upgrade is done
    # again, once, under its caller).
    keys_existed = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM api_keys")).scalar()
    op.execute(
        sa.text("UPDATE idempotency_keys SET caller = :caller").bindparams(
            caller=LEGACY if keys_existed else ANONYMOUS
        )
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.alter_column("caller", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_constraint("pk_idempotency_keys", type_="primary")
        batch_op.create_primary_key("pk_idempotency_keys", ["caller", "key"])


def downgrade() -> None:
    # The previous schema holds one row per key: a key two callers used is dropped for both
    # (the older release would replay either to the other); the rest lose their caller.
    op.execute(
        sa.text(
            "DELETE FROM idempotency_keys WHERE key IN ("
            "SELECT key FROM idempotency_keys GROUP BY key HAVING COUNT(*) > 1)"
        )
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_constraint("pk_idempotency_keys", type_="primary")
        batch_op.create_primary_key("pk_idempotency_keys", ["key"])
        batch_op.drop_column("caller")
