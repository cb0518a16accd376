"""Users, roles and languages. Unknown users get the least privilege; leads come from PROJECT_LEADS
or are granted by another lead (audited)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import Database, utcnow
from bot.db.schema import audit_log, users
from bot.db.upsert import upsert
from bot.errors import Forbidden, UserError
from bot.settings import LANGUAGES, Settings


class Role(StrEnum):
    pupil = "pupil"
    staff = "staff"
    counsellor = "counsellor"
    lead = "lead"


ROLE_RANK = {Role.pupil: 0, Role.staff: 1, Role.counsellor: 2, Role.lead: 3}


class Actor(BaseModel):
    """The person behind a request, as the server knows them (never as the payload claims)."""

    user_id: str
    role: Role = Role.pupil
    lang: str = "sv"
    lang_chosen: bool = False
    municipality: str | None = None
    school: str | None = None

    @property
    def is_lead(self) -> bool:
        return self.role == Role.lead

    def at_least(self, role: Role) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


def require_lead(actor: Actor) -> None:
    if not actor.is_lead:
        raise Forbidden()


def parse_role(text: str) -> Role:
    """A role from the words people type in either language (locale keys `role_words.<role>`)."""
    from bot.i18n import words

    typed = text.strip().lower()
    for role in Role:
        if typed == role.value or typed in words(f"role_words.{role.value}"):
            return role
    raise UserError("errors.unknown_role", role=text)


def forget_user(db: Database, user_id: str) -> None:
    """Drop the cached profile after a change (call it after the change has committed)."""
    db.cache.invalidate(("user", user_id))


async def get_actor(db: Database, settings: Settings, user_id: str) -> Actor:
    """Who is asking, as stored (cached: every request asks; a change elsewhere shows within the cache's ttl)."""
    row = await db.cache.through(("user", user_id), lambda: db.lookup(users, users.c.user_id).get(user_id))
    role = Role.lead if user_id in settings.lead_ids else Role(row["role"]) if row and row["role"] else Role.pupil
    lang = row["lang"] if row and row["lang"] else settings.default_language
    return Actor(user_id=user_id, role=role, lang=lang, lang_chosen=bool(row and row["lang"]),
                 municipality=row["municipality"] if row else None, school=row["school"] if row else None)


async def _upsert(conn: AsyncConnection, user_id: str, **values: object) -> None:
    now = utcnow()
    await upsert(conn, users, dict(user_id=user_id, created_at=now, updated_at=now, **values), key=["user_id"],
                 update=dict(updated_at=now, **values))


async def set_language(db: Database, user_id: str, lang: str) -> None:
    if lang not in LANGUAGES:
        raise UserError("errors.unknown_language", lang=lang)
    async with db.write() as conn:
        await _upsert(conn, user_id, lang=lang)
    forget_user(db, user_id)


async def first_greeting(db: Database, user_id: str) -> bool:
    """True exactly once per person (across restarts and instances): the welcome is theirs to send now."""
    async with db.write() as conn:
        await _upsert(conn, user_id)
        claimed = await conn.execute(update(users).where(
            users.c.user_id == user_id, users.c.greeted_at.is_(None)).values(greeted_at=utcnow()))
        return bool(claimed.rowcount)


async def set_profile(db: Database, user_id: str, municipality: str | None, school: str | None) -> None:
    async with db.write() as conn:
        await _upsert(conn, user_id, municipality=municipality, school=school)
    forget_user(db, user_id)


async def audit(conn: AsyncConnection, actor: str, action: str, **detail: object) -> None:
    """Append to the audit log; nothing in the bot updates or deletes these rows."""
    await conn.execute(insert(audit_log).values(at=utcnow(), actor=actor, action=action, detail=detail))


async def set_role(db: Database, by: Actor, target_user: str, role: Role) -> None:
    require_lead(by)
    async with db.write() as conn:
        await _upsert(conn, target_user, role=role.value)
        await audit(conn, by.user_id, "role.set", user=target_user, role=role.value)
    forget_user(db, target_user)
