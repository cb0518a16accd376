"""Each delivery from Slack is handled once, whichever instance it reaches.

Slack redelivers an event it thinks was lost (`X-Slack-Retry-Num`), sometimes to another instance
behind the load balancer, and the same `event_id` can also arrive twice. The first instance to insert
the id into `deliveries_seen` handles it; everyone else acknowledges and drops it. Ids are kept for
TTL_SECONDS, longer than Slack's last retry (about five minutes after the first try).
"""

from __future__ import annotations

import time

from sqlalchemy import delete

from bot.db import Database
from bot.db.schema import deliveries_seen
from bot.db.upsert import insert_new

TTL_SECONDS = 3600.0


async def first_time(db: Database, delivery_id: str, now: float | None = None) -> bool:
    """True for the first sighting of `delivery_id` across all instances, False for every repeat."""
    now = time.time() if now is None else now
    async with db.write() as conn:
        await conn.execute(delete(deliveries_seen).where(deliveries_seen.c.seen_at < now - TTL_SECONDS))
        inserted = await insert_new(conn, deliveries_seen, [{"delivery_id": delivery_id[:120], "seen_at": now}],
                                    key=["delivery_id"])
    return inserted == 1
