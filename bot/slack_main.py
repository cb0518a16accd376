"""The entry point that starts Slack: the only module in bot/ that imports slack_bolt or slack_sdk.

Socket Mode needs no public URL (what a school IT department can run); HTTP mode serves
`POST /slack/events` with signature verification and `GET /healthz`, and scales to several instances.
Both also serve the pupils' survey pages `GET/POST /s/{token}` (bot/web) on PORT, so pupils under
Slack's age limit can answer through a web link whichever mode a school runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp, AsyncAssistant
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.db import Database
from bot.db.migrate import require_current_schema
from bot.deliveries import first_time
from bot.runtime import Bot
from bot.scheduler import run_forever
from bot.settings import Settings
from bot.web.app import serve_pupil_pages

log = logging.getLogger(__name__)


class PostRateLimitHandler(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 retry (sleep Retry-After, try again), which for chat.postMessage first tells the
    bot, so every instance's paced DMs wait out the same pause instead of each running into it."""

    def __init__(self, on_limited: Callable[[float], Awaitable[None]] | None, max_retry_count: int = 5) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._on_limited = on_limited

    async def prepare_for_next_attempt_async(self, *, state: RetryState, request: HttpRequest,
                                             response: HttpResponse | None = None,
                                             error: Exception | None = None) -> None:
        if self._on_limited is not None and response is not None and request.url.endswith("/chat.postMessage"):
            values = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), ["1"])
            try:
                await self._on_limited(float(values[0]))
            except Exception:  # holding the others back is a courtesy; this call is still retried
                log.exception("could not share Slack's rate limit with the other instances")
        await super().prepare_for_next_attempt_async(state=state, request=request, response=response, error=error)


def make_client(settings: Settings, session: aiohttp.ClientSession | None = None,
                on_limited: Callable[[float], Awaitable[None]] | None = None) -> AsyncWebClient:
    """The Web API client: honours SLACK_API_URL and retries 429 (Retry-After, shared with the other
    instances through `on_limited`), 5xx and dropped connections.

    With `session`, every call reuses its kept-alive connections (without one, slack_sdk opens a new
    session, and a new TLS connection, per call: 1,600 DMs meant 1,600 handshakes)."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    base = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    return AsyncWebClient(token=token, base_url=base, session=session, retry_handlers=[
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        PostRateLimitHandler(on_limited, max_retry_count=5),
        AsyncServerErrorRetryHandler(max_retry_count=2),
    ])


def make_app(bot: Bot, settings: Settings, verify: bool = True) -> AsyncApp:
    from handlers import slack_app
    from handlers.messenger import SlackMessenger

    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    session = aiohttp.ClientSession()  # needs the running loop: make_app is called from async code
    bot.closers.append(session.close)
    app = AsyncApp(client=make_client(settings, session, bot.rate_limited), signing_secret=secret or "unset",
                   request_verification_enabled=verify)
    bot.messenger = SlackMessenger(app.client)

    @app.middleware
    async def inject_bot(context: Any, next: Any) -> None:  # noqa: A002 - Bolt's parameter name
        context["bot"] = bot
        await next()

    @app.middleware
    async def once_per_event(body: dict[str, Any], request: Any, next: Any) -> BoltResponse | None:  # noqa: A002
        """A retried or duplicated event (same event_id, any instance) is acknowledged, not handled again."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not await first_time(bot.db, f"event:{event_id}"):
            retry = (request.headers.get("x-slack-retry-num") or ["-"])[0]
            log.info("event %s already handled (retry %s): acknowledged only", event_id, retry)
            return BoltResponse(status=200, body="")
        await next()
        return None

    slack_app.register(app, AsyncAssistant)
    return app


async def build(settings: Settings) -> tuple[Bot, AsyncApp]:
    """The bot over a database already at this version's schema (`samsyv db upgrade` is the deploy step)."""
    db = Database(settings.database_url)
    try:
        await require_current_schema(db)
    except BaseException:
        await db.dispose()
        raise
    bot = Bot(settings=settings, db=db, messenger=None)  # type: ignore[arg-type]
    app = make_app(bot, settings, verify=True)
    await bot.start()
    return bot, app


def http_app(app: AsyncApp, signing_secret: str, bot: Bot | None = None) -> web.Application:
    """POST /slack/events and GET /healthz; with `bot`, also the pupil pages GET/POST /s/{token}, and
    /healthz reports database reachability and due-item lag.

    Every request is checked (signature 401, shape 400) before Bolt parses it: see handlers/requests.py."""
    from handlers import requests

    secret = signing_secret

    async def events(request: web.Request) -> web.Response:
        body = await request.read()
        refusal = requests.check(body, request.headers, secret)
        if refusal is not None:
            requests.refuse(refusal, request.remote)
            return web.Response(status=refusal.status, text=refusal.reason)
        bolt_response = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    if bot is not None:
        from bot.web.app import add_routes, healthz_handler

        web_app.router.add_get("/healthz", healthz_handler(bot))
        add_routes(web_app, bot)
    else:
        web_app.router.add_get("/healthz", healthz)
    return web_app


async def run_http(settings: Settings) -> int:
    from bot.web.app import PrivateAccessLogger

    bot, app = await build(settings)
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    runner = web.AppRunner(http_app(app, secret, bot), access_log_class=PrivateAccessLogger)  # no link tokens in logs
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", settings.port).start()
    log.info("SAMSYV: HTTP mode on port %s: POST /slack/events, GET /healthz, pupil pages /s/...", settings.port)
    stop = asyncio.Event()
    try:
        await run_forever(bot, stop)
    finally:
        await runner.cleanup()
        await bot.stop()
    return 0


async def run_socket_mode(settings: Settings) -> int:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    assert settings.slack_app_token is not None, "bot.cli checks the tokens before starting"
    bot, app = await build(settings)
    handler = AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value())
    stop = asyncio.Event()
    loop_task = asyncio.create_task(run_forever(bot, stop))
    pages = await serve_pupil_pages(bot, settings.port)
    log.info("SAMSYV: connecting to Slack over Socket Mode%s", f"; pupil pages on port {settings.port}" if pages else "")
    try:
        await handler.start_async()
    finally:
        stop.set()
        await loop_task
        if pages is not None:
            await pages.cleanup()
        await bot.stop()
    return 0
