"""CSV exports for the project team: unanswered questions and feedback, to improve the content."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.csvfile import csv_bytes
from bot.questions.tables import feedback, question_log, unanswered

if TYPE_CHECKING:
    from bot.runtime import Bot


async def export_csv(bot: Bot, what: str) -> bytes:
    async with bot.db.read() as conn:
        if what == "unanswered":
            result = await conn.execute(select(unanswered).order_by(unanswered.c.created_at))
            rows = [[r["created_at"], r["lang"], r["question"], r["closest"] or "", r["forwarded_at"] or ""]
                    for r in result.mappings()]
            return csv_bytes(["asked_at_utc", "lang", "question", "closest_articles", "forwarded_at_utc"], rows)
        if what == "feedback":
            result = await conn.execute(
                select(feedback, question_log.c.question, question_log.c.lang)
                .join(question_log, question_log.c.id == feedback.c.question_id).order_by(feedback.c.created_at))
            rows = [[r["created_at"], r["article_id"], "up" if r["helpful"] else "down", r["lang"], r["question"]]
                    for r in result.mappings()]
            return csv_bytes(["at_utc", "article_id", "vote", "lang", "question"], rows)
    raise ValueError(f"unknown export: {what}")
