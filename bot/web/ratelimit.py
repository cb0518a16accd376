"""Rate limits for the pupil pages that hold across instances: a fixed one-minute window per link and
client address, counted in the database (`rate_windows`).

Behind a load balancer an in-memory limit was N times the intended one and differed per instance.
Buckets are keyed by a hash of (kind, link token, address), never the address itself, and a bucket's
row is overwritten when its next window starts; stale rows are deleted as new windows open.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable

from sqlalchemy import case, delete, select

from bot.db import Database
from bot.db.schema import rate_windows
from bot.db.upsert import upsert


def bucket(kind: str, link: str, address: str) -> str:
    return hashlib.sha256(f"samsyv-rate|{kind}|{link}|{address}".encode()).hexdigest()[:40]


class SharedRateLimiter:
    """At most `limit` requests per `window` seconds per bucket, for all instances together."""

    def __init__(self, db: Database, kind: str, limit: int, window: float = 60.0,
                 now: Callable[[], float] = time.time) -> None:
        self.db, self.kind, self.limit, self.window, self.now = db, kind, limit, window, now

    async def allow(self, link: str, address: str) -> bool:
        start = math.floor(self.now() / self.window) * self.window
        key = bucket(self.kind, link, address)
        row = rate_windows.c
        async with self.db.write() as conn:
            await upsert(conn, rate_windows, {"bucket": key, "window_start": start, "hits": 1}, key=["bucket"],
                         update={"hits": case((row.window_start == start, row.hits + 1), else_=1),
                                 "window_start": start})
            hits = int((await conn.execute(select(row.hits).where(row.bucket == key))).scalar_one())
            if hits == 1:  # a new window for this bucket: clear out everybody's finished ones
                await conn.execute(delete(rate_windows).where(row.window_start < start - self.window))
        return hits <= self.limit
