"""The read path: a revision per report, a change clock, display lines stored with an item.

- `reports.revision` goes up with every change to the report or its items, in the same
  transaction (triggers, so that no write path can forget it: curation, placing, merging,
  imports, a bulk UPDATE, another process, a later release), and `reports.change_token`
  becomes a new random value: ETags and the keys of rendered days are derived from the
  token, which, unlike a counter, never names two states (a database restored from a
  backup counts again from an older revision).
- `change_clock` holds one number that goes up with every change to a report or to an API
  key: a process that has seen the same number before knows that nothing it cached from
  those tables is stale, with one tiny read (app/clock.py).
- `report_items.display`: the item's outside text escaped and defanged for the Markdown,
  computed once when the item is written instead of scanned at every render. NULL on the
  rows of earlier releases: they render as before, through the scan.

Revision ID: b1readpath01
Revises: a8idemcaller
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b1readpath01"
down_revision: str | None = "a8idemcaller"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# SQLite keeps DATETIME as text; SQLAlchemy writes and reads 'YYYY-MM-DD HH:MM:SS.ffffff'.
_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'"
_SQLITE_CHANGED = f"revision = revision + 1, change_token = lower(hex(randomblob(12))), updated_at = {_SQLITE_NOW}"
_SQLITE_TICK = (
    "INSERT INTO change_clock (id, value) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET value = change_clock.value + 1;"
)

SQLITE_TRIGGERS = {
    "report_items_changed_insert": f"""
        CREATE TRIGGER report_items_changed_insert AFTER INSERT ON report_items
        BEGIN
            UPDATE reports SET {_SQLITE_CHANGED}
            WHERE id = NEW.report_id;
        END""",
    "report_items_changed_update": f"""
        CREATE TRIGGER report_items_changed_update AFTER UPDATE ON report_items
        BEGIN
            UPDATE reports SET {_SQLITE_CHANGED}
            WHERE id IN (OLD.report_id, NEW.report_id);
        END""",
    "report_items_changed_delete": f"""
        CREATE TRIGGER report_items_changed_delete AFTER DELETE ON report_items
        BEGIN
            UPDATE reports SET {_SQLITE_CHANGED}
            WHERE id = OLD.report_id;
        END""",
    "reports_changed_insert": f"""
        CREATE TRIGGER reports_changed_insert AFTER INSERT ON reports
        BEGIN {_SQLITE_TICK} END""",
    "reports_changed_update": f"""
        CREATE TRIGGER reports_changed_update AFTER UPDATE ON reports
        BEGIN {_SQLITE_TICK} END""",
    "reports_changed_delete": f"""
        CREATE TRIGGER reports_changed_delete AFTER DELETE ON reports
        BEGIN {_SQLITE_TICK} END""",
    "api_keys_changed_insert": f"""
        CREATE TRIGGER api_keys_changed_insert AFTER INSERT ON api_keys
        BEGIN {_SQLITE_TICK} END""",
    # Not on last_used_at: a key in use would otherwise tick the clock every minute.
    "api_keys_changed_update": f"""
        CREATE TRIGGER api_keys_changed_update
        AFTER UPDATE OF revoked_at, scope, key_hash, prefix, name ON api_keys
        BEGIN {_SQLITE_TICK} END""",
    "api_keys_changed_delete": f"""
        CREATE TRIGGER api_keys_changed_delete AFTER DELETE ON api_keys
        BEGIN {_SQLITE_TICK} END""",
}

POSTGRESQL_FUNCTIONS = [
    """
    CREATE FUNCTION secdigest_report_item_changed() RETURNS trigger AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            UPDATE reports SET revision = revision + 1, updated_at = now(),
                change_token = replace(gen_random_uuid()::text, '-', '')
            WHERE id = OLD.report_id;
        END IF;
        IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.report_id <> OLD.report_id) THEN
            UPDATE reports SET revision = revision + 1, updated_at = now(),
                change_token = replace(gen_random_uuid()::text, '-', '')
            WHERE id = NEW.report_id;
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    """
    CREATE FUNCTION secdigest_clock_tick() RETURNS trigger AS $$
    BEGIN
        INSERT INTO change_clock (id, value) VALUES (1, 1)
        ON CONFLICT (id) DO UPDATE SET value = change_clock.value + 1;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
]
POSTGRESQL_TRIGGERS = {
    "report_items_changed": """
        CREATE TRIGGER report_items_changed AFTER INSERT OR UPDATE OR DELETE ON report_items
        FOR EACH ROW EXECUTE FUNCTION secdigest_report_item_changed()""",
    # Per statement: one tick however many rows a statement changes.
    "reports_changed": """
        CREATE TRIGGER reports_changed AFTER INSERT OR UPDATE OR DELETE ON reports
        FOR EACH STATEMENT EXECUTE FUNCTION secdigest_clock_tick()""",
    "api_keys_changed": """
        CREATE TRIGGER api_keys_changed
        AFTER INSERT OR DELETE OR UPDATE OF revoked_at, scope, key_hash, prefix, name
        ON api_keys FOR EACH STATEMENT EXECUTE FUNCTION secdigest_clock_tick()""",
}
POSTGRESQL_TRIGGER_TABLES = {
    "report_items_changed": "report_items",
    "reports_changed": "reports",
    "api_keys_changed": "api_keys",
}


def upgrade() -> None:
    op.add_column(
        "reports", sa.Column("revision", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("reports", sa.Column("change_token", sa.String(length=32), nullable=True))
    sqlite = op.get_bind().dialect.name == "sqlite"
    random_token = (
        "lower(hex(randomblob(12)))" if sqlite else "replace(gen_random_uuid()::text, '-', '')"
    )
    op.execute(sa.text(f"UPDATE reports SET change_token = {random_token}"))
    op.add_column("report_items", sa.Column("display", JSON_TYPE, nullable=True))
    op.create_table(
        "change_clock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_clock")),
    )
    op.execute(sa.text("INSERT INTO change_clock (id, value) VALUES (1, 0)"))
    if sqlite:
        for statement in SQLITE_TRIGGERS.values():
            op.execute(sa.text(statement))
    else:
        for statement in POSTGRESQL_FUNCTIONS:
            op.execute(sa.text(statement))
        for statement in POSTGRESQL_TRIGGERS.values():
            op.execute(sa.text(statement))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}"))
    else:
        for name, table in POSTGRESQL_TRIGGER_TABLES.items():
            op.execute(sa.text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
        op.execute(sa.text("DROP FUNCTION IF EXISTS secdigest_report_item_changed()"))
        op.execute(sa.text("DROP FUNCTION IF EXISTS secdigest_clock_tick()"))
    op.drop_table("change_clock")
    with op.batch_alter_table("report_items", schema=None) as batch_op:
        batch_op.drop_column("display")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_column("change_token")
        batch_op.drop_column("revision")
