"""Making a deletion final in SQLite: checkpoint the write-ahead log into the file and truncate it.

With `secure_delete` on, deleted rows are zeroed in the database file, but until a checkpoint the old
pages (a survey's key, its respondent hashes, a forgotten person's id) still sit in the `-wal` file.
`PRAGMA wal_checkpoint(TRUNCATE)` does not raise when a reader holds the log open: it answers
"busy". So the answer is checked; busy is retried with backoff, then logged as an error and retried
from the due-items loop until it succeeds, and leads are told that an erasure is pending.
PostgreSQL has no such file here (its own WAL and backups are the operator's; see docs/privacy.md).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select

from bot.db.engine import sqlite_path
from bot.db.schema import due_items
from bot.scheduler import schedule

if TYPE_CHECKING:
    from bot.runtime import Bot

log = logging.getLogger(__name__)

CHECKPOINT_KIND = "db.checkpoint"
KEY_PREFIX = "db:checkpoint:"
BACKOFF_SECONDS = (0.05, 0.1, 0.2, 0.4, 0.8)  # then "pending", and the due-items loop retries every minute
RETRY_AFTER = timedelta(minutes=1)


def truncate_once(path: Path) -> bool:
    """One checkpoint with truncation; True when the log is now empty (SQLite said 'not busy')."""
    try:
        with closing(sqlite3.connect(path, timeout=0.1)) as conn:  # short: the backoff waits between tries
            row = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.OperationalError:
        return False  # locked: the same as busy
    return row is not None and row[0] == 0


async def truncate_wal(path: Path) -> bool:
    """Checkpoint and truncate, retrying with backoff while a reader keeps the log busy."""
    for delay in (*BACKOFF_SECONDS, None):
        if await asyncio.to_thread(truncate_once, path):
            return True
        if delay is not None:
            await asyncio.sleep(delay)
    return False


async def erase_deleted(bot: Bot, reason: str) -> bool:
    """Make what was just deleted unrecoverable from the database files. False: still pending (logged
    as an error, retried from the due-items loop until it succeeds)."""
    path = sqlite_path(bot.settings.database_url)
    if path is None:
        return True
    if await truncate_wal(path):
        return True
    log.error("erasure pending after %s: the write-ahead log is busy (a reader holds it open); "
              "retrying every %d s from the due-items loop", reason, RETRY_AFTER.total_seconds())
    await _retry_later(bot, reason)
    return False


async def _retry_later(bot: Bot, reason: str) -> None:
    now = bot.clock.now()
    async with bot.db.write() as conn:
        await schedule(conn, CHECKPOINT_KIND, f"{KEY_PREFIX}{now.isoformat()}", now + RETRY_AFTER,
                       {"reason": reason})


async def due_checkpoint(bot: Bot, payload: dict[str, Any], due_at: datetime) -> None:
    path = sqlite_path(bot.settings.database_url)
    if path is None or await truncate_wal(path):
        if path is not None:
            log.info("pending erasure done: the write-ahead log is truncated")
        return
    log.error("erasure still pending: the write-ahead log is busy; retrying")
    await _retry_later(bot, str(payload.get("reason", "")))


async def erasure_pending(bot: Bot) -> bool:
    """Is a checkpoint still waiting to be retried? (Shown to leads after a close.)"""
    async with bot.db.read() as conn:
        row = (await conn.execute(select(due_items.c.id).where(and_(
            due_items.c.kind == CHECKPOINT_KIND, due_items.c.done_at.is_(None))).limit(1))).first()
    return row is not None
