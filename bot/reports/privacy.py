"""Privacy controls that hold: retention, "my data", "forget me", restore.

Retention: free-text survey answers, the question log (with its feedback) and unanswered questions are
deleted RETENTION_DAYS after they were written, by a daily due item (03:00 local time), and finished
due items older than that go too (their payloads can name people).

"Forget me" (`forget`) removes or replaces the person's Slack user id everywhere in the database, in
one transaction:
- their `users` row and their meeting invitations are deleted; answers to meetings that have not
  started are withdrawn first (through the conferences capability, so a freed seat goes to the
  waitlist) and then deleted; answers to past meetings stay for attendance figures, under a pseudonym;
- confidential and named survey answers lose the user id and the school (the answer itself stays,
  like an anonymous one); for surveys still open, the keyed hashes that tie them to their answers are
  removed, so the link is gone at once rather than at close;
- scheduled messages to them (due items whose key names them) are deleted;
- a question they forwarded to the counsellors no longer names them (a later answer reaches nobody), and
  proposals they made for the knowledge base carry the pseudonym;
- the audit log keeps every event, with their id replaced by a pseudonym `forgotten-<random>`;
- finally every text and JSON column of every table is swept for the id (lists drop it, text gets the
  pseudonym), so nothing identifying is left whatever a capability stores.
Then SQLite's write-ahead log is checkpointed so no old page with the id lingers (deleted content is
zeroed: see bot/surveys/anonymity.py, secure_delete). Backups made before stay as they are: see
docs/privacy.md for how long they are kept.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy import JSON, String, Table, Text, and_, cast, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.conferences.tables import (
    calendar_feeds,
    conference_invitees,
    conference_messages,
    conference_rsvps,
    conferences,
)
from bot.db.engine import as_utc, sqlite_path
from bot.db.erasure import erase_deleted
from bot.db.schema import audit_log, due_items, metadata, users
from bot.errors import Forbidden
from bot.i18n import t
from bot.questions.tables import content_proposals, feedback, question_log, unanswered
from bot.reports.audit import record
from bot.reports.exports import ExportFile
from bot.scheduler import schedule
from bot.surveys.tables import (
    survey_answers,
    survey_audience,
    survey_keys,
    survey_messages,
    survey_questions,
    survey_respondents,
    survey_series,
    surveys,
)
from bot.users import Actor, audit, forget_user

if TYPE_CHECKING:
    from bot.runtime import Bot

log = logging.getLogger(__name__)

PURGE_KIND = "privacy.purge"
PURGE_AT = time(3, 0)  # local time: a quiet hour


# --- retention ------------------------------------------------------------------------------------

class PurgeCounts(BaseModel):
    cutoff: datetime
    text_answers: int = 0
    questions: int = 0
    feedback: int = 0
    unanswered: int = 0
    proposals: int = 0
    finished_items: int = 0

    @property
    def total(self) -> int:
        return self.text_answers + self.questions + self.feedback + self.unanswered + self.proposals + \
            self.finished_items


async def purge(bot: Bot, now: datetime, dry_run: bool = False) -> PurgeCounts:
    """Delete (or with dry_run only count) exactly what is older than RETENTION_DAYS."""
    cutoff = now - timedelta(days=bot.settings.retention_days)
    text_questions = select(survey_questions.c.id).where(survey_questions.c.kind == "text")
    old_answers = and_(survey_answers.c.question_id.in_(text_questions), survey_answers.c.updated_at < cutoff)
    old_questions = select(question_log.c.id).where(question_log.c.asked_at < cutoff)
    old_feedback = feedback.c.question_id.in_(old_questions)
    old_unanswered = (unanswered.c.created_at < cutoff) | unanswered.c.question_id.in_(old_questions)
    old_items = and_(due_items.c.done_at.is_not(None), due_items.c.done_at < cutoff)
    # A counsellor's proposal quotes a question and an answer: it lives as long as the question would.
    old_proposals = content_proposals.c.created_at < cutoff
    async with bot.db.write() as conn:
        counts = PurgeCounts(
            cutoff=cutoff,
            text_answers=await _count(conn, survey_answers, old_answers),
            questions=await _count(conn, question_log, question_log.c.asked_at < cutoff),
            feedback=await _count(conn, feedback, old_feedback),
            unanswered=await _count(conn, unanswered, old_unanswered),
            proposals=await _count(conn, content_proposals, old_proposals),
            finished_items=await _count(conn, due_items, old_items))
        if dry_run or counts.total == 0:
            return counts
        await conn.execute(delete(feedback).where(old_feedback))
        await conn.execute(delete(unanswered).where(old_unanswered))
        await conn.execute(delete(content_proposals).where(old_proposals))
        await conn.execute(delete(question_log).where(question_log.c.asked_at < cutoff))
        await conn.execute(delete(survey_answers).where(old_answers))
        await conn.execute(delete(due_items).where(old_items))
        await audit(conn, "system", "privacy.purge", cutoff=cutoff.isoformat(),
                    **counts.model_dump(exclude={"cutoff"}))
    await checkpoint(bot)
    return counts


async def _count(conn: AsyncConnection, table: Table, where: Any) -> int:
    from sqlalchemy import func

    return int((await conn.execute(select(func.count()).select_from(table).where(where))).scalar() or 0)


def next_purge_at(now: datetime, tz: Any) -> datetime:
    """The next 03:00 local time, in UTC (as every stored time)."""
    local = now.astimezone(tz)
    candidate = datetime.combine(local.date(), PURGE_AT, tzinfo=tz)
    if candidate <= now:
        candidate = datetime.combine(local.date() + timedelta(days=1), PURGE_AT, tzinfo=tz)
    return candidate.astimezone(UTC)


async def schedule_next_purge(bot: Bot, now: datetime) -> datetime:
    due = next_purge_at(now, bot.settings.tz)
    async with bot.db.write() as conn:
        await schedule(conn, PURGE_KIND, f"{PURGE_KIND}:{due.astimezone(bot.settings.tz):%Y-%m-%d}", due, {})
    return due


async def ensure_daily_purge(bot: Bot) -> None:
    """Started with the due-items loop: make sure tomorrow's purge is planned (once, whatever restarts)."""
    async with bot.db.read() as conn:
        pending = (await conn.execute(select(due_items.c.id).where(and_(
            due_items.c.kind == PURGE_KIND, due_items.c.done_at.is_(None))).limit(1))).first()
    if pending is None:
        await schedule_next_purge(bot, bot.clock.now())


async def run_purge(bot: Bot, payload: dict[str, Any], due_at: datetime) -> None:
    now = bot.clock.now()
    counts = await purge(bot, now)
    log.info("retention purge: %d rows older than %s deleted", counts.total, counts.cutoff.date())
    await schedule_next_purge(bot, now)


async def checkpoint(bot: Bot) -> None:
    """Move SQLite's write-ahead log into the file and empty it, so no old page outlives a deletion."""
    await erase_deleted(bot, "a privacy deletion")


# --- where a user id occurs ----------------------------------------------------------------------

def _text_columns(table: Table) -> list[Any]:
    return [c for c in table.columns if isinstance(c.type, String | Text | JSON)]


async def mentions(conn: AsyncConnection, user_id: str) -> dict[str, int]:
    """Rows per table that hold the user id in any text or JSON column (the whole schema, generically)."""
    found: dict[str, int] = {}
    for table in metadata.sorted_tables:
        columns = _text_columns(table)
        if not columns:
            continue
        condition = None
        for column in columns:
            clause = cast(column, Text).contains(user_id, autoescape=True)
            condition = clause if condition is None else condition | clause
        n = await _count(conn, table, condition)
        if n:
            found[table.name] = n
    return found


def scrub(value: Any, user_id: str, pseudonym: str) -> Any:
    """The value with the user id gone: dropped from lists, replaced by the pseudonym in text."""
    if isinstance(value, str):
        return value.replace(user_id, pseudonym)
    if isinstance(value, list):
        return [scrub(v, user_id, pseudonym) for v in value if v != user_id]
    if isinstance(value, dict):
        return {scrub(k, user_id, pseudonym): scrub(v, user_id, pseudonym) for k, v in value.items()}
    return value


async def _sweep(conn: AsyncConnection, user_id: str, pseudonym: str) -> int:
    changed = 0
    for table in metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        for column in _text_columns(table):
            rows = (await conn.execute(select(*keys, column).where(
                cast(column, Text).contains(user_id, autoescape=True)))).all()
            for row in rows:
                where = and_(*[key == row[i] for i, key in enumerate(keys)])
                if column.primary_key:
                    await conn.execute(delete(table).where(where))
                else:
                    await conn.execute(update(table).where(where).values(
                        {column.name: scrub(row[len(keys)], user_id, pseudonym)}))
                changed += 1
    return changed


# --- forget me -------------------------------------------------------------------------------------

class ForgetResult(BaseModel):
    pseudonym: str
    rows: int


async def _withdraw_upcoming(bot: Bot, user_id: str, now: datetime) -> None:
    """Answer "no" to meetings that have not started, so a held seat goes to the next on the waitlist."""
    from bot.conferences.models import Answer
    from bot.conferences.service import rsvp
    from bot.errors import UserError

    async with bot.db.read() as conn:
        ids = (await conn.execute(select(conference_rsvps.c.conference_id).join(
            conferences, conferences.c.id == conference_rsvps.c.conference_id).where(and_(
                conference_rsvps.c.user_id == user_id, conference_rsvps.c.status.in_(("yes", "waitlist")),
                conferences.c.start_at > now, conferences.c.status == "scheduled")))).scalars().all()
    for conference_id in ids:
        try:
            await rsvp(bot, user_id, conference_id, Answer.no)
        except UserError:
            pass  # closed or cancelled meanwhile: the row is deleted below anyway


async def _unlink_open_surveys(conn: AsyncConnection, user_id: str) -> int:
    """While a survey is open its key can turn a user id into the hash next to their answers: cut that now."""
    from bot.surveys.anonymity import respondent_hash

    changed = 0
    for survey_id, secret in (await conn.execute(select(survey_keys.c.survey_id, survey_keys.c.secret))).all():
        who = respondent_hash(secret, survey_id, user_id)
        result = await conn.execute(update(survey_answers).where(and_(
            survey_answers.c.survey_id == survey_id, survey_answers.c.respondent == who)).values(respondent=None))
        changed += result.rowcount or 0
        for table, column in ((survey_respondents, survey_respondents.c.respondent),
                              (survey_audience, survey_audience.c.member)):
            result = await conn.execute(delete(table).where(and_(table.c.survey_id == survey_id, column == who)))
            changed += result.rowcount or 0
    return changed


async def _dm_channels(bot: Bot, user_id: str) -> set[str]:
    """The person's DM channel with the bot, as Slack names it (the console uses the user id)."""
    found = {user_id}
    lookup = getattr(bot.messenger, "dm_channel", None)
    if lookup is not None:
        try:
            found.add(await lookup(user_id))
        except Exception:
            log.warning("could not look up a DM channel while forgetting a person; rows recorded with it stay")
    return found


async def forget(bot: Bot, actor: Actor, user_id: str) -> ForgetResult:
    """Erase what identifies `user_id` (themselves, or a lead acting on a written request)."""
    if actor.user_id != user_id and not actor.is_lead:
        await record(bot, actor, "denied", what="privacy.forget")
        refusal = Forbidden()
        refusal.logged = True
        raise refusal
    now = bot.clock.now()
    await _withdraw_upcoming(bot, user_id, now)
    pseudonym = f"forgotten-{secrets.token_hex(4)}"
    rows = 0
    dm_channels = await _dm_channels(bot, user_id)
    async with bot.db.write() as conn:
        # Their DM channel ids: Slack resolves them to the person, so the message rows go entirely.
        dm_channels |= set((await conn.execute(select(conference_messages.c.channel).where(
            conference_messages.c.user_id == user_id))).scalars().all())
        for erase in (
            delete(conference_messages).where(or_(conference_messages.c.user_id == user_id,
                                                  conference_messages.c.channel.in_(dm_channels))),
            delete(survey_messages).where(and_(survey_messages.c.kind == "dm",
                                               survey_messages.c.channel.in_(dm_channels))),
        ):
            rows += (await conn.execute(erase)).rowcount or 0
        upcoming = select(conferences.c.id).where(conferences.c.start_at > now)
        for statement in (
            delete(users).where(users.c.user_id == user_id),
            delete(conference_invitees).where(conference_invitees.c.user_id == user_id),
            delete(calendar_feeds).where(calendar_feeds.c.user_id == user_id),  # the feed address dies too
            delete(conference_rsvps).where(and_(conference_rsvps.c.user_id == user_id,
                                                conference_rsvps.c.conference_id.in_(upcoming))),
            update(conference_rsvps).where(conference_rsvps.c.user_id == user_id).values(user_id=pseudonym),
            update(survey_answers).where(survey_answers.c.user_id == user_id).values(user_id=None, school=None),
            delete(due_items).where(due_items.c.key.contains(user_id, autoescape=True)),
            update(audit_log).where(audit_log.c.actor == user_id).values(actor=pseudonym),
            # a counsellor's later answer to a forwarded question then reaches nobody
            update(unanswered).where(unanswered.c.asker_id == user_id).values(asker_id=None),
            update(content_proposals).where(content_proposals.c.proposed_by == user_id).values(proposed_by=pseudonym),
        ):
            rows += (await conn.execute(statement)).rowcount or 0
        rows += await _unlink_open_surveys(conn, user_id)
        rows += await _sweep(conn, user_id, pseudonym)
        by = pseudonym if actor.user_id == user_id else actor.user_id
        await audit(conn, by, "privacy.forget", user=pseudonym, rows=rows)
    forget_user(bot.db, user_id)
    await checkpoint(bot)
    return ForgetResult(pseudonym=pseudonym, rows=rows)


# --- my data ---------------------------------------------------------------------------------------

def _iso(value: datetime | None, tz: Any) -> str | None:
    return as_utc(value).astimezone(tz).isoformat(timespec="minutes") if value is not None else None


async def collect(conn: AsyncConnection, user_id: str, tz: Any, lang: str) -> dict[str, Any]:
    """Everything stored about one person, in words they can read (JSON)."""
    profile = (await conn.execute(select(users).where(users.c.user_id == user_id))).mappings().first()
    answers = (await conn.execute(
        select(surveys.c.id, surveys.c.title, surveys.c.anonymity, survey_questions.c.text, survey_questions.c.kind,
               survey_questions.c.options, survey_answers.c.value, survey_answers.c.role, survey_answers.c.municipality,
               survey_answers.c.school, survey_answers.c.created_at, survey_answers.c.updated_at)
        .join(survey_questions, survey_questions.c.id == survey_answers.c.question_id)
        .join(surveys, surveys.c.id == survey_answers.c.survey_id)
        .where(survey_answers.c.user_id == user_id)
        .order_by(surveys.c.id, survey_questions.c.position))).mappings().all()
    invited = (await conn.execute(
        select(conferences.c.id, conferences.c.title, conferences.c.start_at, conference_invitees.c.via)
        .join(conferences, conferences.c.id == conference_invitees.c.conference_id)
        .where(conference_invitees.c.user_id == user_id).order_by(conferences.c.start_at))).mappings().all()
    rsvps = (await conn.execute(
        select(conferences.c.id, conferences.c.title, conferences.c.start_at, conference_rsvps.c.status,
               conference_rsvps.c.answered_at, conference_rsvps.c.updated_at)
        .join(conferences, conferences.c.id == conference_rsvps.c.conference_id)
        .where(conference_rsvps.c.user_id == user_id).order_by(conferences.c.start_at))).mappings().all()
    created_surveys = (await conn.execute(select(surveys.c.id, surveys.c.title, surveys.c.created_at).where(
        surveys.c.created_by == user_id).order_by(surveys.c.id))).mappings().all()
    created_series = (await conn.execute(select(survey_series.c.id, survey_series.c.title).where(
        survey_series.c.created_by == user_id))).mappings().all()
    created_meetings = (await conn.execute(select(conferences.c.id, conferences.c.title, conferences.c.created_at)
                                           .where(conferences.c.created_by == user_id))).mappings().all()
    forwarded = (await conn.execute(select(unanswered).where(unanswered.c.asker_id == user_id)
                                    .order_by(unanswered.c.id))).mappings().all()
    proposed = (await conn.execute(select(content_proposals).where(content_proposals.c.proposed_by == user_id)
                                   .order_by(content_proposals.c.id))).mappings().all()
    mentioned = cast(audit_log.c.detail, Text).contains(user_id, autoescape=True)
    log_rows = (await conn.execute(select(audit_log).where((audit_log.c.actor == user_id) | mentioned)
                                   .order_by(audit_log.c.id))).mappings().all()
    items = (await conn.execute(select(due_items.c.kind, due_items.c.due_at, due_items.c.done_at).where(
        due_items.c.key.contains(user_id, autoescape=True)
        | cast(due_items.c.payload, Text).contains(user_id, autoescape=True)).order_by(due_items.c.due_at))
             ).mappings().all()
    return {
        "user_id": user_id,
        "about": t(lang, "report.mydata.about"),
        "not_linked": t(lang, "report.mydata.not_linked"),
        "profile": None if profile is None else {
            "role": profile["role"], "language": profile["lang"], "municipality": profile["municipality"],
            "school": profile["school"], "created": _iso(profile["created_at"], tz),
            "updated": _iso(profile["updated_at"], tz)},
        "survey_answers": [{
            "survey_id": r["id"], "survey": r["title"], "anonymity": r["anonymity"], "question": r["text"],
            "answer": _answer_words(r["kind"], r["options"], r["value"], lang), "role": r["role"],
            "municipality": r["municipality"], "school": r["school"], "answered": _iso(r["created_at"], tz),
            "changed": _iso(r["updated_at"], tz)} for r in answers],
        "meeting_invitations": [{"meeting_id": r["id"], "meeting": r["title"], "start": _iso(r["start_at"], tz),
                                 "via": r["via"]} for r in invited],
        "meeting_answers": [{"meeting_id": r["id"], "meeting": r["title"], "start": _iso(r["start_at"], tz),
                             "answer": r["status"], "answered": _iso(r["answered_at"], tz),
                             "changed": _iso(r["updated_at"], tz)} for r in rsvps],
        "created": {
            "surveys": [{"id": r["id"], "title": r["title"], "created": _iso(r["created_at"], tz)}
                        for r in created_surveys],
            "survey_series": [{"id": r["id"], "title": r["title"]} for r in created_series],
            "meetings": [{"id": r["id"], "title": r["title"], "created": _iso(r["created_at"], tz)}
                         for r in created_meetings]},
        "questions_for_a_counsellor": [{"question": r["question"], "forwarded": _iso(r["forwarded_at"], tz),
                                        "answer": r["answer"], "answered": _iso(r["answered_at"], tz)}
                                       for r in forwarded],
        "knowledge_base_proposals": [{"question": r["question"], "answer": r["answer"], "kind": r["kind"],
                                      "article": r["article_id"], "proposed": _iso(r["created_at"], tz)}
                                     for r in proposed],
        "audit_log": [{"at": _iso(r["at"], tz), "by_you": r["actor"] == user_id, "action": r["action"],
                       "detail": r["detail"]} for r in log_rows],
        "scheduled_messages": [{"kind": r["kind"], "due": _iso(r["due_at"], tz), "sent": r["done_at"] is not None}
                               for r in items],
        "found_in": await mentions(conn, user_id),
    }


def _answer_words(kind: str, options: list[str] | None, value: str, lang: str) -> str:
    from bot.reports.data import answer_label
    from bot.surveys.records import QuestionInfo

    return answer_label(QuestionInfo(id=0, position=0, kind=kind, text="", options=list(options or [])), value, lang)


async def my_data(bot: Bot, actor: Actor) -> ExportFile:
    """The person's own data as a JSON file; only ever about the one asking (the server's actor)."""
    tz = bot.settings.tz
    async with bot.db.read() as conn:
        document = await collect(conn, actor.user_id, tz, actor.lang)
    document["generated"] = bot.clock.now().astimezone(tz).isoformat(timespec="minutes")
    await record(bot, actor, "privacy.mydata")
    content = json.dumps(document, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    day = f"{bot.clock.now().astimezone(tz):%Y-%m-%d}"
    return ExportFile(filename=f"{t(actor.lang, 'report.file.mydata')}-{day}.json", content=content,
                      title=t(actor.lang, "report.title.mydata"))


# --- restore ---------------------------------------------------------------------------------------

def restore_sync(url: str, backup: Path) -> Path:
    """Copy a backup made with `samsyv db backup` over the live SQLite database (SQLite's backup API,
    so the result is consistent). Checks the backup first; migrations are applied afterwards."""
    target = sqlite_path(url)
    if target is None:
        raise ValueError("db restore supports SQLite files; use pg_restore for PostgreSQL")
    if not backup.exists():
        raise FileNotFoundError(f"no backup at {backup}")
    with sqlite3.connect(f"file:{backup}?mode=ro", uri=True) as src:
        if src.execute("PRAGMA integrity_check").fetchone() != ("ok",):
            raise ValueError(f"{backup} is damaged (integrity check failed)")
        names = {r[0] for r in src.execute("select name from sqlite_master where type='table'")}
        if "alembic_version" not in names:
            raise ValueError(f"{backup} is not a SAMSYV database")
        target.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(target) as dst:
            src.backup(dst)
            dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        dst.close()
    src.close()
    from bot.db.migrate import upgrade_sync

    upgrade_sync(url)
    return target
