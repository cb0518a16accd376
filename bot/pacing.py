"""One send budget for all instances: fan-out DMs are paced to DM_PER_SECOND per workspace in total.

Each send reserves the next free slot with one UPDATE on the `pacing` row, in the same write that
claims its due item (the row lock on PostgreSQL, the single writer on SQLite make it atomic), then
sleeps until that slot. Two instances therefore
interleave their sends instead of each sending at the full rate. Slots are wall-clock epoch seconds,
the only clock instances share. A slot reserved by an instance that then dies is simply left unused.
"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import case, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import Database
from bot.db.schema import pacing
from bot.db.upsert import insert_new

DM_BUDGET = "slack.dm"  # one bot token is one workspace: its fan-out DMs share this budget


async def reserve_in(conn: AsyncConnection, name: str, per_second: float, now: float | None = None) -> float:
    """Inside a write: the epoch second at which the caller may send; the next caller gets one interval
    later. One UPDATE ... RETURNING (the row is created by the very first send under `name`)."""
    now = time.time() if now is None else now
    interval = 1.0 / per_second
    start = case((pacing.c.next_slot > now, pacing.c.next_slot), else_=now)
    advance = update(pacing).where(pacing.c.name == name).values(next_slot=start + interval).returning(pacing.c.next_slot)
    reserved = (await conn.execute(advance)).scalar()
    if reserved is None:
        await insert_new(conn, pacing, [{"name": name, "next_slot": now}], key=["name"])
        reserved = (await conn.execute(advance)).scalar_one()
    return float(reserved) - interval


class SendHold:
    """Until when this instance holds its paced sends back: Slack answered a send with 429."""

    def __init__(self) -> None:
        self.until = 0.0

    async def wait(self) -> None:
        while self.until > time.time():
            await sleep_until(self.until)


async def hold_sends(db: Database, hold: SendHold, seconds: float, name: str = DM_BUDGET) -> None:
    """Slack said "slow down" (429, Retry-After): no paced send before then, here (sends already given a
    slot wait) nor on any other instance (the shared next slot moves past the pause)."""
    until = time.time() + seconds
    hold.until = max(hold.until, until)

    async def push(conn: AsyncConnection) -> None:
        await insert_new(conn, pacing, [{"name": name, "next_slot": until}], key=["name"])
        await conn.execute(update(pacing).where(pacing.c.name == name, pacing.c.next_slot < until)
                           .values(next_slot=until))

    await db.run(push)


async def sleep_until(slot: float) -> None:
    """Wait for a reserved slot (epoch seconds); a slot already past returns at once."""
    delay = slot - time.time()
    if delay > 0:
        await asyncio.sleep(delay)

