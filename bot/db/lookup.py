"""Batched lookups by key: concurrent requests for rows of one table share one SELECT ... WHERE key IN (...).

Why: in a burst every request first looks up its actor; one query per request costs a pooled connection,
a transaction and several round trips to the database thread each. While one lookup is in flight, the
keys asked for meanwhile wait for the next one, so a burst of 64 concurrent requests needs a few
queries, not 64; a lone request is answered at once.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Table, select

if TYPE_CHECKING:
    from bot.db.engine import Database

MAX_KEYS = 500  # keys per query: stays far below every database's limit on bound parameters


class BatchedLookup:
    def __init__(self, db: Database, table: Table, key: Column[Any]) -> None:
        self.db, self.table, self.key = db, table, key
        self._waiting: dict[Any, list[asyncio.Future[dict[str, Any] | None]]] = {}
        self._running: asyncio.Task[None] | None = None

    async def get(self, key: Any) -> dict[str, Any] | None:
        """The row whose key column equals `key`, as a dict, or None."""
        future: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(future)
        if self._running is None:
            self._running = asyncio.get_running_loop().create_task(self._run())
        return await future

    async def _run(self) -> None:
        try:
            while self._waiting:
                keys = list(self._waiting)[:MAX_KEYS]
                waiting = {k: self._waiting.pop(k) for k in keys}
                try:
                    async with self.db.read() as conn:
                        rows = (await conn.execute(select(self.table).where(self.key.in_(keys)))).mappings().all()
                except Exception as exc:
                    for futures in waiting.values():
                        for future in futures:
                            if not future.done():
                                future.set_exception(exc)
                    continue
                found = {row[self.key.name]: dict(row) for row in rows}
                for key, futures in waiting.items():
                    for future in futures:
                        if not future.done():
                            future.set_result(found.get(key))
        finally:
            self._running = None
