"""What /healthz reports, for a load balancer and for monitoring several instances.

`database`: whether a trivial query answered within DB_TIMEOUT seconds (503 when not, so the load
balancer takes the instance out). `due_lag_seconds`: how long the oldest due item has been waiting;
it grows when no instance's due-items loop keeps up (or all are down), which is the thing to alert on.
`questions_answered_lexically_busy`: questions this process answered without the semantic reranker
because it could not reach them in time (a burst); a count that keeps rising says the instance is too
small for its questions.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text

from bot.db.engine import as_utc
from bot.db.schema import due_items
from bot.questions import question_queue

if TYPE_CHECKING:
    from bot.runtime import Bot

DB_TIMEOUT = 2.0


async def health(bot: Bot) -> tuple[dict[str, Any], int]:
    """(report, HTTP status)."""
    now = bot.clock.now()

    async def probe() -> tuple[Any, int]:
        async with bot.db.read() as conn:
            await conn.execute(text("SELECT 1"))
            oldest, waiting = (await conn.execute(
                select(func.min(due_items.c.due_at), func.count())
                .where(due_items.c.done_at.is_(None), due_items.c.due_at <= now))).one()
        return oldest, int(waiting or 0)

    try:
        oldest, waiting = await asyncio.wait_for(probe(), DB_TIMEOUT)
    except Exception as exc:
        return {"ok": False, "database": "unreachable", "error": type(exc).__name__}, 503
    lag = max(0.0, (now - as_utc(oldest)).total_seconds()) if oldest is not None else 0.0
    return {"ok": True, "database": "ok", "due_waiting": waiting, "due_lag_seconds": round(lag, 1),
            "questions_answered_lexically_busy": question_queue.questions.busy.total}, 200
