"""The baseline: a bare Bolt app that does, per tap, what any Slack app must (verify the signature, ack,
post one ephemeral reply to the response_url) and nothing else: no storage, no rendering.

`python -m bench.bare_bolt PORT` with SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN set, SLACK_API_URL at the
fake Slack API; served by aiohttp like the bot's HTTP mode.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def make_app() -> AsyncApp:
    client = AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = AsyncApp(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"])

    @app.action(re.compile(".+"))
    async def tapped(ack: Any, respond: Any) -> None:
        await ack()
        await respond(response_type="ephemeral", replace_original=False, text="Tack för ditt svar!")

    return app


async def serve(port: int) -> None:
    app = make_app()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    web_app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
