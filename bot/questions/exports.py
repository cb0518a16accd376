"""CSV exports for the project team: unanswered questions and feedback, to improve the content.

Headers in the reader's language and times in local time to the minute, like every other export."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.csvfile import csv_bytes, local_minute
from bot.i18n import t
from bot.questions.tables import feedback, question_log, unanswered

if TYPE_CHECKING:
    from bot.runtime import Bot

UNANSWERED_COLUMNS = ("asked_at", "lang", "question", "closest", "forwarded_at")
FEEDBACK_COLUMNS = ("at", "article_id", "vote", "lang", "question")


async def export_csv(bot: Bot, what: str, lang: str = "sv") -> bytes:
    tz = bot.settings.tz
    async with bot.db.read() as conn:
        if what == "unanswered":
            result = await conn.execute(select(unanswered).order_by(unanswered.c.created_at))
            rows = [[local_minute(r["created_at"], tz), r["lang"], r["question"], r["closest"] or "",
                     local_minute(r["forwarded_at"], tz)] for r in result.mappings()]
            return csv_bytes([t(lang, f"questions.csv.{c}") for c in UNANSWERED_COLUMNS], rows)
        if what == "feedback":
            result = await conn.execute(
                select(feedback, question_log.c.question, question_log.c.lang)
                .join(question_log, question_log.c.id == feedback.c.question_id).order_by(feedback.c.created_at))
            rows = [[local_minute(r["created_at"], tz), r["article_id"],
                     t(lang, "questions.csv.up" if r["helpful"] else "questions.csv.down"), r["lang"], r["question"]]
                    for r in result.mappings()]
            return csv_bytes([t(lang, f"questions.csv.{c}") for c in FEEDBACK_COLUMNS], rows)
    raise ValueError(f"unknown export: {what}")
