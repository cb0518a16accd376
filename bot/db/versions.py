"""Version counters every instance can see, e.g. "content": bumped by a reload anywhere, polled by all."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.engine import Database
from bot.db.schema import shared_versions
from bot.db.upsert import upsert


async def bump(db: Database, name: str) -> int:
    async with db.write() as conn:
        await upsert(conn, shared_versions, {"name": name, "version": 1}, key=["name"],
                     update={"version": shared_versions.c.version + 1})
        return int((await conn.execute(select(shared_versions.c.version)
                                       .where(shared_versions.c.name == name))).scalar_one())


async def current(db: Database, name: str) -> int:
    async with db.read() as conn:
        value = (await conn.execute(select(shared_versions.c.version).where(shared_versions.c.name == name))).scalar()
    return int(value or 0)
