"""What reports and exports read: surveys through the surveys capability (`bot.surveys.records`, whose
records are re-exported here), meetings straight from the conferences' tables (SQLAlchemy Core)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.conferences.tables import conference_invitees, conference_rsvps, conferences
from bot.db.engine import as_utc
from bot.i18n import t
from bot.surveys.records import QuestionInfo


class MeetingInfo(BaseModel):
    id: int
    title: str
    kind: str
    unit: str | None = None
    start_at: datetime
    status: str
    invited: int = 0
    yes: int = 0
    waitlist: int = 0
    maybe: int = 0
    no: int = 0

    @property
    def answered(self) -> int:
        return self.yes + self.waitlist + self.maybe + self.no


def _opt(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


async def list_meetings(conn: AsyncConnection, since: datetime | None = None, until: datetime | None = None,
                        unit: str | None = None) -> list[MeetingInfo]:
    """Meetings starting in [since, until) with invitation and answer counts (attendance for the funder)."""
    query = select(conferences)
    if since is not None:
        query = query.where(conferences.c.start_at >= since)
    if until is not None:
        query = query.where(conferences.c.start_at < until)
    if unit:
        query = query.where(func.lower(conferences.c.unit) == unit.strip().lower())
    rows = (await conn.execute(query.order_by(conferences.c.start_at, conferences.c.id))).mappings().all()
    ids = [row["id"] for row in rows]
    invited: dict[int, int] = {}
    answers: dict[tuple[int, str], int] = {}
    if ids:
        invited = {cid: int(n) for cid, n in (await conn.execute(
            select(conference_invitees.c.conference_id, func.count()).where(
                conference_invitees.c.conference_id.in_(ids)).group_by(conference_invitees.c.conference_id))).all()}
        answers = {(cid, status): int(n) for cid, status, n in (await conn.execute(
            select(conference_rsvps.c.conference_id, conference_rsvps.c.status, func.count()).where(
                conference_rsvps.c.conference_id.in_(ids))
            .group_by(conference_rsvps.c.conference_id, conference_rsvps.c.status))).all()}
    return [MeetingInfo(id=row["id"], title=row["title"], kind=row["kind"], unit=row["unit"],
                        start_at=as_utc(row["start_at"]), status=row["status"], invited=invited.get(row["id"], 0),
                        **{status: answers.get((row["id"], status), 0) for status in ("yes", "waitlist", "maybe", "no")})
            for row in rows]


def answer_label(question: QuestionInfo, value: str, lang: str) -> str:
    """A stored value as people read it: 'Ja', an option's words, '4', or the text itself."""
    if question.kind == "yesno":
        return t(lang, f"report.value.{value}") if value in ("yes", "no") else value
    if question.kind in ("single", "multi"):
        labels = []
        for part in value.split(","):
            if part.strip().isdigit() and int(part) < len(question.options):
                labels.append(question.options[int(part)])
            elif part.strip():
                labels.append(part)
        return "; ".join(labels)
    return value


def answer_cell(question: QuestionInfo, value: str, lang: str) -> str | int:
    """Like `answer_label`, but scales as numbers so a spreadsheet can compute with them."""
    if question.is_scale and value.isdigit():
        return int(value)
    return answer_label(question, value, lang)
