"""Ids taken from paths and bodies, bounded to what their columns can hold.

An id past the column's range never names a row, but it used to reach the database
anyway: SQLite cannot bind an integer past 64 bits (OverflowError) and asyncpg refuses
one past the parameter's SQL type, both answered as a 500. Bounding the id here makes
such a request a 422 before any SQL is written, on every backend.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

# Every id column is an SQL `integer` (the migrations use sa.Integer): 32 bits on
# PostgreSQL, so its int4 range is the bound, not SQLite's wider 64-bit one. An id column
# made BIGINT some day would raise this bound with it.
SQL_INT_MAX = 2**31 - 1

# Rows are numbered from 1 (SQLite's rowid and PostgreSQL's serial both start there):
# 0 and negative ids name nothing either.
RowId = Annotated[int, Field(ge=1, le=SQL_INT_MAX)]

# Job ids are the canonical text of a UUID (uuid4, or uuid5 of an idempotency key).
# Anything else names no job; unbounded it reached PostgreSQL, which refuses a NUL in
# text with an error of its own (a 500).
JobId = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
]
