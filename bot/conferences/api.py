"""What other capabilities may ask of this one (the questions capability answers "när är nästa träff?")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.conferences import service, views
from bot.conferences.models import UpcomingMeeting
from bot.i18n import t
from bot.ui import esc
from bot.users import Actor

if TYPE_CHECKING:
    from bot.runtime import Bot

__all__ = ["UpcomingMeeting", "next_meetings", "next_meetings_text"]


async def next_meetings(bot: Bot, actor: Actor, limit: int = 3) -> list[UpcomingMeeting]:
    """The user's next meetings (invited to or answered, not cancelled, not over), soonest first,
    each with their answer (`None` when they have not answered) and waitlist place."""
    async with bot.db.read() as conn:
        return await service.upcoming_for(conn, actor.user_id, bot.clock.now(), limit)


async def next_meetings_text(bot: Bot, actor: Actor, limit: int = 3) -> str:
    """The same as ready mrkdwn in the user's language, for an answer that quotes the data."""
    meetings = await next_meetings(bot, actor, limit)
    if not meetings:
        return t(actor.lang, "conf.list.none")
    tz = bot.settings.tz
    return "\n".join(t(actor.lang, "conf.api.line", title=esc(m.title),
                       when=views.when(m.conference, actor.lang, tz),
                       where=views.where(m.conference.location, actor.lang),
                       answer=views.answer_label(actor.lang, m.answer, m.waitlist_position)) for m in meetings)
