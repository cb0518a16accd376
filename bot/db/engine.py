"""The async engine and transaction helpers.

SQLite gets WAL, foreign keys and a busy timeout on every connection. Every write goes through the
process's one writer (`bot.db.writer`): queued writes are committed together in short transactions that
start with BEGIN IMMEDIATE on SQLite; reads run on their own pooled connections. On PostgreSQL the
services lock rows with SELECT ... FOR UPDATE / FOR SHARE, which SQLite ignores.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Column, Engine, Table, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bot.db.cache import Cache
from bot.db.lookup import BatchedLookup
from bot.db.writer import Writer

BUSY_TIMEOUT_MS = 10_000

T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC, so attach it."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _install_sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
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

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        if mode != "NONE":  # NONE: the writer has begun the transaction itself (bot.db.writer)
            connection.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """Owns the engine and the process's writer; `read()` and `write()` hand out connections inside a
    transaction, `run()` queues one write for the next group commit."""

    def __init__(self, url: str) -> None:
        self.url = url
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_async_engine(url, pool_pre_ping=False)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        inline: Engine | None = None
        if self.is_sqlite:
            _install_sqlite_pragmas(self.engine.sync_engine)
            # The writer's batches run on a plain sqlite3 connection in the event loop's thread: each
            # statement takes microseconds, where a hop to aiosqlite's thread and back costs far more.
            inline = create_engine(make_url(url).set(drivername="sqlite"))
            _install_sqlite_pragmas(inline)
        self.writer = Writer(self.engine, inline)
        self.cache = Cache()  # rows read on every request; see bot.db.cache for what is safe to keep
        self._lookups: dict[str, BatchedLookup] = {}

    def lookup(self, table: Table, key: Column[Any]) -> BatchedLookup:
        """Rows of `table` by `key`, with concurrent lookups batched into one query (bot.db.lookup)."""
        name = f"{table.name}.{key.name}"
        if name not in self._lookups:
            self._lookups[name] = BatchedLookup(self, table, key)
        return self._lookups[name]

    async def run(self, fn: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run `fn(conn)` in the writer's next batch, in its own savepoint; returns once committed.
        The hot path (answers, RSVPs): many callers share one short transaction."""
        return await self.writer.run(fn)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that may write, on the writer's connection; commits on success, rolls back on error."""
        async with self.writer.transaction() as conn:
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
        await self.writer.close()
        await self.engine.dispose()
        if self.writer.inline_engine is not None:
            self.writer.inline_engine.dispose()
