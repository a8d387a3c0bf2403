"""CVE context: the CISA KEV catalog and FIRST EPSS scores.

Three new tables, created empty: the service is offline first (CVE context is null until
`secdigest enrich update` or the daily job loads the sources), so nothing is backfilled
and no existing table or row is touched.

A load of new rows ticks the change clock (b1readpath01): the report JSON carries each
CVE's KEV and EPSS context, so a cached JSON day is stale once a source's rows change. The
trigger is on the source's row, which the load updates in the same transaction (a trigger
on the 300,000 EPSS rows would tick once per row on SQLite).

Revision ID: c3enrich00001
Revises: c2search00001
Create Date: 2026-12-07 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3enrich00001"
down_revision: str | None = "c2search00001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Only a load of new rows sets row_count and data_date (a 304 or a failure does not).
_TICK_SQLITE = """
    CREATE TRIGGER enrichment_sources_loaded
    AFTER UPDATE OF row_count, data_date ON enrichment_sources
    BEGIN
        INSERT INTO change_clock (id, value) VALUES (1, 1)
        ON CONFLICT (id) DO UPDATE SET value = change_clock.value + 1;
    END"""
# secdigest_clock_tick() is b1readpath01's (one tick per statement).
_TICK_POSTGRESQL = """
    CREATE TRIGGER enrichment_sources_loaded
    AFTER UPDATE OF row_count, data_date ON enrichment_sources
    FOR EACH STATEMENT EXECUTE FUNCTION secdigest_clock_tick()"""


def upgrade() -> None:
    op.create_table(
        "kev_entries",
        sa.Column("cve_id", sa.String(length=32), nullable=False),
        sa.Column("date_added", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("known_ransomware_campaign_use", sa.String(length=32), nullable=False),
        sa.Column("vendor_project", sa.Text(), nullable=True),
        sa.Column("product", sa.Text(), nullable=True),
        sa.Column("vulnerability_name", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("cve_id", name=op.f("pk_kev_entries")),
    )
    op.create_table(
        "epss_scores",
        sa.Column("cve_id", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("percentile", sa.Float(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("cve_id", name=op.f("pk_epss_scores")),
    )
    op.create_table(
        "enrichment_sources",
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("etag", sa.String(length=1024), nullable=True),
        sa.Column("last_modified", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("data_date", sa.Date(), nullable=True),
        sa.Column("version", sa.String(length=64), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_update_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_enrichment_sources")),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute(sa.text(_TICK_SQLITE if sqlite else _TICK_POSTGRESQL))


def downgrade() -> None:
    # Dropped with its table on both databases.
    op.drop_table("enrichment_sources")
    op.drop_table("epss_scores")
    op.drop_table("kev_entries")
