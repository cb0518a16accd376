"""Conferences and process meetings: the core flows over the real database, with a fake clock."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from icalendar import Calendar
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.conferences import api, service
from bot.conferences.models import Answer
from bot.conferences.tables import conference_rsvps, conferences
from bot.conferences.templates import load_templates, propose
from bot.db import Database
from bot.db.schema import audit_log, due_items
from bot.i18n import placeholders
from bot.interactions import CommandRequest
from bot.runtime import Bot, handle_command, home_blocks
from bot.ui import FormErrors, OpenForm, Reply, SendFile, ShowDocument
from tests.conftest import LEAD
from tests.test_conferences_support import (
    TZ,
    all_meetings,
    click,
    create,
    local,
    meeting_values,
    recorder,
    run_all_due,
    submit,
    text,
)

# --- create: validation next to the field, nothing half-stored -------------------------------------

@pytest.mark.parametrize("change,field", [
    ({"end": local(2026, 3, 10, 8)}, "end"),                       # end before start
    ({"start": local(2026, 3, 1, 9), "end": local(2026, 3, 1, 10)}, "start"),  # start in the past
    ({"capacity": "0"}, "capacity"),
    ({"capacity": "trettio"}, "capacity"),
    ({"title": None}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 151}, "title"),
    ({"description": "x" * 2001}, "description"),
    ({"location": "x" * 501}, "location"),
    ({"material": "bara text utan länk"}, "material"),
    ({"start": None}, "start"),
    ({"people": ["<!channel>"]}, "people"),
    ({"survey": "enkät ett"}, "survey"),
])
async def test_invalid_input_is_shown_next_to_the_field_and_nothing_is_saved(
        bot: Bot, change: dict[str, Any], field: str) -> None:
    values = meeting_values(local(2026, 3, 10, 9))
    values.update(change)
    outcomes = await submit(bot, "conf:create", values)
    [errors] = outcomes
    assert isinstance(errors, FormErrors) and field in errors.errors
    assert await all_meetings(bot) == []
    async with bot.db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(due_items))).scalar() == 0


async def test_english_lead_gets_english_errors(bot: Bot) -> None:
    from bot.users import set_language

    await set_language(bot.db, LEAD, "en")
    [errors] = await submit(bot, "conf:create", meeting_values(local(2026, 3, 10, 9), end=local(2026, 3, 10, 8)))
    assert isinstance(errors, FormErrors) and errors.errors["end"] == "The end must be after the start."


async def test_create_posts_to_channels_records_invitees_and_dms_people_in_their_language(
        bot: Bot, tmp_path: Path, clock: FakeClock) -> None:
    from bot.users import set_language

    sent = recorder(bot, tmp_path)
    sent.members["CSTAFF"] = ["U1", "U2"]
    await set_language(bot.db, "U9", "en")
    conf = await create(bot, local(2026, 3, 10, 9), channels=["CSTAFF"], people=["U9", "U8"])
    [(channel, post, _)] = sent.posts
    assert channel == "CSTAFF" and "Kommer" in text(post) and "conf:yes" in text(post)
    assert "https://example.org/material-1" in text(post)
    await run_all_due(bot, clock.now())
    assert "When:" in sent.dms_to("U9")[0] and "När:" in sent.dms_to("U8")[0]
    for user in ("U1", "U2", "U9", "U8"):
        [upcoming] = await api.next_meetings(bot, await bot.actor(user))
        assert upcoming.id == conf.id and upcoming.answer is None
    assert await api.next_meetings(bot, await bot.actor("USTRANGER")) == []
    async with bot.db.read() as conn:
        actions = [r.action for r in (await conn.execute(select(audit_log))).all()]
    assert actions == ["conference.create"]


async def test_overlap_for_the_same_school_is_refused_until_the_lead_ticks_the_box(bot: Bot) -> None:
    await create(bot, local(2026, 3, 10, 9))
    [errors] = await submit(bot, "conf:create", meeting_values(local(2026, 3, 10, 10), unit="lunaskolan"))
    assert isinstance(errors, FormErrors) and "Krockar med" in errors.errors["start"]
    other_school = await submit(bot, "conf:create", meeting_values(local(2026, 3, 10, 10), unit="Solskolan"))
    assert not isinstance(other_school[0], FormErrors)
    ticked = await submit(bot, "conf:create", meeting_values(local(2026, 3, 10, 10), allow_overlap=["yes"]))
    assert not isinstance(ticked[0], FormErrors)
    assert len(await all_meetings(bot)) == 3


# --- RSVP: capacity, waitlist, concurrency ----------------------------------------------------------

async def test_concurrent_clicks_never_exceed_capacity_and_nobody_is_promoted_twice(
        bot: Bot, tmp_path: Path, clock: FakeClock) -> None:
    sent = recorder(bot, tmp_path)
    conf = await create(bot, local(2026, 3, 10, 9), capacity="5")
    users = [f"U{n:02d}" for n in range(20)]
    results = await asyncio.gather(*(service.rsvp(bot, u, conf.id, Answer.yes) for u in users))
    assert sum(r.answer == Answer.yes for r in results) == 5
    assert sorted(r.waitlist_position for r in results if r.answer == Answer.waitlist) == list(range(1, 16))
    async with bot.db.read() as conn:
        people = await service.attendees(conn, conf.id)
    seated = [p.user_id for p in people if p.answer == Answer.yes]
    waiting = [p.user_id for p in people if p.answer == Answer.waitlist]

    # Everyone seated cancels at once while others click yes, no and maybe again.
    clicks = [service.rsvp(bot, u, conf.id, Answer.no) for u in seated]
    clicks += [service.rsvp(bot, u, conf.id, Answer.yes) for u in waiting[:8]]
    clicks += [service.rsvp(bot, f"UNEW{n}", conf.id, Answer.yes) for n in range(5)]
    results = await asyncio.gather(*clicks)
    promoted = [u for r in results for u in r.promoted]
    assert sorted(promoted) == sorted(waiting[:5])  # the first five in line, each exactly once
    async with bot.db.read() as conn:
        counts = await service.counts(conn, conf.id)
        people = await service.attendees(conn, conf.id)
    assert counts.yes == 5 and counts.no == 5 and counts.waitlist == 15
    assert [p.waitlist_position for p in people if p.answer == Answer.waitlist] == list(range(1, 16))
    assert [p.user_id for p in people if p.answer == Answer.waitlist][:10] == waiting[5:]

    await run_all_due(bot, clock.now())
    for user in waiting[:5]:
        [notice] = sent.dms_to(user)
        assert "En plats blev ledig" in notice
    assert sum(len(sent.dms_to(u)) for u in users) == 5


async def test_answer_can_change_until_the_start_and_not_after(bot: Bot, clock: FakeClock) -> None:
    conf = await create(bot, local(2026, 3, 10, 9))
    assert (await service.rsvp(bot, "U1", conf.id, Answer.yes)).answer == Answer.yes
    assert (await service.rsvp(bot, "U1", conf.id, Answer.maybe)).answer == Answer.maybe
    clock.set(conf.start_at)
    [reply] = await click(bot, "conf:no", conf.id, "U1")
    assert isinstance(reply, Reply) and "redan börjat" in text(reply.message)
    async with bot.db.read() as conn:
        assert (await service.answer_of(conn, conf.id, "U1"))[0] == Answer.maybe


async def test_rsvp_reply_and_clicks_on_unknown_or_forged_values(bot: Bot) -> None:
    conf = await create(bot, local(2026, 3, 10, 9), capacity="1")
    [reply] = await click(bot, "conf:yes", conf.id, "U1")
    assert isinstance(reply, Reply) and "du är anmäld" in text(reply.message)
    [reply] = await click(bot, "conf:yes", conf.id, "U2")
    assert isinstance(reply, Reply) and "väntelistan som nummer 1" in text(reply.message)
    for value in ("999", "abc", "1; drop table"):
        [reply] = await click(bot, "conf:yes", value, "U3")
        assert isinstance(reply, Reply) and "finns inte" in text(reply.message)


# --- leads only, even with forged payloads ---------------------------------------------------------

async def test_lead_only_actions_are_refused_for_others_even_when_forged(bot: Bot) -> None:
    conf = await create(bot, local(2026, 3, 10, 9), people=["U1"])
    pupil = await bot.actor("UPUPIL")
    [reply] = await handle_command(bot, pupil, CommandRequest(text="konferens"))
    assert isinstance(reply, Reply) and "projektledare" in text(reply.message)
    [reply] = await handle_command(bot, pupil, CommandRequest(text="träffserie"))
    assert isinstance(reply, Reply) and "projektledare" in text(reply.message)
    for verb in ("attendees", "csv", "edit", "cancel", "announce"):
        [reply] = await click(bot, f"conf:{verb}", conf.id, "UPUPIL")
        assert isinstance(reply, Reply) and "projektledare" in text(reply.message), verb
    forged = [("conf:create", meeting_values(local(2026, 3, 11, 9)), ""),
              ("conf:edit", meeting_values(local(2026, 3, 12, 9), title="Hacked"), str(conf.id)),
              ("conf:cancel", {"reason": "x"}, str(conf.id)),
              ("conf:series", {"template": "framtidsrustad-process-meetings", "unit": "X",
                               "start": local(2026, 3, 20, 9)}, "")]
    for callback, values, metadata in forged:
        [errors] = await submit(bot, callback, values, user="UPUPIL", metadata=metadata)
        assert isinstance(errors, FormErrors) and "projektledare" in errors.errors["_form"], callback
    [after] = await all_meetings(bot)
    assert after.title == conf.title and not after.cancelled and after.sequence == 0
    async with bot.db.read() as conn:
        entries = [(r.actor, r.action) for r in (await conn.execute(select(audit_log))).all()]
    assert [who for who, _ in entries if who != "UPUPIL"] == [LEAD]
    assert {action for who, action in entries if who == "UPUPIL"} == {"denied"}, "each refusal is audited"


# --- reminders ---------------------------------------------------------------------------------------

async def test_reminders_go_to_yes_and_maybe_exactly_once_and_survive_a_restart(
        bot: Bot, tmp_path: Path, clock: FakeClock) -> None:
    conf = await create(bot, local(2026, 3, 10, 9))
    for user, answer in (("UYES", Answer.yes), ("UMAYBE", Answer.maybe), ("UNO", Answer.no)):
        await service.rsvp(bot, user, conf.id, answer)
    await bot.stop()  # the bot goes down; its replacement only has the database

    restarted = Bot(settings=bot.settings, db=Database(bot.settings.database_url), messenger=bot.messenger,
                    clock=clock)
    await restarted.start()
    sent = recorder(restarted, tmp_path)
    try:
        assert await run_all_due(restarted, conf.start_at - timedelta(hours=25)) == 0
        await run_all_due(restarted, conf.start_at - timedelta(hours=24))
        assert sorted(u for u, _ in sent.dms) == ["UMAYBE", "UYES"]  # paced DMs go out concurrently
        assert "Om 24 timmar" in sent.dms_to("UYES")[0] and "https://example.org/material-1" in sent.dms_to("UYES")[0]
        assert await run_all_due(restarted, conf.start_at - timedelta(hours=2)) == 0
        await run_all_due(restarted, conf.start_at - timedelta(hours=1))
        assert sorted(u for u, _ in sent.dms[2:]) == ["UMAYBE", "UYES"]
        assert "Om en timme" in sent.dms_to("UMAYBE")[1]
        assert await run_all_due(restarted, conf.start_at + timedelta(days=1)) == 0
        assert len(sent.dms) == 4
    finally:
        await restarted.stop()


async def test_reminders_follow_a_moved_start_and_stop_when_cancelled(
        bot: Bot, tmp_path: Path, clock: FakeClock) -> None:
    sent = recorder(bot, tmp_path)
    conf = await create(bot, local(2026, 3, 10, 9))
    await service.rsvp(bot, "U1", conf.id, Answer.yes)
    new_start = local(2026, 3, 17, 13)
    outcomes = await submit(bot, "conf:edit", meeting_values(new_start), metadata=str(conf.id))
    assert isinstance(outcomes[0], Reply) and "1 personer" in text(outcomes[0].message)
    await run_all_due(bot, clock.now())
    [notice] = sent.dms_to("U1")
    assert "Tid: ~tis 10 mar 2026 09:00–11:00~ → tis 17 mar 2026 13:00–15:00" in notice
    sent.dms.clear()
    assert await run_all_due(bot, conf.start_at - timedelta(hours=1)) == 0  # the old times are gone
    await run_all_due(bot, new_start - timedelta(hours=24))
    assert len(sent.dms_to("U1")) == 1

    other = await create(bot, local(2026, 3, 20, 9), unit="Solskolan")
    await service.rsvp(bot, "U1", other.id, Answer.yes)
    await submit(bot, "conf:cancel", {"reason": "Sjukdom"}, metadata=str(other.id))
    await run_all_due(bot, clock.now())
    assert "är inställd" in sent.dms_to("U1")[-1] and "Sjukdom" in sent.dms_to("U1")[-1]
    sent.dms.clear()
    await run_all_due(bot, other.end_at + timedelta(days=1))
    [(user, last)] = sent.dms  # the moved meeting's 1-hour reminder; nothing for the cancelled one
    assert user == "U1" and "Lunaskolan" in text(last) and "Solskolan" not in text(last)


async def test_a_small_move_after_a_reminder_does_not_send_it_again(
        bot: Bot, tmp_path: Path, clock: FakeClock) -> None:
    sent = recorder(bot, tmp_path)
    conf = await create(bot, local(2026, 3, 10, 9))
    await service.rsvp(bot, "U1", conf.id, Answer.yes)
    clock.set(conf.start_at - timedelta(hours=24))
    await run_all_due(bot, clock.now())
    assert len(sent.dms_to("U1")) == 1
    clock.advance(minutes=5)
    await submit(bot, "conf:edit", meeting_values(local(2026, 3, 10, 9, 30)), metadata=str(conf.id))
    await run_all_due(bot, local(2026, 3, 9, 9, 30))
    assert [m for m in sent.dms_to("U1") if "Påminnelse" in m] and len(sent.dms_to("U1")) == 2  # + change notice
    await run_all_due(bot, local(2026, 3, 10, 8, 30))
    assert sum("Om en timme" in m for m in sent.dms_to("U1")) == 1


# --- change and cancel --------------------------------------------------------------------------------

async def test_edit_tells_everyone_who_answered_and_updates_every_invitation(
        bot: Bot, tmp_path: Path, clock: FakeClock) -> None:
    sent = recorder(bot, tmp_path)
    sent.members["CSTAFF"] = ["U1"]
    conf = await create(bot, local(2026, 3, 10, 9), channels=["CSTAFF"], people=["U2"])
    await run_all_due(bot, clock.now())
    for user, answer in (("U1", Answer.yes), ("U2", Answer.no), ("U3", Answer.maybe)):
        await service.rsvp(bot, user, conf.id, answer)
    await bot.coalescer.drain()
    sent.updates.clear()
    values = meeting_values(local(2026, 3, 10, 9), location="Stadsbiblioteket", description="Ny text")
    await submit(bot, "conf:edit", values, metadata=str(conf.id))
    await bot.coalescer.drain()
    assert {ref.channel for ref, _ in sent.updates} == {"CSTAFF", "D-U2"}
    assert all("Stadsbiblioteket" in text(m) for _, m in sent.updates)
    await run_all_due(bot, clock.now())
    for user in ("U1", "U2", "U3"):
        assert "Plats: ~Aulan, Lunaskolan~ → Stadsbiblioteket" in sent.dms_to(user)[-1]
    [after] = await all_meetings(bot)
    assert after.sequence == 1 and after.location == "Stadsbiblioteket"


async def test_cancel_tells_everyone_and_removes_the_buttons(bot: Bot, tmp_path: Path, clock: FakeClock) -> None:
    sent = recorder(bot, tmp_path)
    conf = await create(bot, local(2026, 3, 10, 9), channels=["CSTAFF"], people=["U2", "U4"], survey="5")
    await run_all_due(bot, clock.now())
    await service.rsvp(bot, "U1", conf.id, Answer.yes)
    [form] = await click(bot, "conf:cancel", conf.id, LEAD)
    assert isinstance(form, OpenForm) and form.form.callback == "conf:cancel"
    [reply] = await submit(bot, "conf:cancel", {"reason": None}, metadata=str(conf.id))
    assert isinstance(reply, Reply) and "3 personer" in text(reply.message)
    await bot.coalescer.drain()
    updated = [m for _, m in sent.updates]
    assert updated and all("INSTÄLLD" in text(m) and "conf:yes" not in text(m) and "conf:ics" in text(m)
                           for m in updated)
    await run_all_due(bot, clock.now())
    assert all("är inställd" in sent.dms_to(u)[-1] for u in ("U1", "U2", "U4"))
    async with bot.db.read() as conn:
        pending = (await conn.execute(select(due_items.c.key).where(due_items.c.done_at.is_(None)))).scalars().all()
    assert pending == []
    [reply] = await click(bot, "conf:yes", conf.id, "U5")
    assert isinstance(reply, Reply) and "inställd" in text(reply.message)


# --- calendar files and daylight-saving time ---------------------------------------------------------

def parse_ics(content: bytes) -> Calendar:
    return Calendar.from_ical(content)


async def test_ics_parses_back_with_stable_uid_sequence_and_cancellation(bot: Bot) -> None:
    conf = await create(bot, local(2026, 3, 10, 9), location="Aulan, Lunaskolan")
    [file] = await click(bot, "conf:ics", conf.id, "U1")
    assert isinstance(file, SendFile) and file.filename.endswith(".ics")
    cal = parse_ics(file.content)
    [event] = cal.walk("VEVENT")
    [vtimezone] = cal.walk("VTIMEZONE")
    assert str(vtimezone["TZID"]) == "Europe/Stockholm" and str(cal["METHOD"]) == "PUBLISH"
    assert str(event["UID"]) == conf.uid and int(event["SEQUENCE"]) == 0
    assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert event.decoded("DTSTART").astimezone(UTC) == datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    assert str(event["LOCATION"]) == "Aulan, Lunaskolan"
    assert "https://example.org/material-1" in str(event["DESCRIPTION"])

    await submit(bot, "conf:edit", meeting_values(local(2026, 3, 10, 10)), metadata=str(conf.id))
    await submit(bot, "conf:cancel", {"reason": None}, metadata=str(conf.id))
    [file] = await click(bot, "conf:ics", conf.id, "U1")
    cal = parse_ics(file.content)
    [event] = cal.walk("VEVENT")
    assert str(cal["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == conf.uid and int(event["SEQUENCE"]) == 2


@pytest.mark.parametrize("day,utc_hour", [(local(2026, 3, 30), 7), (local(2026, 10, 26), 8)])
async def test_nine_oclock_stays_nine_oclock_after_the_daylight_saving_change(
        bot: Bot, clock: FakeClock, day: datetime, utc_hour: int) -> None:
    """The Monday after the last Sunday of March (CEST, UTC+2) and of October (CET, UTC+1)."""
    clock.set(day - timedelta(days=3))  # the meeting is created before the change
    conf = await create(bot, day)
    assert conf.start_at == datetime(day.year, day.month, day.day, utc_hour, tzinfo=UTC)
    [file] = await click(bot, "conf:ics", conf.id, "U1")
    [event] = parse_ics(file.content).walk("VEVENT")
    start = event.decoded("DTSTART")
    assert (start.hour, start.minute) == (9, 0) and start.astimezone(UTC).hour == utc_hour
    assert b"DTSTART;TZID=Europe/Stockholm:" + day.strftime("%Y%m%d").encode() + b"T090000" in file.content
    async with bot.db.read() as conn:
        due = (await conn.execute(select(due_items.c.due_at).where(due_items.c.kind == "conf.reminder")
                                  .order_by(due_items.c.due_at))).scalars().all()
    assert [d.replace(tzinfo=UTC) for d in due] == [conf.start_at - timedelta(hours=24),
                                                    conf.start_at - timedelta(hours=1)]


def test_series_dates_keep_the_local_time_across_both_changes() -> None:
    [template] = [t for t in load_templates(Path("content")) if t.id == "framtidsrustad-process-meetings"]
    spring = propose(template, local(2026, 3, 23, 9), TZ)  # CET, then CEST from March 29
    autumn = propose(template, local(2026, 10, 19, 9), TZ)  # CEST, then CET from October 25
    for series in (spring, autumn):
        assert [p.start_at.astimezone(TZ).strftime("%H:%M %a") for p in series] == ["09:00 Mon"] * 5
    assert spring[0].start_at.hour == 8 and spring[1].start_at.hour == 7
    assert autumn[0].start_at.hour == 7 and autumn[1].start_at.hour == 8


# --- series -------------------------------------------------------------------------------------------

async def test_series_creates_five_meetings_and_one_can_be_edited_alone(
        bot: Bot, tmp_path: Path, clock: FakeClock) -> None:
    sent = recorder(bot, tmp_path)
    [form] = await handle_command(bot, await bot.actor(LEAD), CommandRequest(text="träffserie"))
    assert isinstance(form, OpenForm) and form.form.callback == "conf:series"
    values = {"template": "framtidsrustad-process-meetings", "unit": "Lunaskolan", "start": local(2026, 3, 23, 13),
              "location": "Personalrummet", "capacity": None, "channels": ["CSTAFF"], "people": [], "announce": []}
    [reply] = await submit(bot, "conf:series", values)
    assert isinstance(reply, Reply) and "5 träffar" in text(reply.message)
    meetings = await all_meetings(bot)
    assert len(meetings) == 5 and len({m.series_id for m in meetings}) == 1
    assert [m.series_index for m in meetings] == [1, 2, 3, 4, 5]
    assert all(m.start_at.astimezone(TZ).strftime("%H:%M") == "13:00" for m in meetings)
    assert all(m.material and m.description and m.announced_at is None for m in meetings)
    assert meetings[0].title.startswith("Processträff 1 av 5")
    assert sent.posts == []  # not announced until the lead says so

    second = meetings[1]
    await submit(bot, "conf:edit", meeting_values(local(2026, 6, 1, 10), title=second.title,
                                                  material=""), metadata=str(second.id))
    after = await all_meetings(bot)
    assert after[1].start_at == local(2026, 6, 1, 10).astimezone(UTC) and after[1].sequence == 1
    assert [m.model_dump() for i, m in enumerate(after) if i != 1] == \
        [m.model_dump() for i, m in enumerate(meetings) if i != 1]

    [reply] = await click(bot, "conf:announce", meetings[0].id, LEAD)
    assert isinstance(reply, Reply) and [c for c, _, _ in sent.posts] == ["CSTAFF"]
    [again] = await click(bot, "conf:announce", meetings[0].id, LEAD)
    assert isinstance(again, Reply) and "redan skickad" in text(again.message)


async def test_series_form_errors(bot: Bot) -> None:
    [errors] = await submit(bot, "conf:series", {"template": "nope", "unit": None, "start": local(2026, 3, 1, 9)})
    assert isinstance(errors, FormErrors) and set(errors.errors) == {"template", "unit", "start"}


# --- attendee list, CSV, where people see their meetings, evaluation -----------------------------------

async def test_attendee_list_and_csv_for_the_lead(bot: Bot) -> None:
    conf = await create(bot, local(2026, 3, 10, 9), capacity="1", title="=HYPERLINK(\"x\")", people=["U4"])
    await service.rsvp(bot, "U1", conf.id, Answer.yes)
    await service.rsvp(bot, "U2", conf.id, Answer.yes)
    await service.rsvp(bot, "U3", conf.id, Answer.no)
    [document] = await click(bot, "conf:attendees", conf.id, LEAD)
    assert isinstance(document, ShowDocument)
    shown = text(document.message)
    assert "Kommer (1 av 1)" in shown and "1. @U2" in shown and "Kan inte (1)" in shown
    assert "Inbjudna: 1 · Har inte svarat: 0" in shown or "Inbjudna: 1" in shown
    [file] = await click(bot, "conf:csv", conf.id, LEAD)
    assert isinstance(file, SendFile) and file.filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(file.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Träff" and [r[6:8] for r in rows[1:]] == [["U1", "Kommer"], ["U2", "Väntelista, plats 1"],
                                                                    ["U3", "Kan inte"]]
    assert rows[1][0].startswith("'=")  # no formula injection in Excel


async def test_list_home_and_next_meetings_show_the_users_answer(bot: Bot, tmp_path: Path) -> None:
    sent = recorder(bot, tmp_path)
    first = await create(bot, local(2026, 3, 10, 9), people=["U1"])
    second = await create(bot, local(2026, 4, 14, 9), title="Processträff 2", people=["U1"])
    await create(bot, local(2026, 5, 5, 9), title="Inte för U1")
    await service.rsvp(bot, "U1", second.id, Answer.maybe)
    user = await bot.actor("U1")
    meetings = await api.next_meetings(bot, user, limit=3)
    assert [(m.id, m.answer) for m in meetings] == [(first.id, None), (second.id, Answer.maybe)]
    assert "Processträff 2" in await api.next_meetings_text(bot, user)
    [reply] = await handle_command(bot, user, CommandRequest(text="konferenser"))
    assert isinstance(reply, Reply)
    shown = text(reply.message)
    assert "Ditt svar: Inte svarat än" in shown and "Ditt svar: Kanske" in shown and "Inte för U1" not in shown
    assert "conf:edit" not in shown
    [lead_reply] = await handle_command(bot, await bot.actor(LEAD), CommandRequest(text="träffar"))
    assert isinstance(lead_reply, Reply) and "Inte för U1" in text(lead_reply.message)
    assert "conf:edit" in text(lead_reply.message)
    home = " ".join(str(b) for b in await home_blocks(bot, user))
    assert "Processträff 2" in home and "Kanske" in home
    await click(bot, "conf:yes", first.id, "U1", channel=None, ts=None)  # clicked in App Home
    [(home_user, republished)] = sent.homes
    assert home_user == "U1" and "Ditt svar: Kommer" in text(republished)


async def test_evaluation_survey_goes_to_attendees_when_the_meeting_ends(bot: Bot, clock: FakeClock) -> None:
    from bot.surveys import delivery as survey_delivery
    from bot.surveys import service as survey_service
    from bot.surveys.models import Audience, QuestionDraft, QuestionKind, SurveyDraft
    from bot.users import Actor, Role

    lead = Actor(user_id=LEAD, role=Role.lead)
    survey_id = await survey_service.create_survey(bot.db, lead, SurveyDraft(
        title="Utvärdering", audience=Audience(users=[LEAD]),
        questions=[QuestionDraft(kind=QuestionKind.scale5, text="Hur var träffen?")]), bot.clock.now())
    await survey_delivery.open_survey(bot, survey_id, bot.clock.now())
    conf = await create(bot, local(2026, 3, 10, 9), survey=str(survey_id))
    await service.rsvp(bot, "U1", conf.id, Answer.yes)
    await service.rsvp(bot, "U2", conf.id, Answer.no)

    async def sent_to() -> list[str]:
        async with bot.db.read() as conn:
            rows = (await conn.execute(select(due_items.c.payload).where(due_items.c.kind == "survey.send"))).all()
        return sorted(str(row.payload["user"]) for row in rows)

    await run_all_due(bot, conf.end_at - timedelta(minutes=1))
    assert "U1" not in await sent_to()
    await run_all_due(bot, conf.end_at)
    assert "U1" in await sent_to() and "U2" not in await sent_to()  # attendees only
    before = await sent_to()
    await run_all_due(bot, conf.end_at + timedelta(days=1))
    assert await sent_to() == before  # once


# --- CLI, console, locale files --------------------------------------------------------------------------

async def test_cli_exports_upcoming_meetings_as_ics_and_attendance_as_csv(
        bot: Bot, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli import main

    real_now = datetime.now(UTC)
    clock.set(real_now)
    soon = (real_now + timedelta(days=10)).astimezone(TZ).replace(hour=9, minute=0, second=0, microsecond=0)
    first = await create(bot, soon)
    second = await create(bot, soon + timedelta(days=7), unit="Solskolan")
    cancelled = await create(bot, soon + timedelta(days=14), unit="Månskolan")
    await submit(bot, "conf:cancel", {"reason": None}, metadata=str(cancelled.id))
    await service.rsvp(bot, "U1", first.id, Answer.yes)
    await bot.stop()
    monkeypatch.setenv("DATABASE_URL", bot.settings.database_url)
    monkeypatch.chdir(tmp_path)
    ics_path, csv_path = tmp_path / "out" / "meetings.ics", tmp_path / "out" / "attendance.csv"
    code = await asyncio.to_thread(main, ["export", "conferences", "--ics", str(ics_path), "--csv", str(csv_path)])
    assert code == 0
    cal = Calendar.from_ical(ics_path.read_bytes())
    assert sorted(str(e["UID"]) for e in cal.walk("VEVENT")) == sorted([first.uid, second.uid])
    assert len(cal.walk("VTIMEZONE")) == 1
    rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert len(rows) == 1 + 3 and ["U1", "Kommer"] == rows[1][6:8]


async def test_console_walk_through_create_answer_and_calendar(bot: Bot, tmp_path: Path) -> None:
    from bot.console import Console, ConsoleMessenger

    lines: list[str] = []
    inputs = iter([
        "/syv konferens",
        "Uppstartskonferens Partille", "1", "Partille", "2026-03-16 13:00", "2026-03-16 16:00", "Kulturhuset",
        "", "Gemensam grund för personalen.", "", "Program | https://example.org/program", "", "", "", "", "",
        "/syv konferenser", "1", "/syv konferenser", "4", "hem", "quit"])

    async def read(prompt: str) -> str | None:
        return next(inputs, None)

    messenger = ConsoleMessenger(lines.append, tmp_path / "console-files")
    bot.messenger = messenger
    await Console(bot, messenger, LEAD, read, lines.append).run()
    output = "\n".join(lines)
    assert "Klart! Uppstartskonferens Partille är skapad (mån 16 mar 2026 13:00–16:00)." in output
    assert "Toppen, du är anmäld till Uppstartskonferens Partille" in output
    assert "Ditt svar: Kommer" in output
    [ics_file] = list((tmp_path / "console-files").glob("*.ics"))
    [event] = Calendar.from_ical(ics_file.read_bytes()).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Uppstartskonferens Partille"
    [conf] = await all_meetings(bot)
    assert conf.kind.value == "startup" and conf.capacity is None


def test_locale_files_have_the_same_keys_and_placeholders() -> None:
    def flat(node: Any, prefix: str = "") -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in node.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(flat(value, name) if isinstance(value, dict) else {name: str(value)})
        return out

    sv = flat(yaml.safe_load(Path("content/locales/sv/conferences.yaml").read_text(encoding="utf-8")))
    en = flat(yaml.safe_load(Path("content/locales/en/conferences.yaml").read_text(encoding="utf-8")))
    assert sv.keys() == en.keys()
    assert {k: placeholders(v) for k, v in sv.items()} == {k: placeholders(v) for k, v in en.items()}
    assert sv["command.conference"] == "konferens" and en["command.conference"] == "conference"


async def test_rsvp_rows_are_unique_per_person(bot: Bot) -> None:
    conf = await create(bot, local(2026, 3, 10, 9))
    await asyncio.gather(*(service.rsvp(bot, "U1", conf.id, a) for a in (Answer.yes, Answer.no, Answer.maybe) * 4))
    async with bot.db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(conference_rsvps))).scalar() == 1
        assert (await conn.execute(select(conferences.c.sequence))).scalar() == 0


async def test_a_big_meeting_stays_within_slack_limits(bot: Bot) -> None:
    """300 answers: the attendee modal, the invitation and the lead's list all pass Block Kit validation."""
    from handlers.blocks import document_view, message_kwargs
    from tests.fakeslack import validate_blocks, validate_view

    conf = await create(bot, local(2026, 3, 10, 9), capacity="200", description="Lång text. " * 180,
                        material="\n".join(f"Del {n} | https://example.org/{n}" for n in range(10)))
    await asyncio.gather(*(service.rsvp(bot, f"U{n:03d}", conf.id, Answer.yes) for n in range(300)))
    [document] = await click(bot, "conf:attendees", conf.id, LEAD)
    assert isinstance(document, ShowDocument)
    validate_view(document_view(document.title, document.message, "Stäng"))
    assert "100. @U" in text(document.message)  # the whole waitlist, in order
    [listing] = await handle_command(bot, await bot.actor(LEAD), CommandRequest(text="konferenser"))
    assert isinstance(listing, Reply)
    validate_blocks(message_kwargs(listing.message)["blocks"])
    from bot.conferences.views import invitation

    async with bot.db.read() as conn:
        counts = await service.counts(conn, conf.id)
    validate_blocks(message_kwargs(invitation(conf, "sv", TZ, counts=counts))["blocks"])
    assert counts.yes == 200 and counts.waitlist == 100


def test_content_check_reports_broken_meeting_templates(tmp_path: Path) -> None:
    from bot.conferences.templates import check_templates
    from bot.settings import CONTENT_DIR

    assert check_templates(CONTENT_DIR / "meetings") == []
    good = next((CONTENT_DIR / "meetings").glob("*.yaml")).read_text(encoding="utf-8")
    (tmp_path / "copy.yaml").write_text(good, encoding="utf-8")
    (tmp_path / "broken.yaml").write_text(good.replace("https://", "ftp://"), encoding="utf-8")
    (tmp_path / "invalid.yaml").write_text("id: x\nmeetings: []\n", encoding="utf-8")
    problems = "\n".join(check_templates(tmp_path))
    assert "is also used by" in problems and "is not a web link" in problems
    assert "invalid.yaml: name: Field required" in problems


async def test_ics_status_follows_the_invitations_and_no_url_is_repeated(bot: Bot) -> None:
    quiet = await create(bot, local(2026, 3, 10, 9), material="https://www.skolverket.se/ | https://www.skolverket.se/")
    assert quiet.announced_at is None
    [file] = await click(bot, "conf:ics", quiet.id, LEAD)
    [event] = parse_ics(file.content).walk("VEVENT")
    assert str(event["STATUS"]) == "TENTATIVE"  # the invitations have not been sent
    description = str(event["DESCRIPTION"])
    assert description.count("https://www.skolverket.se/") == 1 and "skolverket.se/: https" not in description
    invited = await create(bot, local(2026, 3, 11, 9), people=["U2"])
    assert invited.announced_at is not None
    [file] = await click(bot, "conf:ics", invited.id, "U2")
    [event] = parse_ics(file.content).walk("VEVENT")
    assert str(event["STATUS"]) == "CONFIRMED"


async def test_a_personal_calendar_feed_follows_moved_and_cancelled_meetings(bot: Bot, db_path: Path) -> None:
    from aiohttp import ClientSession, web

    from bot.conferences.tables import calendar_feeds
    from bot.interactions import CommandRequest
    from bot.runtime import handle_command
    from bot.web.app import pupil_app

    conf = await create(bot, local(2026, 3, 10, 9), people=["U2"])
    other = await create(bot, local(2026, 3, 12, 9), people=["U3"])
    replies = await handle_command(bot, await bot.actor("U2"), CommandRequest(text="kalender"))
    shown = text(replies[0].message)  # type: ignore[union-attr]
    found = re.search(r"https?://[^\s\"|>]+/cal/([A-Za-z0-9_-]+)\.ics", shown)
    assert found is not None and "Outlook" in shown and "Google" in shown
    token = found.group(1)
    async with bot.db.read() as conn:
        stored = (await conn.execute(select(calendar_feeds))).mappings().all()
    assert [r["user_id"] for r in stored] == ["U2"] and token not in str([dict(r) for r in stored])

    runner = web.AppRunner(pupil_app(bot))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    try:
        async with ClientSession() as session:
            async def feed() -> Calendar:
                async with session.get(f"{base}/cal/{token}.ics") as resp:
                    assert resp.status == 200 and resp.content_type == "text/calendar"
                    return parse_ics(await resp.read())

            cal = await feed()
            assert str(cal["METHOD"]) == "PUBLISH" and str(cal["X-WR-CALNAME"]) == "SAMSYV-träffar"
            assert [str(e["UID"]) for e in cal.walk("VEVENT")] == [conf.uid]  # only U2's meeting, not U3's
            await submit(bot, "conf:edit", meeting_values(local(2026, 3, 10, 13), people=["U2"]),
                         metadata=str(conf.id))
            [event] = (await feed()).walk("VEVENT")
            assert event.decoded("DTSTART").hour == 13 and int(event["SEQUENCE"]) == 1
            await submit(bot, "conf:cancel", {"reason": None}, metadata=str(conf.id))
            [event] = (await feed()).walk("VEVENT")
            assert str(event["STATUS"]) == "CANCELLED"
            async with session.get(f"{base}/cal/{'A' * 32}.ics") as unknown:
                assert unknown.status == 404
            # A new address retires the old one.
            await handle_command(bot, await bot.actor("U2"), CommandRequest(text="kalender"))
            async with session.get(f"{base}/cal/{token}.ics") as retired:
                assert retired.status == 404
    finally:
        await runner.cleanup()
    assert other.uid != conf.uid
