"""`samsyv export conferences --ics PATH --csv PATH`: calendars and attendance for the project team."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from bot.runtime import open_bot
from bot.settings import Settings


def add_cli(groups: dict[str, Any], command: Any) -> None:
    parser = command(groups["export"].add_parser(
        "conferences", help="upcoming meetings as one .ics file, attendance per meeting as CSV"), export_conferences)
    parser.add_argument("--ics", metavar="PATH", help="write every upcoming meeting to one calendar file")
    parser.add_argument("--csv", metavar="PATH", help="write attendance per meeting (every meeting) as CSV")


async def export_conferences(args: argparse.Namespace, settings: Settings) -> int:
    from bot.conferences import ics, service
    from bot.conferences.exports import attendance_csv

    if not args.ics and not args.csv:
        print("choose --ics PATH and/or --csv PATH")
        return 2
    lang = settings.default_language
    async with open_bot(settings, start=False) as bot:
        now = bot.clock.now()
        async with bot.db.read() as conn:
            upcoming = await service.all_conferences(conn, since=now, include_cancelled=False)
            every = await service.all_conferences(conn)
            attendance = [(conf, await service.attendees(conn, conf.id)) for conf in every]
    if args.ics:
        content = ics.calendar(upcoming, settings.tz, lang, now)
        await asyncio.to_thread(_write, Path(args.ics), content)
        print(f"wrote {len(upcoming)} upcoming meetings to {args.ics}")
    if args.csv:
        await asyncio.to_thread(_write, Path(args.csv), attendance_csv(attendance, lang, settings.tz))
        print(f"wrote attendance for {len(every)} meetings to {args.csv}")
    return 0


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
