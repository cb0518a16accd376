"""CSV exports for the project team: unanswered questions and feedback, to improve the content."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.questions.tables import feedback, question_log, unanswered

if TYPE_CHECKING:
    from bot.runtime import Bot


def to_csv(header: list[str], rows: list[list[object]]) -> bytes:
    """UTF-8 with a BOM, so Excel opens å, ä and ö correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


async def export_csv(bot: Bot, what: str) -> bytes:
    async with bot.db.read() as conn:
        if what == "unanswered":
            result = await conn.execute(select(unanswered).order_by(unanswered.c.created_at))
            rows = [[r["created_at"], r["lang"], r["question"], r["closest"] or "", r["forwarded_at"] or ""]
                    for r in result.mappings()]
            return to_csv(["asked_at_utc", "lang", "question", "closest_articles", "forwarded_at_utc"], rows)
        if what == "feedback":
            result = await conn.execute(
                select(feedback, question_log.c.question, question_log.c.lang)
                .join(question_log, question_log.c.id == feedback.c.question_id).order_by(feedback.c.created_at))
            rows = [[r["created_at"], r["article_id"], "up" if r["helpful"] else "down", r["lang"], r["question"]]
                    for r in result.mappings()]
            return to_csv(["at_utc", "article_id", "vote", "lang", "question"], rows)
    raise ValueError(f"unknown export: {what}")
