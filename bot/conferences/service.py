"""Domain rules for meetings: create, answer (capacity and waitlist), change, cancel, and their due items.

Every read-then-write happens in one `bot.db.write()` transaction that first locks the meeting row
(BEGIN IMMEDIATE on SQLite, SELECT ... FOR UPDATE on PostgreSQL), so concurrent clicks queue up:
capacity is never exceeded and nobody is promoted twice. Notifications that must go out exactly once
are scheduled as due items inside the same transaction as the change they report.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.conferences.models import (
    Answer,
    Attendee,
    Conference,
    Counts,
    Draft,
    RsvpResult,
    Status,
    UpcomingMeeting,
)
from bot.conferences.tables import conference_invitees, conference_messages, conference_rsvps, conferences
from bot.db.engine import as_utc
from bot.db.schema import due_items
from bot.errors import UserError
from bot.ids import parse_id as parse_number
from bot.scheduler import schedule, unschedule
from bot.settings import Settings
from bot.users import Actor, audit, require_lead

if TYPE_CHECKING:
    from bot.runtime import Bot

SEATED = (Answer.yes.value,)
REMINDED = (Answer.yes.value, Answer.maybe.value)


def key_prefix(conference_id: int) -> str:
    return f"conf:{conference_id}:"


def reminder_key(conference_id: int, hours: float, start: datetime) -> str:
    return f"conf:{conference_id}:remind:{hours:g}:{int(start.timestamp())}"


async def get_conference(conn: AsyncConnection, conference_id: int, lock: bool = False) -> Conference | None:
    query = select(conferences).where(conferences.c.id == conference_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).mappings().first()
    return Conference.from_row(row) if row else None


async def lock_active(conn: AsyncConnection, conference_id: int) -> Conference:
    """The meeting, locked for a change, or a UserError when it is gone or cancelled."""
    conf = await get_conference(conn, conference_id, lock=True)
    if conf is None:
        raise UserError("conf.errors.not_found")
    if conf.cancelled:
        raise UserError("conf.errors.cancelled")
    return conf


async def load(bot: Bot, conference_id: int) -> Conference:
    async with bot.db.read() as conn:
        conf = await get_conference(conn, conference_id)
    if conf is None:
        raise UserError("conf.errors.not_found")
    return conf


def parse_id(value: str) -> int:
    """A button value or form metadata holding a meeting id; anything else is a forged payload."""
    number = parse_number(value)
    if number is None:
        raise UserError("conf.errors.not_found")
    return number


async def find_overlaps(conn: AsyncConnection, unit: str | None, start: datetime, end: datetime,
                        exclude_id: int | None = None) -> list[Conference]:
    """Scheduled meetings of the same municipality or school that share some of [start, end)."""
    if not unit:
        return []
    query = select(conferences).where(and_(
        func.lower(conferences.c.unit) == unit.strip().lower(), conferences.c.status == Status.scheduled.value,
        conferences.c.start_at < end, conferences.c.end_at > start))
    if exclude_id is not None:
        query = query.where(conferences.c.id != exclude_id)
    rows = (await conn.execute(query.order_by(conferences.c.start_at))).mappings().all()
    return [Conference.from_row(r) for r in rows]


# --- due items ------------------------------------------------------------------------------------

async def _recently_reminded(conn: AsyncConnection, conference_id: int, hours: float, due: datetime) -> bool:
    """After a small move, a reminder already sent for this offset still holds: do not send it twice."""
    prefix = f"conf:{conference_id}:remind:{hours:g}:"
    sent = (await conn.execute(select(func.max(due_items.c.done_at)).where(and_(
        due_items.c.kind == "conf.reminder", due_items.c.key.startswith(prefix, autoescape=True),
        due_items.c.done_at.is_not(None), due_items.c.last_error.is_(None))))).scalar()
    return sent is not None and as_utc(sent) > due - timedelta(hours=hours)


async def schedule_reminders(conn: AsyncConnection, conf: Conference, settings: Settings, now: datetime) -> None:
    """One reminder per offset before the start; a moved start drops the old ones and plans new ones."""
    await unschedule(conn, f"conf:{conf.id}:remind:")
    if conf.cancelled:
        return
    for hours in settings.reminder_offsets:
        due = conf.start_at - timedelta(hours=hours)
        if due <= now or await _recently_reminded(conn, conf.id, hours, due):
            continue
        await schedule(conn, "conf.reminder", reminder_key(conf.id, hours, conf.start_at), due,
                       {"conference_id": conf.id, "hours": hours, "start": conf.start_at.isoformat()})


async def schedule_evaluation(conn: AsyncConnection, conf: Conference) -> None:
    key = f"conf:{conf.id}:evaluation"
    if conf.survey_id and not conf.cancelled:
        await schedule(conn, "conf.evaluation", key, conf.end_at, {"conference_id": conf.id})
    else:
        await unschedule(conn, key)


async def _notify_later(conn: AsyncConnection, conf: Conference, users: list[str], event: str, now: datetime,
                        **detail: Any) -> None:
    """One paced DM each, exactly once, committed with the change it reports."""
    for user in users:
        await schedule(conn, "conf.notify", f"conf:{conf.id}:{event}:{conf.sequence}:{user}", now,
                       {"conference_id": conf.id, "user": user, "event": event, **detail})


# --- create, change, cancel -----------------------------------------------------------------------

def _values(draft: Draft) -> dict[str, Any]:
    data = draft.model_dump()
    data["kind"] = draft.kind.value
    data["material"] = [m.model_dump() for m in draft.material]
    return data


async def _insert(conn: AsyncConnection, bot: Bot, actor: Actor, draft: Draft, channels: list[str],
                  users: list[str], now: datetime, series_id: str | None, series_index: int | None) -> Conference:
    result = await conn.execute(insert(conferences).values(
        uid=f"samsyv-{uuid.uuid4()}@samsyv-bot", status=Status.scheduled.value, sequence=0,
        series_id=series_id, series_index=series_index, audience_channels=channels, audience_users=users,
        created_by=actor.user_id, created_at=now, updated_at=now, **_values(draft)))
    primary_key = result.inserted_primary_key
    assert primary_key is not None
    conf = await get_conference(conn, int(primary_key[0]))
    assert conf is not None
    await schedule_reminders(conn, conf, bot.settings, now)
    await schedule_evaluation(conn, conf)
    await audit(conn, actor.user_id, "conference.create", conference=conf.id, title=draft.title,
                start=draft.start_at.isoformat(), series=series_id)
    return conf


async def create_conference(bot: Bot, actor: Actor, draft: Draft, channels: list[str],
                            users: list[str]) -> Conference:
    require_lead(actor)
    async with bot.db.write() as conn:
        return await _insert(conn, bot, actor, draft, channels, users, bot.clock.now(), None, None)


async def create_series(bot: Bot, actor: Actor, drafts: list[Draft], channels: list[str],
                        users: list[str]) -> list[Conference]:
    """All meetings of a series in one transaction: either the whole school year is planned or nothing."""
    require_lead(actor)
    series_id = uuid.uuid4().hex[:12]
    now = bot.clock.now()
    async with bot.db.write() as conn:
        return [await _insert(conn, bot, actor, draft, channels, users, now, series_id, index)
                for index, draft in enumerate(drafts, 1)]


CHANGE_FIELDS = ("title", "start_at", "end_at", "location")


async def update_conference(bot: Bot, actor: Actor, conference_id: int, draft: Draft,
                            add_channels: list[str] | None = None,
                            add_users: list[str] | None = None) -> tuple[Conference, Conference, int]:
    """Apply an edit; returns (before, after, how many are told). Those who answered hear when time or place moved."""
    require_lead(actor)
    now = bot.clock.now()
    async with bot.db.write() as conn:
        before = await lock_active(conn, conference_id)
        values = _values(draft)
        values["audience_channels"] = _merge(before.audience_channels, add_channels)
        values["audience_users"] = _merge(before.audience_users, add_users)
        await conn.execute(update(conferences).where(conferences.c.id == conference_id).values(
            sequence=before.sequence + 1, updated_at=now, **values))
        after = await get_conference(conn, conference_id)
        assert after is not None
        if (before.start_at, before.end_at) != (after.start_at, after.end_at):
            await schedule_reminders(conn, after, bot.settings, now)
        await schedule_evaluation(conn, after)
        await _promote(conn, after, now)  # a larger capacity seats the waitlist in order
        changed = [name for name in CHANGE_FIELDS if getattr(before, name) != getattr(after, name)]
        answered: list[str] = []
        if {"start_at", "end_at", "location"} & set(changed):
            answered = [a.user_id for a in await attendees(conn, conference_id)]
            await _notify_later(conn, after, answered, "changed", now, old={
                "title": before.title, "start": before.start_at.isoformat(), "end": before.end_at.isoformat(),
                "location": before.location}, changed=changed)
        await audit(conn, actor.user_id, "conference.update", conference=conference_id, changed=changed)
    return before, after, len(answered)


def _merge(existing: list[str], added: list[str] | None) -> list[str]:
    return existing + [item for item in (added or []) if item not in existing]


async def cancel_conference(bot: Bot, actor: Actor, conference_id: int,
                            reason: str | None) -> tuple[Conference, int]:
    """Cancel: drop every pending reminder and evaluation, tell everyone who answered or was invited by DM."""
    require_lead(actor)
    now = bot.clock.now()
    async with bot.db.write() as conn:
        conf = await lock_active(conn, conference_id)
        if conf.end_at <= now:
            raise UserError("conf.errors.over")
        await conn.execute(update(conferences).where(conferences.c.id == conference_id).values(
            status=Status.cancelled.value, cancel_reason=reason, sequence=conf.sequence + 1, updated_at=now))
        await unschedule(conn, key_prefix(conference_id))
        cancelled = await get_conference(conn, conference_id)
        assert cancelled is not None
        answered = [a.user_id for a in await attendees(conn, conference_id)]
        invited = (await conn.execute(select(conference_invitees.c.user_id).where(and_(
            conference_invitees.c.conference_id == conference_id, conference_invitees.c.via == "dm")))).scalars()
        told = answered + [u for u in invited if u not in answered]
        await _notify_later(conn, cancelled, told, "cancelled", now)
        await audit(conn, actor.user_id, "conference.cancel", conference=conference_id, reason=reason)
    return cancelled, len(told)


# --- answers --------------------------------------------------------------------------------------

async def _seated(conn: AsyncConnection, conference_id: int) -> int:
    return int((await conn.execute(select(func.count()).select_from(conference_rsvps).where(and_(
        conference_rsvps.c.conference_id == conference_id, conference_rsvps.c.status.in_(SEATED))))).scalar() or 0)


async def _promote(conn: AsyncConnection, conf: Conference, now: datetime) -> list[str]:
    """Give free seats to the waitlist in order; each promoted person gets one DM (a due item)."""
    promoted: list[str] = []
    while conf.capacity is None or await _seated(conn, conf.id) < conf.capacity:
        row = (await conn.execute(select(conference_rsvps).where(and_(
            conference_rsvps.c.conference_id == conf.id, conference_rsvps.c.status == Answer.waitlist.value))
            .order_by(conference_rsvps.c.waitlist_seq, conference_rsvps.c.id).limit(1))).mappings().first()
        if row is None:
            break
        await conn.execute(update(conference_rsvps).where(conference_rsvps.c.id == row["id"])
                           .values(status=Answer.yes.value, updated_at=now))
        await schedule(conn, "conf.notify", f"conf:{conf.id}:promoted:{row['user_id']}:{row['waitlist_seq']}",
                       now, {"conference_id": conf.id, "user": row["user_id"], "event": "promoted"})
        promoted.append(row["user_id"])
    return promoted


async def waitlist_position(conn: AsyncConnection, conference_id: int, seq: int | None) -> int | None:
    if seq is None:
        return None
    return int((await conn.execute(select(func.count()).select_from(conference_rsvps).where(and_(
        conference_rsvps.c.conference_id == conference_id, conference_rsvps.c.status == Answer.waitlist.value,
        conference_rsvps.c.waitlist_seq <= seq)))).scalar() or 0)


async def rsvp(bot: Bot, user_id: str, conference_id: int, wanted: Answer) -> RsvpResult:
    """Record an answer. A yes takes a free seat or the next waitlist place; leaving a seat promotes.
    Queued in the process's writer and committed with the other answers of its batch."""
    if wanted == Answer.waitlist:
        raise UserError("conf.errors.not_found")
    now = bot.clock.now()

    async def apply(conn: AsyncConnection) -> RsvpResult:
        return await _apply_rsvp(conn, user_id, conference_id, wanted, now)

    return await bot.db.run(apply)


async def _apply_rsvp(conn: AsyncConnection, user_id: str, conference_id: int, wanted: Answer,
                      now: datetime) -> RsvpResult:
    # The meeting row is locked (FOR UPDATE on PostgreSQL; SQLite has one writer) but never updated:
    # seats are counted from the answers, so instances taking answers for one meeting cannot overfill it.
    conf = await lock_active(conn, conference_id)
    if conf.start_at <= now:
        raise UserError("conf.errors.closed")
    row = (await conn.execute(select(conference_rsvps).where(and_(
        conference_rsvps.c.conference_id == conference_id, conference_rsvps.c.user_id == user_id))
        .with_for_update())).mappings().first()
    previous = Answer(row["status"]) if row else None
    seq = row["waitlist_seq"] if row else None
    answer: Answer
    if wanted == Answer.yes and previous is not None and previous in (Answer.yes, Answer.waitlist):
        answer = previous
    elif wanted == Answer.yes and conf.capacity is not None and await _seated(conn, conference_id) >= conf.capacity:
        answer = Answer.waitlist
        last = (await conn.execute(select(func.max(conference_rsvps.c.waitlist_seq)).where(
            conference_rsvps.c.conference_id == conference_id))).scalar()
        seq = int(last or 0) + 1
    else:
        answer = wanted
    if answer != Answer.waitlist:
        seq = None
    if row is None:
        await conn.execute(insert(conference_rsvps).values(
            conference_id=conference_id, user_id=user_id, status=answer.value, waitlist_seq=seq,
            answered_at=now, updated_at=now))
    elif answer != previous:
        await conn.execute(update(conference_rsvps).where(conference_rsvps.c.id == row["id"]).values(
            status=answer.value, waitlist_seq=seq, updated_at=now))
    promoted = await _promote(conn, conf, now) if previous == Answer.yes and answer != Answer.yes else []
    position = await waitlist_position(conn, conference_id, seq) if answer == Answer.waitlist else None
    return RsvpResult(answer=answer, previous=previous, waitlist_position=position, promoted=promoted)


async def counts(conn: AsyncConnection, conference_id: int) -> Counts:
    rows = (await conn.execute(select(conference_rsvps.c.status, func.count()).where(
        conference_rsvps.c.conference_id == conference_id).group_by(conference_rsvps.c.status))).all()
    return Counts(**{status: n for status, n in rows})


async def attendees(conn: AsyncConnection, conference_id: int) -> list[Attendee]:
    """Everyone who answered: seated first, then the waitlist in order, then maybe and no."""
    rows = (await conn.execute(select(conference_rsvps).where(conference_rsvps.c.conference_id == conference_id)
                               .order_by(conference_rsvps.c.waitlist_seq, conference_rsvps.c.answered_at,
                                         conference_rsvps.c.id))).mappings().all()
    order = {Answer.yes: 0, Answer.waitlist: 1, Answer.maybe: 2, Answer.no: 3}
    found: list[Attendee] = []
    position = 0
    for row in rows:
        answer = Answer(row["status"])
        if answer == Answer.waitlist:
            position += 1
        found.append(Attendee(user_id=row["user_id"], answer=answer, answered_at=as_utc(row["answered_at"]),
                              waitlist_position=position if answer == Answer.waitlist else None))
    return sorted(found, key=lambda a: order[a.answer])


async def answer_of(conn: AsyncConnection, conference_id: int, user_id: str) -> tuple[Answer | None, int | None]:
    row = (await conn.execute(select(conference_rsvps).where(and_(
        conference_rsvps.c.conference_id == conference_id, conference_rsvps.c.user_id == user_id)))).mappings().first()
    if row is None:
        return None, None
    answer = Answer(row["status"])
    return answer, await waitlist_position(conn, conference_id, row["waitlist_seq"]) if answer == Answer.waitlist \
        else None


async def invited_count(conn: AsyncConnection, conference_id: int) -> int:
    return int((await conn.execute(select(func.count()).select_from(conference_invitees).where(
        conference_invitees.c.conference_id == conference_id))).scalar() or 0)


# --- invitations and their messages ---------------------------------------------------------------

async def record_invitees(conn: AsyncConnection, conference_id: int, invited: dict[str, str]) -> None:
    """Remember who is invited (user -> "dm" or "channel"), so App Home knows their meetings."""
    existing = set((await conn.execute(select(conference_invitees.c.user_id).where(
        conference_invitees.c.conference_id == conference_id))).scalars())
    rows = [{"conference_id": conference_id, "user_id": u, "via": via} for u, via in invited.items()
            if u not in existing]
    if rows:
        await conn.execute(insert(conference_invitees), rows)


async def mark_announced(conn: AsyncConnection, conference_id: int, now: datetime) -> None:
    await conn.execute(update(conferences).where(conferences.c.id == conference_id).values(announced_at=now))


async def record_message(conn: AsyncConnection, conference_id: int, channel: str, ts: str, lang: str,
                         user_id: str | None) -> None:
    exists = (await conn.execute(select(conference_messages.c.id).where(and_(
        conference_messages.c.channel == channel, conference_messages.c.ts == ts)))).first()
    if exists is None:
        await conn.execute(insert(conference_messages).values(conference_id=conference_id, channel=channel, ts=ts,
                                                              lang=lang, user_id=user_id))


async def message_refs(conn: AsyncConnection, conference_id: int,
                       dm_users: list[str] | None = None) -> list[dict[str, Any]]:
    """Where the invitation was posted: every channel post, and DMs of `dm_users` (all DMs when None)."""
    query = select(conference_messages).where(conference_messages.c.conference_id == conference_id)
    if dm_users is not None:
        query = query.where(or_(conference_messages.c.user_id.is_(None),
                                conference_messages.c.user_id.in_(dm_users)))
    return [dict(r) for r in (await conn.execute(query.order_by(conference_messages.c.id))).mappings().all()]


async def message_at(conn: AsyncConnection, channel: str, ts: str) -> dict[str, Any] | None:
    row = (await conn.execute(select(conference_messages).where(and_(
        conference_messages.c.channel == channel, conference_messages.c.ts == ts)))).mappings().first()
    return dict(row) if row else None


# --- what a person sees ---------------------------------------------------------------------------

async def upcoming_for(conn: AsyncConnection, user_id: str, now: datetime, limit: int = 10,
                       everything: bool = False) -> list[UpcomingMeeting]:
    """Meetings not yet over that the user is invited to or answered (all of them for a lead's overview)."""
    query = select(conferences).where(and_(conferences.c.end_at > now,
                                           conferences.c.status == Status.scheduled.value))
    if not everything:
        invited = select(conference_invitees.c.conference_id).where(conference_invitees.c.user_id == user_id)
        answered = select(conference_rsvps.c.conference_id).where(conference_rsvps.c.user_id == user_id)
        query = query.where(or_(conferences.c.id.in_(invited), conferences.c.id.in_(answered)))
    rows = (await conn.execute(query.order_by(conferences.c.start_at, conferences.c.id).limit(limit))).mappings().all()
    found: list[UpcomingMeeting] = []
    for row in rows:
        conf = Conference.from_row(row)
        answer, position = await answer_of(conn, conf.id, user_id)
        found.append(UpcomingMeeting(conference=conf, answer=answer, waitlist_position=position))
    return found


async def all_conferences(conn: AsyncConnection, since: datetime | None = None,
                          include_cancelled: bool = True) -> list[Conference]:
    query = select(conferences)
    if since is not None:
        query = query.where(conferences.c.end_at > since)
    if not include_cancelled:
        query = query.where(conferences.c.status == Status.scheduled.value)
    rows = (await conn.execute(query.order_by(conferences.c.start_at, conferences.c.id))).mappings().all()
    return [Conference.from_row(r) for r in rows]


async def reminder_recipients(conn: AsyncConnection, conference_id: int) -> list[str]:
    return list((await conn.execute(select(conference_rsvps.c.user_id).where(and_(
        conference_rsvps.c.conference_id == conference_id, conference_rsvps.c.status.in_(REMINDED)))
        .order_by(conference_rsvps.c.id))).scalars())


async def seated_users(conn: AsyncConnection, conference_id: int) -> list[str]:
    return list((await conn.execute(select(conference_rsvps.c.user_id).where(and_(
        conference_rsvps.c.conference_id == conference_id, conference_rsvps.c.status.in_(SEATED)))
        .order_by(conference_rsvps.c.id))).scalars())
