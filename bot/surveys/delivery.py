"""Sending surveys: posting, paced DMs, live counts, nudges, closing and the summary.

The database work lives in `service`; this module talks to `bot.messenger` after commit, so a slow
or failing Slack call never holds the write lock or leaves half-stored state.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.db.erasure import erase_deleted
from bot.disclosure import count_threshold
from bot.errors import UserError
from bot.messaging import MessageRef, NotInChannel
from bot.scheduler import schedule
from bot.schoolyear import school_calendar
from bot.surveys import service
from bot.surveys.charts import render_chart
from bot.surveys.links import web_answers
from bot.surveys.models import Audience, Status, Survey
from bot.surveys.tables import survey_messages
from bot.surveys.views import channel_message, dm_message, results_message
from bot.users import Actor, require_lead

if TYPE_CHECKING:
    from bot.runtime import Bot

log = logging.getLogger(__name__)


async def resolve_audience(bot: Bot, audience: Audience) -> tuple[set[str], list[str]]:
    """(everyone in the audience, the people to DM): channel members are looked up now."""
    members: set[str] = set()
    for channel in audience.channels:
        try:
            members.update(await bot.messenger.channel_members(channel))
        except Exception:
            log.exception("could not list the members of %s", channel)
    dm: dict[str, None] = dict.fromkeys(audience.users)
    for channel in audience.members_of:
        for member in await bot.messenger.channel_members(channel):
            dm.setdefault(member, None)
    members.update(dm)
    return members, list(dm)


async def open_survey(bot: Bot, survey_id: int, now: datetime) -> bool:
    """Open a scheduled survey exactly once: post it in its channels and queue one DM per person."""
    survey = await service.get_survey(bot.db, survey_id)
    if survey.status != Status.scheduled:
        return False
    members, dm_targets = await resolve_audience(bot, survey.audience)
    if not await service.mark_open(bot.db, survey_id, now, members, dm_targets):
        return False
    for channel in survey.audience.channels:
        try:
            await post_in_channel(bot, survey_id, channel)
        except NotInChannel:  # retrying would fail the same way: tell the lead what to do
            log.warning("not invited to %s: survey %s not posted there", channel, survey_id)
            await tell_not_in_channel(bot, survey.created_by, channel)
        except Exception:
            log.exception("posting survey %s in %s failed; retrying as a due item", survey_id, channel)
            async with bot.db.write() as conn:
                await schedule(conn, "survey.post", service.due_key(survey_id, "post", channel),
                               now + timedelta(seconds=30), {"survey_id": survey_id, "channel": channel})
    return True


async def tell_not_in_channel(bot: Bot, user_id: str, channel: str) -> None:
    from bot.i18n import t
    from bot.ui import Message, Text

    actor = await bot.actor(user_id)
    text = t(actor.lang, "errors.not_in_channel", channel=f"<#{channel}>")
    try:
        await bot.messenger.dm(user_id, Message(text=text, blocks=[Text(text=f":warning: {text}")]))
    except Exception:
        log.exception("could not tell %s that the bot is not in %s", user_id, channel)


async def post_in_channel(bot: Bot, survey_id: int, channel: str) -> None:
    survey = await service.get_survey(bot.db, survey_id)
    if survey.status != Status.open or channel in await service.posted_channels(bot.db, survey_id):
        return
    ref = await bot.messenger.post(channel, channel_message(survey, survey.lang, bot.settings.tz, count_threshold(bot.settings)))
    await service.record_message(bot.db, survey_id, "channel", ref.channel, ref.ts)


def first_unanswered(survey: Survey, mine: dict[int, str]) -> int:
    return next((i for i, q in enumerate(survey.questions) if q.id not in mine), len(survey.questions))


async def send_dm(bot: Bot, survey_id: int, user: str, reminder: bool = False) -> bool:
    """One survey DM (or reminder) to one person, while the survey is open."""
    survey, mine = await service.survey_with_answers(bot.db, survey_id, user)
    if survey.status != Status.open:
        return False
    if reminder and mine:
        return False  # answered since the nudge was queued
    actor = await bot.actor(user)
    message = dm_message(survey, actor.lang, bot.settings.tz, first_unanswered(survey, mine), mine, reminder,
                         min_size=count_threshold(bot.settings))
    ref = await bot.messenger.dm(user, message)
    await service.record_message(bot.db, survey_id, "dm", ref.channel, ref.ts)
    return True


def request_live_update(bot: Bot, survey_id: int, messages: list[tuple[str, str]]) -> None:
    """Coalesced chat.update of every channel message of the survey; rendered from the database at
    send time, so the count shown is always the latest."""
    for channel, ts in messages:
        ref = MessageRef(channel=channel, ts=ts)

        async def send(ref: MessageRef = ref) -> None:
            survey = await service.get_survey(bot.db, survey_id)
            await bot.messenger.update(ref, channel_message(survey, survey.lang, bot.settings.tz, count_threshold(bot.settings)))

        bot.coalescer.request(f"survey:{survey_id}:{channel}:{ts}", send)


async def live_update(bot: Bot, survey_id: int) -> None:
    request_live_update(bot, survey_id, await service.live_messages(bot.db, survey_id))


async def close_survey(bot: Bot, survey_id: int, now: datetime, by: Actor | None = None) -> Survey | None:
    """Close once; mark the channel messages closed at once (DMs follow as paced due items)."""
    closed = await service.close(bot.db, survey_id, now, bot.settings.tz, by, school_calendar(bot.settings))
    if closed is None:
        return None
    for channel, ts in await service.channel_messages(bot.db, survey_id):
        try:
            await bot.messenger.update(MessageRef(channel=channel, ts=ts),
                                       channel_message(closed, closed.lang, bot.settings.tz, count_threshold(bot.settings)))
        except Exception:
            log.exception("marking survey %s closed in %s failed", survey_id, channel)
    await erase_deleted(bot, f"closing survey {survey_id}")
    return closed


async def mark_dm_closed(bot: Bot, message_id: int) -> None:
    async with bot.db.read() as conn:
        row = (await conn.execute(select(survey_messages).where(survey_messages.c.id == message_id))).mappings().first()
    if row is None:
        return
    survey = await service.get_survey(bot.db, row["survey_id"])
    await bot.messenger.update(MessageRef(channel=row["channel"], ts=row["ts"]),
                               dm_message(survey, survey.lang, bot.settings.tz, 0, {}, min_size=count_threshold(bot.settings)))
    await service.pop_dm_message(bot.db, message_id)


async def send_summary(bot: Bot, survey_id: int) -> None:
    """The results and the chart to the lead who created the survey."""
    survey = await service.get_survey(bot.db, survey_id)
    results = await service.results(bot.db, None, survey_id, bot.settings.min_group_size,
                                    bot.settings.min_group_size_pupils)
    lead = await bot.actor(survey.created_by)
    web = await web_answers(bot.db, survey_id)
    await bot.messenger.dm(lead.user_id, results_message(results, lead.lang, bot.settings.tz, web=web))
    png = await render_chart(results, lead.lang)
    await bot.messenger.upload(lead.user_id, chart_filename(survey), png, survey.title_in(lead.lang))


def chart_filename(survey: Survey) -> str:
    return f"survey-{survey.id}.png"


async def nudge(bot: Bot, actor: Actor, survey_id: int, now: datetime) -> int:
    """Queue reminders for audience members who have not answered (leads only, once a day)."""
    require_lead(actor)
    survey = await service.get_survey(bot.db, survey_id)
    if survey.status != Status.open:
        raise UserError("surveys.nudge.not_open")
    members, dm_targets = await resolve_audience(bot, survey.audience)
    return await service.queue_nudges(bot.db, actor, survey_id, members | set(dm_targets), now)
