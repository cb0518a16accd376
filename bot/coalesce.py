"""Coalesce message updates across all instances: at most one per message every `interval` seconds,
the last one always sent, and never two at once.

A request marks the message dirty in the shared `message_refresh` row. Whoever claims the dirty row
(a conditional UPDATE: one winner among all instances) renders the current state from the database
and sends it; the claim is released when the send has finished. Sends of one message therefore
happen one after another, each rendered after the one before, so a count shown never goes backwards,
and a burst of clicks on several instances becomes one or two `chat.update` calls. An instance that
asked keeps checking until the row is clean, so if the one holding the claim dies, its claim runs
out after CLAIM_SECONDS and the update is still sent. Times are epoch seconds (the clock instances
share).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy import and_, case, delete, or_, select, update

from bot.db import Database
from bot.db.schema import message_refresh
from bot.db.upsert import insert_new

log = logging.getLogger(__name__)

Sender = Callable[[], Awaitable[None]]
CLAIM_SECONDS = 60.0  # longer than a chat.update with its 429 retries takes
MIN_POLL_SECONDS = 0.05
MAX_FAILURES = 5
KEEP_SECONDS = 24 * 3600.0


class Coalescer:
    def __init__(self, interval: float, db: Database) -> None:
        self.interval = interval
        self.db = db
        self.worker = f"refresh-{uuid.uuid4().hex[:8]}"
        self._senders: dict[str, Sender] = {}
        self._requested: set[str] = set()
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def request(self, key: str, send: Sender) -> None:
        """Mark the message `key` dirty; `send` renders the current state and updates it."""
        self._senders[key] = send
        self._requested.add(key)
        if key not in self._tasks:
            self._tasks[key] = asyncio.get_running_loop().create_task(self._run(key))

    async def _run(self, key: str) -> None:
        failures = 0
        try:
            while key in self._requested:
                try:
                    self._requested.discard(key)
                    await self._mark_dirty(key)
                    await self._send_when_clean(key)
                except Exception:
                    # A busy or briefly unreachable database: try again, the update must not be lost.
                    failures += 1
                    log.exception("coalesced update %s failed (attempt %d)", key, failures)
                    if failures < MAX_FAILURES:
                        self._requested.add(key)
                        await asyncio.sleep(max(self.interval, MIN_POLL_SECONDS) * failures)
        finally:
            self._tasks.pop(key, None)

    async def _send_when_clean(self, key: str) -> None:
        """Poll (other instances do not wake us) until the row is clean, sending whenever we win it."""
        wait = await self._try_send(key)
        while wait is not None:
            await asyncio.sleep(max(MIN_POLL_SECONDS, min(wait, max(self.interval, MIN_POLL_SECONDS))))
            wait = await self._try_send(key)

    async def _mark_dirty(self, key: str) -> None:
        now = time.time()
        row = message_refresh.c
        async with self.db.write() as conn:
            # Rows of messages nobody has touched for a day go (they name DM channels); one is made again when needed.
            await conn.execute(delete(message_refresh).where(and_(
                row.dirty.is_(False), row.sent_at < now - KEEP_SECONDS, row.key != key)))
            await insert_new(conn, message_refresh, [{"key": key, "dirty": False, "due_at": now}], key=["key"])
            earliest = case((row.sent_at.is_(None), now), (row.sent_at + self.interval > now,
                                                           row.sent_at + self.interval), else_=now)
            await conn.execute(update(message_refresh).where(and_(row.key == key, row.dirty.is_(False)))
                               .values(dirty=True, due_at=earliest))

    async def _try_send(self, key: str) -> float | None:
        """Send if this instance wins the claim; None once the message is clean, else seconds to wait."""
        now = time.time()
        row = message_refresh.c
        async with self.db.write() as conn:
            claimed = await conn.execute(update(message_refresh).where(and_(
                row.key == key, row.dirty.is_(True), row.due_at <= now,
                or_(row.claimed_until.is_(None), row.claimed_until < now)))
                .values(dirty=False, sent_at=now, claimed_by=self.worker, claimed_until=now + CLAIM_SECONDS))
        if (claimed.rowcount or 0) == 1:
            try:
                await self._senders[key]()
            except Exception:
                log.exception("coalesced update %s failed", key)
            # The interval counts from the end of this call: a slow render or a 429 retry must not bring
            # the next chat.update closer than `interval` to this one.
            done = time.time()
            next_due = done + self.interval
            async with self.db.write() as conn:
                await conn.execute(update(message_refresh).where(and_(row.key == key, row.claimed_by == self.worker))
                                   .values(claimed_by=None, claimed_until=None, sent_at=done,
                                           due_at=case((row.due_at < next_due, next_due), else_=row.due_at)))
        async with self.db.read() as conn:
            state = (await conn.execute(select(row.dirty, row.due_at, row.claimed_until)
                                        .where(row.key == key))).first()
        if state is None or not state.dirty:
            return None
        return max(float(state.due_at), float(state.claimed_until or 0.0)) - time.time()

    async def drain(self) -> None:
        """Wait until every pending update has been sent (used at shutdown and in tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
