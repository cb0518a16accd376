"""Survey domain functions over the database: create, open, answer, close, nudge lists, results.

They take a `Respondent` (an opaque key), never a Slack payload, so a web form for pupils under
Slack's age limit can use the same core. Every lead-only function checks the actor itself, whatever
front end or payload called it. Messages are sent by `bot.surveys.delivery`, after commit.
"""

from __future__ import annotations

import calendar
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import Database
from bot.db.cache import MISSING
from bot.db.engine import as_utc
from bot.db.schema import due_items
from bot.db.writer import batch_memo
from bot.disclosure import Limits
from bot.errors import UserError
from bot.scheduler import schedule, schedule_many, unschedule
from bot.schoolyear import SchoolCalendar
from bot.surveys.anonymity import new_key, respondent_hash
from bot.surveys.models import (
    MAX_TEXT_ANSWER,
    Anonymity,
    AnswerSaved,
    Audience,
    Question,
    QuestionDraft,
    QuestionKind,
    QuestionText,
    Repeat,
    Respondent,
    Status,
    Survey,
    SurveyDraft,
)
from bot.surveys.results import AnswerRow, SurveyResults, survey_results, survey_threshold, trend_point
from bot.surveys.tables import (
    live_respondent_count,
    survey_answers,
    survey_audience,
    survey_columns,
    survey_keys,
    survey_links,
    survey_messages,
    survey_questions,
    survey_respondents,
    survey_series,
    surveys,
)
from bot.surveys.validation import draft_problems
from bot.users import Actor, audit, require_lead

NUDGE_INTERVAL = timedelta(hours=24)
_shuffle = random.SystemRandom().shuffle  # an order nobody can reproduce
T = TypeVar("T")


class DraftInvalid(UserError):
    """The draft has problems, by form field; nothing was stored."""

    def __init__(self, problems: dict[str, UserError]) -> None:
        first = next(iter(problems.values()))
        super().__init__(first.key, **first.values)
        self.problems = problems


# --- keys of due items ------------------------------------------------------------------------------

def due_key(survey_id: int, what: str, *more: object) -> str:
    return ":".join(["survey", str(survey_id), what, *(str(m) for m in more)])


async def _drop_pending(conn: AsyncConnection, key: str) -> None:
    """Drop a pending item nobody is running (the running one, if any, finishes normally)."""
    await conn.execute(delete(due_items).where(and_(due_items.c.key == key, due_items.c.done_at.is_(None),
                                                    due_items.c.claimed_at.is_(None))))


# --- reading ----------------------------------------------------------------------------------------

def _question(row: Any) -> Question:
    return Question(id=row["id"], survey_id=row["survey_id"], position=row["position"], kind=QuestionKind(row["kind"]),
                    text=row["text"], options=list(row["options"] or []), low_label=row["low_label"],
                    high_label=row["high_label"],
                    translations={k: QuestionText.model_validate(v) for k, v in (row["translations"] or {}).items()})


def _opt_utc(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


def _survey(row: Any, questions: list[Question]) -> Survey:
    return Survey(
        id=row["id"], series_id=row["series_id"], kind=row["kind"], title=row["title"],
        title_translations=dict(row["title_translations"] or {}), lang=row["lang"],
        anonymity=Anonymity(row["anonymity"]), show_results=bool(row["show_results"]), status=Status(row["status"]),
        audience=Audience.model_validate({k: v for k, v in (row["audience"] or {}).items() if k in
                                          ("channels", "users", "members_of")}),
        created_by=row["created_by"], created_at=as_utc(row["created_at"]), opens_at=as_utc(row["opens_at"]),
        closes_at=_opt_utc(row["closes_at"]), opened_at=_opt_utc(row["opened_at"]),
        closed_at=_opt_utc(row["closed_at"]), respondent_count=row["respondent_count"] or 0,
        last_nudge_at=_opt_utc(row["last_nudge_at"]), template=row["template"], questions=questions)


async def load_survey(conn: AsyncConnection, survey_id: int, lock: bool = False) -> Survey | None:
    query = select(*survey_columns()).where(surveys.c.id == survey_id)
    row = (await conn.execute(query.with_for_update(of=surveys) if lock else query)).mappings().first()
    if row is None:
        return None
    qrows = (await conn.execute(select(survey_questions).where(survey_questions.c.survey_id == survey_id)
                                .order_by(survey_questions.c.position))).mappings().all()
    return _survey(row, [_question(q) for q in qrows])


async def get_survey(db: Database, survey_id: int) -> Survey:
    async with db.read() as conn:
        survey = await load_survey(conn, survey_id)
    if survey is None:
        raise UserError("surveys.not_found", id=survey_id)
    return survey


async def shown_survey(db: Database, survey_id: int) -> Survey:
    """The survey for rendering a reply to a tap that has just been committed (cached for a few seconds:
    its texts do not change, and a count or status shown there may be that old)."""
    return await db.cache.through(("survey.shown", survey_id), lambda: get_survey(db, survey_id))


async def _secret(conn: AsyncConnection, survey_id: int) -> str | None:
    return (await conn.execute(select(survey_keys.c.secret).where(survey_keys.c.survey_id == survey_id))).scalar()


# --- creating ---------------------------------------------------------------------------------------

async def _insert_survey(conn: AsyncConnection, draft: SurveyDraft, created_by: str, now: datetime,
                         series_id: str | None) -> int:
    opens_at = (draft.opens_at or now).astimezone(UTC)  # SQLite drops the zone: store UTC only
    closes_at = draft.closes_at.astimezone(UTC) if draft.closes_at is not None else None
    result = await conn.execute(insert(surveys).values(
        series_id=series_id, kind=draft.kind, title=draft.title.strip(), title_translations=draft.title_translations,
        lang=draft.lang, anonymity=draft.anonymity.value, show_results=draft.show_results,
        status=Status.scheduled.value, audience=draft.audience.model_dump(), template=draft.template,
        created_by=created_by, created_at=now, opens_at=opens_at, closes_at=closes_at, respondent_count=0))
    survey_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    for position, question in enumerate(draft.questions):
        await conn.execute(insert(survey_questions).values(
            survey_id=survey_id, position=position, kind=question.kind.value, text=question.text.strip(),
            options=[o.strip() for o in question.options], low_label=question.low_label,
            high_label=question.high_label,
            translations={k: v.model_dump() for k, v in question.translations.items()}))
    await conn.execute(insert(survey_keys).values(survey_id=survey_id, secret=new_key()))
    await schedule(conn, "survey.open", due_key(survey_id, "open"), opens_at, {"survey_id": survey_id})
    if closes_at is not None:
        await schedule(conn, "survey.close", due_key(survey_id, "close"), closes_at, {"survey_id": survey_id})
    return survey_id


async def create_survey(db: Database, actor: Actor, draft: SurveyDraft, now: datetime) -> int:
    """Validate and store a survey (leads only); its opening and closing become due items."""
    require_lead(actor)
    problems = draft_problems(draft, now)
    if problems:
        raise DraftInvalid(problems)
    async with db.write() as conn:
        series_id = None
        if draft.repeat != Repeat.none:
            series_id = uuid.uuid4().hex
            await conn.execute(insert(survey_series).values(id=series_id, title=draft.title.strip(),
                                                            repeat=draft.repeat.value, created_by=actor.user_id,
                                                            created_at=now))
        survey_id = await _insert_survey(conn, draft, actor.user_id, now, series_id)
        await audit(conn, actor.user_id, "survey.create", survey_id=survey_id, kind=draft.kind,
                    anonymity=draft.anonymity.value, questions=len(draft.questions), series_id=series_id)
    return survey_id


# --- opening ----------------------------------------------------------------------------------------

async def mark_open(db: Database, survey_id: int, now: datetime, members: set[str],
                    dm_targets: list[str]) -> bool:
    """scheduled -> open exactly once; stores the audience as keyed hashes and queues one paced DM
    per person. False when somebody else opened (or closed) it first."""
    async with db.write() as conn:
        opened = await conn.execute(update(surveys).where(and_(
            surveys.c.id == survey_id, surveys.c.status == Status.scheduled.value))
            .values(status=Status.open.value, opened_at=now))
        if (opened.rowcount or 0) != 1:
            return False
        secret = await _secret(conn, survey_id)
        assert secret is not None, "an unopened survey always has its key"
        hashes = sorted({respondent_hash(secret, survey_id, member) for member in members})
        if hashes:
            await conn.execute(insert(survey_audience), [{"survey_id": survey_id, "member": h} for h in hashes])
        await _drop_pending(conn, due_key(survey_id, "open"))
        await schedule_many(conn, "survey.send", [(due_key(survey_id, "send", user), now,
                                                   {"survey_id": survey_id, "user": user}) for user in dm_targets])
    forget_answering(db, survey_id)
    return True


async def record_message(db: Database, survey_id: int, kind: str, channel: str, ts: str) -> None:
    async def record(conn: AsyncConnection) -> None:
        await conn.execute(insert(survey_messages).values(survey_id=survey_id, kind=kind, channel=channel, ts=ts))

    await db.run(record)
    if kind == "channel":  # only channel messages are cached (`live_messages`); a DM changes nothing there
        db.cache.invalidate(("survey.messages", survey_id))


async def live_messages(db: Database, survey_id: int) -> list[tuple[str, str]]:
    """The channel messages that show live counts (cached: every tap asks for them)."""
    return list(await db.cache.through(("survey.messages", survey_id), lambda: channel_messages(db, survey_id)))


async def channel_messages(db: Database, survey_id: int) -> list[tuple[str, str]]:
    async with db.read() as conn:
        rows = (await conn.execute(select(survey_messages.c.channel, survey_messages.c.ts).where(and_(
            survey_messages.c.survey_id == survey_id, survey_messages.c.kind == "channel"))
            .order_by(survey_messages.c.id))).all()
    return [(r.channel, r.ts) for r in rows]


async def posted_channels(db: Database, survey_id: int) -> set[str]:
    return {channel for channel, _ in await channel_messages(db, survey_id)}


# --- answering --------------------------------------------------------------------------------------

def normalize_value(question: Question, raw: str, toggle: bool, previous: str | None) -> str | None:
    """The value to store for `raw`, or None to withdraw the answer; bad input is a UserError."""
    kind = question.kind
    raw = raw.strip()
    if kind.is_scale:
        if not raw.lstrip("-").isdigit() or int(raw) not in kind.scale_values():
            raise UserError("surveys.answer.invalid")
        return str(int(raw))
    if kind == QuestionKind.yesno:
        if raw not in ("yes", "no"):
            raise UserError("surveys.answer.invalid")
        return raw
    if kind == QuestionKind.text:
        if len(raw) > MAX_TEXT_ANSWER:
            raise UserError("errors.too_long", limit=MAX_TEXT_ANSWER)
        return raw or None
    indexes = [part.strip() for part in raw.split(",") if part.strip()]
    if any(not i.isdigit() or int(i) >= len(question.options) for i in indexes):
        raise UserError("surveys.answer.invalid")
    if kind == QuestionKind.single:
        if len(indexes) != 1:
            raise UserError("surveys.answer.invalid")
        return str(int(indexes[0]))
    chosen = {int(i) for i in indexes}
    if toggle:
        current = {int(i) for i in (previous or "").split(",") if i}
        chosen = current ^ chosen
    return ",".join(str(i) for i in sorted(chosen)) or None


def _day(now: datetime) -> datetime:
    return datetime(now.year, now.month, now.day, tzinfo=UTC)


@dataclass(frozen=True)
class _Answering:
    """What every answer to an open survey needs and what never changes while it is open: cached."""

    anonymity: Anonymity
    secret: str
    questions: dict[int, Question]


async def _answering(conn: AsyncConnection, db: Database, survey_id: int) -> _Answering | None:
    key = ("survey.answering", survey_id)
    cached = db.cache.get(key)
    if cached is not MISSING:
        return cached  # type: ignore[no-any-return]
    token = db.cache.token()
    anonymity = (await conn.execute(select(surveys.c.anonymity).where(surveys.c.id == survey_id))).scalar()
    secret = await _secret(conn, survey_id)
    if anonymity is None or secret is None:
        return None
    qrows = (await conn.execute(select(survey_questions).where(survey_questions.c.survey_id == survey_id))
             ).mappings().all()
    found = _Answering(anonymity=Anonymity(anonymity), secret=secret,
                       questions={q["id"]: _question(q) for q in qrows})
    db.cache.put(key, found, token)
    return found


def forget_answering(db: Database, survey_id: int) -> None:
    """Drop what is cached about a survey (after it opened, closed or otherwise changed)."""
    for what in ("survey.answering", "survey.messages", "survey.shown"):
        db.cache.invalidate((what, survey_id))


# Built once: a burst runs these a thousand times, and building a statement costs more than running it.
_EXISTING_ANSWER = select(survey_answers.c.id, survey_answers.c.value).where(and_(
    survey_answers.c.question_id == bindparam("question_id"),
    survey_answers.c.respondent == bindparam("who"))).with_for_update()
_INSERT_ANSWER = insert(survey_answers)
_INSERT_RESPONDENT = insert(survey_respondents)


async def _apply_answer(conn: AsyncConnection, db: Database, survey_id: int, question_id: int,
                        respondent: Respondent, raw: str, now: datetime, toggle: bool) -> AnswerSaved:
    memo = batch_memo()
    state = memo.get(("survey.state", survey_id))
    if state is None:
        # A shared lock (FOR SHARE on PostgreSQL): answers never wait for each other, but a close waits
        # for the answers in flight, so none is stored with a respondent hash after its survey closed.
        # Held to the end of the transaction, so the other answers of this batch need not ask again.
        state = (await conn.execute(select(surveys.c.status, surveys.c.closes_at).where(surveys.c.id == survey_id)
                                    .with_for_update(read=True))).first()
        memo[("survey.state", survey_id)] = state
    if state is None:
        raise UserError("surveys.not_found", id=survey_id)
    status, closes_at = state.status, _opt_utc(state.closes_at)
    if status == Status.scheduled.value:
        raise UserError("surveys.answer.not_open")
    if status != Status.open.value or (closes_at is not None and closes_at <= now):
        raise UserError("surveys.answer.closed")
    answering = await _answering(conn, db, survey_id)
    question = answering.questions.get(question_id) if answering is not None else None
    if answering is None or question is None:
        raise UserError("surveys.answer.invalid")
    anonymity = answering.anonymity
    who = respondent_hash(answering.secret, survey_id, respondent.key)
    existing = (await conn.execute(_EXISTING_ANSWER, {"question_id": question_id, "who": who})).first()
    value = normalize_value(question, raw, toggle, existing.value if existing else None)
    # Anonymous answers carry the day only, so their times cannot be matched against anything.
    stamp = _day(now) if anonymity == Anonymity.anonymous else now
    count_key = ("survey.respondents", survey_id)
    if count_key not in memo:
        memo[count_key] = int((await conn.execute(select(func.count()).select_from(survey_respondents).where(
            survey_respondents.c.survey_id == survey_id))).scalar() or 0)
    if value is None:
        if existing is not None:
            await conn.execute(delete(survey_answers).where(survey_answers.c.id == existing.id))
            has_answers = (await conn.execute(select(survey_answers.c.id).where(and_(
                survey_answers.c.survey_id == survey_id, survey_answers.c.respondent == who)).limit(1))).first()
            if has_answers is None:
                await conn.execute(delete(survey_respondents).where(and_(
                    survey_respondents.c.survey_id == survey_id, survey_respondents.c.respondent == who)))
                memo[count_key] -= 1
    elif existing is not None:
        if value != existing.value:
            await conn.execute(update(survey_answers).where(survey_answers.c.id == existing.id)
                               .values(value=value, updated_at=stamp))
    else:
        await conn.execute(_INSERT_ANSWER, {
            "survey_id": survey_id, "question_id": question_id, "value": value, "respondent": who,
            "created_at": stamp, "updated_at": stamp, "user_id": None, "role": None, "municipality": None,
            "school": None, **_metadata(anonymity, question, respondent)})
        # Listed exactly when they have an answer: with one question, this first answer means not yet.
        listed = len(answering.questions) > 1 and (await conn.execute(
            select(survey_respondents.c.respondent).where(and_(survey_respondents.c.survey_id == survey_id,
                                                               survey_respondents.c.respondent == who)))).first()
        if not listed:
            await conn.execute(_INSERT_RESPONDENT, {"survey_id": survey_id, "respondent": who})
            memo[count_key] += 1
    # Counted from the answers, not kept on the survey's row: no answer waits for another's update.
    count = memo[count_key]
    return AnswerSaved(survey_id=survey_id, question_id=question_id, value=value, first_answer=existing is None,
                       respondent_count=int(count or 0))


def _metadata(anonymity: Anonymity, question: Question, respondent: Respondent) -> dict[str, Any]:
    """What may be stored next to an answer besides its value."""
    if anonymity == Anonymity.anonymous:
        if question.kind == QuestionKind.text:
            return {}  # free text: nothing that could narrow down the writer
        return {"role": respondent.role, "municipality": respondent.municipality}
    return {"user_id": respondent.key, "role": respondent.role, "municipality": respondent.municipality,
            "school": respondent.school}


async def record_answer(db: Database, survey_id: int, question_id: int, respondent: Respondent, raw: str,
                        now: datetime, toggle: bool = False) -> AnswerSaved:
    """Store one answer, committed before returning; the last answer wins. Taps queue in the process's
    writer and are committed in order; a unique-key clash with another instance is retried once."""
    async def apply(conn: AsyncConnection) -> AnswerSaved:
        return await _apply_answer(conn, db, survey_id, question_id, respondent, raw, now, toggle)

    return await _retry_on_clash(db, apply)


async def record_answers(db: Database, survey_id: int, respondent: Respondent, raw: dict[int, str],
                         now: datetime) -> list[AnswerSaved]:
    """Several answers from one form, all or nothing (an empty value withdraws that answer)."""
    async def apply(conn: AsyncConnection) -> list[AnswerSaved]:
        return [await _apply_answer(conn, db, survey_id, question_id, respondent, value, now, False)
                for question_id, value in raw.items()]

    return await _retry_on_clash(db, apply)


async def _retry_on_clash(db: Database, apply: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    for attempt in range(2):
        try:
            return await db.run(apply)
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


async def answers_of(db: Database, survey_id: int, respondent_key: str) -> dict[int, str]:
    """The respondent's own current answers (question id -> value) while the survey is open."""
    async with db.read() as conn:
        secret = await _secret(conn, survey_id)
        if secret is None:
            return {}
        who = respondent_hash(secret, survey_id, respondent_key)
        rows = (await conn.execute(select(survey_answers.c.question_id, survey_answers.c.value).where(and_(
            survey_answers.c.survey_id == survey_id, survey_answers.c.respondent == who)))).all()
    return {r.question_id: r.value for r in rows}


async def survey_with_answers(db: Database, survey_id: int, respondent_key: str) -> tuple[Survey, dict[int, str]]:
    """The survey and this person's own answers (the paced DM path runs this 1,600 times): the texts
    from the cache (`shown_survey`: they never change), the status, key and answers read now."""
    cached = await shown_survey(db, survey_id)
    async with db.read() as conn:
        row = (await conn.execute(select(surveys.c.status, survey_keys.c.secret)
                                  .select_from(surveys.outerjoin(survey_keys, survey_keys.c.survey_id == surveys.c.id))
                                  .where(surveys.c.id == survey_id))).first()
        if row is None:
            raise UserError("surveys.not_found", id=survey_id)
        survey = cached if cached.status.value == row.status else cached.model_copy(update={"status": Status(row.status)})
        if row.secret is None:
            return survey, {}
        who = respondent_hash(row.secret, survey_id, respondent_key)
        rows = (await conn.execute(select(survey_answers.c.question_id, survey_answers.c.value).where(and_(
            survey_answers.c.survey_id == survey_id, survey_answers.c.respondent == who)))).all()
    return survey, {r.question_id: r.value for r in rows}


async def has_answered(db: Database, survey_id: int, respondent_key: str) -> bool:
    async with db.read() as conn:
        secret = await _secret(conn, survey_id)
        if secret is None:
            return False
        who = respondent_hash(secret, survey_id, respondent_key)
        found = (await conn.execute(select(survey_respondents.c.respondent).where(and_(
            survey_respondents.c.survey_id == survey_id, survey_respondents.c.respondent == who)))).first()
    return found is not None


# --- open surveys for one person --------------------------------------------------------------------

async def open_for(db: Database, respondent_key: str) -> list[tuple[Survey, bool]]:
    """Open surveys whose audience includes this person, with whether they have answered."""
    found: list[tuple[Survey, bool]] = []
    async with db.read() as conn:
        rows = (await conn.execute(select(surveys.c.id, survey_keys.c.secret)
                                   .join(survey_keys, survey_keys.c.survey_id == surveys.c.id)
                                   .where(surveys.c.status == Status.open.value)
                                   .order_by(surveys.c.opened_at, surveys.c.id))).all()
        for survey_id, secret in rows:
            who = respondent_hash(secret, survey_id, respondent_key)
            member = (await conn.execute(select(survey_audience.c.member).where(and_(
                survey_audience.c.survey_id == survey_id, survey_audience.c.member == who)))).first()
            answered = (await conn.execute(select(survey_respondents.c.respondent).where(and_(
                survey_respondents.c.survey_id == survey_id, survey_respondents.c.respondent == who)))).first()
            if member is None and answered is None:
                continue
            survey = await load_survey(conn, survey_id)
            if survey is not None:
                found.append((survey, answered is not None))
    return found


async def open_surveys(db: Database) -> list[Survey]:
    async with db.read() as conn:
        ids = (await conn.execute(select(surveys.c.id).where(surveys.c.status == Status.open.value)
                                  .order_by(surveys.c.id))).scalars().all()
        return [s for s in [await load_survey(conn, i) for i in ids] if s is not None]


async def recent_surveys(db: Database, limit: int = 10) -> list[Survey]:
    async with db.read() as conn:
        ids = (await conn.execute(select(surveys.c.id).order_by(surveys.c.id.desc()).limit(limit))).scalars().all()
        return [s for s in [await load_survey(conn, i) for i in ids] if s is not None]


# --- nudges -----------------------------------------------------------------------------------------

async def queue_nudges(db: Database, actor: Actor, survey_id: int, audience: set[str], now: datetime) -> int:
    """Queue one paced DM for each audience member who has not answered; at most once a day per survey.
    Works for anonymous surveys while open: the keyed hash tells who answered, not what."""
    require_lead(actor)
    async with db.write() as conn:
        survey = await load_survey(conn, survey_id, lock=True)
        if survey is None:
            raise UserError("surveys.not_found", id=survey_id)
        if survey.status != Status.open:
            raise UserError("surveys.nudge.not_open")
        if survey.last_nudge_at is not None and now - survey.last_nudge_at < NUDGE_INTERVAL:
            raise UserError("surveys.nudge.too_soon")
        secret = await _secret(conn, survey_id)
        assert secret is not None
        answered = set((await conn.execute(select(survey_respondents.c.respondent).where(
            survey_respondents.c.survey_id == survey_id))).scalars().all())
        targets = sorted(u for u in audience if respondent_hash(secret, survey_id, u) not in answered)
        await conn.execute(update(surveys).where(surveys.c.id == survey_id).values(last_nudge_at=now))
        day = now.strftime("%Y%m%d")
        await schedule_many(conn, "survey.nudge", [(due_key(survey_id, "nudge", day, user), now,
                                                    {"survey_id": survey_id, "user": user}) for user in targets])
        await audit(conn, actor.user_id, "survey.nudge", survey_id=survey_id, recipients=len(targets))
    return len(targets)


# --- closing ----------------------------------------------------------------------------------------

def add_period(value: datetime, repeat: Repeat, tz: Any) -> datetime:
    """The same local time a week or a calendar month later (the 31st becomes the month's last day)."""
    if repeat == Repeat.weekly:
        return (value.astimezone(tz) + timedelta(days=7)).astimezone(UTC)
    local = value.astimezone(tz)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).astimezone(UTC)


async def _next_in_series(conn: AsyncConnection, survey: Survey, now: datetime, tz: Any,
                          school: SchoolCalendar | None = None) -> int | None:
    """The next round of a repeating pulse; rounds that would open in a school holiday are skipped."""
    if survey.series_id is None or survey.closes_at is None:
        return None
    series = (await conn.execute(select(survey_series).where(survey_series.c.id == survey.series_id))).mappings().first()
    if series is None or series["stopped_at"] is not None:
        return None
    repeat = Repeat(series["repeat"])
    opens_at, closes_at = survey.opens_at, survey.closes_at
    for _ in range(200):
        opens_at, closes_at = add_period(opens_at, repeat, tz), add_period(closes_at, repeat, tz)
        in_holiday = school is not None and school.holiday_on(opens_at.astimezone(tz).date()) is not None
        if closes_at > now and not in_holiday:
            break
    draft = SurveyDraft(kind=survey.kind, title=survey.title, title_translations=survey.title_translations,
                        lang=survey.lang, anonymity=survey.anonymity, show_results=survey.show_results,
                        audience=survey.audience, opens_at=opens_at, closes_at=closes_at, repeat=repeat,
                        template=survey.template, questions=[
                            QuestionDraft(kind=q.kind, text=q.text, options=q.options, low_label=q.low_label,
                                          high_label=q.high_label, translations=q.translations)
                            for q in survey.questions])
    return await _insert_survey(conn, draft, survey.created_by, now, survey.series_id)


async def _reshuffle_answers(conn: AsyncConnection, survey_id: int, day: datetime) -> None:
    """An anonymous survey's answers, re-inserted in a random order with fresh ids and one shared day:
    one person's answers were stored one after another, so neighbouring ids (or the same day) tied an
    attribute-free free-text answer to that person's answer with role and municipality."""
    columns = (survey_answers.c.question_id, survey_answers.c.value, survey_answers.c.role,
               survey_answers.c.municipality)
    rows = [dict(r) for r in (await conn.execute(select(*columns).where(
        survey_answers.c.survey_id == survey_id))).mappings().all()]
    if not rows:
        return
    await conn.execute(delete(survey_answers).where(survey_answers.c.survey_id == survey_id))
    _shuffle(rows)
    await conn.execute(insert(survey_answers), [
        {**row, "survey_id": survey_id, "respondent": None, "user_id": None, "school": None,
         "created_at": day, "updated_at": day} for row in rows])


async def close(db: Database, survey_id: int, now: datetime, tz: Any, by: Actor | None = None,
                school: SchoolCalendar | None = None) -> Survey | None:
    """Close a survey exactly once and destroy what could link answers to people.

    Returns the closed survey, or None when it was already closed. A scheduled survey that never
    opened is closed (cancelled) too. In one transaction: the key, the respondent and audience hashes
    are deleted, answers lose their hash, anonymous surveys forget the people in their audience and
    their queued DMs and nudges; the summary and the marking of DMs as closed become due items; a
    repeating pulse gets its next instance.
    """
    if by is not None:
        require_lead(by)
    async with db.write() as conn:
        survey = await load_survey(conn, survey_id, lock=True)
        if survey is None:
            raise UserError("surveys.not_found", id=survey_id)
        if survey.status == Status.closed:
            return None
        audience: dict[str, Any] = survey.audience.model_dump()
        if survey.anonymity == Anonymity.anonymous:
            audience["people_count"] = len(audience["users"])
            audience["users"] = []
        await conn.execute(update(surveys).where(surveys.c.id == survey_id).values(
            status=Status.closed.value, closed_at=now, audience=audience, respondent_count=live_respondent_count()))
        await conn.execute(update(survey_answers).where(survey_answers.c.survey_id == survey_id).values(respondent=None))
        if survey.anonymity == Anonymity.anonymous:
            await _reshuffle_answers(conn, survey_id, _day(now))
        await conn.execute(delete(survey_respondents).where(survey_respondents.c.survey_id == survey_id))
        await conn.execute(delete(survey_audience).where(survey_audience.c.survey_id == survey_id))
        await conn.execute(delete(survey_keys).where(survey_keys.c.survey_id == survey_id))
        for what in ("open", "close"):
            await _drop_pending(conn, due_key(survey_id, what))
        for what in ("send", "nudge"):
            prefix = due_key(survey_id, what) + ":"
            if survey.anonymity == Anonymity.anonymous:
                # Done items too: their keys and payloads name people in the audience.
                await conn.execute(delete(due_items).where(due_items.c.key.startswith(prefix, autoescape=True)))
            else:
                await unschedule(conn, prefix)
        if survey.status == Status.open:
            await schedule(conn, "survey.summary", due_key(survey_id, "summary"), now, {"survey_id": survey_id})
            dm_ids = (await conn.execute(select(survey_messages.c.id).where(and_(
                survey_messages.c.survey_id == survey_id, survey_messages.c.kind == "dm")))).scalars().all()
            for message_id in dm_ids:
                await schedule(conn, "survey.dm_closed", due_key(survey_id, "closed-dm", message_id), now,
                               {"survey_id": survey_id, "message_id": message_id})
        next_id = await _next_in_series(conn, survey, now, tz, school)
        if by is not None:
            await audit(conn, by.user_id, "survey.close", survey_id=survey_id, next_survey_id=next_id)
        closed = await load_survey(conn, survey_id)
    forget_answering(db, survey_id)
    return closed


async def pop_dm_message(db: Database, message_id: int) -> tuple[int, str, str] | None:
    """A DM survey message to mark closed, forgotten once read (it is no longer needed)."""
    async with db.write() as conn:
        row = (await conn.execute(select(survey_messages).where(survey_messages.c.id == message_id))).mappings().first()
        if row is None:
            return None
        await conn.execute(delete(survey_messages).where(survey_messages.c.id == message_id))
    return row["survey_id"], row["channel"], row["ts"]


async def stop_series(db: Database, actor: Actor, survey_id: int, now: datetime) -> Survey:
    """Stop a repeating pulse: the current round runs to its end and no new round is created at its
    close (a round already scheduled can be cancelled with "Stäng nu")."""
    require_lead(actor)
    async with db.write() as conn:
        survey = await load_survey(conn, survey_id)
        if survey is None:
            raise UserError("surveys.not_found", id=survey_id)
        if survey.series_id is None:
            raise UserError("surveys.series.none")
        await conn.execute(update(survey_series).where(and_(survey_series.c.id == survey.series_id,
                                                            survey_series.c.stopped_at.is_(None)))
                           .values(stopped_at=now))
        await audit(conn, actor.user_id, "survey.series_stop", survey_id=survey_id, series_id=survey.series_id)
    forget_answering(db, survey_id)
    return survey


# --- results ----------------------------------------------------------------------------------------

async def _rows(conn: AsyncConnection, survey_id: int) -> list[AnswerRow]:
    rows = (await conn.execute(select(survey_answers.c.question_id, survey_answers.c.value, survey_answers.c.role,
                                      survey_answers.c.municipality)
                               .where(survey_answers.c.survey_id == survey_id))).all()
    return [AnswerRow(question_id=r.question_id, value=r.value, role=r.role, municipality=r.municipality)
            for r in rows]


async def has_pupil_link(conn: AsyncConnection, survey_id: int) -> bool:
    """A pupils' web link (even a revoked one) means the audience includes pupils."""
    return (await conn.execute(select(survey_links.c.id).where(survey_links.c.survey_id == survey_id)
                               .limit(1))).first() is not None


async def results(db: Database, actor: Actor | None, survey_id: int, min_group_size: int,
                  min_group_size_pupils: int | None = None) -> SurveyResults:
    """Results for leads (actor None: the bot itself, e.g. the summary at close), with the trend of a
    repeating pulse: the same question (by position) in earlier instances. The threshold is the pupils'
    one when the survey's answers or audience include pupils (`bot.disclosure.threshold`)."""
    if actor is not None:
        require_lead(actor)
    limits = Limits(min_group_size=min_group_size, min_group_size_pupils=min_group_size_pupils or min_group_size)
    async with db.read() as conn:
        survey = await load_survey(conn, survey_id)
        if survey is None:
            raise UserError("surveys.not_found", id=survey_id)
        rows = await _rows(conn, survey_id)
        k = survey_threshold(limits, rows, await has_pupil_link(conn, survey_id))
        computed = survey_results(survey, rows, k)
        if survey.series_id is not None:
            ids = (await conn.execute(select(surveys.c.id).where(and_(
                surveys.c.series_id == survey.series_id, surveys.c.id <= survey_id,
                or_(surveys.c.status == Status.closed.value, surveys.c.id == survey_id)))
                .order_by(surveys.c.opens_at))).scalars().all()
            for earlier_id in ids[-12:]:
                earlier = await load_survey(conn, earlier_id)
                if earlier is None:
                    continue
                rows = await _rows(conn, earlier_id)
                earlier_k = survey_threshold(limits, rows, await has_pupil_link(conn, earlier_id))
                for result in computed.questions:
                    same = next((q for q in earlier.questions if q.position == result.question.position
                                 and q.kind == result.question.kind), None)
                    if same is None or not (same.kind.is_scale or same.kind == QuestionKind.yesno):
                        continue
                    mine = [r for r in rows if r.question_id == same.id]
                    result.trend.append(trend_point(earlier, same, mine, earlier_k))
    if actor is not None and survey.anonymity != Anonymity.anonymous:
        async with db.write() as conn:  # whose answers a lead looked at is itself worth knowing
            await audit(conn, actor.user_id, "survey.results", survey_id=survey_id, anonymity=survey.anonymity.value)
    return computed
