"""Indicators and their sightings (one row per normalised value; one per occurrence in a report entry).

- `indicators`: one row per (type, value), the value as report_items.iocs stores it (the IOC
  engine's normalised form). Rows are never deleted: a writer that has just found one
  (INSERT ... ON CONFLICT DO NOTHING) may be about to add its sighting; an indicator
  without sightings is answered as never seen.
- `sightings`: one row per (report entry, indicator) of the entry's `iocs` list ("other"
  lines, which no rule recognises, are no indicators). `day` is the report's day, copied
  so that first/last seen and newest-first pages read one index (ix_sightings_timeline).

Kept in step by triggers on report_items, as b1readpath01 keeps reports.revision: the
sightings change in the same transaction as the entry, whatever writes it (a curation
PATCH that removes an IOC, a DELETE, an import that replaces a day, placing an article,
a bulk UPDATE, another process or release), which an ORM flush hook would not see. An
insert adds the entry's indicators (ON CONFLICT DO NOTHING) then its sightings; an update
of `iocs` or `report_id` removes the sightings no longer listed and adds the new ones; a
delete goes through the foreign key's ON DELETE CASCADE (on SQLite also a trigger, for a
connection without PRAGMA foreign_keys); a report whose day changes moves its sightings.
Values that no index could hold are skipped (over 2048 bytes: longer than any lookup may
send, and PostgreSQL's B-tree entries stop near 2700 bytes), as are entries that are not
objects with string `type` and `value`: a sighting is never a reason for a write to fail.

Existing rows: every report item's IOCs are backfilled, in the same revision.

Later revisions: a SQLite batch operation that recreates report_items or reports drops
these triggers (create them again), and its DROP TABLE deletes through the foreign key's
cascade: backfill the sightings again as upgrade() does.

Revision ID: c1sightings01
Revises: b1readpath01
Create Date: 2026-12-07 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c1sightings01"
down_revision: str | None = "b1readpath01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAX_VALUE_BYTES = 2048
MAX_TYPE_CHARS = 32

# ---------------------------------------------------------------------------- SQLite


def _sqlite_iocs(iocs: str, *, columns: str = "", source: str = "") -> str:
    """The (type, value) of each IOC object of the JSON array `iocs`, as a subquery.

    CASE is evaluated lazily, unlike AND: json_type and json_extract only ever see valid
    JSON (a malformed column, a string element), so no row makes the statement fail.
    """
    array = (
        f"CASE WHEN json_valid({iocs}) THEN CASE json_type({iocs}) WHEN 'array' THEN {iocs} END END"
    )
    field = (
        "CASE j.type WHEN 'object' THEN CASE json_type(j.value, '$.{name}') "
        "WHEN 'text' THEN json_extract(j.value, '$.{name}') END END"
    )
    return f"""
        SELECT {columns} {field.format(name="type")} AS type, {field.format(name="value")} AS value
        FROM {source} json_each({array}) AS j"""


_SQLITE_KEEP = (
    f"e.type IS NOT NULL AND e.value IS NOT NULL AND e.type <> 'other' AND e.value <> '' "
    f"AND length(e.type) <= {MAX_TYPE_CHARS} "
    f"AND length(CAST(e.value AS BLOB)) <= {MAX_VALUE_BYTES}"
)


def _sqlite_add(item: str) -> str:
    """The statements that add the indicators and sightings of row `item` (NEW)."""
    # WHERE before ON CONFLICT: SQLite's parser needs it to tell the upsert from a join.
    return f"""
            INSERT INTO indicators (type, value)
            SELECT DISTINCT e.type, e.value FROM ({_sqlite_iocs(f"{item}.iocs")}) AS e
            WHERE {_SQLITE_KEEP} AND NOT EXISTS (
                SELECT 1 FROM indicators AS i WHERE i.type = e.type AND i.value = e.value)
            ON CONFLICT (type, value) DO NOTHING;
            INSERT INTO sightings (report_item_id, indicator_id, report_id, day)
            SELECT DISTINCT {item}.id, i.id, {item}.report_id, r.day
            FROM ({_sqlite_iocs(f"{item}.iocs")}) AS e
            JOIN indicators AS i ON i.type = e.type AND i.value = e.value
            JOIN reports AS r ON r.id = {item}.report_id
            WHERE {_SQLITE_KEEP}
            ON CONFLICT (report_item_id, indicator_id) DO NOTHING;"""


SQLITE_TRIGGERS = {
    "report_items_sightings_insert": f"""
        CREATE TRIGGER report_items_sightings_insert AFTER INSERT ON report_items
        BEGIN {_sqlite_add("NEW")}
        END""",
    "report_items_sightings_update": f"""
        CREATE TRIGGER report_items_sightings_update AFTER UPDATE OF iocs, report_id
        ON report_items
        WHEN OLD.iocs IS NOT NEW.iocs OR OLD.report_id IS NOT NEW.report_id
        BEGIN
            DELETE FROM sightings
            WHERE report_item_id = OLD.id AND (
                OLD.report_id IS NOT NEW.report_id OR indicator_id NOT IN (
                    SELECT i.id FROM ({_sqlite_iocs("NEW.iocs")}) AS e
                    JOIN indicators AS i ON i.type = e.type AND i.value = e.value));
            {_sqlite_add("NEW")}
        END""",
    # The foreign key's cascade does it when PRAGMA foreign_keys is on (the service's
    # connections); this covers a connection without it (the sqlite3 shell's default).
    "report_items_sightings_delete": """
        CREATE TRIGGER report_items_sightings_delete AFTER DELETE ON report_items
        BEGIN
            DELETE FROM sightings WHERE report_item_id = OLD.id;
        END""",
    "reports_sightings_day": """
        CREATE TRIGGER reports_sightings_day AFTER UPDATE OF day ON reports
        WHEN OLD.day IS NOT NEW.day
        BEGIN
            UPDATE sightings SET day = NEW.day WHERE report_id = NEW.id;
        END""",
}

SQLITE_BACKFILL = [
    f"""
    INSERT INTO indicators (type, value)
    SELECT DISTINCT e.type, e.value
    FROM ({_sqlite_iocs("ri.iocs", source="report_items AS ri,")}) AS e
    WHERE {_SQLITE_KEEP}
    ORDER BY e.type, e.value""",
    f"""
    INSERT INTO sightings (report_item_id, indicator_id, report_id, day)
    SELECT DISTINCT e.item_id, i.id, e.report_id, r.day
    FROM ({
        _sqlite_iocs(
            "ri.iocs",
            columns="ri.id AS item_id, ri.report_id AS report_id,",
            source="report_items AS ri,",
        )
    }) AS e
    JOIN indicators AS i ON i.type = e.type AND i.value = e.value
    JOIN reports AS r ON r.id = e.report_id
    WHERE {_SQLITE_KEEP}""",
]

# ---------------------------------------------------------------------------- PostgreSQL

POSTGRESQL_FUNCTIONS = [
    # The (type, value) of each IOC object of a report item's `iocs`, the kept ones only.
    # `->` and `->>` answer NULL, never an error, on anything that is not an object.
    f"""
    CREATE FUNCTION secdigest_item_iocs(iocs jsonb)
    RETURNS TABLE (ioc_type text, ioc_value text) AS $$
        SELECT e->>'type', e->>'value'
        FROM jsonb_array_elements(
            CASE WHEN jsonb_typeof(iocs) = 'array' THEN iocs ELSE '[]'::jsonb END
        ) AS e
        WHERE jsonb_typeof(e->'type') = 'string' AND jsonb_typeof(e->'value') = 'string'
            AND e->>'type' <> 'other' AND e->>'value' <> ''
            AND length(e->>'type') <= {MAX_TYPE_CHARS}
            AND octet_length(e->>'value') <= {MAX_VALUE_BYTES}
    $$ LANGUAGE sql IMMUTABLE""",
    # Each statement of a PL/pgSQL function reads a new snapshot (READ COMMITTED): an
    # indicator that a concurrent transaction inserted and committed while our INSERT ...
    # ON CONFLICT waited for it is seen by the join that follows.
    """
    CREATE FUNCTION secdigest_report_item_sightings() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            DELETE FROM sightings AS s
            WHERE s.report_item_id = OLD.id AND (
                NEW.report_id <> OLD.report_id OR s.indicator_id NOT IN (
                    SELECT i.id FROM secdigest_item_iocs(NEW.iocs) AS e
                    JOIN indicators AS i ON i.type = e.ioc_type AND i.value = e.ioc_value));
        END IF;
        -- NOT EXISTS first: ON CONFLICT alone would draw a sequence value per known one.
        -- In one order: two writers that both add X and Y wait for each other in turn,
        -- never in a circle (a deadlock, one of them failed).
        INSERT INTO indicators (type, value)
        SELECT DISTINCT e.ioc_type, e.ioc_value FROM secdigest_item_iocs(NEW.iocs) AS e
        WHERE NOT EXISTS (
            SELECT 1 FROM indicators AS i WHERE i.type = e.ioc_type AND i.value = e.ioc_value)
        ORDER BY e.ioc_type, e.ioc_value
        ON CONFLICT (type, value) DO NOTHING;
        INSERT INTO sightings (report_item_id, indicator_id, report_id, day)
        SELECT DISTINCT NEW.id, i.id, NEW.report_id, r.day
        FROM secdigest_item_iocs(NEW.iocs) AS e
        JOIN indicators AS i ON i.type = e.ioc_type AND i.value = e.ioc_value
        JOIN reports AS r ON r.id = NEW.report_id
        ON CONFLICT (report_item_id, indicator_id) DO NOTHING;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    """
    CREATE FUNCTION secdigest_report_day_sightings() RETURNS trigger AS $$
    BEGIN
        UPDATE sightings SET day = NEW.day WHERE report_id = NEW.id;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
]
# A delete needs none: the foreign key's ON DELETE CASCADE removes the entry's sightings.
POSTGRESQL_TRIGGERS = {
    "report_items_sightings_insert": """
        CREATE TRIGGER report_items_sightings_insert AFTER INSERT ON report_items
        FOR EACH ROW EXECUTE FUNCTION secdigest_report_item_sightings()""",
    "report_items_sightings_update": """
        CREATE TRIGGER report_items_sightings_update AFTER UPDATE OF iocs, report_id
        ON report_items FOR EACH ROW
        WHEN (OLD.iocs IS DISTINCT FROM NEW.iocs OR OLD.report_id IS DISTINCT FROM NEW.report_id)
        EXECUTE FUNCTION secdigest_report_item_sightings()""",
    "reports_sightings_day": """
        CREATE TRIGGER reports_sightings_day AFTER UPDATE OF day ON reports
        FOR EACH ROW WHEN (OLD.day IS DISTINCT FROM NEW.day)
        EXECUTE FUNCTION secdigest_report_day_sightings()""",
}
POSTGRESQL_TRIGGER_TABLES = {
    "report_items_sightings_insert": "report_items",
    "report_items_sightings_update": "report_items",
    "reports_sightings_day": "reports",
}
POSTGRESQL_DROP_FUNCTIONS = [
    "secdigest_report_item_sightings()",
    "secdigest_report_day_sightings()",
    "secdigest_item_iocs(jsonb)",
]
POSTGRESQL_BACKFILL = [
    """
    INSERT INTO indicators (type, value)
    SELECT DISTINCT e.ioc_type, e.ioc_value
    FROM report_items AS ri CROSS JOIN LATERAL secdigest_item_iocs(ri.iocs) AS e
    ORDER BY e.ioc_type, e.ioc_value""",
    """
    INSERT INTO sightings (report_item_id, indicator_id, report_id, day)
    SELECT DISTINCT ri.id, i.id, ri.report_id, r.day
    FROM report_items AS ri
    CROSS JOIN LATERAL secdigest_item_iocs(ri.iocs) AS e
    JOIN indicators AS i ON i.type = e.ioc_type AND i.value = e.ioc_value
    JOIN reports AS r ON r.id = ri.report_id""",
]


def upgrade() -> None:
    op.create_table(
        "indicators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=MAX_TYPE_CHARS), nullable=False),
        sa.Column("value", sa.String(length=MAX_VALUE_BYTES), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicators")),
        sa.UniqueConstraint("type", "value", name=op.f("uq_indicators_type_value")),
    )
    op.create_table(
        "sightings",
        sa.Column("report_item_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_sightings_indicator_id_indicators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_sightings_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_item_id"],
            ["report_items.id"],
            name=op.f("fk_sightings_report_item_id_report_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_item_id", "indicator_id", name=op.f("pk_sightings")),
    )
    op.create_index("ix_sightings_timeline", "sightings", ["indicator_id", "day", "report_item_id"])
    op.create_index(op.f("ix_sightings_report_id"), "sightings", ["report_id"])
    if op.get_bind().dialect.name == "sqlite":
        statements = [*SQLITE_TRIGGERS.values(), *SQLITE_BACKFILL]
    else:
        statements = [*POSTGRESQL_FUNCTIONS, *POSTGRESQL_TRIGGERS.values(), *POSTGRESQL_BACKFILL]
    for statement in statements:
        op.execute(sa.text(statement))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}"))
    else:
        for name, table in POSTGRESQL_TRIGGER_TABLES.items():
            op.execute(sa.text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
        for function in POSTGRESQL_DROP_FUNCTIONS:
            op.execute(sa.text(f"DROP FUNCTION IF EXISTS {function}"))
    op.drop_index(op.f("ix_sightings_report_id"), table_name="sightings")
    op.drop_index("ix_sightings_timeline", table_name="sightings")
    op.drop_table("sightings")
    op.drop_table("indicators")
