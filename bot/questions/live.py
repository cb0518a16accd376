"""Questions about live data ("när är nästa träff?", "vilka enkäter är öppna?") answered from the database."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.conferences import api as conferences_api
from bot.i18n import t, words
from bot.questions.text import normalize
from bot.surveys import api as surveys_api
from bot.ui import Message, Text
from bot.users import Actor

if TYPE_CHECKING:
    from bot.runtime import Bot

log = logging.getLogger(__name__)


def _matches(text: str, key: str) -> bool:
    lowered = " ".join(normalize(text).replace("?", " ").split())
    return any(phrase in lowered for phrase in words(key))


async def answer(bot: Bot, actor: Actor, text: str) -> Message | None:
    lang = actor.lang
    if _matches(text, "questions.live.meetings"):
        text_block = await conferences_api.next_meetings_text(bot, actor, limit=3)
        title = t(lang, "questions.live.meetings_title")
        return Message(text=title, blocks=[Text(text=f"*{title}*\n{text_block}")])
    if _matches(text, "questions.live.surveys"):
        text = await surveys_api.open_surveys_answer(bot, actor)
        return Message(text=text, blocks=[Text(text=text)])
    return None
