"""1,600 people: the survey and the nudges reach everyone as paced due items, through a 429."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from bot.db.schema import pacing
from bot.scheduler import IN_FLIGHT, run_due
from bot.surveys import delivery, service
from bot.surveys.models import Anonymity, Audience, QuestionDraft, QuestionKind, Respondent, SurveyDraft
from bot.users import Actor, Role
from tests.conftest import LEAD, SlackDriver, text_of
from tests.fakeslack import FakeSlack

LEAD_ACTOR = Actor(user_id=LEAD, role=Role.lead)
EVERYONE = [f"U{i:05d}" for i in range(1600)]


async def _drain(slack: SlackDriver) -> int:
    ran = 0
    while (batch := await run_due(slack.bot, slack.bot.clock.now())) > 0:
        ran += batch
    return ran


async def _open_to(slack: SlackDriver, fake_slack: FakeSlack, people: list[str]) -> int:
    """An anonymous one-question pulse to everyone in a channel of `people`, opened: its DMs are queued."""
    fake_slack.members["CALLA"] = people
    draft = SurveyDraft(title="Puls alla", anonymity=Anonymity.anonymous, audience=Audience(members_of=["CALLA"]),
                        questions=[QuestionDraft(kind=QuestionKind.yesno, text="Har du pratat om yrken i dag?")])
    bot = slack.bot
    survey_id = await service.create_survey(bot.db, LEAD_ACTOR, draft, bot.clock.now())
    await delivery.open_survey(bot, survey_id, bot.clock.now())
    return survey_id


def _dms(fake_slack: FakeSlack) -> list[dict[str, object]]:
    return [c for c in fake_slack.of("chat.postMessage") if str(c["channel"]).startswith("U")]


@pytest.mark.long
async def test_1600_members_get_the_survey_and_the_nudge_despite_a_429(slack: SlackDriver,
                                                                       fake_slack: FakeSlack) -> None:
    bot = slack.bot
    survey_id = await _open_to(slack, fake_slack, EVERYONE)
    assert await run_due(bot, bot.clock.now()) == 200  # one batch, then Slack says "slow down" once
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0)
    await _drain(slack)
    dms = _dms(fake_slack)
    assert len(dms) == 1600 and len({d["channel"] for d in dms}) == 1600
    assert [c.method for c in fake_slack.calls].count("chat.postMessage#429") == 1
    assert "Anonym enkät" in text_of(dms[0]) and "Har du pratat om yrken" in text_of(dms[0])

    survey = await service.get_survey(bot.db, survey_id)
    for person in EVERYONE[:100]:
        await service.record_answer(bot.db, survey_id, survey.questions[0].id, Respondent(key=person), "yes",
                                    bot.clock.now())
    await slack.click("survey:nudge", str(survey_id), user=LEAD)
    [reply] = await fake_slack.wait_responses(1, timeout=30)  # 1,500 nudges are queued before the reply
    assert "1500 personer" in text_of(reply)
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0)
    await _drain(slack)
    nudges = _dms(fake_slack)[1600:]
    assert len(nudges) == 1500 and {d["channel"] for d in nudges} == set(EVERYONE[100:])
    assert all("Påminnelse" in text_of(n) for n in nudges[:3])
    assert [c.method for c in fake_slack.calls].count("chat.postMessage#429") == 2


async def test_a_429_holds_every_paced_send_for_its_retry_after(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    """One DM answered "slow down, retry after 1 s": the sends still in flight finish, no new one starts
    before the pause is over (at 1,000 DMs/s, hundreds would), and the shared next slot moves past it."""
    bot = slack.bot
    await _open_to(slack, fake_slack, EVERYONE[:120])
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1)
    await _drain(slack)
    posts = [c for c in fake_slack.calls if c.method.startswith("chat.postMessage") and str(c.args["channel"]).startswith("U")]
    assert len([c for c in posts if c.method == "chat.postMessage"]) == 120
    limited = next(c.at for c in posts if c.method == "chat.postMessage#429")
    during = [c for c in posts if c.method == "chat.postMessage" and limited < c.at < limited + 0.95]
    # Those already in flight, and those started while the 429 travelled back, may still go: not 100 more.
    assert len(during) < 2 * IN_FLIGHT, f"{len(during)} DMs went out while Slack asked to wait"
    async with bot.db.read() as conn:
        next_slot = (await conn.execute(select(pacing.c.next_slot))).scalar_one()
    assert bot.send_hold.until <= next_slot and bot.send_hold.until > time.time() - 60
