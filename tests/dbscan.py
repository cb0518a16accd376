"""Look at everything a database holds, on SQLite and PostgreSQL alike: every column of every row of
every table (reflected, so a table added later is covered without touching the privacy tests)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData, select

from bot.db import Database
from bot.db.engine import sqlite_path


async def every_text_value(db: Database) -> list[tuple[str, str, str]]:
    """(table, column, value as text) for every non-null value in the database."""
    metadata = MetaData()
    async with db.engine.connect() as conn:
        await conn.run_sync(metadata.reflect)
        found: list[tuple[str, str, str]] = []
        for table in metadata.sorted_tables:
            for row in (await conn.execute(select(table))).mappings():
                for column, value in row.items():
                    if value is not None:
                        found.append((table.name, column, value.hex() if isinstance(value, bytes) else str(value)))
    return found


async def scan_database(db: Database, needle: str) -> list[str]:
    """Every "table.column" in the database that holds `needle` somewhere in its text."""
    return sorted({f"{table}.{column}" for table, column, value in await every_text_value(db) if needle in value})


def sqlite_file(db: Database) -> Path | None:
    """The SQLite file behind `db`, or None on PostgreSQL (whose files this process cannot read)."""
    return sqlite_path(db.url)
