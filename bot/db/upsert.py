"""Idempotent writes: INSERT ... ON CONFLICT through the dialect's own insert (PostgreSQL or SQLite).

"Select, then insert" races when two instances do it at once (both see nothing, one insert fails on
the unique key). One statement that says what to do on a conflict cannot race.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def _insert(conn: AsyncConnection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for {conn.dialect.name}")


async def upsert(conn: AsyncConnection, table: Table, values: Mapping[str, Any], key: Sequence[str],
                 update: Mapping[str, Any], where: ColumnElement[bool] | None = None) -> int:
    """Insert `values`, or when a row with the same `key` exists, set `update` on it (only where
    `where` holds). Returns the number of rows inserted or changed."""
    statement = _insert(conn, table).values(**values)
    statement = statement.on_conflict_do_update(index_elements=list(key), set_=dict(update), where=where)
    return (await conn.execute(statement)).rowcount or 0


async def insert_new(conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]],
                     key: Sequence[str]) -> int:
    """Insert the rows whose `key` is not stored yet; the others are left as they are. Returns how many
    were inserted (exact for one row; drivers may not report it for many)."""
    if not rows:
        return 0
    statement = _insert(conn, table).on_conflict_do_nothing(index_elements=list(key))
    if len(rows) == 1:
        return (await conn.execute(statement.values(**rows[0]))).rowcount or 0
    await conn.execute(statement, [dict(row) for row in rows])
    return len(rows)


async def upsert_many(conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]], key: Sequence[str],
                      take: Sequence[str], also: Mapping[str, Any] | None = None,
                      where: ColumnElement[bool] | None = None) -> None:
    """Many upserts in one statement: on a conflict the stored row takes the proposed values of the
    columns in `take`, plus the fixed values `also` (only where `where` holds)."""
    if not rows:
        return
    statement = _insert(conn, table)
    set_ = {column: statement.excluded[column] for column in take} | dict(also or {})
    await conn.execute(statement.on_conflict_do_update(index_elements=list(key), set_=set_, where=where),
                       [dict(row) for row in rows])
