"""Stored surveys as other capabilities read them (the reports and exports): read-only records of
surveys, their questions and answers, straight from the surveys' tables (SQLAlchemy Core, any
dialect). Exports must work on old, closed data, so this reads rows as stored; what may leave the
database is then decided by `bot.disclosure`. Reports import this; surveys never import reports.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.engine import as_utc
from bot.surveys.tables import (
    survey_answers,
    survey_audience,
    survey_columns,
    survey_links,
    survey_questions,
    survey_series,
    surveys,
)


class QuestionInfo(BaseModel):
    id: int
    position: int
    kind: str  # scale5 | scale10 | yesno | single | multi | text
    text: str
    options: list[str] = Field(default_factory=list)
    low_label: str | None = None  # a scale's end labels ("Inte alls", "Jättemycket")
    high_label: str | None = None

    @property
    def is_scale(self) -> bool:
        return self.kind in ("scale5", "scale10")

    @property
    def number(self) -> int:
        """1-based, as people count questions."""
        return self.position + 1 if self.position >= 0 else 1


class SurveyInfo(BaseModel):
    id: int
    series_id: str | None = None
    kind: str
    title: str
    lang: str
    anonymity: str  # anonymous | confidential | named
    status: str
    opens_at: datetime
    closes_at: datetime | None = None
    closed_at: datetime | None = None
    respondent_count: int = 0
    invited: int | None = None  # people asked, where known
    created_by: str
    has_pupil_link: bool = False  # a pupils' web link: the audience includes pupils
    web_answers: int = 0  # answers through pupils' links: not among `invited`, so not in the rate
    web_without_code: int = 0
    questions: list[QuestionInfo] = Field(default_factory=list)

    @property
    def answer_rate(self) -> float | None:
        """Of the people asked in Slack, the share who answered; web answers are counted apart (nobody
        knows how many pupils got the link), so the rate never exceeds 100 %."""
        if not self.invited:
            return None
        asked_and_answered = max(0, self.respondent_count - self.web_answers)
        return min(100.0, round(100.0 * asked_and_answered / self.invited, 1))


class AnswerInfo(BaseModel):
    question_id: int
    value: str
    at: datetime
    role: str | None = None
    municipality: str | None = None
    school: str | None = None
    user_id: str | None = None


def _opt(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


def _invited(audience: dict[str, Any] | None, audience_rows: int) -> int | None:
    """People asked: the stored count (anonymous surveys forget names at close), the listed people, or
    the keyed audience of an open survey. Members of channels are only known while a survey is open."""
    audience = audience or {}
    known = max(int(audience.get("people_count") or 0), len(audience.get("users") or []), audience_rows)
    return known or None


async def _questions(conn: AsyncConnection, survey_ids: list[int]) -> dict[int, list[QuestionInfo]]:
    found: dict[int, list[QuestionInfo]] = {sid: [] for sid in survey_ids}
    if not survey_ids:
        return found
    rows = (await conn.execute(select(survey_questions).where(survey_questions.c.survey_id.in_(survey_ids))
                               .order_by(survey_questions.c.survey_id, survey_questions.c.position,
                                         survey_questions.c.id))).mappings().all()
    for row in rows:
        found[row["survey_id"]].append(QuestionInfo(id=row["id"], position=row["position"], kind=row["kind"],
                                                    text=row["text"], options=list(row["options"] or []),
                                                    low_label=row["low_label"], high_label=row["high_label"]))
    return found


async def list_surveys(conn: AsyncConnection, since: datetime | None = None,
                       until: datetime | None = None, survey_id: int | None = None) -> list[SurveyInfo]:
    """Surveys (with their questions) opening in [since, until), oldest first."""
    query = select(*survey_columns())
    if since is not None:
        query = query.where(surveys.c.opens_at >= since)
    if until is not None:
        query = query.where(surveys.c.opens_at < until)
    if survey_id is not None:
        query = query.where(surveys.c.id == survey_id)
    rows = (await conn.execute(query.order_by(surveys.c.opens_at, surveys.c.id))).mappings().all()
    ids = [row["id"] for row in rows]
    questions = await _questions(conn, ids)
    audience_counts: dict[int, int] = {}
    linked: set[int] = set()
    web: dict[int, tuple[int, int]] = {}
    if ids:
        counted = await conn.execute(select(survey_audience.c.survey_id, func.count()).where(
            survey_audience.c.survey_id.in_(ids)).group_by(survey_audience.c.survey_id))
        audience_counts = {sid: int(n) for sid, n in counted.all()}
        linked = set((await conn.execute(select(survey_links.c.survey_id).where(
            survey_links.c.survey_id.in_(ids)))).scalars().all())
        web = {sid: (int(total or 0), int(without or 0)) for sid, total, without in (await conn.execute(
            select(survey_links.c.survey_id, func.sum(survey_links.c.answer_count),
                   func.sum(survey_links.c.answers_without_code)).where(survey_links.c.survey_id.in_(ids))
            .group_by(survey_links.c.survey_id))).all()}
    return [SurveyInfo(
        id=row["id"], series_id=row["series_id"], kind=row["kind"], title=row["title"], lang=row["lang"],
        anonymity=row["anonymity"], status=row["status"], opens_at=as_utc(row["opens_at"]),
        closes_at=_opt(row["closes_at"]), closed_at=_opt(row["closed_at"]),
        respondent_count=int(row["respondent_count"] or 0),
        invited=_invited(row["audience"], audience_counts.get(row["id"], 0)), created_by=row["created_by"],
        has_pupil_link=row["id"] in linked, web_answers=web.get(row["id"], (0, 0))[0],
        web_without_code=web.get(row["id"], (0, 0))[1], questions=questions[row["id"]]) for row in rows]


async def load_survey(conn: AsyncConnection, survey_id: int) -> SurveyInfo | None:
    found = await list_surveys(conn, survey_id=survey_id)
    return found[0] if found else None


async def load_answers(conn: AsyncConnection, survey_id: int, municipality: str | None = None) -> list[AnswerInfo]:
    query = select(survey_answers).where(survey_answers.c.survey_id == survey_id)
    if municipality:
        query = query.where(func.lower(survey_answers.c.municipality) == municipality.strip().lower())
    rows = (await conn.execute(query.order_by(survey_answers.c.question_id, survey_answers.c.updated_at,
                                              survey_answers.c.id))).mappings().all()
    return [AnswerInfo(question_id=row["question_id"], value=row["value"], at=as_utc(row["updated_at"]),
                       role=row["role"], municipality=row["municipality"], school=row["school"],
                       user_id=row["user_id"]) for row in rows]


async def series_titles(conn: AsyncConnection) -> dict[str, str]:
    """Each repeating pulse's title, by series id (a trend is named after its series)."""
    return dict((await conn.execute(select(survey_series.c.id, survey_series.c.title))).tuples().all())
