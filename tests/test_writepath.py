"""The answer write path: every acknowledged answer is stored, and nothing is stored half.

A SIGKILL of the real HTTP-mode bot in the middle of a burst, a database locked past the ack budget,
one person tapping eight times at once, and Slack retrying a tap that was already stored.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from sqlalchemy import select

from bot.db.writer import NotSaved
from bot.i18n import t
from bot.surveys import delivery, service
from bot.surveys.anonymity import respondent_hash
from bot.surveys.models import Audience, QuestionDraft, QuestionKind, Respondent, SurveyDraft
from bot.surveys.tables import survey_answers, survey_respondents
from bot.users import Actor, Role
from tests.conftest import LEAD, SIGNING_SECRET, SlackDriver, sign, text_of
from tests.fakeslack import FakeSlack

ROOT = Path(__file__).resolve().parent.parent
LEAD_ACTOR = Actor(user_id=LEAD, role=Role.lead)
NOT_SAVED = t("sv", "errors.not_saved")


async def open_survey(slack: SlackDriver, kind: QuestionKind = QuestionKind.single) -> tuple[int, int]:
    bot = slack.bot
    draft = SurveyDraft(title="Studiebesök", audience=Audience(channels=["C1"]), questions=[
        QuestionDraft(kind=kind, text="Vilken dag passar?", options=["Måndag", "Tisdag", "Onsdag"])])
    survey_id = await service.create_survey(bot.db, LEAD_ACTOR, draft, bot.clock.now())
    await delivery.open_survey(bot, survey_id, bot.clock.now())
    survey = await service.get_survey(bot.db, survey_id)
    return survey_id, survey.questions[0].id


async def stored(slack: SlackDriver, survey_id: int) -> tuple[list[str], int]:
    async with slack.bot.db.read() as conn:
        values = list((await conn.execute(select(survey_answers.c.value).where(
            survey_answers.c.survey_id == survey_id))).scalars())
        listed = len((await conn.execute(select(survey_respondents.c.respondent).where(
            survey_respondents.c.survey_id == survey_id))).all())
    return values, listed


def tap_payload(survey_id: int, question_id: int, raw: str, user: str, action_ts: str,
                response_url: str) -> bytes:
    return urlencode({"payload": json.dumps({
        "type": "block_actions", "user": {"id": user}, "team": {"id": "T1"}, "api_app_id": "A1",
        "channel": {"id": "C1"}, "trigger_id": "t", "response_url": response_url,
        "container": {"type": "message", "message_ts": "1700000001.000100", "channel_id": "C1"},
        "actions": [{"action_id": "survey:answer", "value": f"{survey_id}:{question_id}:{raw}", "type": "button",
                     "block_id": "b1", "action_ts": action_ts}]})}).encode()


async def test_a_database_locked_past_the_ack_budget_says_not_saved_and_stores_nothing(
        slack: SlackDriver, fake_slack: FakeSlack, db_path: Path) -> None:
    survey_id, question_id = await open_survey(slack)
    fake_slack.responses.clear()
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        started = time.monotonic()
        response = await slack.click("survey:answer", f"{survey_id}:{question_id}:1", user="U2", channel="C1")
        acked_after = time.monotonic() - started
        assert response.status == 200 and acked_after < 3.0  # inside Slack's limit
        [reply] = await fake_slack.wait_responses(1)
        assert NOT_SAVED in text_of(reply)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    await asyncio.sleep(0.5)  # a write kept pending would be committed now that the lock is free
    assert await stored(slack, survey_id) == ([], 0)
    # Tapping again once the database is free stores it and says thanks.
    response = await slack.click("survey:answer", f"{survey_id}:{question_id}:1", user="U2", channel="C1")
    assert response.status == 200
    assert await stored(slack, survey_id) == (["1"], 1)
    replies = await fake_slack.wait_responses(2)
    assert NOT_SAVED not in text_of(replies[-1]) and "Tisdag" in text_of(replies[-1])


async def test_a_write_past_its_deadline_is_refused_not_committed_later(slack: SlackDriver) -> None:
    from bot.db.writer import deadline

    survey_id, question_id = await open_survey(slack)
    with deadline(0.0):  # already spent: the writer must refuse it at once
        try:
            await service.record_answer(slack.bot.db, survey_id, question_id, Respondent(key="U9"), "0",
                                        slack.bot.clock.now())
            raise AssertionError("a late write was accepted")
        except NotSaved:
            pass
    await asyncio.sleep(0.2)
    assert await stored(slack, survey_id) == ([], 0)


async def test_one_person_tapping_eight_times_at_once_leaves_one_answer(slack: SlackDriver,
                                                                       fake_slack: FakeSlack) -> None:
    survey_id, question_id = await open_survey(slack)
    taps = [str(i % 3) for i in range(8)]
    responses = await asyncio.gather(*(slack.click("survey:answer", f"{survey_id}:{question_id}:{raw}", user="U2",
                                                   channel="C1") for raw in taps))
    assert [r.status for r in responses] == [200] * 8
    values, listed = await stored(slack, survey_id)
    assert len(values) == 1 and values[0] in taps and listed == 1
    # The last tap wins: one more, after the burst, replaces the answer instead of adding one.
    await slack.click("survey:answer", f"{survey_id}:{question_id}:2", user="U2", channel="C1")
    assert await stored(slack, survey_id) == (["2"], 1)
    replies = await fake_slack.wait_responses(9)
    assert not any(NOT_SAVED in text_of(r) for r in replies)


async def test_a_slack_retry_of_a_stored_tap_changes_nothing(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    survey_id, question_id = await open_survey(slack, QuestionKind.multi)
    body = tap_payload(survey_id, question_id, "t1", "U2", "1700000123.000001", fake_slack.response_url)
    first = await slack.post(body, "application/x-www-form-urlencoded")
    assert first.status == 200 and await stored(slack, survey_id) == (["1"], 1)
    # Slack did not see the ack in time and sends the same tap again: a second toggle would undo it.
    retried = await slack.post(body, "application/x-www-form-urlencoded",
                               headers={**sign(body), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "timeout"})
    assert retried.status == 200
    assert await stored(slack, survey_id) == (["1"], 1)
    # A new tap on the same option (its own action_ts) still toggles it off.
    again = tap_payload(survey_id, question_id, "t1", "U2", "1700000124.000001", fake_slack.response_url)
    await slack.post(again, "application/x-www-form-urlencoded")
    assert await stored(slack, survey_id) == ([], 0)


# --- a SIGKILL during a burst -------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _start_bot(db: Path, fake: FakeSlack) -> tuple[asyncio.subprocess.Process, str]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{db}", "SLACK_API_URL": fake.url,
           "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SIGNING_SECRET, "PROJECT_LEADS": LEAD,
           "PORT": str(port), "LOG_LEVEL": "WARNING", "GUIDANCE_CHANNEL": "CGUIDE",
           "SEMANTIC_RERANKER": "off"}  # taps only: the question model need not load
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", "--http", cwd=ROOT, env=env,
                                                   stdout=asyncio.subprocess.DEVNULL,
                                                   stderr=asyncio.subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            try:
                async with session.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return process, url
            except aiohttp.ClientError:
                pass
            assert process.returncode is None, "the bot exited; run it by hand to see why"
            await asyncio.sleep(0.05)
    raise AssertionError("the bot did not start")


async def _post(session: aiohttp.ClientSession, url: str, body: bytes) -> int:
    try:
        async with session.post(f"{url}/slack/events", data=body, headers={
                "Content-Type": "application/x-www-form-urlencoded", **sign(body)}) as response:
            await response.read()
            return response.status
    except (aiohttp.ClientError, TimeoutError):
        return 0  # the bot was killed before it answered


async def _burst_with_kill(tmp: Path, template: Path, fake: FakeSlack, kill_after: int, taps: int = 100) -> None:
    db = tmp / f"kill-{kill_after}.db"
    shutil.copy(template, db)
    process, url = await _start_bot(db, fake)
    try:
        async with aiohttp.ClientSession() as session:
            command = urlencode({"team_id": "T1", "channel_id": "C1", "user_id": LEAD, "command": "/syv",
                                 "text": 'poll "Vilken dag?" "Måndag" "Tisdag"', "response_url": fake.response_url,
                                 "trigger_id": "t0"}).encode()
            assert await _post(session, url, command) == 200
            for _ in range(200):
                with sqlite3.connect(db) as conn:
                    row = conn.execute("SELECT s.id, q.id, k.secret FROM surveys s JOIN survey_questions q ON "
                                       "q.survey_id = s.id JOIN survey_keys k ON k.survey_id = s.id "
                                       "WHERE s.status = 'open'").fetchone()
                if row:
                    break
                await asyncio.sleep(0.05)
            survey_id, question_id, secret = row
            results: dict[str, int] = {}
            acked = asyncio.Event()

            async def tap(i: int) -> None:
                user = f"U{kill_after}x{i:03d}"
                body = tap_payload(survey_id, question_id, str(i % 2), user, f"1700000000.{i:06d}",
                                   fake.response_url)
                results[user] = await _post(session, url, body)
                if sum(1 for s in results.values() if s == 200) >= kill_after:
                    acked.set()

            tasks = [asyncio.create_task(tap(i)) for i in range(taps)]
            await asyncio.wait_for(acked.wait(), 30)
            process.send_signal(signal.SIGKILL)
            await process.wait()
            await asyncio.gather(*tasks)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    told_not_saved = sum(1 for r in fake.responses if NOT_SAVED in json.dumps(r, ensure_ascii=False))
    with sqlite3.connect(db) as conn:  # SQLite recovers the write-ahead log on open, as a restart would
        hashes = {r for (r,) in conn.execute("SELECT respondent FROM survey_answers WHERE survey_id = ?",
                                             (survey_id,))}
    acked_users = [u for u, status in results.items() if status == 200]
    missing = [u for u in acked_users if respondent_hash(secret, survey_id, u) not in hashes]
    assert len(acked_users) >= kill_after
    # Acknowledged and then lost is allowed only for a tap whose reply said it was not saved.
    assert len(missing) <= told_not_saved, f"acknowledged but lost: {missing}"


@pytest.mark.long
async def test_a_sigkill_during_a_burst_loses_no_acknowledged_answer(tmp_path: Path, migrated_template: Path) -> None:
    rng = random.Random(int(os.environ.get("KILL_SEED", "12")))

    async def one(kill_after: int) -> None:  # each bot process with its own database and fake Slack
        fake = FakeSlack()
        await fake.start()
        try:
            await _burst_with_kill(tmp_path, migrated_template, fake, kill_after)
        finally:
            await fake.stop()
        assert not fake.errors, f"Slack would have rejected: {fake.errors}"

    await asyncio.gather(*(one(k) for k in sorted(rng.sample(range(5, 95), 3))))
