"""The Slack side as people meet it: values the bot never sent, replies in their thread, channels the
bot is not in, and the Messages tab of a native app."""

from __future__ import annotations

from tests.conftest import LEAD, SlackDriver, text_of
from tests.fakeslack import FakeSlack


async def test_a_button_value_the_bot_never_sent_gets_a_clear_message(slack: SlackDriver,
                                                                      fake_slack: FakeSlack) -> None:
    for action in ("survey:answer", "conf:yes", "q:fb"):
        response = await slack.click(action, "9" * 10_000, user="U5")
        assert response.status == 200
    replies = await fake_slack.wait_responses(3)
    assert all("kunde jag inte läsa" in text_of(r) for r in replies)
    assert not fake_slack.of("chat.postMessage")  # not the generic "something went wrong" DM


async def test_an_overlong_question_is_answered_in_its_thread(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    await slack.event({"type": "message", "channel_type": "im", "channel": "D1", "user": "U5",
                       "text": "varför " * 2000, "ts": "1700000000.000009"})
    [reply] = await fake_slack.wait_for("chat.postMessage")
    assert reply["thread_ts"] == "1700000000.000009" and "för lång" in text_of(reply)


async def test_a_poll_in_a_channel_the_bot_is_not_in_tells_the_lead_what_to_do(slack: SlackDriver,
                                                                                fake_slack: FakeSlack) -> None:
    fake_slack.not_in.add("C7")
    await slack.command('poll "Fika på fredag?" "Ja" "Nej"', channel="C7")
    posts = await fake_slack.wait_for("chat.postMessage", 2)
    told = [p for p in posts if p["channel"] == LEAD]
    assert told and "Bjud in mig först: `/invite @SAMSYV`" in text_of(told[-1]) and "<#C7>" in text_of(told[-1])


async def test_first_visit_to_the_messages_tab_greets_once_with_three_questions(slack: SlackDriver,
                                                                               fake_slack: FakeSlack) -> None:
    for _ in range(2):
        await slack.event({"type": "app_home_opened", "user": "U5", "channel": "D5", "tab": "messages"})
    [welcome] = await fake_slack.wait_for("chat.postMessage")
    await slack.event({"type": "app_home_opened", "user": "U5", "channel": "D5", "tab": "messages"})
    assert welcome["channel"] == "U5" and "Hej! Jag är SAMSYV-boten" in text_of(welcome)
    blocks = welcome["blocks"] if isinstance(welcome["blocks"], list) else __import__("json").loads(welcome["blocks"])
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert [e["text"]["text"] for e in actions["elements"]] == [
        "Vad är prao?", "Hur söker man till gymnasiet?", "Vad är meritvärde?"]  # a pupil's questions
    await slack.click("q:suggested", actions["elements"][0]["value"], user="U5", channel="D5")
    [answer] = await fake_slack.wait_responses(1)
    assert "Prao" in text_of(answer)
    assert len(fake_slack.of("chat.postMessage")) == 1  # greeted once


async def test_an_assistant_thread_gets_suggested_prompts(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    await slack.event({"type": "assistant_thread_started", "assistant_thread": {
        "user_id": LEAD, "channel_id": "D9", "thread_ts": "1700000000.000100", "context": {}},
        "event_ts": "1700000000.000101"})
    [prompts] = await fake_slack.wait_for("assistant.threads.setSuggestedPrompts")
    shown = str(prompts["prompts"])
    assert "processträffarna" in shown and prompts["channel_id"] == "D9"


async def test_a_question_in_an_assistant_thread_shows_the_thinking_status(slack: SlackDriver,
                                                                          fake_slack: FakeSlack) -> None:
    await slack.event({"type": "message", "channel_type": "im", "channel": "D9", "user": "U5",
                       "text": "vad är prao?", "ts": "1700000000.000200", "thread_ts": "1700000000.000100"})
    [status] = await fake_slack.wait_for("assistant.threads.setStatus")
    assert status["status"] == "letar i kunskapsbanken…" and status["thread_ts"] == "1700000000.000100"
    [reply] = await fake_slack.wait_for("chat.postMessage")
    assert reply["thread_ts"] == "1700000000.000100" and "Prao" in text_of(reply)
    assert any(b.get("type") == "markdown" for b in reply["blocks"])  # the article in Slack's markdown block


async def test_one_channel_rule_in_every_form(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    from bot.interactions import FormSubmission
    from bot.runtime import handle_form
    from bot.surveys import service
    from bot.ui import FormErrors
    from bot.users import Actor, Role

    lead = Actor(user_id=LEAD, role=Role.lead)
    survey = {"title": "Puls", "questions": "Hur går det? | skala", "anonymity": "anonymous", "repeat": "none",
              "show_results": "no"}
    meeting = {"title": "Träff", "kind": "process", "start": "imorgon kl 9", "end": "imorgon kl 11"}
    for callback, values, field in (("survey:create", survey, "audience_channels"), ("conf:create", meeting, "channels")):
        refused = await handle_form(slack.bot, lead, FormSubmission(callback=callback,
                                                                    values={**values, field: ["#finns-inte"]}))
        [errors] = [o for o in refused if isinstance(o, FormErrors)]
        assert errors.errors[field] == 'Jag hittar ingen kanal "#finns-inte". Skriv kanalens namn som #syv-projekt ' \
                                       "(och bjud in mig där), eller välj kanalen i listan i Slack."
    for typed in ("#personal", "<#CPERSONAL|personal>", "CPERSONAL"):
        await handle_form(slack.bot, lead, FormSubmission(callback="survey:create",
                                                          values={**survey, "audience_channels": [typed]}))
    assert [s.audience.channels for s in await service.recent_surveys(slack.bot.db)] == [["CPERSONAL"]] * 3
    await handle_form(slack.bot, lead, FormSubmission(callback="conf:create",
                                                      values={**meeting, "channels": ["#syv-projekt"]}))
    posted = [c["channel"] for c in fake_slack.of("chat.postMessage")]
    assert "C0SYVPROJ" in posted and "CPERSONAL" in posted


async def test_the_bots_own_reply_in_an_assistant_thread_is_not_answered(slack: SlackDriver,
                                                                         fake_slack: FakeSlack) -> None:
    await slack.event({"type": "message", "channel_type": "im", "channel": "D9", "user": "UBOT", "bot_id": "BBOT",
                       "text": "Prao – praktisk arbetslivsorientering", "ts": "1700000000.000300",
                       "thread_ts": "1700000000.000100"})
    await slack.command("hjälp")  # something to wait for
    await fake_slack.wait_responses(1)
    assert not fake_slack.of("chat.postMessage") and not fake_slack.of("assistant.threads.setStatus")
