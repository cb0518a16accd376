"""Questions in Slack and the console: free text goes here, plus the buttons under an answer."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.errors import UserError
from bot.i18n import t
from bot.ids import is_id
from bot.interactions import ActionEvent, CommandRequest
from bot.knowledge import Article
from bot.questions import gaps, live, service
from bot.questions.safeguarding import mentions_harm
from bot.questions.views import (
    answer_message,
    article_document,
    consent_message,
    forwarded_post,
    support_message,
    unsure_message,
)
from bot.ui import Message, Outcome, Reply, ShowDocument, Text
from bot.users import Actor, audit, require_lead

if TYPE_CHECKING:
    from bot.runtime import Bot

log = logging.getLogger(__name__)


def _channel_kind(request: CommandRequest) -> str:
    if request.channel == "console" or (request.channel or "").startswith("D-"):
        return "console"
    if request.thread_ts:
        return "dm" if request.is_dm else "mention"
    return "command"


async def answer_question(bot: Bot, actor: Actor, text: str, request: CommandRequest) -> list[Outcome]:
    """The fallback for any text that is not a command: live data first, then the knowledge base."""
    in_thread = request.thread_ts is not None
    if mentions_harm(text):  # first: someone telling of harm gets help, not articles or meeting dates
        question_id, token = await service.log_safeguarding(bot, actor, text, actor.lang, _channel_kind(request))
        message = support_message(actor.lang, question_id, token, bool(bot.settings.guidance_channel))
        return [Reply(message=message, in_thread=in_thread)]
    live_answer = await live.answer(bot, actor, text)
    if live_answer is not None:
        return [Reply(message=live_answer, in_thread=in_thread)]
    answer, question_id, token = await service.ask(bot, actor, text, _channel_kind(request))
    lang = answer.question_lang
    if answer.answered and answer.article is not None:
        message = answer_message(answer.article, lang, question_id, answer.other_language, answer.runner_up)
    else:
        engine = await service.engine_for(bot)
        closest = [a for a in (engine.kb.get(i, lang) or engine.kb.get(i, "en" if lang == "sv" else "sv")
                               for i in answer.alternatives) if a is not None]
        message = unsure_message(lang, question_id, closest, bool(bot.settings.guidance_channel), token)
    return [Reply(message=message, in_thread=in_thread)]



async def _article(bot: Bot, value: str) -> Article:
    article_id, _, lang = value.partition("|")
    engine = await service.engine_for(bot)
    article = engine.kb.get(article_id, lang) or engine.kb.get(article_id, "sv") or engine.kb.get(article_id, "en")
    if article is None:
        raise UserError("questions.gone")
    return article


async def on_more(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    article = await _article(bot, event.value)
    return [ShowDocument(title=article.title, message=article_document(article, actor.lang))]


async def on_show(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    article = await _article(bot, event.value)
    return [Reply(message=answer_message(article, actor.lang, None, article.lang != actor.lang))]


async def on_feedback(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    question_id, _, vote = event.value.partition("|")
    stored = await service.record_feedback(bot, int(question_id), vote == "up") if _is_id(question_id) else None
    return [Reply(message=Message(text=t(actor.lang, "questions.thanks" if stored else "questions.gone")))]


async def on_ask(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    if not bot.settings.guidance_channel:
        raise UserError("questions.no_channel")
    question_id, token = _question_ref(event.value)
    return [Reply(message=consent_message(actor.lang, f"{question_id}|{token}", bot.settings.guidance_channel))]


async def on_forward(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    question_id, token = _question_ref(event.value)
    if not await service.asked_by(bot, question_id, token, actor.user_id):
        # Ids are sequential and buttons can be forged: only the asker may forward their question.
        async with bot.db.write() as conn:
            await audit(conn, actor.user_id, "denied", what="q:forward", question_id=question_id)
        raise UserError("questions.not_yours")
    return await _forward(bot, actor, question_id)


async def on_no_forward(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    return [Reply(message=Message(text=t(actor.lang, "questions.not_forwarded")))]


def _is_id(value: str) -> bool:
    return is_id(value)


def _question_ref(value: str) -> tuple[int, str]:
    """'12|token' from the asker's own buttons."""
    question_id, _, token = value.partition("|")
    return _question_id(question_id), token


def _question_id(value: str) -> int:
    if not _is_id(value):
        raise UserError("questions.gone")
    return int(value)


async def _forward(bot: Bot, actor: Actor, question_id: int) -> list[Outcome]:
    """Post the question to the counsellors' channel, once, now that the asker agreed."""
    channel = bot.settings.guidance_channel
    text = await service.question_text(bot, question_id)
    if not channel or text is None:
        raise UserError("questions.gone")
    if await service.mark_forwarded(bot, question_id):
        posted = await bot.messenger.post(channel, forwarded_post(bot.settings.default_language, actor.user_id, text))
        await gaps.remember_forwarded(bot, question_id, actor.user_id, posted.ts)
    return [Reply(message=Message(text=t(actor.lang, "questions.forwarded", channel=f"<#{channel}>")))]


async def reload_command(bot: Bot, actor: Actor, rest: str, request: CommandRequest) -> list[Outcome]:
    """Leads reload the knowledge base after editing content, and see what the check found."""
    from bot.knowledge.check import check_content

    require_lead(actor)
    problems, summary = check_content(bot.settings.content_dir)
    engine = await service.reload_everywhere(bot)
    errors = [str(p) for p in problems if p.level == "error"][:10]
    lines = [t(actor.lang, "questions.reloaded", count=len(engine.kb.articles)), summary, *errors]
    return [Reply(message=Message(text=lines[0], blocks=[Text(text="\n".join(lines))]))]


