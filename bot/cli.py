"""The `samsyv` command line. Capabilities add their own subcommands through `bot/<capability>/cli.py`."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.db import Database
from bot.db.migrate import backup_sync, upgrade
from bot.logs import setup_logging
from bot.messaging import Messenger
from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger("samsyv")


class LogMessenger:
    """For CLI commands that run without Slack: anything the core would send is logged, not lost silently."""

    async def post(self, channel: str, message: Any, thread_ts: str | None = None) -> Any:
        from bot.messaging import MessageRef

        log.info("would post to %s: %s", channel, message.text)
        return MessageRef(channel=channel, ts="0")

    async def dm(self, user_id: str, message: Any) -> Any:
        return await self.post(user_id, message)

    async def update(self, ref: Any, message: Any) -> None:
        log.info("would update %s: %s", ref.channel, message.text)

    async def ephemeral(self, channel: str, user_id: str, message: Any) -> None:
        log.info("would tell %s: %s", user_id, message.text)

    async def upload(self, user_or_channel: str, filename: str, content: bytes, title: str, comment: str = "") -> None:
        log.info("would upload %s to %s", filename, user_or_channel)

    async def channel_members(self, channel: str) -> list[str]:
        return []

    async def publish_home(self, user_id: str, blocks: Any) -> None:
        return None


@asynccontextmanager
async def open_bot(settings: Settings, messenger: Messenger | None = None, start: bool = True) -> AsyncIterator[Any]:
    """A migrated database and a ready Bot for one CLI command."""
    from bot.runtime import Bot

    await upgrade(settings.database_url)
    bot = Bot(settings=settings, db=Database(settings.database_url), messenger=messenger or LogMessenger())
    try:
        if start:
            await bot.start()
        yield bot
    finally:
        await bot.stop()


Handler = Callable[[argparse.Namespace, Settings], Awaitable[int]]


def command(parser: argparse.ArgumentParser, fn: Handler) -> argparse.ArgumentParser:
    parser.set_defaults(handler=fn)
    return parser


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.http:
        from bot.slack_main import run_http

        return await run_http(settings)
    if settings.has_socket_tokens:
        from bot.slack_main import run_socket_mode

        return await run_socket_mode(settings)
    from bot.i18n import t

    print(t(settings.default_language, "console.no_tokens"))
    return await _console(argparse.Namespace(user="U_CONSOLE", role="lead"), settings)


async def _console(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console import Console, ConsoleMessenger, stdin_reader
    from bot.scheduler import run_forever
    from bot.users import Actor, Role, parse_role, set_role

    messenger = ConsoleMessenger(print, Path("data/console-files"))
    async with open_bot(settings, messenger) as bot:
        if args.role:
            await set_role(bot.db, Actor(user_id="console", role=Role.lead), args.user, parse_role(args.role))
        stop = asyncio.Event()
        loop_task = asyncio.create_task(run_forever(bot, stop))
        try:
            await Console(bot, messenger, args.user, stdin_reader, print).run()
        finally:
            stop.set()
            await loop_task
    return 0


async def _web(args: argparse.Namespace, settings: Settings) -> int:
    from bot.web.__main__ import serve

    return await serve(settings)


async def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    await upgrade(settings.database_url)
    print("database is up to date")
    return 0


async def _db_backup(args: argparse.Namespace, settings: Settings) -> int:
    target = await asyncio.to_thread(backup_sync, settings.database_url, Path(args.path))
    print(f"backup written to {target}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="samsyv", description="SAMSYV guidance bot for Slack")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = command(sub.add_parser("run", help="start the bot: Socket Mode with tokens, else the console"), _run)
    run.add_argument("--http", action="store_true", help="serve POST /slack/events and GET /healthz on PORT")

    console = command(sub.add_parser("console", help="chat with the bot locally over the same flows"), _console)
    console.add_argument("--user", default="U_CONSOLE", help="the user ID to act as")
    console.add_argument("--role", default="lead", choices=["lead", "counsellor", "staff", "pupil"])

    command(sub.add_parser("web", help="serve only the pupils' survey pages (/s/<token>) on PORT"), _web)

    db = sub.add_parser("db", help="database: upgrade, backup, purge").add_subparsers(dest="db_command",
                                                                                     metavar="ACTION")
    command(db.add_parser("upgrade", help="apply migrations"), _db_upgrade)
    backup = command(db.add_parser("backup", help="consistent online copy of the SQLite database"), _db_backup)
    backup.add_argument("path")

    groups = {
        "root": sub,
        "db": db,
        "content": sub.add_parser("content", help="knowledge base: check, reload").add_subparsers(
            dest="content_command", metavar="ACTION"),
        "export": sub.add_parser("export", help="CSV/XLSX/JSON/ICS exports for the project team").add_subparsers(
            dest="export_command", metavar="WHAT"),
    }
    from bot.runtime import CAPABILITIES

    for name in CAPABILITIES:
        package = importlib.import_module(name)
        if hasattr(package, "__path__") and importlib.util.find_spec(f"{name}.cli") is not None:
            importlib.import_module(f"{name}.cli").add_cli(groups, command)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.secrets())
    try:
        return asyncio.run(handler(args, settings))
    except KeyboardInterrupt:
        return 130
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
