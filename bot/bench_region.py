"""`make bench`, region part: two HTTP instances on one PostgreSQL database, as behind a load balancer.

1. A 1,000-tap burst on one poll, split over both instances: taps acknowledged vs answers stored, the
   final count shown, `chat.update` calls for the message, and whether a shown count ever went down.
2. 50 survey invitations and 20 reminders (nudges) with both instances' due-items loops running: each
   sent exactly once, and the combined rate against DM_PER_SECOND.

Runs against BENCH_POSTGRES_URL (default: the tests' TEST_POSTGRES_URL) in a fresh database that is
dropped afterwards; prints one line and exits 0 when no server is reachable. Figures are printed, not
asserted. Uses the tests' fake Slack Web API (run from the repository, as `make bench` does).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

TAPS = 1000
CONCURRENCY = 100
INVITES, REMINDERS = 50, 20
DM_PER_SECOND = 10.0
UPDATE_INTERVAL = 1.0
SECRET = "bench-signing-secret"
LEAD = "UBENCHLEAD"


def _plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Instance:
    """One bot process's worth: a Bot over the shared database, its Bolt app on its own port."""

    def __init__(self, settings: Any) -> None:
        from bot.db import Database
        from bot.runtime import Bot

        self.bot = Bot(settings=settings, db=Database(settings.database_url), messenger=None)  # type: ignore[arg-type]
        self.runner: web.AppRunner | None = None
        self.base = ""

    async def start(self, settings: Any) -> None:
        from bot.slack_main import http_app, make_app

        app = make_app(self.bot, settings, verify=True)
        await self.bot.start()
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
        self.runner = web.AppRunner(http_app(app, secret, self.bot), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        await self.bot.stop()


def _signed(body: bytes) -> dict[str, str]:
    import hashlib
    import hmac

    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}",
            "Content-Type": "application/x-www-form-urlencoded"}


def _tap(user: str, action_id: str, value: str, ts: str, response_url: str) -> bytes:
    payload = {"type": "block_actions", "user": {"id": user}, "team": {"id": "T1"}, "api_app_id": "A1",
               "channel": {"id": "CBENCH"}, "trigger_id": f"t-{user}", "response_url": response_url,
               "container": {"type": "message", "message_ts": ts, "channel_id": "CBENCH", "is_ephemeral": False},
               "actions": [{"action_id": action_id, "value": value, "type": "button", "block_id": "b1",
                            "action_ts": "1"}]}
    return urlencode({"payload": json.dumps(payload)}).encode()


async def _burst(fake: Any, instances: list[Instance], settings: Any) -> None:
    from bot.surveys.tables import survey_answers, survey_messages

    first = instances[0]
    body = urlencode({"token": "x", "team_id": "T1", "channel_id": "CBENCH", "user_id": LEAD, "command": "/syv",
                      "text": "poll “Passar tisdag?” “Ja” “Nej”", "response_url": fake.response_url,
                      "trigger_id": "t0"}).encode()
    async with aiohttp.ClientSession() as session:
        await session.post(f"{first.base}/slack/events", data=body, headers=_signed(body))
    [post] = await fake.wait_for("chat.postMessage", timeout=30)
    ts = None
    while ts is None:
        async with first.bot.db.read() as conn:
            ts = (await conn.execute(select(survey_messages.c.ts))).scalar()
        await asyncio.sleep(0.05)
    blocks = post["blocks"] if isinstance(post["blocks"], list) else json.loads(post["blocks"])
    button = next(e for b in blocks if b.get("type") == "actions" for e in b["elements"])

    gate = asyncio.Semaphore(CONCURRENCY)
    latencies: list[float] = []
    acked = 0

    async def tap(n: int, session: aiohttp.ClientSession) -> None:
        nonlocal acked
        body = _tap(f"UB{n:04d}", button["action_id"], button["value"], str(ts), fake.response_url)
        async with gate:
            started = time.perf_counter()
            async with session.post(f"{instances[n % 2].base}/slack/events", data=body, headers=_signed(body)) as r:
                await r.read()
                latencies.append(time.perf_counter() - started)
                acked += r.status == 200

    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:
        await asyncio.gather(*(tap(n, session) for n in range(TAPS)))
    burst_seconds = time.perf_counter() - started
    await asyncio.gather(*(i.bot.coalescer.drain() for i in instances))
    updates_done = time.perf_counter() - started
    async with first.bot.db.read() as conn:
        stored = (await conn.execute(select(func.count()).select_from(survey_answers))).scalar()
    shown = [int(m.group(1)) for u in fake.of("chat.update") if u.get("ts") == ts
             for m in [re.search(r"(\d+) svar", json.dumps(u, ensure_ascii=False))] if m]
    went_down = sum(1 for a, b in zip(shown, shown[1:], strict=False) if b < a)
    latencies.sort()
    print(f"  burst: {TAPS} taps over 2 instances in {burst_seconds:.1f} s "
          f"(ack p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {latencies[int(0.95 * len(latencies))] * 1000:.0f} ms, "
          f"max {latencies[-1] * 1000:.0f} ms)")
    print(f"  acknowledged {acked}, stored {stored}  ({'equal' if acked == stored else 'DIFFERENT'})")
    print(f"  chat.update for the message: {len(shown)} in {updates_done:.1f} s "
          f"(at most {updates_done / UPDATE_INTERVAL + 1:.0f} allowed at one per {UPDATE_INTERVAL:.0f} s); "
          f"final count {shown[-1] if shown else '-'} (stored {stored}); count went down {went_down} times")


async def _fan_out(fake: Any, instances: list[Instance]) -> None:
    from bot.scheduler import run_forever
    from bot.surveys import delivery, service
    from bot.surveys.models import Anonymity, Audience, QuestionDraft, QuestionKind, Respondent, SurveyDraft
    from bot.users import Actor, Role

    people = [f"UF{i:03d}" for i in range(INVITES)]
    lead = Actor(user_id=LEAD, role=Role.lead)
    bot = instances[0].bot
    draft = SurveyDraft(title="Puls", anonymity=Anonymity.anonymous, audience=Audience(users=people),
                        questions=[QuestionDraft(kind=QuestionKind.yesno, text="Har du pratat om yrken i dag?")])
    survey_id = await service.create_survey(bot.db, lead, draft, bot.clock.now())
    times: list[float] = []

    def dms() -> list[dict[str, Any]]:
        return [c for c in fake.of("chat.postMessage") if str(c.get("channel", "")).startswith("UF")]

    async def sample(stop: asyncio.Event) -> None:
        seen = 0
        while not stop.is_set():
            now, count = time.perf_counter(), len(dms())
            times.extend([now] * (count - seen))
            seen = count
            await asyncio.sleep(0.005)

    stop, sampling = asyncio.Event(), asyncio.Event()
    loops = [asyncio.create_task(run_forever(i.bot, stop)) for i in instances]
    sampler = asyncio.create_task(sample(sampling))
    base = len(fake.of("chat.postMessage"))
    await delivery.open_survey(bot, survey_id, bot.clock.now())
    await fake.wait_for("chat.postMessage", base + INVITES, timeout=60)
    survey = await service.get_survey(bot.db, survey_id)
    for person in people[:INVITES - REMINDERS]:
        await service.record_answer(bot.db, survey_id, survey.questions[0].id, Respondent(key=person), "yes",
                                    bot.clock.now())
    await delivery.nudge(bot, lead, survey_id, bot.clock.now())
    await fake.wait_for("chat.postMessage", base + INVITES + REMINDERS, timeout=60)
    await asyncio.sleep(1.0)  # anything sent twice would arrive now
    stop.set()
    sampling.set()
    await asyncio.gather(*loops, sampler)
    sent = dms()
    invites = [d["channel"] for d in sent[:INVITES]]
    nudges = [d["channel"] for d in sent[INVITES:]]
    rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    print(f"  fan-out with both loops running: {len(sent)} DMs for {INVITES} invitations + {REMINDERS} reminders; "
          f"invitations to {len(set(invites))} distinct people, reminders to {len(set(nudges))} "
          f"({'each exactly once' if len(sent) == INVITES + REMINDERS and len(set(invites)) == INVITES and len(set(nudges)) == REMINDERS else 'NOT exactly once'})")
    print(f"  combined pace {rate:.1f} DMs/s with DM_PER_SECOND={DM_PER_SECOND:.0f} shared by both instances")


async def run(admin_url: str) -> int:
    import asyncpg

    from bot.db.migrate import upgrade
    from bot.settings import load_settings
    from tests.fakeslack import FakeSlack

    try:
        admin = await asyncpg.connect(_plain(admin_url), timeout=3)
    except Exception as exc:
        print(f"region bench skipped: PostgreSQL not reachable at {admin_url} ({type(exc).__name__})")
        return 0
    name = f"samsyv_bench_{os.getpid()}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    fake = FakeSlack()
    await fake.start()
    instances: list[Instance] = []
    try:
        await upgrade(url)
        settings = load_settings(database_url=url, slack_api_url=fake.url, slack_bot_token="xoxb-bench",
                                 slack_signing_secret=SECRET, project_leads=LEAD, dm_per_second=DM_PER_SECOND,
                                 update_interval_seconds=UPDATE_INTERVAL, due_poll_seconds=0.2, _env_file=None)
        instances = [Instance(settings), Instance(settings)]
        for instance in instances:
            await instance.start(settings)
        print(f"Region: two HTTP instances on PostgreSQL ({make_url(admin_url).host}), one database")
        await _burst(fake, instances, settings)
        await _fan_out(fake, instances)
        if fake.errors:
            print(f"  Slack would have rejected {len(fake.errors)} calls: {fake.errors[:2]}")
    finally:
        for instance in instances:
            await instance.stop()
        await fake.stop()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return 0


def main() -> int:
    import logging

    logging.basicConfig(level=logging.WARNING)
    url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get(
        "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    return asyncio.run(run(url))


if __name__ == "__main__":
    raise SystemExit(main())
