"""Pupil links: creating, revoking and resolving the unguessable URL that opens a survey in a browser.

The token is `secrets.token_urlsafe(24)` (192 random bits) and only its SHA-256 is stored, so a copy
of the database does not give anybody a working link. Creating and revoking are lead-only and are
checked here, whichever front end or payload called.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import and_, func, insert, select, update

from bot.db import Database
from bot.errors import UserError
from bot.surveys.models import Status
from bot.surveys.service import load_survey
from bot.surveys.tables import survey_link_codes, survey_links
from bot.users import Actor, audit, require_lead

TOKEN_BYTES = 24
MAX_TOKEN_LENGTH = 64  # token_urlsafe(24) is 32 characters; anything much longer is not ours
TOKEN_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-_")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read off a paper slip by a child
CODE_LENGTH = 6
MAX_CODES = 200
MAX_ANSWERS_LIMIT = 10_000


class CreatedLink(BaseModel):
    survey_id: int
    link_id: int
    token: str  # shown to the lead once, never stored
    codes: list[str] = []  # one-time pupil codes, shown once (the printable sheet), never stored
    max_answers: int | None = None


class LinkInfo(BaseModel):
    """An active link as the pupils' page needs it."""

    link_id: int
    survey_id: int
    max_answers: int | None
    answer_count: int
    needs_code: bool

    @property
    def full(self) -> bool:
        return self.max_answers is not None and self.answer_count >= self.max_answers


class WebAnswers(BaseModel):
    """How many answers came through a survey's web links, and how many of them without a code."""

    total: int = 0
    without_code: int = 0


def normalize_code(code: str) -> str:
    return "".join(code.split()).upper()


def code_hash(link_id: int, code: str) -> str:
    return hashlib.sha256(f"samsyv-pupil-code|{link_id}|{normalize_code(code)}".encode()).hexdigest()


def new_codes(count: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < count:
        codes.add("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)))
    return sorted(codes)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/s/{token}"


async def create_link(db: Database, actor: Actor, survey_id: int, now: datetime, max_answers: int | None = None,
                      code_count: int = 0) -> CreatedLink:
    """A new pupil link for a survey that is not closed (leads only; audited), optionally taking at most
    `max_answers` answers and only with one of `code_count` one-time pupil codes."""
    require_lead(actor)
    if max_answers is not None and not 1 <= max_answers <= MAX_ANSWERS_LIMIT:
        raise UserError("web.link.bad_max", limit=MAX_ANSWERS_LIMIT)
    if not 0 <= code_count <= MAX_CODES:
        raise UserError("web.link.bad_codes", limit=MAX_CODES)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    codes = new_codes(code_count)
    async with db.write() as conn:
        survey = await load_survey(conn, survey_id)
        if survey is None:
            raise UserError("surveys.not_found", id=survey_id)
        if survey.status == Status.closed:
            raise UserError("web.link.closed")
        result = await conn.execute(insert(survey_links).values(
            survey_id=survey_id, token_hash=token_hash(token), created_by=actor.user_id, created_at=now,
            max_answers=max_answers, answer_count=0, answers_without_code=0))
        link_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        if codes:
            await conn.execute(insert(survey_link_codes), [
                {"link_id": link_id, "code_hash": code_hash(link_id, code)} for code in codes])
        await audit(conn, actor.user_id, "survey.link_create", survey_id=survey_id, link_id=link_id,
                    max_answers=max_answers, codes=len(codes))
    return CreatedLink(survey_id=survey_id, link_id=link_id, token=token, codes=codes, max_answers=max_answers)


async def revoke_links(db: Database, actor: Actor, survey_id: int, now: datetime,
                       link_id: int | None = None) -> int:
    """Revoke one link (`link_id`) or every active link of a survey; how many were revoked (audited)."""
    require_lead(actor)
    async with db.write() as conn:
        if await load_survey(conn, survey_id) is None:
            raise UserError("surveys.not_found", id=survey_id)
        condition = and_(survey_links.c.survey_id == survey_id, survey_links.c.revoked_at.is_(None))
        if link_id is not None:
            condition = and_(condition, survey_links.c.id == link_id)
        ids = list((await conn.execute(select(survey_links.c.id).where(condition).with_for_update())).scalars())
        if ids:
            await conn.execute(update(survey_links).where(survey_links.c.id.in_(ids)).values(revoked_at=now))
            await audit(conn, actor.user_id, "survey.link_revoke", survey_id=survey_id, link_ids=ids)
    return len(ids)


async def active_link_count(db: Database, survey_id: int) -> int:
    async with db.read() as conn:
        ids = (await conn.execute(select(survey_links.c.id).where(and_(
            survey_links.c.survey_id == survey_id, survey_links.c.revoked_at.is_(None))))).scalars().all()
    return len(ids)


def plausible_token(token: str) -> bool:
    """Cheap shape check before touching the database (URL-safe base64 of a sane length)."""
    return 16 <= len(token) <= MAX_TOKEN_LENGTH and set(token) <= TOKEN_CHARACTERS


async def survey_for_token(db: Database, token: str) -> int | None:
    """The survey an active (not revoked) link opens; None for unknown and revoked tokens alike."""
    if not plausible_token(token):
        return None
    async with db.read() as conn:
        found = (await conn.execute(select(survey_links.c.survey_id).where(and_(
            survey_links.c.token_hash == token_hash(token), survey_links.c.revoked_at.is_(None))))).scalar()
    return int(found) if found is not None else None


async def link_for_token(db: Database, token: str) -> LinkInfo | None:
    """The active link behind a token, with its limits; None for unknown and revoked tokens alike."""
    if not plausible_token(token):
        return None
    async with db.read() as conn:
        row = (await conn.execute(select(survey_links).where(and_(
            survey_links.c.token_hash == token_hash(token), survey_links.c.revoked_at.is_(None))))).mappings().first()
        if row is None:
            return None
        codes = (await conn.execute(select(func.count()).select_from(survey_link_codes).where(
            survey_link_codes.c.link_id == row["id"]))).scalar()
    return LinkInfo(link_id=row["id"], survey_id=row["survey_id"], max_answers=row["max_answers"],
                    answer_count=int(row["answer_count"] or 0), needs_code=bool(codes))


async def claim_answer(db: Database, link: LinkInfo, code: str | None, now: datetime) -> str | None:
    """Count one new web answer through `link`: None when it may be sent, else why not ("full",
    "code"). A one-time code is used up here, in the same transaction as the count."""
    async with db.write() as conn:
        count = (await conn.execute(select(survey_links.c.answer_count).where(
            survey_links.c.id == link.link_id))).scalar()
        if link.max_answers is not None and int(count or 0) >= link.max_answers:
            return "full"
        used_code = False
        if link.needs_code:
            if not code or not normalize_code(code):
                return "code"
            claimed = await conn.execute(update(survey_link_codes).where(and_(
                survey_link_codes.c.link_id == link.link_id,
                survey_link_codes.c.code_hash == code_hash(link.link_id, code),
                survey_link_codes.c.used_at.is_(None))).values(used_at=now))
            if claimed.rowcount != 1:
                return "code"
            used_code = True
        await conn.execute(update(survey_links).where(survey_links.c.id == link.link_id).values(
            answer_count=survey_links.c.answer_count + 1,
            answers_without_code=survey_links.c.answers_without_code + (0 if used_code else 1)))
    return None


async def release_answer(db: Database, link: LinkInfo) -> None:
    """Undo `claim_answer`'s count when the answer itself could not be saved (the code stays used)."""
    async with db.write() as conn:
        await conn.execute(update(survey_links).where(and_(
            survey_links.c.id == link.link_id, survey_links.c.answer_count > 0)).values(
            answer_count=survey_links.c.answer_count - 1))


async def web_answers(db: Database, survey_id: int) -> WebAnswers:
    async with db.read() as conn:
        row = (await conn.execute(select(func.sum(survey_links.c.answer_count),
                                         func.sum(survey_links.c.answers_without_code)).where(
            survey_links.c.survey_id == survey_id))).first()
    return WebAnswers(total=int(row[0] or 0) if row else 0, without_code=int(row[1] or 0) if row else 0)
