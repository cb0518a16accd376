"""Commands, buttons and forms of the conferences capability: parse, check the role, call the service,
compose the answer. Lead-only actions check the role here for every payload (a forged button value or
view submission from someone else is refused), and again in the service functions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channels import resolve_channels
from bot.conferences import notify, service, views
from bot.conferences.models import Answer, Conference, Draft
from bot.conferences.templates import find_template, load_templates, propose
from bot.conferences.validation import capacity, checked, meeting_draft, moment, slack_ids, text
from bot.errors import UserError
from bot.i18n import t
from bot.interactions import ActionEvent, CommandRequest, FormSubmission
from bot.schoolyear import holiday_note, school_calendar
from bot.ui import (
    Block,
    Context,
    Divider,
    FormErrors,
    Header,
    Message,
    OpenForm,
    Outcome,
    Reply,
    SendFile,
    ShowDocument,
    Text,
    esc,
)
from bot.users import Actor, require_lead

if TYPE_CHECKING:
    from bot.runtime import Bot

LIST_LIMIT = 12
HOME_LIMIT = 5


# --- commands -------------------------------------------------------------------------------------

async def conference_command(bot: Bot, actor: Actor, rest: str, request: CommandRequest) -> list[Outcome]:
    require_lead(actor)
    return [OpenForm(form=views.create_form(actor.lang))]


async def series_command(bot: Bot, actor: Actor, rest: str, request: CommandRequest) -> list[Outcome]:
    require_lead(actor)
    templates = load_templates(bot.settings.content_dir)
    if not templates:
        raise UserError("conf.errors.unknown_template")
    return [OpenForm(form=views.series_form(actor.lang, templates))]


async def list_command(bot: Bot, actor: Actor, rest: str, request: CommandRequest) -> list[Outcome]:
    return [Reply(message=await list_message(bot, actor))]


async def calendar_command(bot: Bot, actor: Actor, rest: str, request: CommandRequest) -> list[Outcome]:
    """`/syv kalender`: a new personal feed address (shown once; only its hash is stored)."""
    from bot.conferences.feeds import feed_url, new_feed

    token = await new_feed(bot.db, actor.user_id, bot.clock.now())
    url = feed_url(bot.settings.public_url, token)
    title = t(actor.lang, "conf.feed.title")
    return [Reply(message=Message(text=f"{title}: {esc(url)}", blocks=[
        Header(text=title), Text(text=esc(url)), Text(text=t(actor.lang, "conf.feed.text")),
        Context(text=t(actor.lang, "conf.feed.secret"))]))]


async def list_message(bot: Bot, actor: Actor) -> Message:
    """The user's upcoming meetings with their answer; a lead sees every upcoming meeting and its counts."""
    async with bot.db.read() as conn:
        items = await service.upcoming_for(conn, actor.user_id, bot.clock.now(), LIST_LIMIT, everything=actor.is_lead)
        counts = {item.id: await service.counts(conn, item.id) for item in items} if actor.is_lead else {}
    title = t(actor.lang, "conf.list.title_lead" if actor.is_lead else "conf.list.title")
    blocks: list[Block] = [Header(text=title)]
    if not items:
        blocks.append(Text(text=t(actor.lang, "conf.list.none")))
    for item in items:
        blocks += views.meeting_item(item.conference, actor.lang, bot.settings.tz, item.answer,
                                     item.waitlist_position, lead=actor.is_lead, counts=counts.get(item.id))
    if len(items) == LIST_LIMIT:
        blocks.append(Context(text=t(actor.lang, "conf.list.more", n=LIST_LIMIT)))
    return Message(text=title, blocks=blocks)


async def home_section(bot: Bot, actor: Actor) -> list[Block]:
    async with bot.db.read() as conn:
        items = await service.upcoming_for(conn, actor.user_id, bot.clock.now(), HOME_LIMIT)
    blocks: list[Block] = [Header(text=t(actor.lang, "conf.home.title"))]
    if not items:
        blocks.append(Text(text=t(actor.lang, "conf.home.none")))
    for item in items:
        blocks += views.meeting_item(item.conference, actor.lang, bot.settings.tz, item.answer,
                                     item.waitlist_position)
    if actor.is_lead:
        blocks.append(Context(text=t(actor.lang, "conf.home.lead_hint")))
    blocks.append(Divider())
    return blocks


async def publish_home(bot: Bot, actor: Actor) -> None:
    from bot.runtime import home_blocks

    await bot.messenger.publish_home(actor.user_id, Message(text="home", blocks=await home_blocks(bot, actor)))


# --- buttons --------------------------------------------------------------------------------------

async def on_rsvp_yes(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    return await answer(bot, actor, service.parse_id(event.value), Answer.yes, event)


async def on_rsvp_no(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    return await answer(bot, actor, service.parse_id(event.value), Answer.no, event)


async def on_rsvp_maybe(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    return await answer(bot, actor, service.parse_id(event.value), Answer.maybe, event)


async def on_calendar_file(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    return [await calendar_file(bot, actor, service.parse_id(event.value))]


async def _lead_meeting(bot: Bot, actor: Actor, event: ActionEvent) -> Conference:
    """The meeting a lead-only button acts on; the role is checked for every payload."""
    conference_id = service.parse_id(event.value)
    require_lead(actor)
    return await service.load(bot, conference_id)


async def on_attendees(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    return await attendee_list(bot, actor, await _lead_meeting(bot, actor, event))


async def on_attendance_csv(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    return await attendee_csv(bot, actor, await _lead_meeting(bot, actor, event))


async def on_announce(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    return await announce_later(bot, actor, await _lead_meeting(bot, actor, event))


async def on_edit(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    conf = await _lead_meeting(bot, actor, event)
    _require_open(conf, bot)
    return [OpenForm(form=views.edit_form(conf, actor.lang))]


async def on_cancel(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    conf = await _lead_meeting(bot, actor, event)
    _require_open(conf, bot)
    return [OpenForm(form=views.cancel_form(conf, actor.lang, bot.settings.tz))]


def _require_open(conf: Conference, bot: Bot) -> None:
    if conf.cancelled:
        raise UserError("conf.errors.cancelled")
    if conf.end_at <= bot.clock.now():
        raise UserError("conf.errors.over")


async def answer(bot: Bot, actor: Actor, conference_id: int, wanted: Answer, event: ActionEvent) -> list[Outcome]:
    result = await service.rsvp(bot, actor.user_id, conference_id, wanted)
    await notify.refresh_messages(bot, conference_id, dm_users=[actor.user_id, *result.promoted])
    if event.channel is None and event.message_ts is None:  # clicked in App Home: show the new answer there
        await publish_home(bot, actor)
        return []
    conf = await service.load(bot, conference_id)
    return [Reply(message=views.rsvp_reply(conf, actor.lang, bot.settings.tz, result.answer,
                                           result.waitlist_position))]


async def calendar_file(bot: Bot, actor: Actor, conference_id: int) -> SendFile:
    from bot.conferences import ics

    conf = await service.load(bot, conference_id)
    content = ics.calendar([conf], bot.settings.tz, actor.lang, bot.clock.now())
    comment = "conf.ics.cancel_comment" if conf.cancelled else "conf.ics.comment"
    return SendFile(filename=ics.filename(conf), content=content, title=t(actor.lang, "conf.ics.title",
                                                                          title=conf.title),
                    comment=t(actor.lang, comment))


async def attendee_list(bot: Bot, actor: Actor, conf: Conference) -> list[Outcome]:
    async with bot.db.read() as conn:
        people = await service.attendees(conn, conf.id)
        invited = await service.invited_count(conn, conf.id)
    return [ShowDocument(title=t(actor.lang, "conf.attendees.title"),
                         message=views.attendee_document(conf, actor.lang, bot.settings.tz, people, invited))]


async def attendee_csv(bot: Bot, actor: Actor, conf: Conference) -> list[Outcome]:
    from bot.conferences.exports import attendance_csv, csv_filename

    async with bot.db.read() as conn:
        people = await service.attendees(conn, conf.id)
    return [SendFile(filename=csv_filename(conf), content=attendance_csv([(conf, people)], actor.lang,
                                                                         bot.settings.tz),
                     title=t(actor.lang, "conf.csv.title", title=conf.title))]


async def announce_later(bot: Bot, actor: Actor, conf: Conference) -> list[Outcome]:
    """Send a planned meeting's invitation (a series is created first, announced when the dates are right)."""
    _require_open(conf, bot)
    if conf.announced_at is not None:
        raise UserError("conf.errors.already_announced")
    if not conf.audience_channels and not conf.audience_users:
        raise UserError("conf.errors.no_audience")
    result = await notify.announce(bot, conf, conf.audience_channels, conf.audience_users)
    return [Reply(message=Message(text=conf.title, blocks=[Text(text="\n".join(announced_lines(actor, result)))]))]


def announced_lines(actor: Actor, result: notify.Announced) -> list[str]:
    lines = []
    if result.channels or result.people:
        channels = ", ".join(f"<#{c}>" for c in result.channels) or "–"
        lines.append(t(actor.lang, "conf.created.announced", channels=channels, people=result.people))
    for channel in result.failed_channels:
        lines.append(t(actor.lang, "conf.created.post_failed", channel=f"<#{channel}>"))
    return lines


# --- forms ----------------------------------------------------------------------------------------

async def _overlap(bot: Bot, actor: Actor, meeting: Draft | Conference, exclude_id: int | None) -> str | None:
    """The overlap warning for the same municipality or school, or None."""
    async with bot.db.read() as conn:
        clashes = await service.find_overlaps(conn, meeting.unit, meeting.start_at, meeting.end_at, exclude_id)
    if not clashes:
        return None
    return t(actor.lang, "conf.errors.overlap", title=esc(clashes[0].title),
             when=views.when(clashes[0], actor.lang, bot.settings.tz))


async def create_submitted(bot: Bot, actor: Actor, submission: FormSubmission) -> list[Outcome]:
    require_lead(actor)
    values = submission.values
    draft, errors = meeting_draft(values, actor.lang, bot.clock.now(), bot.settings.tz)
    channels = await resolve_channels(bot, values, "channels", errors, actor.lang)
    people = slack_ids(values, "people", errors, actor.lang)
    if errors or draft is None:
        return [FormErrors(errors=errors)]
    if not checked(values, "allow_overlap"):
        clash = await _overlap(bot, actor, draft, None)
        if clash:
            return [FormErrors(errors={"start": clash})]
    conf = await service.create_conference(bot, actor, draft, channels, people)
    lines = [t(actor.lang, "conf.created.text", title=esc(conf.title), when=views.when(conf, actor.lang,
                                                                                       bot.settings.tz))]
    holiday = holiday_note(school_calendar(bot.settings, conf.unit), conf.start_at, bot.settings.tz, actor.lang,
                           bot.clock.now())
    if holiday:  # allowed (a summer conference is real), but never without the lead knowing
        lines.append(f":warning: {holiday}")
    if channels or people:
        lines += announced_lines(actor, await notify.announce(bot, conf, channels, people))
        conf = await service.load(bot, conf.id)
    else:
        lines.append(t(actor.lang, "conf.created.not_announced"))
    return [Reply(message=Message(text=t(actor.lang, "conf.created.text", title=esc(conf.title),
                                         when=views.when(conf, actor.lang, bot.settings.tz)),
                                  blocks=[Text(text="\n".join(lines)),
                                          *views.meeting_item(conf, actor.lang, bot.settings.tz, None, None,
                                                              lead=True, counts=service.Counts())]))]


async def series_submitted(bot: Bot, actor: Actor, submission: FormSubmission) -> list[Outcome]:
    """The process meetings of a school year from a template, one transaction; dates editable afterwards."""
    require_lead(actor)
    values, lang, now, tz = submission.values, actor.lang, bot.clock.now(), bot.settings.tz
    errors: dict[str, str] = {}
    template = find_template(bot.settings.content_dir, values.get("template"))
    if template is None:
        errors["template"] = t(lang, "conf.errors.unknown_template")
    unit = text(values, "unit", views.UNIT_MAX, errors, lang, required=True)
    location = text(values, "location", views.LOCATION_MAX, errors, lang)
    seats = capacity(values, errors, lang)
    channels = await resolve_channels(bot, values, "channels", errors, lang)
    people = slack_ids(values, "people", errors, lang)
    first = moment(values, "start", errors, lang, now, tz)
    if first is not None and first < now:
        errors["start"] = t(lang, "conf.errors.start_past")
    if errors or template is None or unit is None or first is None:
        return [FormErrors(errors=errors)]
    content_lang = bot.settings.default_language
    calendar = school_calendar(bot.settings, unit)
    proposed = propose(template, first, tz, calendar)
    drafts = [Draft(title=p.meeting.title.get(content_lang), kind=template.kind, unit=unit, start_at=p.start_at,
                    end_at=p.end_at, location=location, capacity=seats,
                    description=p.meeting.theme.get(content_lang),
                    material=template.materials(p.meeting, content_lang))
              for p in proposed]
    meetings = await service.create_series(bot, actor, drafts, channels, people)
    lines = [t(lang, "conf.series.created", count=len(meetings), unit=esc(unit))]
    if calendar is not None:
        lines.append(t(lang, "conf.series.school_year", calendar=esc(calendar.name)))
    for conf, planned in zip(meetings, proposed, strict=True):
        if planned.holiday:
            lines.append(f":warning: {esc(conf.title)}: {holiday_note(calendar, conf.start_at, tz, lang, now)}")
    for conf in meetings:
        clash = await _overlap(bot, actor, conf, conf.id)
        if clash:
            lines.append(f":warning: {esc(conf.title)}: {clash}")
    if checked(values, "announce") and (channels or people):
        results = [await notify.announce(bot, conf, channels, people) for conf in meetings]
        lines += announced_lines(actor, notify.Announced(
            channels=channels, people=len(people),
            failed_channels=sorted({c for r in results for c in r.failed_channels})))
    else:
        lines.append(t(lang, "conf.series.announce_hint"))
    blocks: list[Block] = [Text(text="\n".join(lines))]
    async with bot.db.read() as conn:
        fresh = [await service.get_conference(conn, conf.id) for conf in meetings]
    for conf in (c for c in fresh if c is not None):
        blocks += views.meeting_item(conf, lang, tz, None, None, lead=True, counts=service.Counts())
    return [Reply(message=Message(text=t(lang, "conf.series.created", count=len(meetings), unit=esc(unit)),
                                  blocks=blocks))]


async def edit_submitted(bot: Bot, actor: Actor, submission: FormSubmission) -> list[Outcome]:
    require_lead(actor)
    conference_id = service.parse_id(submission.metadata)
    conf = await service.load(bot, conference_id)
    values, lang = submission.values, actor.lang
    draft, errors = meeting_draft(values, lang, bot.clock.now(), bot.settings.tz,
                                  previous_start=conf.start_at)
    channels = await resolve_channels(bot, values, "channels", errors, lang)
    people = slack_ids(values, "people", errors, lang)
    if errors or draft is None:
        return [FormErrors(errors=errors)]
    moved = (draft.start_at, draft.end_at, (draft.unit or "").lower()) != \
        (conf.start_at, conf.end_at, (conf.unit or "").lower())
    if moved and not checked(values, "allow_overlap"):
        clash = await _overlap(bot, actor, draft, conference_id)
        if clash:
            return [FormErrors(errors={"start": clash})]
    before, after, told = await service.update_conference(bot, actor, conference_id, draft, channels, people)
    lines = [t(lang, "conf.edited", title=esc(after.title), when=views.when(after, lang, bot.settings.tz), told=told)]
    new_channels = [c for c in channels if c not in before.audience_channels]
    new_people = [p for p in people if p not in before.audience_users]
    if before.announced_at is None and (new_channels or new_people):  # never sent: send to everyone now
        new_channels, new_people = after.audience_channels, after.audience_users
    if new_channels or new_people:
        lines += announced_lines(actor, await notify.announce(bot, after, new_channels, new_people))
    await notify.refresh_messages(bot, conference_id)
    return [Reply(message=Message(text=lines[0], blocks=[Text(text="\n".join(lines))]))]


async def cancel_submitted(bot: Bot, actor: Actor, submission: FormSubmission) -> list[Outcome]:
    require_lead(actor)
    conference_id = service.parse_id(submission.metadata)
    errors: dict[str, str] = {}
    reason = text(submission.values, "reason", views.REASON_MAX, errors, actor.lang)
    if errors:
        return [FormErrors(errors=errors)]
    conf, told = await service.cancel_conference(bot, actor, conference_id, reason)
    await notify.refresh_messages(bot, conference_id)
    message = t(actor.lang, "conf.cancelled", title=esc(conf.title), told=told)
    return [Reply(message=Message(text=message, blocks=[Text(text=message)]))]
