"""A calendar feed per person: `/cal/<token>.ics`, which Outlook and Google Calendar subscribe to and
poll, so a moved or cancelled meeting changes in the person's calendar by itself.

The token is `secrets.token_urlsafe(24)` (192 random bits) and only its SHA-256 is stored, like the
pupils' links; asking for a new feed address replaces the old one (a leaked address can be retired).
The feed holds the meetings the person is invited to or answered, from 30 days back."""

from __future__ import annotations

import hashlib
import secrets
import string
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, insert, or_, select

from bot.conferences.models import Conference
from bot.conferences.tables import calendar_feeds, conference_invitees, conference_rsvps, conferences
from bot.db import Database

TOKEN_BYTES = 24
FEED_PATH = "/cal/{token}.ics"
HISTORY = timedelta(days=30)
_TOKEN_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-_")


def token_hash(token: str) -> str:
    return hashlib.sha256(f"samsyv-calendar-feed|{token}".encode()).hexdigest()


def feed_url(public_url: str, token: str) -> str:
    return public_url.rstrip("/") + FEED_PATH.format(token=token)


async def new_feed(db: Database, user_id: str, now: datetime) -> str:
    """A fresh feed token for `user_id` (shown once); any earlier address stops working."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    async with db.write() as conn:
        await conn.execute(delete(calendar_feeds).where(calendar_feeds.c.user_id == user_id))
        await conn.execute(insert(calendar_feeds).values(user_id=user_id, token_hash=token_hash(token),
                                                         created_at=now))
    return token


async def forget_feed(db: Database, user_id: str) -> None:
    async with db.write() as conn:
        await conn.execute(delete(calendar_feeds).where(calendar_feeds.c.user_id == user_id))


async def feed_owner(db: Database, token: str) -> str | None:
    """Whose feed a token opens; None for unknown or malformed tokens."""
    if not 16 <= len(token) <= 64 or not set(token) <= _TOKEN_CHARACTERS:
        return None
    async with db.read() as conn:
        found = (await conn.execute(select(calendar_feeds.c.user_id).where(
            calendar_feeds.c.token_hash == token_hash(token)))).scalar()
    return str(found) if found is not None else None


async def meetings_for(db: Database, user_id: str, now: datetime) -> list[Conference]:
    """The person's meetings from HISTORY ago on, cancelled ones included (so they disappear as such)."""
    invited = select(conference_invitees.c.conference_id).where(conference_invitees.c.user_id == user_id)
    answered = select(conference_rsvps.c.conference_id).where(conference_rsvps.c.user_id == user_id)
    query = select(conferences).where(and_(conferences.c.end_at > now - HISTORY, or_(
        conferences.c.id.in_(invited), conferences.c.id.in_(answered)))).order_by(conferences.c.start_at)
    async with db.read() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [Conference.from_row(row) for row in rows]
