"""Due items: reminders, survey openings and closings, paced DMs, purges, all driven from the database.

An item is scheduled under a unique key, so scheduling twice never sends twice. A worker claims an
item with a conditional UPDATE before running it, so several instances can share the work; a crashed
worker's claim expires after CLAIM_TIMEOUT and the item is retried. Items that keep failing are given
up after MAX_ATTEMPTS with the error kept for the logs.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.engine import as_utc
from bot.db.schema import due_items
from bot.db.upsert import upsert_many
from bot.pacing import DM_BUDGET, reserve_in, sleep_until

if TYPE_CHECKING:
    from bot.interactions import DueKind
    from bot.runtime import Bot

log = logging.getLogger(__name__)

CLAIM_TIMEOUT = timedelta(minutes=5)
IN_FLIGHT = 16  # paced items waiting for their send slot or for Slack at once, per instance
MAX_ATTEMPTS = 5
WORKER_ID = f"worker-{uuid.uuid4().hex[:8]}"


async def schedule(conn: AsyncConnection, kind: str, key: str, due_at: datetime,
                   payload: dict[str, Any] | None = None) -> None:
    """Create the item, or move a pending one to its new time; a done item stays done. One statement,
    so two instances scheduling the same key at once cannot collide."""
    await schedule_many(conn, kind, [(key, due_at, payload)])


async def schedule_many(conn: AsyncConnection, kind: str,
                        items: Sequence[tuple[str, datetime, dict[str, Any] | None]]) -> None:
    """`schedule` for many (key, due_at, payload) at once: one statement for a fan-out to 1,600 people."""
    rows = [dict(kind=kind, key=key, due_at=due_at, payload=payload or {}, attempts=0)
            for key, due_at, payload in items]
    await upsert_many(conn, due_items, rows, key=["key"], take=["due_at", "payload"],
                      also={"claimed_by": None, "claimed_at": None}, where=due_items.c.done_at.is_(None))


async def unschedule(conn: AsyncConnection, key_prefix: str) -> int:
    """Drop pending items whose key starts with the prefix (e.g. every reminder of a cancelled meeting)."""
    result = await conn.execute(delete(due_items).where(
        and_(due_items.c.key.startswith(key_prefix, autoescape=True), due_items.c.done_at.is_(None))))
    return result.rowcount or 0


class Claim(NamedTuple):
    won: bool
    slot: float | None = None  # a paced item's send slot (epoch seconds), reserved with the claim


async def _claim(bot: Bot, item_id: int, now: datetime, paced: bool) -> Claim:
    """Claim the item; a paced one also reserves its send slot in the same write."""
    async def claim(conn: AsyncConnection) -> Claim:
        result = await conn.execute(
            update(due_items)
            .where(and_(due_items.c.id == item_id, due_items.c.done_at.is_(None),
                        or_(due_items.c.claimed_at.is_(None), due_items.c.claimed_at < now - CLAIM_TIMEOUT)))
            .values(claimed_by=WORKER_ID, claimed_at=now, attempts=due_items.c.attempts + 1))
        if (result.rowcount or 0) != 1:
            return Claim(False)
        return Claim(True, await reserve_in(conn, DM_BUDGET, bot.settings.dm_per_second) if paced else None)

    return await bot.db.run(claim)


async def _finish(bot: Bot, item_id: int, now: datetime, error: str | None, attempts: int) -> None:
    async def finish(conn: AsyncConnection) -> None:
        if error is None:
            await conn.execute(update(due_items).where(due_items.c.id == item_id).values(done_at=now, last_error=None))
        elif attempts >= MAX_ATTEMPTS:
            await conn.execute(update(due_items).where(due_items.c.id == item_id).values(done_at=now, last_error=error))
        else:
            retry_at = now + timedelta(seconds=30 * 2 ** attempts)
            await conn.execute(update(due_items).where(due_items.c.id == item_id)
                               .values(claimed_by=None, claimed_at=None, due_at=retry_at, last_error=error))

    await bot.db.run(finish)


async def run_due(bot: Bot, now: datetime | None = None, limit: int = 200) -> int:
    """Run every item due at `now`; returns how many ran. Paced kinds share one DM_PER_SECOND budget
    with every other instance (bot/pacing.py).

    Paced items (fan-out DMs) run concurrently, up to IN_FLIGHT at a time, each at its own slot: a slow
    Slack reply does not push the next send back, and the claims, slots and finishes of the sends in
    flight are committed together by the writer. Any other item waits until everything before it has
    finished, so a survey's closing still runs after the DMs queued ahead of it. Each claim and finish
    is stamped with the time it happens (the batch's `now` plus the time spent so far), so a long
    batch's later items are not mistaken for stale claims by another instance."""
    now = now or bot.clock.now()
    async with bot.db.read() as conn:
        rows = (await conn.execute(
            select(due_items).where(and_(due_items.c.done_at.is_(None), due_items.c.due_at <= now))
            .order_by(due_items.c.due_at, due_items.c.id).limit(limit))).mappings().all()
    loop = asyncio.get_running_loop()
    started = loop.time()

    def current() -> datetime:
        return now + timedelta(seconds=loop.time() - started)

    async def run_one(row: Any, kind: DueKind) -> bool:
        claim = await _claim(bot, row["id"], current(), kind.paced)
        if not claim.won:
            return False
        if claim.slot is not None:
            await sleep_until(claim.slot)
            await bot.send_hold.wait()  # Slack said 429 meanwhile: wait out its Retry-After
        error: str | None = None
        try:
            await kind.fn(bot, dict(row["payload"]), as_utc(row["due_at"]))
        except Exception as exc:
            log.exception("due item %s (%s) failed", row["id"], row["kind"])  # keys can name people
            error = f"{type(exc).__name__}: {exc}"
        await _finish(bot, row["id"], current(), error, row["attempts"] + 1)
        return True

    ran = 0
    in_flight: set[asyncio.Task[bool]] = set()

    async def settle(until: int) -> None:
        nonlocal ran
        while len(in_flight) > until:
            done, _ = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                in_flight.discard(task)
                ran += task.result()

    try:
        for row in rows:
            kind = bot.registry.due_kinds.get(row["kind"])
            if kind is None:
                log.error("no handler for due item kind %s", row["kind"])
                continue
            if kind.paced:
                await settle(IN_FLIGHT - 1)
                in_flight.add(asyncio.create_task(run_one(row, kind)))
            else:
                await settle(0)
                ran += await run_one(row, kind)
        await settle(0)
    finally:
        for task in in_flight:
            task.cancel()
    return ran


async def run_forever(bot: Bot, stop: asyncio.Event) -> None:
    """The due-items loop of a running bot."""
    for starter in bot.registry.loop_starters:
        try:
            await starter(bot)
        except Exception:
            log.exception("due-items loop starter %s failed", getattr(starter, "__name__", starter))
    while not stop.is_set():
        try:
            while await run_due(bot) > 0:
                pass
        except Exception:
            log.exception("due-items loop iteration failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=bot.settings.due_poll_seconds)
        except TimeoutError:
            pass
