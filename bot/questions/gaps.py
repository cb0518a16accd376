"""The knowledge-gap loop: a counsellor's answer to a forwarded question reaches the asker, and can
become an example question for an article or a proposal for a new one.

A question the bot could not answer is forwarded to GUIDANCE_CHANNEL only with the asker's consent
(which says the answer comes back by direct message). When someone in that channel replies in the
forwarded post's thread, the asker gets the reply by DM, and the one who replied gets two buttons to
propose the exchange to the project team; `samsyv content proposals` lists the proposals.

Only staff answer: a reply from someone the bot knows as a pupil (everyone is, until a lead gives
them a role) is not passed on, since it would put one pupil's words in another pupil's inbox under
the bot's name; the replier is told why and how to get a role. Proposing is staff-only too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import insert, select, update

from bot.errors import Forbidden, UserError
from bot.i18n import t
from bot.interactions import ActionEvent, CommandRequest
from bot.knowledge import Article
from bot.questions import service
from bot.questions.tables import content_proposals, unanswered
from bot.redact import mask_personal_data
from bot.ui import Actions, Button, Context, Message, Outcome, Reply, Text, esc
from bot.users import Actor, Role

if TYPE_CHECKING:
    from bot.runtime import Bot

EXAMPLE, ARTICLE = "example", "article"
MAX_ANSWER = 3000


async def remember_forwarded(bot: Bot, question_id: int, asker_id: str, thread_ts: str) -> None:
    """Where the forwarded post is and who asked, so a reply in its thread can reach them."""
    async with bot.db.write() as conn:
        await conn.execute(update(unanswered).where(unanswered.c.question_id == question_id)
                           .values(asker_id=asker_id, thread_ts=thread_ts))


async def on_thread_reply(bot: Bot, actor: Actor, text: str, request: CommandRequest) -> list[Outcome]:
    """A reply in GUIDANCE_CHANNEL: when it is in a forwarded question's thread, DM it to the asker."""
    channel = bot.settings.guidance_channel
    text = text.strip()[:MAX_ANSWER]
    if not channel or request.channel != channel or not request.thread_ts or not text:
        return []
    async with bot.db.write() as conn:
        row = (await conn.execute(select(unanswered).where(unanswered.c.thread_ts == request.thread_ts))).first()
        if row is None or not row.asker_id or row.asker_id == actor.user_id:
            return []  # not a forwarded question, or the asker writing in their own thread
        if not actor.at_least(Role.staff):
            return [Reply(message=Message(text=t(actor.lang, "gaps.staff_only")))]
        await conn.execute(update(unanswered).where(unanswered.c.id == row.id)
                           .values(answer=text, answered_at=bot.clock.now()))
    asker = await bot.actor(row.asker_id)
    await bot.messenger.dm(asker.user_id, answer_dm(asker.lang, row.question, text, actor.user_id))
    engine = await service.engine_for(bot)
    closest = [a for a in (engine.kb.get(i, row.lang) or engine.kb.get(i, "sv") or engine.kb.get(i, "en")
                           for i in (row.closest or "").split(",") if i) if a is not None]
    return [Reply(message=proposal_prompt(actor.lang, int(row.question_id), closest[:1]))]


def answer_dm(lang: str, question: str, answer: str, counsellor: str) -> Message:
    quoted = "\n".join(f"> {line}" for line in esc(question).splitlines())
    heading = t(lang, "gaps.answer_dm", counsellor=f"<@{counsellor}>")
    return Message(text=heading, blocks=[Text(text=f"{heading}\n{quoted}"), Text(text=esc(answer)),
                                        Context(text=t(lang, "gaps.answer_dm_hint"))])


def proposal_prompt(lang: str, question_id: int, closest: list[Article]) -> Message:
    buttons = [Button(label=t(lang, "gaps.propose_example", title=esc(a.title))[:75], action="gap:example",
                      value=f"{question_id}|{a.id}") for a in closest]
    buttons.append(Button(label=t(lang, "gaps.propose_article"), action="gap:article", value=str(question_id)))
    return Message(text=t(lang, "gaps.sent_to_asker"), blocks=[
        Text(text=t(lang, "gaps.sent_to_asker")), Context(text=t(lang, "gaps.propose_hint")),
        Actions(buttons=buttons)])


_ID = re.compile(r"^\d{1,18}$")
_ARTICLE_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


async def _propose(bot: Bot, actor: Actor, question_id: str, kind: str, article_id: str | None) -> list[Outcome]:
    if not actor.at_least(Role.staff):
        raise Forbidden("gaps.staff_only")
    if not _ID.match(question_id) or (article_id is not None and not _ARTICLE_ID.match(article_id)):
        raise UserError("questions.gone")
    async with bot.db.write() as conn:
        row = (await conn.execute(select(unanswered).where(unanswered.c.question_id == int(question_id)))).first()
        if row is None or not row.answer:
            raise UserError("questions.gone")
        same = (content_proposals.c.question_id == int(question_id)) & (content_proposals.c.kind == kind) & (
            content_proposals.c.article_id.is_(None) if article_id is None else
            content_proposals.c.article_id == article_id)
        if (await conn.execute(select(content_proposals.c.id).where(same))).first() is None:  # not a second click
            await conn.execute(insert(content_proposals).values(
                created_at=bot.clock.now(), kind=kind, article_id=article_id, lang=row.lang,
                question=row.question, answer=row.answer, proposed_by=actor.user_id,
                question_id=int(question_id)))
    return [Reply(message=Message(text=t(actor.lang, "gaps.proposal_saved")))]


async def on_propose_example(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    question_id, _, article_id = event.value.partition("|")
    return await _propose(bot, actor, question_id, EXAMPLE, article_id)


async def on_propose_article(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    return await _propose(bot, actor, event.value, ARTICLE, None)


async def proposals(bot: Bot) -> list[dict[str, object]]:
    """Every proposal, oldest first, with personal data masked (for `samsyv content proposals`)."""
    async with bot.db.read() as conn:
        rows = (await conn.execute(select(content_proposals).order_by(content_proposals.c.id))).mappings().all()
    return [{"id": r["id"], "created_at": r["created_at"], "kind": r["kind"], "article_id": r["article_id"],
             "lang": r["lang"], "question": mask_personal_data(r["question"]), "answer": mask_personal_data(r["answer"])} for r in rows]
