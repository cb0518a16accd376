"""The `samsyv` command line. Capabilities add their own subcommands through `bot/<capability>/cli.py`;
nothing imports this module but the `samsyv` entry point."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.conferences import cli as conferences_cli
from bot.db.migrate import backup_sync, upgrade
from bot.logs import setup_logging
from bot.questions import cli as questions_cli
from bot.reports import cli as reports_cli
from bot.runtime import open_bot
from bot.settings import Settings, SettingsError, load_settings
from bot.surveys import cli as surveys_cli

log = logging.getLogger("samsyv")


Handler = Callable[[argparse.Namespace, Settings], Awaitable[int]]


def command(parser: argparse.ArgumentParser, fn: Handler) -> argparse.ArgumentParser:
    parser.set_defaults(handler=fn)
    return parser


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    """Slack when any Slack setting is there (a half-configured one names what is missing and stops),
    the console only when there is none at all."""
    if args.http or settings.has_any_slack_setting:
        problem = settings.slack_problem(http=args.http)
        if problem is not None:
            print(problem, file=sys.stderr)
            return 2
        from bot.slack_main import run_http, run_socket_mode

        return await (run_http(settings) if args.http else run_socket_mode(settings))
    from bot.i18n import t

    print(t(settings.default_language, "console.no_tokens"))
    return await _console(argparse.Namespace(user="U_CONSOLE", role="lead"), settings)


async def _console(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console import Console, ConsoleMessenger, stdin_reader
    from bot.scheduler import run_forever
    from bot.users import Actor, Role, parse_role, set_role
    from bot.web.app import serve_pupil_pages

    messenger = ConsoleMessenger(print, Path("data/console-files"))
    async with open_bot(settings, messenger) as bot:
        if args.role:
            await set_role(bot.db, Actor(user_id="console", role=Role.lead), args.user, parse_role(args.role))
        stop = asyncio.Event()
        loop_task = asyncio.create_task(run_forever(bot, stop))
        pages = await serve_pupil_pages(bot, settings.port)  # so the web links the console hands out work
        try:
            return await Console(bot, messenger, args.user, stdin_reader, print).run()
        finally:
            stop.set()
            await loop_task
            if pages is not None:
                await pages.cleanup()


async def _web(args: argparse.Namespace, settings: Settings) -> int:
    from bot.web.__main__ import serve

    return await serve(settings)


async def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    await upgrade(settings.database_url)
    print("database is up to date")
    return 0


async def _db_backup(args: argparse.Namespace, settings: Settings) -> int:
    from bot.reports.audit import cli_actor, record

    target = await asyncio.to_thread(backup_sync, settings.database_url, Path(args.path))
    async with open_bot(settings, start=False) as bot:  # a copy of everything: in the audit log
        await record(bot, cli_actor(settings.default_language), "db.backup", path=str(target))
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
    for capability_cli in (questions_cli, conferences_cli, surveys_cli, reports_cli):
        capability_cli.add_cli(groups, command)
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
