"""The whole conferences flow through Slack: signed requests in, the fake Web API out."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from icalendar import Calendar

from bot.conferences import service
from bot.scheduler import run_due
from tests.conftest import LEAD, SlackDriver, text_of
from tests.fakeslack import FakeSlack
from tests.test_conferences_support import all_meetings


def view_of(call: dict[str, Any]) -> dict[str, Any]:
    view = call["view"]
    return json.loads(view) if isinstance(view, str) else view


def plain_input(value: str | None) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": value}}


def state(title: str | None = "Uppstartskonferens Partille", day: str = "2026-03-30", start: str = "09:00",
          end: str = "12:00", capacity: str | None = "3", channels: list[str] | None = None,
          people: list[str] | None = None) -> dict[str, Any]:
    """Slack's state.values for the create modal: date and time pickers are separate blocks."""
    return {
        "title": plain_input(title),
        "kind": {"value": {"type": "static_select", "selected_option": {"value": "startup"}}},
        "unit": plain_input("Partille"),
        "start": {"value": {"type": "datepicker", "selected_date": day}},
        "start__time": {"value": {"type": "timepicker", "selected_time": start}},
        "end": {"value": {"type": "datepicker", "selected_date": day}},
        "end__time": {"value": {"type": "timepicker", "selected_time": end}},
        "location": plain_input("Kulturum, Partille"),
        "capacity": plain_input(capacity),
        "description": plain_input("En gemensam grund för personalen."),
        "material": plain_input("Program | https://example.org/program"),
        "channels": {"value": {"type": "multi_channels_select", "selected_channels": channels or []}},
        "people": {"value": {"type": "multi_users_select", "selected_users": people or []}},
        "survey": plain_input(None),
        "allow_overlap": {"value": {"type": "checkboxes", "selected_options": []}},
    }


async def test_slack_create_announce_rsvp_coalesce_calendar_and_cancel(
        slack: SlackDriver, fake_slack: FakeSlack) -> None:
    bot = slack.bot
    fake_slack.members["CSTAFF"] = ["U1", "U2", "U3", "U4", "U5"]

    # The lead opens the modal with the slash command.
    await slack.command("konferens", user=LEAD)
    [opened] = await fake_slack.wait_for("views.open")
    view = view_of(opened)
    blocks = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert blocks["start"]["element"]["type"] == "datepicker"
    assert blocks["start__time"]["element"]["timezone"] == "Europe/Stockholm"

    # End before start: Slack gets response_action errors, next to the field; nothing is saved.
    response = await slack.submit(view, state(end="08:00", channels=["CSTAFF"]))
    body = await response.json()
    assert body["response_action"] == "errors" and "end" in body["errors"]
    assert await all_meetings(bot) == []

    # A forged submission of the same view by someone who is not a lead changes nothing.
    response = await slack.submit(view, state(channels=["CSTAFF"]), user="U1")
    body = await response.json()
    assert body["response_action"] == "errors" and "projektledare" in json.dumps(body, ensure_ascii=False)
    assert await all_meetings(bot) == []

    # A valid submission posts the invitation in the channel and DMs the invited person.
    response = await slack.submit(view, state(channels=["CSTAFF"], people=["U9"]))
    assert response.status == 200
    posts = await fake_slack.wait_for("chat.postMessage", 2)
    channel_post = next(p for p in posts if p["channel"] == "CSTAFF")
    assert "Uppstartskonferens Partille" in text_of(channel_post) and "conf:yes" in text_of(channel_post)
    assert any(p["channel"] == LEAD and "Klart!" in text_of(p) for p in posts)
    [conf] = await all_meetings(bot)
    assert conf.start_at.isoformat() == "2026-03-30T07:00:00+00:00"  # 09:00 CEST
    await run_due(bot, bot.clock.now())
    dms = await fake_slack.wait_for("chat.postMessage", 3)
    assert any(p["channel"] == "U9" and "Ditt svar" not in text_of(p) for p in dms)
    async with bot.db.read() as conn:
        refs = await service.message_refs(conn, conf.id)
    channel_ts = next(r["ts"] for r in refs if r["channel"] == "CSTAFF")

    # Five people click at once: three seats, two on the waitlist, and one coalesced count update.
    await asyncio.gather(*(slack.click("conf:yes", str(conf.id), user=f"U{n}", channel="CSTAFF",
                                       message_ts=channel_ts) for n in range(1, 6)))
    await bot.coalescer.drain()
    updates = [u for u in fake_slack.of("chat.update") if u["ts"] == channel_ts]
    assert 1 <= len(updates) < 5
    assert "Kommer: 3 av 3" in text_of(updates[-1]) and "Väntelista: 2" in text_of(updates[-1])
    replies = await fake_slack.wait_responses(5)
    assert sum("väntelistan som nummer" in text_of(r) for r in replies) == 2

    # Someone seated cancels: the first in line is promoted and told by DM.
    await slack.click("conf:no", str(conf.id), user="U1", channel="CSTAFF", message_ts=channel_ts)
    await fake_slack.wait_responses(6)
    async with bot.db.read() as conn:
        counts = await service.counts(conn, conf.id)
    assert (counts.yes, counts.waitlist, counts.no) == (3, 1, 1)
    await run_due(bot, bot.clock.now())
    promoted = [p for p in await fake_slack.wait_for("chat.postMessage", 4) if "En plats blev ledig" in text_of(p)]
    assert len(promoted) == 1

    # "Add to calendar" uploads the .ics file to the user.
    await slack.click("conf:ics", str(conf.id), user="U2", channel="CSTAFF", message_ts=channel_ts)
    [complete] = await fake_slack.wait_for("files.completeUploadExternal")
    [upload] = fake_slack.uploads.values()
    [event] = Calendar.from_ical(upload).walk("VEVENT")
    assert str(event["UID"]) == conf.uid and event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert complete["channel_id"] == "D2"

    # The lead sees the attendees (a modal) and cancels; the buttons disappear from the invitation.
    await slack.click("conf:attendees", str(conf.id), user=LEAD, channel="CSTAFF", message_ts=channel_ts)
    opened_views = await fake_slack.wait_for("views.open", 2)
    assert "Kommer (3 av 3)" in text_of(opened_views[-1])
    await slack.click("conf:cancel", str(conf.id), user=LEAD, channel="CSTAFF", message_ts=channel_ts)
    cancel_view = view_of((await fake_slack.wait_for("views.open", 3))[-1])
    assert cancel_view["callback_id"] == "conf:cancel"
    response = await slack.submit(cancel_view, {"reason": plain_input("Lokalen är inte tillgänglig")})
    assert response.status == 200
    await bot.coalescer.drain()
    last = [u for u in fake_slack.of("chat.update") if u["ts"] == channel_ts][-1]
    assert "INSTÄLLD" in text_of(last) and "conf:yes" not in text_of(last) and "conf:ics" in text_of(last)
    await run_due(bot, bot.clock.now())
    told = {p["channel"] for p in fake_slack.of("chat.postMessage") if "är inställd" in text_of(p)}
    assert told - {LEAD} == {"U1", "U2", "U3", "U4", "U5", "U9"}  # the lead got the confirmation


async def test_slack_list_and_forged_lead_buttons(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    await slack.command("konferens", user=LEAD)
    [opened] = await fake_slack.wait_for("views.open")
    await slack.submit(view_of(opened), state(people=["U1"]))
    await fake_slack.wait_for("chat.postMessage")
    [conf] = await all_meetings(slack.bot)
    for verb in ("edit", "cancel", "attendees", "csv", "announce"):
        await slack.click(f"conf:{verb}", str(conf.id), user="U1", channel="D1")
    replies = await fake_slack.wait_responses(5)
    assert all("projektledare" in text_of(r) for r in replies)
    assert len(fake_slack.of("views.open")) == 1 and fake_slack.of("files.completeUploadExternal") == []
    await slack.command("konferenser", user="U1")
    [*_, listing] = await fake_slack.wait_responses(6)
    assert "Uppstartskonferens Partille" in text_of(listing) and "conf:edit" not in text_of(listing)
    await slack.event({"type": "app_home_opened", "user": "U1", "tab": "home", "channel": "D1"})
    [home] = await fake_slack.wait_for("views.publish")
    assert "Uppstartskonferens Partille" in text_of(home)
