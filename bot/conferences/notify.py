"""Everything the bot sends about a meeting without being asked: invitations, coalesced count updates,
reminders, change/cancel/promotion notices and the evaluation survey. All of it is driven by due items in
the database, so it survives a restart and several instances never send the same DM twice.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from bot.conferences import service, views
from bot.conferences.models import Answer, Conference, Counts
from bot.messaging import MessageRef, NotInChannel
from bot.scheduler import schedule_many
from bot.surveys import api as surveys_api

if TYPE_CHECKING:
    from bot.runtime import Bot

log = logging.getLogger(__name__)


class Announced(BaseModel):
    channels: list[str] = Field(default_factory=list)
    failed_channels: list[str] = Field(default_factory=list)
    people: int = 0


async def announce(bot: Bot, conf: Conference, channels: list[str], users: list[str]) -> Announced:
    """Post to channels now (their counts update live), DM people one by one (paced due items)."""
    lang = bot.settings.default_language
    tz = bot.settings.tz
    invited: dict[str, str] = {user: "dm" for user in users}
    posted: list[MessageRef] = []
    result = Announced()
    for channel in channels:
        try:
            ref = await bot.messenger.post(channel, views.invitation(conf, lang, tz, counts=Counts()))
            posted.append(ref)
            result.channels.append(channel)
            for member in await bot.messenger.channel_members(channel):
                invited.setdefault(member, "channel")
        except NotInChannel:
            log.warning("not invited to %s: the invitation was not posted there", channel)
            result.failed_channels.append(channel)
        except Exception:
            log.exception("could not post the invitation to %s", channel)
            result.failed_channels.append(channel)
    now = bot.clock.now()
    async with bot.db.write() as conn:
        for ref in posted:
            await service.record_message(conn, conf.id, ref.channel, ref.ts, lang, None)
        await service.record_invitees(conn, conf.id, invited)
        await schedule_many(conn, "conf.invite", [(f"conf:{conf.id}:invite:{user}", now,
                                                   {"conference_id": conf.id, "user": user}) for user in users])
        if posted or users:
            await service.mark_announced(conn, conf.id, now)
    result.people = len(users)
    return result


# --- coalesced updates of the posted invitations ----------------------------------------------------

async def refresh_messages(bot: Bot, conference_id: int, dm_users: list[str] | None = None) -> None:
    """Mark the invitation messages dirty; each is re-rendered from the database when it is sent."""
    async with bot.db.read() as conn:
        refs = await service.message_refs(conn, conference_id, dm_users)
    for ref in refs:
        bot.coalescer.request(f"conf:msg:{ref['channel']}:{ref['ts']}", partial(_update_message, bot, ref))


async def _update_message(bot: Bot, ref: dict[str, Any]) -> None:
    async with bot.db.read() as conn:
        conf = await service.get_conference(conn, ref["conference_id"])
        if conf is None:
            return
        counts = await service.counts(conn, conf.id)
        answer, position = await service.answer_of(conn, conf.id, ref["user_id"]) if ref["user_id"] else (None, None)
    message = views.invitation(conf, ref["lang"], bot.settings.tz, counts=counts, answer=answer, position=position,
                               personal=ref["user_id"] is not None)
    await bot.messenger.update(MessageRef(channel=ref["channel"], ts=ref["ts"]), message)


# --- due items ------------------------------------------------------------------------------------

async def _scheduled(bot: Bot, conference_id: int) -> Conference | None:
    async with bot.db.read() as conn:
        conf = await service.get_conference(conn, conference_id)
    return conf if conf is not None and not conf.cancelled else None


async def send_invitation(bot: Bot, payload: dict[str, Any], due_at: datetime) -> None:
    conf = await _scheduled(bot, payload["conference_id"])
    if conf is None or conf.start_at <= bot.clock.now():
        return
    actor = await bot.actor(payload["user"])
    async with bot.db.read() as conn:
        answer, position = await service.answer_of(conn, conf.id, actor.user_id)
    ref = await bot.messenger.dm(actor.user_id, views.invitation(conf, actor.lang, bot.settings.tz, answer=answer,
                                                                 position=position, personal=True))
    async with bot.db.write() as conn:
        await service.record_message(conn, conf.id, ref.channel, ref.ts, actor.lang, actor.user_id)


async def fan_out_reminder(bot: Bot, payload: dict[str, Any], due_at: datetime) -> None:
    """At reminder time: one paced DM item per person who said yes or maybe (each sent exactly once)."""
    conf = await _scheduled(bot, payload["conference_id"])
    if conf is None or conf.start_at.isoformat() != payload["start"]:
        return  # cancelled, or moved (the move planned its own reminders)
    key = service.reminder_key(conf.id, payload["hours"], conf.start_at)
    now = bot.clock.now()
    async with bot.db.write() as conn:
        await schedule_many(conn, "conf.remind", [(f"{key}:{user}", now, {**payload, "user": user})
                                                  for user in await service.reminder_recipients(conn, conf.id)])


async def send_reminder(bot: Bot, payload: dict[str, Any], due_at: datetime) -> None:
    conf = await _scheduled(bot, payload["conference_id"])
    if conf is None or conf.start_at.isoformat() != payload["start"]:
        return
    actor = await bot.actor(payload["user"])
    async with bot.db.read() as conn:
        answer, _ = await service.answer_of(conn, conf.id, actor.user_id)
    if answer not in (Answer.yes, Answer.maybe):
        return  # changed their mind since the fan-out
    await bot.messenger.dm(actor.user_id, views.reminder(conf, actor.lang, bot.settings.tz, float(payload["hours"])))


async def send_notice(bot: Bot, payload: dict[str, Any], due_at: datetime) -> None:
    async with bot.db.read() as conn:
        conf = await service.get_conference(conn, payload["conference_id"])
    if conf is None:
        return
    actor = await bot.actor(payload["user"])
    tz = bot.settings.tz
    event = payload["event"]
    if event == "cancelled":
        message = views.cancelled_notice(conf, actor.lang, tz)
    elif conf.cancelled:
        return  # a change or promotion notice overtaken by the cancellation
    elif event == "promoted":
        message = views.promoted_notice(conf, actor.lang, tz)
    else:
        old = payload["old"]
        message = views.changed(conf, actor.lang, tz, old["title"], datetime.fromisoformat(old["start"]),
                                datetime.fromisoformat(old["end"]), old["location"], payload["changed"])
    await bot.messenger.dm(actor.user_id, message)


async def send_evaluation(bot: Bot, payload: dict[str, Any], due_at: datetime) -> None:
    """When the meeting ends, hand its attendees to the surveys capability."""
    conf = await _scheduled(bot, payload["conference_id"])
    if conf is None or not conf.survey_id:
        return
    async with bot.db.read() as conn:
        attendees = await service.seated_users(conn, conf.id)
    if not conf.survey_id.isdigit():
        log.warning("meeting %s names survey %r, which is not a survey id", conf.id, conf.survey_id)
        return
    if attendees:
        await surveys_api.send_survey_to(bot, int(conf.survey_id), attendees)
