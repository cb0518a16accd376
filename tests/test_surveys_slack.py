"""Surveys through the real Slack stack: signed requests in, the fake Web API out."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from sqlalchemy import func, select

from bot.scheduler import run_due
from bot.surveys.tables import survey_answers, survey_messages, surveys
from tests.conftest import LEAD, SlackDriver, text_of
from tests.fakeslack import FakeSlack


def _actions(args: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = args.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return [e for b in blocks if b.get("type") == "actions" for e in b["elements"]]


async def _posted_ts(slack: SlackDriver) -> str:
    async with slack.bot.db.read() as conn:
        return str((await conn.execute(select(survey_messages.c.ts))).scalar())


async def _answer_rows(slack: SlackDriver) -> list[Any]:
    async with slack.bot.db.read() as conn:
        return list((await conn.execute(select(survey_answers))).mappings().all())


async def test_poll_click_update_close_and_summary(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    fake_slack.members["C1"] = ["U2", "U3", "U4"]
    await slack.command("poll “Vilken dag passar bäst för processmötet?” “Tisdag” “Torsdag”", channel="C1")
    [post] = await fake_slack.wait_for("chat.postMessage")
    assert post["channel"] == "C1"
    assert "Vilken dag passar bäst" in text_of(post) and "Anonym enkät" in text_of(post)
    buttons = _actions(post)
    assert [b["text"]["text"] for b in buttons] == ["Tisdag", "Torsdag"]
    [created] = await fake_slack.wait_responses(1)
    assert "är öppen" in text_of(created)
    post["ts"] = await _posted_ts(slack)

    # One tap: committed before the ack, ephemeral thanks via response_url.
    response = await slack.click(buttons[1]["action_id"], buttons[1]["value"], user="U2", channel="C1",
                                 message_ts=post["ts"])
    assert response.status == 200
    rows = await _answer_rows(slack)
    assert [(r["value"], r["user_id"]) for r in rows] == [("1", None)]
    replies = await fake_slack.wait_responses(2)
    assert "Tack!" in text_of(replies[-1]) and "Torsdag" in text_of(replies[-1])
    assert replies[-1].get("response_type") == "ephemeral"

    # A burst of taps becomes few coalesced chat.update calls, and the last one has the final count.
    await asyncio.gather(*(slack.click(buttons[0]["action_id"], buttons[0]["value"], user=u, channel="C1",
                                       message_ts=post["ts"]) for u in ("U3", "U4", "U5", "U6", "U7", "U8")))
    await slack.bot.coalescer.drain()
    updates = fake_slack.of("chat.update")
    assert 1 <= len(updates) < 7
    assert "7 svar" in text_of(updates[0 if len(updates) == 1 else -1]) and updates[-1]["ts"] == post["ts"]
    # Below the pupils' threshold not even the count is shown (issue 18).
    for update in updates:  # each shows the state when it is sent: "färre än 7 svar" or the full 7
        assert not re.search(r"(?<!än )\b[1-6] svar", text_of(update))

    # The lead closes it: message marked closed without buttons, summary and chart come as due items.
    survey_id = int(buttons[0]["value"].split(":")[0])
    await slack.click("survey:close", str(survey_id), user=LEAD, channel="C1")  # asks first
    await slack.click("survey:close_confirmed", str(survey_id), user=LEAD, channel="C1")
    closed_update = (await fake_slack.wait_for("chat.update", len(updates) + 1))[-1]
    assert "stängd" in text_of(closed_update) and _actions(closed_update) == []
    late = await slack.click(buttons[0]["action_id"], buttons[0]["value"], user="U9", channel="C1",
                             message_ts=post["ts"])
    assert late.status == 200
    await fake_slack.wait_response_with("enkäten är stängd")
    assert len(await _answer_rows(slack)) == 7

    await run_due(slack.bot, slack.bot.clock.now())
    await fake_slack.wait_for("files.completeUploadExternal")
    summary = [c for c in fake_slack.of("chat.postMessage") if c["channel"] == LEAD]
    assert summary and "Resultat" in text_of(summary[-1])
    assert "Tisdag: █████████ 6 (86\u00a0%)" in text_of(summary[-1]) and "Torsdag: █ 1 (14\u00a0%)" in text_of(summary[-1])
    assert fake_slack.of("files.getUploadURLExternal")[0].get("filename") == f"survey-{survey_id}.png", fake_slack.of("files.getUploadURLExternal")
    assert any(content.startswith(b"\x89PNG") for content in fake_slack.uploads.values())
    # Exactly once: running the due items again sends nothing more.
    calls = len(fake_slack.calls)
    await run_due(slack.bot, slack.bot.clock.now())
    assert len(fake_slack.calls) == calls


async def test_forged_payloads_from_non_leads_change_nothing(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    await slack.command('poll "Fråga?" "A" "B"', user="U3")
    [refused] = await fake_slack.wait_responses(1)
    assert "projektledare" in text_of(refused)
    await slack.command('poll "Fråga?" "A" "B"', user=LEAD)
    [post] = await fake_slack.wait_for("chat.postMessage")
    survey_id = int(_actions(post)[0]["value"].split(":")[0])
    await fake_slack.wait_responses(2)

    for action in ("survey:close", "survey:close_confirmed", "survey:nudge", "survey:results", "survey:stop"):
        await slack.click(action, str(survey_id), user="U3")
    await slack.command(f"resultat {survey_id}", user="U3")
    view = {"type": "modal", "callback_id": "survey:create", "title": {"type": "plain_text", "text": "x"},
            "blocks": [], "private_metadata": ""}
    await slack.submit(view, {
        "title": {"value": {"type": "plain_text_input", "value": "Smygenkät"}},
        "questions": {"value": {"type": "plain_text_input", "value": "Fråga? | ja/nej"}},
        "audience_channels": {"value": {"type": "multi_channels_select", "selected_channels": ["C9"]}},
    }, user="U3")
    replies = await fake_slack.wait_responses(7)
    assert all("projektledare" in text_of(r) for r in replies[2:7])
    async with slack.bot.db.read() as conn:
        rows = (await conn.execute(select(surveys.c.id, surveys.c.status))).all()
        assert (await conn.execute(select(func.count()).select_from(surveys))).scalar() == 1
    assert [tuple(r) for r in rows] == [(survey_id, "open")]
    assert fake_slack.of("files.getUploadURLExternal") == []
    assert fake_slack.of("chat.update") == []


def _view(args: dict[str, Any]) -> dict[str, Any]:
    view = args["view"]
    return json.loads(view) if isinstance(view, str) else view


def _state(**fields: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: {"value": element} for name, element in fields.items()}


async def test_survey_modal_to_dm_question_by_question(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    await slack.command("enkät", user=LEAD)
    [opened] = await fake_slack.wait_for("views.open")
    view = _view(opened)
    assert view["callback_id"] == "survey:create"
    base = _state(
        title={"type": "plain_text_input", "value": "Veckopuls"},
        audience_users={"type": "multi_users_select", "selected_users": ["U2", "U3"]},
        anonymity={"type": "radio_buttons", "selected_option": {"value": "confidential"}},
        closes_at={"type": "datepicker", "selected_date": "2026-03-03"},
        closes_at__time={"type": "timepicker", "selected_time": "09:00"},
        show_results={"type": "radio_buttons", "selected_option": {"value": "yes"}},
        repeat={"type": "radio_buttons", "selected_option": {"value": "none"}})
    bad = await slack.submit(view, {**base, **_state(questions={"type": "plain_text_input",
                                                                "value": "Vilket? | Ja; ja"})})
    body = await bad.json()
    assert body["response_action"] == "errors" and "likadana" in body["errors"]["questions"]
    async with slack.bot.db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(surveys))).scalar() == 0

    good = await slack.submit(view, {**base, **_state(questions={
        "type": "plain_text_input", "value": "Hur väl får du in vägledning? | skala: Inte alls - Mycket väl\n"
                                             "Har du haft prao? | ja/nej"})})
    assert good.status == 200
    created = await fake_slack.wait_for("chat.postMessage")
    assert created[0]["channel"] == LEAD and "är öppen" in text_of(created[0]) and "tis 3 mar 2026 09:00" in text_of(created[0])
    await run_due(slack.bot, slack.bot.clock.now())
    dms = [c for c in await fake_slack.wait_for("chat.postMessage", 3) if c["channel"] in ("U2", "U3")]
    assert len(dms) == 2 and "Fråga 1 av 2" in text_of(dms[0]) and "Konfidentiell enkät" in text_of(dms[0])
    step = next(b for b in _actions(dms[0]) if b["text"]["text"] == "4")
    await slack.click(step["action_id"], step["value"], user="U2", channel="D2", message_ts="1700000002.000100")
    [update] = await fake_slack.wait_for("chat.update")
    assert update["channel"] == "D2" and "Fråga 2 av 2" in text_of(update) and "Har du haft prao?" in text_of(update)
    [thanks] = await fake_slack.wait_responses(1)
    assert "Tack!" in text_of(thanks) and "För få svar för att visa" in text_of(thanks)

    form_button = next(b for b in _actions(update) if b["action_id"].startswith("survey:form"))
    await slack.click(form_button["action_id"], form_button["value"], user="U2", channel="D2")
    answer_view = _view((await fake_slack.wait_for("views.open", 2))[-1])
    assert answer_view["callback_id"] == "survey:answers"
    questions = [b for b in answer_view["blocks"] if b["type"] == "input"]
    assert questions[0]["element"]["initial_option"]["value"] == "4"
    await slack.submit(answer_view, {
        questions[0]["block_id"]: {"value": {"type": "radio_buttons", "selected_option": {"value": "5"}}},
        questions[1]["block_id"]: {"value": {"type": "radio_buttons", "selected_option": {"value": "yes"}}},
    }, user="U2")
    rows = await _answer_rows(slack)
    assert sorted((r["value"], r["user_id"]) for r in rows) == [("5", "U2"), ("yes", "U2")]
    # A question left blank keeps its earlier answer instead of failing the whole form.
    response = await slack.submit(answer_view, {
        questions[0]["block_id"]: {"value": {"type": "radio_buttons", "selected_option": {"value": "3"}}},
        questions[1]["block_id"]: {"value": {"type": "radio_buttons", "selected_option": None}},
    }, user="U2")
    assert response.status == 200
    rows = await _answer_rows(slack)
    assert sorted((r["value"], r["user_id"]) for r in rows) == [("3", "U2"), ("yes", "U2")]


async def test_concurrent_taps_by_one_person_leave_one_answer(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    await slack.command('poll "Fika på torsdag?" "Ja" "Nej"', channel="C1")
    [post] = await fake_slack.wait_for("chat.postMessage")
    buttons = _actions(post)
    ts = await _posted_ts(slack)
    await asyncio.gather(*(slack.click(buttons[i % 2]["action_id"], buttons[i % 2]["value"], user="U2",
                                       channel="C1", message_ts=ts) for i in range(8)))
    rows = await _answer_rows(slack)
    assert len(rows) == 1 and rows[0]["value"] in ("0", "1")
    await slack.bot.coalescer.drain()
    assert "färre än 7 svar" in text_of(fake_slack.of("chat.update")[-1])
