"""Helpers for the reports tests: survey, meeting and question data inserted straight into the real tables
(so the tests do not depend on the other capabilities' services), and a whole-database scan."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bot.conferences.tables import conference_invitees, conference_rsvps, conferences
from bot.questions.tables import feedback, question_log, unanswered
from bot.runtime import Bot
from bot.surveys.tables import survey_answers, survey_questions, survey_series, surveys
from bot.users import Actor, Role

LEAD_ACTOR = Actor(user_id="ULEAD", role=Role.lead, lang="sv")
PUPIL_ACTOR = Actor(user_id="UPUPIL1", role=Role.pupil, lang="sv")
STAFF_ACTOR = Actor(user_id="USTAFF1", role=Role.staff, lang="sv")


async def make_survey(bot: Bot, *, title: str = "Puls", anonymity: str = "anonymous", status: str = "closed",
                      opens_at: datetime, questions: list[tuple[str, str, list[str]]],
                      answers: list[dict[str, Any]], series_id: str | None = None, created_by: str = "ULEAD",
                      audience: dict[str, Any] | None = None, respondents: int | None = None) -> tuple[int, list[int]]:
    """A survey with questions [(kind, text, options)] and answers [{"q": index, "value": ..., ...}]."""
    async with bot.db.write() as conn:
        if series_id is not None:
            exists = (await conn.execute(survey_series.select().where(survey_series.c.id == series_id))).first()
            if exists is None:
                await conn.execute(insert(survey_series).values(id=series_id, title=title, repeat="weekly",
                                                                created_by=created_by, created_at=opens_at))
        if respondents is None:
            respondents = len({a.get("user_id") or i for i, a in enumerate(answers)})
        survey_id = new_id(await conn.execute(insert(surveys).values(
            series_id=series_id, kind="survey", title=title, title_translations={}, lang="sv", anonymity=anonymity,
            show_results=False, status=status, audience=audience or {"channels": ["C1"], "users": [],
                                                                      "members_of": [], "people_count": 10},
            template=None, created_by=created_by, created_at=opens_at, opens_at=opens_at,
            closes_at=opens_at + timedelta(days=2), opened_at=opens_at,
            closed_at=opens_at + timedelta(days=2) if status == "closed" else None,
            respondent_count=respondents)))
        question_ids = []
        for position, (kind, text, options) in enumerate(questions):
            question_ids.append(new_id(await conn.execute(insert(survey_questions).values(
                survey_id=survey_id, position=position, kind=kind, text=text, options=options, translations={}))))
        for answer in answers:
            at = answer.get("at", opens_at + timedelta(hours=1))
            await conn.execute(insert(survey_answers).values(
                survey_id=survey_id, question_id=question_ids[answer["q"]], value=answer["value"],
                respondent=answer.get("respondent"), user_id=answer.get("user_id"), role=answer.get("role"),
                municipality=answer.get("municipality"), school=answer.get("school"), created_at=at, updated_at=at))
    return int(survey_id), [int(q) for q in question_ids]


async def make_meeting(bot: Bot, *, title: str, start: datetime, unit: str | None = "Göteborg",
                       invited: tuple[str, ...] | list[str] = (), rsvps: dict[str, str] | None = None,
                       capacity: int | None = None,
                       audience_users: list[str] | None = None, created_by: str = "ULEAD") -> int:
    async with bot.db.write() as conn:
        conference_id = new_id(await conn.execute(insert(conferences).values(
            uid=f"{title}-{start.timestamp()}@samsyv", title=title, kind="process", unit=unit, start_at=start,
            end_at=start + timedelta(hours=2), location="Aula", capacity=capacity, description=None, material=[],
            status="scheduled", sequence=0, audience_channels=[], audience_users=audience_users or [],
            created_by=created_by, created_at=start - timedelta(days=30), updated_at=start - timedelta(days=30))))
        for user in invited:
            await conn.execute(insert(conference_invitees).values(conference_id=conference_id, user_id=user, via="dm"))
        for seq, (user, status) in enumerate((rsvps or {}).items(), 1):
            await conn.execute(insert(conference_rsvps).values(
                conference_id=conference_id, user_id=user, status=status,
                waitlist_seq=seq if status == "waitlist" else None, answered_at=start - timedelta(days=5),
                updated_at=start - timedelta(days=5)))
    return int(conference_id)


async def log_question(bot: Bot, *, at: datetime, question: str, answered: bool, role: str | None = "staff",
                       helpful: bool | None = None, channel_kind: str = "command") -> int:
    async with bot.db.write() as conn:
        question_id = new_id(await conn.execute(insert(question_log).values(
            asked_at=at, lang="sv", role=role, question=question, article_id="prao" if answered else None,
            score=0.9 if answered else 0.1, answered=answered, channel_kind=channel_kind)))
        if helpful is not None:
            await conn.execute(insert(feedback).values(question_id=question_id, article_id="prao", helpful=helpful,
                                                       created_at=at))
        if not answered:
            await conn.execute(insert(unanswered).values(question_id=question_id, created_at=at, question=question,
                                                         lang="sv", closest="prao"))
    return int(question_id)


def new_id(result: Any) -> int:
    return int(result.inserted_primary_key[0])


def file_bytes_hold(path: Path, needle: str) -> list[str]:
    """The database file and its write-ahead log, byte by byte (deleted content included)."""
    hits = []
    for candidate in (path, path.with_name(path.name + "-wal")):
        if candidate.exists() and needle.encode() in candidate.read_bytes():
            hits.append(candidate.name)
    return hits
