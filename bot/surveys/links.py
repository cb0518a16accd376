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
from sqlalchemy import and_, insert, select, update

from bot.db import Database
from bot.errors import UserError
from bot.surveys.models import Status
from bot.surveys.service import load_survey
from bot.surveys.tables import survey_links
from bot.users import Actor, audit, require_lead

TOKEN_BYTES = 24
MAX_TOKEN_LENGTH = 64  # token_urlsafe(24) is 32 characters; anything much longer is not ours
TOKEN_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-_")


class CreatedLink(BaseModel):
    survey_id: int
    link_id: int
    token: str  # shown to the lead once, never stored


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/s/{token}"


async def create_link(db: Database, actor: Actor, survey_id: int, now: datetime) -> CreatedLink:
    """A new pupil link for a survey that is not closed (leads only; audited)."""
    require_lead(actor)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    async with db.write() as conn:
        survey = await load_survey(conn, survey_id)
        if survey is None:
            raise UserError("surveys.not_found", id=survey_id)
        if survey.status == Status.closed:
            raise UserError("web.link.closed")
        result = await conn.execute(insert(survey_links).values(
            survey_id=survey_id, token_hash=token_hash(token), created_by=actor.user_id, created_at=now))
        link_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        await audit(conn, actor.user_id, "survey.link_create", survey_id=survey_id, link_id=link_id)
    return CreatedLink(survey_id=survey_id, link_id=link_id, token=token)


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
