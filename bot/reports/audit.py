"""The audit log as leads see it: read-only, newest first. Nothing in the bot edits or deletes entries
(forgetting a person replaces their id with a pseudonym; the event itself stays).

Also the gate every export and report passes: leads only, checked in the core function whatever the
payload says, and a refused attempt is logged too.
"""

from __future__ import annotations

import getpass
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy import select

from bot.db.engine import as_utc
from bot.db.schema import audit_log
from bot.errors import Forbidden
from bot.i18n import t
from bot.ui import Context, Header, Message, Text, clip, esc
from bot.users import Actor, Role, audit

if TYPE_CHECKING:
    from bot.runtime import Bot

PAGE = 20


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]


def cli_actor(lang: str) -> Actor:
    """Whoever runs `samsyv` on the server: they hold the database anyway, and the log names them."""
    try:
        who = getpass.getuser()
    except Exception:  # no login name in some containers
        who = "unknown"
    return Actor(user_id=f"cli:{who}"[:64], role=Role.lead, lang=lang)


async def record(bot: Bot, actor: Actor, action: str, **detail: object) -> None:
    async with bot.db.write() as conn:
        await audit(conn, actor.user_id, action, **detail)


async def require_lead_logged(bot: Bot, actor: Actor, what: str, **detail: object) -> None:
    """Raise Forbidden for everyone but leads, and log the refused attempt (buttons can be forged)."""
    if actor.is_lead:
        return
    await record(bot, actor, "denied", what=what, **detail)
    refusal = Forbidden()
    refusal.logged = True
    raise refusal


async def entries(bot: Bot, limit: int | None = PAGE) -> list[AuditEntry]:
    async with bot.db.read() as conn:
        query = select(audit_log).order_by(audit_log.c.id.desc())
        if limit is not None:
            query = query.limit(limit)
        rows = (await conn.execute(query)).mappings().all()
    return [AuditEntry(id=r["id"], at=as_utc(r["at"]), actor=r["actor"], action=r["action"],
                       detail=dict(r["detail"] or {})) for r in rows]


def who(actor: str) -> str:
    """A Slack user as a mention; pseudonyms and the command line as plain text."""
    return f"<@{actor}>" if actor[:1] in ("U", "W") and actor.isalnum() else f"`{esc(actor)}`"


def detail_text(detail: dict[str, Any]) -> str:
    return ", ".join(f"{key}={json.dumps(value, ensure_ascii=False, default=str)}" for key, value in detail.items())


async def audit_view(bot: Bot, actor: Actor, limit: int = PAGE) -> Message:
    await require_lead_logged(bot, actor, "audit.view")
    found = await entries(bot, limit)
    await record(bot, actor, "audit.view", entries=len(found))
    tz = bot.settings.tz
    lines = [t(actor.lang, "report.audit.line", at=f"{e.at.astimezone(tz):%Y-%m-%d %H:%M}", who=who(e.actor),
               action=esc(e.action), detail=esc(clip(detail_text(e.detail), 160))) for e in found]
    body = "\n".join(lines) if lines else t(actor.lang, "report.audit.empty")
    return Message(text=t(actor.lang, "report.audit.title"), blocks=[
        Header(text=t(actor.lang, "report.audit.title")),
        Text(text=clip(body, 2900)),
        Context(text=t(actor.lang, "report.audit.hint")),
    ])
