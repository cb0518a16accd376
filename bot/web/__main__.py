"""`samsyv web` / `python -m bot.web`: serve only the pupil survey pages (GET/POST /s/<token>, GET /healthz) on PORT.

For a school that runs the Slack side elsewhere (or only wants the web link). This process runs no
scheduler and sends nothing to Slack: openings, closings and DMs stay with the bot's own process,
which also refreshes the live counts in Slack on its next update.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from aiohttp import web

from bot.runtime import open_bot
from bot.settings import Settings

log = logging.getLogger("samsyv.web")


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> int:
    from bot.web.app import PrivateAccessLogger, pupil_app

    async with open_bot(settings, start=False, migrate=False) as bot:  # a server: `db upgrade` is the deploy step
        runner = web.AppRunner(pupil_app(bot), access_log_class=PrivateAccessLogger)
        await runner.setup()
        await web.TCPSite(runner, "0.0.0.0", settings.port).start()
        log.info("pupil survey pages on port %s (links: %s/s/...)", settings.port, settings.public_url)
        try:
            await (stop or asyncio.Event()).wait()
        finally:
            await runner.cleanup()
    return 0


def main() -> int:
    """The same as `samsyv web`: settings, logging and errors handled by the CLI."""
    from bot.cli import main as cli_main

    return cli_main(["web"])


if __name__ == "__main__":
    sys.exit(main())
