"""Several instances on one database behave as one: no double answers, no double sends, one pace."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from bot.clock import FakeClock
from bot.db import Database
from bot.db.schema import due_items
from bot.messaging import LogMessenger
from bot.questions.tables import question_log
from bot.runtime import Bot
from bot.scheduler import run_due, schedule
from bot.settings import Settings
from tests.conftest import SlackDriver, make_settings, serving, sign, text_of
from tests.fakeslack import FakeSlack


@asynccontextmanager
async def instance(settings: Settings, fake_slack: FakeSlack, clock: FakeClock,
                   search_index: tuple[Any, tuple[int, float]]) -> AsyncIterator[SlackDriver]:
    """One more HTTP instance of the bot over the same database, on its own port."""
    from bot.questions.service import install_engine

    other = Bot(settings=settings, db=Database(settings.database_url), messenger=LogMessenger(),
                clock=clock)
    install_engine(other, *search_index)
    await other.start()
    try:
        async with serving(other, settings, fake_slack) as driver:
            yield driver
    finally:
        await other.stop()


async def test_a_retried_event_is_answered_once_across_instances(
        slack: SlackDriver, settings: Settings, fake_slack: FakeSlack, clock: FakeClock,
        search_index: tuple[Any, tuple[int, float]]) -> None:
    body = json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": "EvRETRY1",
                       "event_time": int(time.time()),
                       "event": {"type": "message", "channel_type": "im", "channel": "D1", "user": "U5",
                                 "text": "är prao obligatoriskt?", "ts": "1700000000.000009"}}).encode()
    first = await slack.post(body, "application/json")
    assert first.status == 200
    await fake_slack.wait_for("chat.postMessage")
    async with instance(settings, fake_slack, clock, search_index) as second:
        for retry in ("1", "2"):
            again = await second.post(body, "application/json", headers={**sign(body), "X-Slack-Retry-Num": retry,
                                                                           "X-Slack-Retry-Reason": "http_timeout"})
            assert again.status == 200
        duplicate = await slack.post(body, "application/json")
        assert duplicate.status == 200
        await asyncio.sleep(0.3)
    assert len(fake_slack.of("chat.postMessage")) == 1, "one answer, however often Slack delivers the event"
    async with slack.bot.db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(question_log))).scalar() == 1


@asynccontextmanager
async def two_loops(settings: Settings, clock: FakeClock, items: int) -> AsyncIterator[tuple[list[Bot], list[float]]]:
    """Two core instances over one database and `items` paced due items scheduled by both of them;
    yields the instances and the wall-clock times of the sends (filled in as they run)."""
    sent_at: dict[str, float] = {}

    async def record(bot: Bot, payload: dict[str, object], due_at: object) -> None:
        assert str(payload["n"]) not in sent_at, "sent twice"
        sent_at[str(payload["n"])] = time.time()

    bots = [Bot(settings=settings, db=Database(settings.database_url), messenger=LogMessenger(),
                clock=clock) for _ in range(2)]
    for bot in bots:
        bot.registry.due("test.region", record, paced=True)
    try:
        async def plan(bot: Bot) -> None:
            for n in range(items):
                async with bot.db.write() as conn:
                    await schedule(conn, "test.region", f"test:region:{n}", clock.now(), {"n": n})

        await asyncio.gather(*(plan(bot) for bot in bots))  # the same keys from both: no unique-key error
        times: list[float] = []
        yield bots, times
        times.extend(sorted(sent_at.values()))
        assert sorted(sent_at, key=int) == [str(n) for n in range(items)], "each item exactly once"
        async with bots[0].db.read() as conn:
            pending = (await conn.execute(select(func.count()).select_from(due_items).where(
                due_items.c.key.startswith("test:region:"), due_items.c.done_at.is_(None)))).scalar()
        assert pending == 0
    finally:
        for bot in bots:
            await bot.db.dispose()


async def test_two_instances_scheduling_and_running_the_same_items_send_each_once(
        settings: Settings, clock: FakeClock) -> None:
    async with two_loops(settings, clock, 30) as (bots, _):
        ran = await asyncio.gather(*(run_due(bot, clock.now() + timedelta(seconds=1)) for bot in bots))
        assert sum(ran) == 30


async def test_two_instances_share_one_dm_pace(db_url: str, clock: FakeClock) -> None:
    per_second = 25.0
    settings = make_settings(db_url, dm_per_second=per_second)
    async with two_loops(settings, clock, 20) as (bots, times):
        started = time.time()  # no slot is earlier: the k-th slot is at least k intervals later
        ran = await asyncio.gather(*(run_due(bot, clock.now() + timedelta(seconds=1)) for bot in bots))
        assert min(ran) > 0, "both instances took a share of the work"
    # From the start, not from the first send: a busy machine may send the first one late.
    span = times[-1] - started
    assert span >= 19 / per_second * 0.98, f"20 sends at {per_second}/s in total took only {span:.2f} s"


async def test_a_burst_over_two_instances_updates_the_count_in_order_and_coalesced(
        slack: SlackDriver, settings: Settings, fake_slack: FakeSlack, clock: FakeClock,
        search_index: tuple[Any, tuple[int, float]]) -> None:
    import re

    from bot.surveys.tables import survey_messages

    await slack.command("poll “Vilken dag passar?” “Tisdag” “Torsdag”", channel="C1")
    [post] = await fake_slack.wait_for("chat.postMessage")
    ts = None
    while ts is None:  # the post's ts is stored right after chat.postMessage returns
        async with slack.bot.db.read() as conn:
            ts = (await conn.execute(select(survey_messages.c.ts))).scalar()
        await asyncio.sleep(0.01)
    blocks = post["blocks"] if isinstance(post["blocks"], list) else json.loads(post["blocks"])
    button = next(e for b in blocks if b.get("type") == "actions" for e in b["elements"])
    taps = 40
    async with instance(settings, fake_slack, clock, search_index) as second:
        started = time.monotonic()
        drivers = (slack, second)
        responses = await asyncio.gather(*(drivers[n % 2].click(button["action_id"], button["value"], user=f"U{n:03d}",
                                                                channel="C1", message_ts=ts) for n in range(taps)))
        assert {r.status for r in responses} == {200}
        await asyncio.gather(slack.bot.coalescer.drain(), second.bot.coalescer.drain())
        elapsed = time.monotonic() - started
    shown = [int(m.group(1)) for u in fake_slack.of("chat.update") if u["ts"] == ts
             for m in [re.search(r"(\d+) svar", text_of(u))] if m]
    from bot.surveys.tables import survey_answers
    async with slack.bot.db.read() as conn:
        stored = (await conn.execute(select(func.count()).select_from(survey_answers))).scalar()
    assert stored == taps, "stored = acknowledged"
    assert shown and shown[-1] == taps, shown
    assert shown == sorted(shown), f"a count went backwards: {shown}"
    assert len(shown) <= elapsed / settings.update_interval_seconds + 2, (len(shown), elapsed)


async def test_a_content_reload_on_one_instance_reaches_the_other(bot: Bot, settings: Settings,
                                                                  clock: FakeClock) -> None:
    from bot.questions import service

    other = Bot(settings=settings, db=Database(settings.database_url), messenger=LogMessenger(), clock=clock)
    try:
        before = await service.engine_for(other)
        await service.reload_everywhere(bot)
        other.state[service.CHECKED_AT] = 0.0  # its next periodic check is due
        after = await service.engine_for(other)
        assert after is not before, "the other instance rebuilt its index"
        assert await service.engine_for(other) is after, "and only once"
    finally:
        await other.db.dispose()


async def test_pupil_page_limits_hold_across_instances_per_link(bot: Bot, settings: Settings) -> None:
    from bot.web.ratelimit import SharedRateLimiter

    clock = [1_000_000.0]
    other_db = Database(settings.database_url)
    try:
        limiters = [SharedRateLimiter(db, "post", 3, now=lambda: clock[0]) for db in (bot.db, other_db)]
        verdicts = [await limiters[n % 2].allow("token-a", "192.0.2.7") for n in range(5)]
        assert verdicts == [True, True, True, False, False], "three in total, not three per instance"
        assert await limiters[1].allow("token-b", "192.0.2.7"), "another link has its own budget"
        clock[0] += 60
        assert await limiters[0].allow("token-a", "192.0.2.7"), "the next minute starts afresh"
    finally:
        await other_db.dispose()


def test_x_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    from aiohttp.test_utils import make_mocked_request

    from bot.web.security import client_ip, parse_proxies

    def seen(peer: str, forwarded: str, trusted: str) -> str:
        request = make_mocked_request("GET", "/s/x", headers={"X-Forwarded-For": forwarded}).clone(remote=peer)
        return client_ip(request, parse_proxies(trusted))

    assert seen("10.0.0.2", "203.0.113.9", "") == "10.0.0.2", "empty TRUSTED_PROXIES: the header is ignored"
    assert seen("192.168.1.5", "203.0.113.9", "10.0.0.0/8") == "192.168.1.5", "a private address is not enough"
    assert seen("10.0.0.2", "203.0.113.9", "10.0.0.0/8") == "203.0.113.9"
    assert seen("10.0.0.2", "6.6.6.6, 203.0.113.9, 10.0.0.3", "10.0.0.0/8") == "203.0.113.9", \
        "a client's made-up first hop is not believed"


async def test_healthz_reports_the_database_and_how_late_due_items_are(bot: Bot, clock: FakeClock) -> None:
    import aiohttp

    from bot.web.app import pupil_app

    async with bot.db.write() as conn:
        await schedule(conn, "test.never", "test:late", clock.now() - timedelta(seconds=90), {})
    runner = web.AppRunner(pupil_app(bot))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
                report = await response.json()
            assert report["database"] == "ok" and report["due_waiting"] >= 1 and report["due_lag_seconds"] >= 90
            assert report["questions_answered_lexically_busy"] >= 0
            await bot.db.dispose()
            bot.db.engine = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")  # unreachable
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 503 and (await response.json())["database"] == "unreachable"
    finally:
        await runner.cleanup()


async def test_an_instance_that_died_mid_batch_leaves_its_claim_to_be_taken_over(
        settings: Settings, clock: FakeClock) -> None:
    from bot.scheduler import CLAIM_TIMEOUT, _claim

    async with two_loops(settings, clock, 1) as (bots, _):
        dead, alive = bots
        async with alive.db.read() as conn:
            item = (await conn.execute(select(due_items.c.id).where(due_items.c.key == "test:region:0"))).scalar_one()
        assert (await _claim(dead, item, clock.now(), paced=False)).won  # claimed, then the instance died before running it
        assert await run_due(alive, clock.now() + CLAIM_TIMEOUT / 2) == 0, "a live claim is respected"
        assert await run_due(alive, clock.now() + CLAIM_TIMEOUT + timedelta(seconds=1)) == 1, "then taken over"
