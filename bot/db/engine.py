"""The async engine and transaction helpers, for SQLite (aiosqlite) and PostgreSQL (asyncpg).

SQLite gets WAL, foreign keys and a busy timeout on every connection. Write transactions start with
BEGIN IMMEDIATE so that concurrent writers queue instead of failing half-way; on PostgreSQL the
services lock rows with SELECT ... FOR UPDATE, which SQLite ignores, and the engine keeps a small
pool per instance (several instances share one server, so each must stay well under max_connections).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

BUSY_TIMEOUT_MS = 10_000
# Per instance at most 10 + 10 connections (bursts of clicks each hold one briefly); raise the server's
# max_connections (default 100) or put PgBouncer in front when running more than four instances.
PG_POOL = {"pool_size": 10, "max_overflow": 10, "pool_timeout": 30, "pool_recycle": 1800, "pool_pre_ping": True}


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC, so attach it."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def dialect_of(url: str) -> str:
    """"sqlite" or "postgresql"."""
    return make_url(url).get_backend_name()


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _install_sqlite_pragmas(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us emit BEGIN ourselves (pysqlite's implicit transactions get in the way).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted rows are overwritten with zeros, so destroyed survey keys and forgotten users are
        # really gone from the file, not left in free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """Owns the engine; `read()` and `write()` hand out connections inside a transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.is_sqlite = dialect_of(url) == "sqlite"
        self.is_postgres = dialect_of(url) == "postgresql"
        options: dict[str, Any] = PG_POOL if self.is_postgres else {"pool_pre_ping": False}
        self.engine = create_async_engine(url, **options)
        if self.is_sqlite:
            _install_sqlite_pragmas(self.engine)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that may write; commits on success, rolls back on error."""
        async with self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only snapshot; never blocks writers under WAL."""
        async with self.engine.connect() as conn:
            if self.is_sqlite:
                conn = await conn.execution_options(sqlite_begin="DEFERRED")
            async with conn.begin():
                yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()
