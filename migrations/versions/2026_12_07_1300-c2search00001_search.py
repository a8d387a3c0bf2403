"""Full-text search over titles, summaries, notes and article text (FTS5 trigram on SQLite, pg_trgm on PostgreSQL).

- `search_documents`: one row per report entry (`report_items`), what search reads: the
  entry's day, section and indicator types (for the filters), and its text in three parts,
  `title`, `notes` (summary lines, recommendations, other notes, the model's
  recommendations, the indicators' values) and `body` (the article's text; empty for
  imported entries, which have no article), lower-cased by the database's lower(): the
  text as it is matched, never shown (PostgreSQL then compares it with LIKE, 2-3 times
  cheaper than ILIKE on long texts; snippets are cut from the entry's own text). Written
  only by triggers on `report_items`, `articles` and `reports`, in the transaction of the
  write: a curated edit, a deleted entry, a re-summarized article are searchable (or gone)
  at once, whoever writes them.
- The index over it, per backend (not in the models, like the triggers): SQLite:
  `search_fts`, an FTS5 table with the trigram tokenizer over `search_documents` (external
  content: the text is stored once), kept in step by triggers on `search_documents`.
  PostgreSQL: the `pg_trgm` extension (trusted since PostgreSQL 13: the database's owner
  may create it; a clear error otherwise) and one GIN trigram index on the three columns.
- Existing rows: every entry of every report gets its document, then the index is built
  once over them (faster than row by row).

Later revisions: a SQLite batch operation that recreates `report_items`, `articles`,
`reports` or `search_documents` drops these triggers (create them again: SQLITE_TRIGGERS),
and recreating `report_items` deletes the documents through the foreign key's cascade (fill
them again as upgrade() does, then `INSERT INTO search_fts (search_fts) VALUES
('rebuild')`).

Revision ID: c2search00001
Revises: c1sightings01
Create Date: 2026-12-07 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c2search00001"
down_revision: str | None = "c1sightings01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# ----------------------------------------------------------------------------- SQLite


# A JSON column's elements; invalid JSON (a raw write) as none: a search document is never
# a reason for a write to fail. `{r}` is the row (NEW, or a table alias).
def _each(column: str) -> str:
    return f"json_each(CASE WHEN json_valid({{r}}.{column}) THEN {{r}}.{column} END)"


# The entry's lines in one text, one line each.
_SQLITE_NOTES = f"""coalesce((SELECT group_concat(line, char(10)) FROM (
        SELECT value AS line FROM {_each("summary")}
        UNION ALL SELECT value FROM {_each("recommendations")}
        UNION ALL SELECT value FROM {_each("other")}
        UNION ALL SELECT value FROM {_each("model_recommendations")}
        UNION ALL SELECT json_extract(value, '$.value') FROM {_each("iocs")}
            WHERE type = 'object')), '')"""
# ' cve ipv4 ': the types of the indicators the digest lists (benign and the page's own
# names are not evidence: app/services/reports/document.py, DocumentIoc.is_evidence).
_SQLITE_TYPES = f"""coalesce((SELECT ' ' || group_concat(kind, ' ') || ' ' FROM (
        SELECT DISTINCT json_extract(i.value, '$.type') AS kind FROM {_each("iocs")} AS i
        WHERE i.type = 'object' AND NOT EXISTS (
            SELECT 1 FROM json_each(i.value, '$.flags') AS f
            WHERE f.value IN ('benign', 'source-site')))), '')"""
_SQLITE_DOCUMENT = f"""
    INSERT INTO search_documents (item_id, article_id, day, section, ioc_types, title, notes, body)
    SELECT {{r}}.id, {{r}}.article_id, reports.day, {{r}}.section, {_SQLITE_TYPES},
           lower({{r}}.title), lower({_SQLITE_NOTES}),
           lower(coalesce((SELECT text FROM articles WHERE articles.id = {{r}}.article_id), ''))
    FROM {{source}}
    WHERE reports.id = {{r}}.report_id
    ON CONFLICT (item_id) DO UPDATE SET
        article_id = excluded.article_id, day = excluded.day, section = excluded.section,
        ioc_types = excluded.ioc_types, title = excluded.title, notes = excluded.notes,
        body = excluded.body"""
# What a change to an entry can change in its document (not its place: moving entries
# around a day rewrites positions by the dozen, and costs no re-indexing).
_ITEM_COLUMNS = (
    "report_id, article_id, section, title, summary, recommendations, other, "
    "model_recommendations, iocs"
)
# The index follows the documents. FTS5's external content: a row leaves the index with
# the values it was indexed with ('delete'), before they are gone.
_FTS_DELETE = (
    "INSERT INTO search_fts (search_fts, rowid, title, notes, body) "
    "VALUES ('delete', OLD.item_id, OLD.title, OLD.notes, OLD.body);"
)
_FTS_INSERT = (
    "INSERT INTO search_fts (rowid, title, notes, body) "
    "VALUES (NEW.item_id, NEW.title, NEW.notes, NEW.body);"
)

SQLITE_FTS = """
    CREATE VIRTUAL TABLE search_fts USING fts5(
        title, notes, body,
        content='search_documents', content_rowid='item_id', tokenize='trigram'
    )"""
SQLITE_TRIGGERS = {
    "search_items_insert": f"""
        CREATE TRIGGER search_items_insert AFTER INSERT ON report_items
        BEGIN {_SQLITE_DOCUMENT.format(r="NEW", source="reports")}; END""",
    "search_items_update": f"""
        CREATE TRIGGER search_items_update AFTER UPDATE OF {_ITEM_COLUMNS} ON report_items
        BEGIN {_SQLITE_DOCUMENT.format(r="NEW", source="reports")}; END""",
    # Also when foreign keys are off (a plain sqlite3 connection): no orphan document.
    "search_items_delete": """
        CREATE TRIGGER search_items_delete AFTER DELETE ON report_items
        BEGIN DELETE FROM search_documents WHERE item_id = OLD.id; END""",
    # A forced re-summary rewrites the article's text.
    "search_articles_update": """
        CREATE TRIGGER search_articles_update AFTER UPDATE OF text ON articles
        BEGIN UPDATE search_documents SET body = lower(NEW.text) WHERE article_id = NEW.id; END""",
    "search_articles_delete": """
        CREATE TRIGGER search_articles_delete AFTER DELETE ON articles
        BEGIN
            UPDATE search_documents SET body = '', article_id = NULL WHERE article_id = OLD.id;
        END""",
    "search_reports_day": """
        CREATE TRIGGER search_reports_day AFTER UPDATE OF day ON reports
        BEGIN
            UPDATE search_documents SET day = NEW.day
            WHERE item_id IN (SELECT id FROM report_items WHERE report_id = NEW.id);
        END""",
    "search_documents_insert": f"""
        CREATE TRIGGER search_documents_insert AFTER INSERT ON search_documents
        BEGIN {_FTS_INSERT} END""",
    "search_documents_delete": f"""
        CREATE TRIGGER search_documents_delete AFTER DELETE ON search_documents
        BEGIN {_FTS_DELETE} END""",
    # Only when the text changed: an upsert that rewrites the same values costs nothing.
    "search_documents_update": f"""
        CREATE TRIGGER search_documents_update AFTER UPDATE OF title, notes, body
        ON search_documents
        WHEN OLD.title IS NOT NEW.title OR OLD.notes IS NOT NEW.notes OR OLD.body IS NOT NEW.body
        BEGIN {_FTS_DELETE} {_FTS_INSERT} END""",
}
_SQLITE_BACKFILL = _SQLITE_DOCUMENT.format(r="report_items", source="report_items, reports")

# ------------------------------------------------------------------------- PostgreSQL

# A JSON value as an array (NULL, a scalar or an object as none): jsonb_array_elements
# would raise on them, and a write must never fail for its search document.
_PG_ARRAY = "CASE WHEN jsonb_typeof({0}) = 'array' THEN {0} ELSE '[]'::jsonb END"
POSTGRESQL_FUNCTIONS = [
    f"""
    CREATE FUNCTION secdigest_search_notes(
        summary jsonb, recommendations jsonb, other jsonb, model_recommendations jsonb,
        iocs jsonb
    ) RETURNS text AS $$
        SELECT coalesce(string_agg(line, E'\\n' ORDER BY part, n), '') FROM (
            SELECT 1, n, line FROM jsonb_array_elements_text({_PG_ARRAY.format("summary")})
                WITH ORDINALITY AS l (line, n)
            UNION ALL SELECT 2, n, line
                FROM jsonb_array_elements_text({_PG_ARRAY.format("recommendations")})
                WITH ORDINALITY AS l (line, n)
            UNION ALL SELECT 3, n, line FROM jsonb_array_elements_text({_PG_ARRAY.format("other")})
                WITH ORDINALITY AS l (line, n)
            UNION ALL SELECT 4, n, line
                FROM jsonb_array_elements_text({_PG_ARRAY.format("model_recommendations")})
                WITH ORDINALITY AS l (line, n)
            UNION ALL SELECT 5, n, i ->> 'value'
                FROM jsonb_array_elements({_PG_ARRAY.format("iocs")}) WITH ORDINALITY AS l (i, n)
        ) AS lines (part, n, line)
    $$ LANGUAGE sql IMMUTABLE""",
    f"""
    CREATE FUNCTION secdigest_search_types(iocs jsonb) RETURNS text AS $$
        SELECT coalesce(' ' || string_agg(DISTINCT i ->> 'type', ' ') || ' ', '')
        FROM jsonb_array_elements({_PG_ARRAY.format("iocs")}) AS i
        WHERE NOT coalesce(i -> 'flags' ?| array['benign', 'source-site'], false)
    $$ LANGUAGE sql IMMUTABLE""",
    """
    CREATE FUNCTION secdigest_search_item() RETURNS trigger AS $$
    BEGIN
        INSERT INTO search_documents
            (item_id, article_id, day, section, ioc_types, title, notes, body)
        SELECT NEW.id, NEW.article_id, reports.day, NEW.section,
               secdigest_search_types(NEW.iocs), lower(NEW.title),
               lower(secdigest_search_notes(NEW.summary, NEW.recommendations, NEW.other,
                                            NEW.model_recommendations, NEW.iocs)),
               lower(coalesce((SELECT text FROM articles WHERE articles.id = NEW.article_id), ''))
        FROM reports WHERE reports.id = NEW.report_id
        ON CONFLICT (item_id) DO UPDATE SET
            article_id = excluded.article_id, day = excluded.day, section = excluded.section,
            ioc_types = excluded.ioc_types, title = excluded.title, notes = excluded.notes,
            body = excluded.body
        WHERE (search_documents.article_id, search_documents.day, search_documents.section,
               search_documents.ioc_types, search_documents.title, search_documents.notes,
               search_documents.body)
              IS DISTINCT FROM
              (excluded.article_id, excluded.day, excluded.section, excluded.ioc_types,
               excluded.title, excluded.notes, excluded.body);
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    """
    CREATE FUNCTION secdigest_search_article() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            UPDATE search_documents SET body = '', article_id = NULL
            WHERE article_id = OLD.id;
        ELSIF NEW.text IS DISTINCT FROM OLD.text THEN
            UPDATE search_documents SET body = lower(NEW.text) WHERE article_id = NEW.id;
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    """
    CREATE FUNCTION secdigest_search_report_day() RETURNS trigger AS $$
    BEGIN
        IF NEW.day IS DISTINCT FROM OLD.day THEN
            UPDATE search_documents SET day = NEW.day
            WHERE item_id IN (SELECT id FROM report_items WHERE report_id = NEW.id);
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
]
# A deleted entry's document goes with it: ON DELETE CASCADE of search_documents.item_id.
POSTGRESQL_TRIGGERS = {
    "search_items": f"""
        CREATE TRIGGER search_items AFTER INSERT OR UPDATE OF {_ITEM_COLUMNS} ON report_items
        FOR EACH ROW EXECUTE FUNCTION secdigest_search_item()""",
    "search_articles": """
        CREATE TRIGGER search_articles AFTER UPDATE OF text OR DELETE ON articles
        FOR EACH ROW EXECUTE FUNCTION secdigest_search_article()""",
    "search_reports_day": """
        CREATE TRIGGER search_reports_day AFTER UPDATE OF day ON reports
        FOR EACH ROW EXECUTE FUNCTION secdigest_search_report_day()""",
}
POSTGRESQL_TRIGGER_TABLES = {
    "search_items": "report_items",
    "search_articles": "articles",
    "search_reports_day": "reports",
}
POSTGRESQL_FUNCTION_NAMES = (
    "secdigest_search_item()",
    "secdigest_search_article()",
    "secdigest_search_report_day()",
    "secdigest_search_notes(jsonb, jsonb, jsonb, jsonb, jsonb)",
    "secdigest_search_types(jsonb)",
)
_PG_BACKFILL = """
    INSERT INTO search_documents (item_id, article_id, day, section, ioc_types, title, notes, body)
    SELECT i.id, i.article_id, r.day, i.section, secdigest_search_types(i.iocs), lower(i.title),
           lower(secdigest_search_notes(i.summary, i.recommendations, i.other,
                                        i.model_recommendations, i.iocs)),
           lower(coalesce(a.text, ''))
    FROM report_items AS i
    JOIN reports AS r ON r.id = i.report_id
    LEFT JOIN articles AS a ON a.id = i.article_id"""
# One GIN index over the three columns: a term is looked up in each (a bitmap OR), and
# every term must be found (a bitmap AND). gin_trgm_ops serves LIKE and ILIKE '%...%'.
POSTGRESQL_INDEX = """
    CREATE INDEX ix_search_documents_trgm ON search_documents
    USING gin (title gin_trgm_ops, notes gin_trgm_ops, body gin_trgm_ops)"""

_NO_PG_TRGM = (
    "search needs PostgreSQL's pg_trgm extension, and this role cannot create it ({error}). "
    "pg_trgm is a trusted extension since PostgreSQL 13: the database's owner (or a role "
    "with CREATE on the database) can run `CREATE EXTENSION IF NOT EXISTS pg_trgm;` in this "
    "database; on an older server a superuser must. Then run the migration again."
)


def _create_pg_trgm() -> None:
    bind = op.get_bind()
    present = bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"))
    if present.first() is not None:
        return
    try:
        # A savepoint: a refusal must leave a transaction we can still report from.
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as exc:
        error = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise RuntimeError(_NO_PG_TRGM.format(error=error)) from exc


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if not sqlite:
        _create_pg_trgm()
    op.create_table(
        "search_documents",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("section", sa.String(length=32), nullable=False),
        sa.Column("ioc_types", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["report_items.id"],
            name=op.f("fk_search_documents_item_id_report_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_search_documents")),
    )
    with op.batch_alter_table("search_documents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_search_documents_article_id"), ["article_id"], unique=False
        )
        batch_op.create_index("ix_search_documents_day", ["day", "item_id"], unique=False)
    if sqlite:
        op.execute(sa.text(_SQLITE_BACKFILL))
        op.execute(sa.text(SQLITE_FTS))
        op.execute(sa.text("INSERT INTO search_fts (search_fts) VALUES ('rebuild')"))
        for statement in SQLITE_TRIGGERS.values():
            op.execute(sa.text(statement))
    else:
        for statement in POSTGRESQL_FUNCTIONS:
            op.execute(sa.text(statement))
        op.execute(sa.text(_PG_BACKFILL))
        op.execute(sa.text(POSTGRESQL_INDEX))
        for statement in POSTGRESQL_TRIGGERS.values():
            op.execute(sa.text(statement))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}"))
        op.execute(sa.text("DROP TABLE IF EXISTS search_fts"))
    else:
        for name, table in POSTGRESQL_TRIGGER_TABLES.items():
            op.execute(sa.text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
        for function in POSTGRESQL_FUNCTION_NAMES:
            op.execute(sa.text(f"DROP FUNCTION IF EXISTS {function}"))
        op.execute(sa.text("DROP INDEX IF EXISTS ix_search_documents_trgm"))
        # pg_trgm stays: other objects of the database may use it by now.
    op.drop_table("search_documents")
