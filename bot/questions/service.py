"""Answering, logging, feedback and forwarding: the question capability's domain functions."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from typing import TYPE_CHECKING

from sqlalchemy import insert, select, update

from bot.db import versions
from bot.db.upsert import insert_new, upsert
from bot.errors import UserError
from bot.i18n import t
from bot.knowledge.loader import content_fingerprint
from bot.questions.cores import share_cores
from bot.questions.engine import Answer, Engine, build_reranker
from bot.questions.semantic import VectorStore, vector_store
from bot.questions.stored_index import stored_engine
from bot.questions.tables import feedback, question_log, unanswered
from bot.redact import mask_personal_data
from bot.users import Actor, Role

if TYPE_CHECKING:
    from bot.runtime import Bot

log = logging.getLogger(__name__)

ENGINE = "questions.engine"
FINGERPRINT = "questions.fingerprint"
CHECKED_AT = "questions.checked_at"
CONTENT_VERSION = "questions.content_version"
CONTENT_VERSION_NAME = "content"  # the shared_versions row a reload on any instance bumps
REBUILD = "questions.rebuild"  # the background task computing article vectors, while one runs
PENDING_FINGERPRINT = "questions.pending_fingerprint"  # content version that task is building
RELOAD_CHECK_SECONDS = 5.0
MAX_QUESTION = 1000


async def load_engine(bot: Bot) -> Engine:
    """(Re)build the index off the event loop and swap it in; questions keep being answered meanwhile.

    With every article vector stored, the new index is fused at once. Otherwise the vectors are
    computed in the background (`REBUILD`): the old index keeps answering until the new one is
    complete, and on a first start with no vectors at all the lexical index answers meanwhile."""
    content = bot.settings.content_dir
    fingerprint = content_fingerprint(content / "kb")
    bot.state[CONTENT_VERSION] = await versions.current(bot.db, CONTENT_VERSION_NAME)
    bot.state[CHECKED_AT] = time.monotonic()
    # The model and the vectors load (in C, without the GIL) while the lexical index is read from its store or built.
    share_cores(bot.settings.semantic_threads)
    (engine, stored), store = await asyncio.gather(
        asyncio.to_thread(stored_engine, content, bot.settings.index_dir),
        asyncio.to_thread(vector_store, bot.settings.semantic_reranker, bot.settings.vector_dir, content))
    log.debug("lexical index %s", "read from its store" if stored else "built and stored")
    if store is not None:
        engine.reranker = await asyncio.to_thread(build_reranker, engine, store, False)
    pending: asyncio.Task[None] | None = bot.state.pop(REBUILD, None)
    if pending is not None:
        pending.cancel()  # an older content version's build; its vectors are stored as they come
    if store is not None and engine.reranker is None:
        bot.state[REBUILD] = asyncio.create_task(_fuse_later(bot, engine, store, fingerprint))
        if bot.state.get(ENGINE) is not None:
            bot.state[PENDING_FINGERPRINT] = fingerprint
            return engine
    _swap_in(bot, engine, fingerprint)
    return engine


def _swap_in(bot: Bot, engine: Engine, fingerprint: tuple[int, float]) -> None:
    install_engine(bot, engine, fingerprint)
    bot.state.pop(PENDING_FINGERPRINT, None)
    log.debug("knowledge base indexed: %d articles, %s ranking", len(engine.kb.articles), engine.mode)


async def _fuse_later(bot: Bot, engine: Engine, store: VectorStore, fingerprint: tuple[int, float]) -> None:
    """Embed the texts the store lacks (in a thread, one core), then swap in the fused index."""
    started = time.monotonic()
    try:
        engine.reranker = await asyncio.to_thread(build_reranker, engine, store, True)
    except Exception:
        log.exception("semantic reranker: embedding the articles failed; answering lexically")
        if bot.state.get(PENDING_FINGERPRINT) == fingerprint:
            _swap_in(bot, engine, fingerprint)
        return
    log.info("semantic reranker: article vectors computed in %.1f s", time.monotonic() - started)
    if bot.state.get(PENDING_FINGERPRINT, fingerprint) == fingerprint:
        _swap_in(bot, engine, fingerprint)


async def wait_for_index(bot: Bot) -> Engine:
    """The index once any background build has finished (for `reload`, tools and tests)."""
    pending: asyncio.Task[None] | None = bot.state.get(REBUILD)
    if pending is not None:
        await asyncio.shield(pending)
    return await engine_for(bot)


async def ensure_engine(bot: Bot) -> Engine:
    """At start: the index for the content on disk, built unless one for the same content is already there."""
    engine: Engine | None = bot.state.get(ENGINE)
    if engine is not None and bot.state.get(FINGERPRINT) == content_fingerprint(bot.settings.content_dir / "kb"):
        return engine
    return await load_engine(bot)


def install_engine(bot: Bot, engine: Engine, fingerprint: tuple[int, float]) -> None:
    """Hand a bot an index built elsewhere for the same content (the tests build one per session)."""
    bot.state[ENGINE] = engine
    bot.state[FINGERPRINT] = fingerprint
    bot.state[CHECKED_AT] = time.monotonic()


async def engine_for(bot: Bot) -> Engine:
    """The current index; at most every few seconds, check whether the content changed on disk."""
    engine: Engine | None = bot.state.get(ENGINE)
    if engine is None:
        return await load_engine(bot)
    if time.monotonic() - bot.state.get(CHECKED_AT, 0.0) > RELOAD_CHECK_SECONDS:
        bot.state[CHECKED_AT] = time.monotonic()
        fingerprint = content_fingerprint(bot.settings.content_dir / "kb")
        changed_here = fingerprint not in (bot.state.get(FINGERPRINT), bot.state.get(PENDING_FINGERPRINT))
        if changed_here or await versions.current(bot.db, CONTENT_VERSION_NAME) != bot.state.get(CONTENT_VERSION, 0):
            await load_engine(bot)
            return bot.state[ENGINE]
    return engine


async def reload_everywhere(bot: Bot) -> Engine:
    """Reload here now, and make every other instance reload at its next check (a shared version)."""
    await versions.bump(bot.db, CONTENT_VERSION_NAME)
    return await load_engine(bot)


SAFEGUARDING = "safeguarding"  # article_id of questions answered with the kind answer (not an article)


def forward_check(token: str, user_id: str) -> str:
    return hmac.new(token.encode(), user_id.encode(), hashlib.sha256).hexdigest()


async def ask(bot: Bot, actor: Actor, question: str, channel_kind: str) -> tuple[Answer, int, str]:
    """Answer from the index (no disk access) and log the question; unanswered ones are kept for the team.
    Returns the answer, the logged question's id and the token its "ask a person" button carries."""
    asked_at = time.monotonic()  # a burst of questions queues for threads too: the reranker's wait starts now
    question = question.strip()
    if len(question) > MAX_QUESTION:
        raise UserError("errors.too_long", limit=MAX_QUESTION)
    engine = await engine_for(bot)
    # Off the event loop: embedding the question costs some 20 ms of CPU, and taps must not wait for it.
    answer = await engine.answer_soon(question, actor.lang if actor.lang_chosen else None,
                                      actor.role == Role.pupil, asked_at)
    now = bot.clock.now()
    token = secrets.token_urlsafe(16)
    async with bot.db.write() as conn:
        result = await conn.execute(insert(question_log).values(
            asked_at=now, lang=answer.question_lang, role=actor.role.value, question=mask_personal_data(question),
            article_id=answer.article_id, score=answer.score, answered=answer.answered, channel_kind=channel_kind,
            forward_check=forward_check(token, actor.user_id)))
        assert result.inserted_primary_key is not None
        question_id = int(result.inserted_primary_key[0])
        if not answer.answered:
            await conn.execute(insert(unanswered).values(
                question_id=question_id, created_at=now, question=mask_personal_data(question), lang=answer.question_lang,
                closest=",".join(answer.alternatives)))
    return answer, question_id, token


async def log_safeguarding(bot: Bot, actor: Actor, question: str, lang: str, channel_kind: str) -> tuple[int, str]:
    """Log a question that tells of harm: counted as answered (with the kind answer), its words masked,
    and never among the unanswered questions the team reads. Returns its id and the ask-button token."""
    token = secrets.token_urlsafe(16)
    async with bot.db.write() as conn:
        result = await conn.execute(insert(question_log).values(
            asked_at=bot.clock.now(), lang=lang, role=actor.role.value,
            question=mask_personal_data(question.strip()[:MAX_QUESTION]), article_id=SAFEGUARDING, score=0.0,
            answered=True, channel_kind=channel_kind, forward_check=forward_check(token, actor.user_id)))
        assert result.inserted_primary_key is not None
        return int(result.inserted_primary_key[0]), token


async def record_feedback(bot: Bot, question_id: int, helpful: bool) -> str | None:
    """👍/👎 for the article that answered a question; a second click changes the vote."""
    async with bot.db.write() as conn:
        row = (await conn.execute(select(question_log.c.article_id).where(question_log.c.id == question_id))).first()
        if row is None or row.article_id is None or row.article_id == SAFEGUARDING:
            return None
        await upsert(conn, feedback, dict(question_id=question_id, article_id=row.article_id, helpful=helpful,
                                          created_at=bot.clock.now()),
                     key=["question_id"], update=dict(helpful=helpful, created_at=bot.clock.now()))
        return str(row.article_id)


async def question_text(bot: Bot, question_id: int) -> str | None:
    async with bot.db.read() as conn:
        row = (await conn.execute(select(question_log.c.question).where(question_log.c.id == question_id))).first()
    return str(row.question) if row else None


async def asked_by(bot: Bot, question_id: int, token: str, user_id: str) -> bool:
    """Did `user_id` ask this question? Only the asker's button has the token."""
    async with bot.db.read() as conn:
        stored = (await conn.execute(select(question_log.c.forward_check).where(
            question_log.c.id == question_id))).scalar()
    return bool(stored) and bool(token) and hmac.compare_digest(str(stored), forward_check(token, user_id))


async def mark_forwarded(bot: Bot, question_id: int) -> bool:
    """True the first time only, so a double click does not post the question twice."""
    async with bot.db.write() as conn:
        exists = (await conn.execute(select(unanswered.c.id).where(unanswered.c.question_id == question_id))).first()
        if exists is None:
            text = (await conn.execute(select(question_log).where(question_log.c.id == question_id))).mappings().first()
            if text is None:
                return False
            # A question that tells of harm goes to the counsellors, never verbatim into what the team exports.
            withheld = text["article_id"] == SAFEGUARDING
            shown = t(bot.settings.default_language, "questions.withheld") if withheld else text["question"]
            await insert_new(conn, unanswered, [dict(question_id=question_id, created_at=bot.clock.now(),
                                                     question=shown, lang=text["lang"])],
                             key=["question_id"])
        result = await conn.execute(update(unanswered).where(
            (unanswered.c.question_id == question_id) & unanswered.c.forwarded_at.is_(None))
            .values(forwarded_at=bot.clock.now()))
        return bool(result.rowcount)
