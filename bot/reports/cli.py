"""CLI: `samsyv export responses|surveys|unanswered|feedback|audit [conferences]`, `samsyv report`,
`samsyv db purge|restore|forget|mydata`.

The command line runs as the operator (who holds the database anyway); each export and report is
still written to the audit log, as `cli:<login name>`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from bot.errors import UserError
from bot.runtime import open_bot
from bot.settings import Settings


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


async def _deliver(content: bytes, out: str | None, what: str) -> int:
    if out:
        await asyncio.to_thread(_write, Path(out), content)
        print(f"wrote {what} to {out} ({len(content)} bytes)", file=sys.stderr)
    else:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    return 0


async def export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.reports.audit import cli_actor
    from bot.reports.exports import export_file

    kind = args.export_command
    fmt = getattr(args, "format", "csv")
    if fmt == "xlsx" and not args.out:
        print("an Excel file needs --out PATH", file=sys.stderr)
        return 2
    actor = cli_actor(settings.default_language)
    async with open_bot(settings, start=False) as bot:
        try:
            file = await export_file(bot, actor, kind, getattr(args, "survey", None), fmt)
        except UserError as exc:
            print(exc.render(actor.lang), file=sys.stderr)
            return 1
    return await _deliver(file.content, args.out, f"{file.rows} rows")


async def report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.reports.audit import cli_actor
    from bot.reports.report import gather, parse_period, report_html

    actor = cli_actor(settings.default_language)
    async with open_bot(settings, start=False) as bot:
        try:
            today = bot.clock.now().astimezone(settings.tz).date()
            period = parse_period(args.first, args.last, args.municipality, today)
            data = await gather(bot, actor, period, via="cli")
        except UserError as exc:
            print(exc.render(actor.lang), file=sys.stderr)
            return 2
        content = await report_html(data, actor.lang, settings.tz)
    return await _deliver(content, args.out, f"the report for {period.first_day} - {period.last_day}")


async def purge(args: argparse.Namespace, settings: Settings) -> int:
    from bot.reports.privacy import purge as run_purge

    async with open_bot(settings, start=False) as bot:
        counts = await run_purge(bot, bot.clock.now(), dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    print(f"retention {settings.retention_days} days: {verb} everything written before "
          f"{counts.cutoff.astimezone(settings.tz):%Y-%m-%d %H:%M}")
    for name, label in (("text_answers", "free-text survey answers"), ("questions", "logged questions"),
                        ("feedback", "feedback votes on those questions"), ("unanswered", "unanswered questions"),
                        ("proposals", "counsellors' content proposals"), ("finished_items", "finished scheduled items")):
        print(f"  {getattr(counts, name):>6}  {label}")
    return 0


async def restore(args: argparse.Namespace, settings: Settings) -> int:
    from bot.reports.privacy import restore_sync

    if not args.yes:
        print("restoring replaces everything in the database with the backup: stop the bot, then run again "
              "with --yes", file=sys.stderr)
        return 2
    target = await asyncio.to_thread(restore_sync, settings.database_url, Path(args.path))
    print(f"restored {args.path} into {target}; start the bot again")
    return 0


async def forget_user(args: argparse.Namespace, settings: Settings) -> int:
    from bot.reports.audit import cli_actor
    from bot.reports.privacy import forget, mentions

    actor = cli_actor(settings.default_language)
    async with open_bot(settings, start=False) as bot:
        async with bot.db.read() as conn:
            found = await mentions(conn, args.user)
        if not args.yes:
            print(f"{args.user} occurs in: {json.dumps(found) if found else 'nothing'}")
            print("run again with --yes to erase it (this cannot be undone)")
            return 0 if found else 1
        result = await forget(bot, actor, args.user)
    print(f"forgot {args.user}: {result.rows} rows changed; the audit log calls them {result.pseudonym}")
    return 0


async def user_data(args: argparse.Namespace, settings: Settings) -> int:
    from bot.reports.audit import cli_actor, record
    from bot.reports.privacy import collect

    actor = cli_actor(settings.default_language)
    async with open_bot(settings, start=False) as bot:
        async with bot.db.read() as conn:
            document = await collect(conn, args.user, settings.tz, actor.lang)
        await record(bot, actor, "privacy.mydata", user=args.user)
    content = json.dumps(document, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    return await _deliver(content, args.out, f"the data about {args.user}")


def audited(fn: Any, action: str) -> Any:
    """Another capability's export, written to the audit log like ours when it succeeds."""
    async def run(args: argparse.Namespace, settings: Settings) -> int:
        from bot.reports.audit import cli_actor, record

        code = int(await fn(args, settings))
        if code == 0:
            async with open_bot(settings, start=False) as bot:
                await record(bot, cli_actor(settings.default_language), action,
                             **{k: v for k, v in vars(args).items() if k in ("ics", "csv", "out") and v})
        return code

    run.__wrapped__ = fn  # type: ignore[attr-defined]
    return run


def _add(group: Any, name: str, help_text: str, command: Any, fn: Any) -> argparse.ArgumentParser | None:
    """Add a subcommand unless another capability already has it (e.g. `export conferences`)."""
    if name in group.choices:
        return None
    parser: argparse.ArgumentParser = command(group.add_parser(name, help=help_text), fn)
    return parser


def add_cli(groups: dict[str, Any], command: Any) -> None:
    out_help = "file to write (default: standard output)"
    responses = _add(groups["export"], "responses", "one survey's answers, one row per answer (CSV, XLSX, JSON)",
                     command, export)
    if responses is not None:
        responses.add_argument("--survey", type=int, required=True, metavar="ID")
        responses.add_argument("--format", choices=["csv", "xlsx", "json"], default="csv")
        responses.add_argument("--out", metavar="PATH", help=out_help)
    surveys = _add(groups["export"], "surveys", "every survey with answer counts and rates (CSV, JSON)", command,
                   export)
    if surveys is not None:
        surveys.add_argument("--format", choices=["csv", "json"], default="csv")
        surveys.add_argument("--out", metavar="PATH", help=out_help)
    for name, text in (("conferences", "attendance per meeting (CSV)"),
                       ("unanswered", "questions the bot could not answer (CSV)"),
                       ("feedback", "thumbs up/down per article and question (CSV)"),
                       ("audit", "the audit log: every export, report and role change (CSV)")):
        parser = _add(groups["export"], name, text, command, export)
        if parser is not None:
            parser.add_argument("--out", metavar="PATH", help=out_help)
        else:
            existing = groups["export"].choices[name]
            handler = existing.get_default("handler")
            if handler is not None and not hasattr(handler, "__wrapped__"):
                existing.set_defaults(handler=audited(handler, f"export.{name}"))

    report_parser = _add(groups["root"], "report", "HTML report with charts for a period (opens offline)",
                         command, report)
    if report_parser is not None:
        report_parser.add_argument("--from", dest="first", metavar="DATE", help="first day, YYYY-MM-DD "
                                   "(default: 1 July, the start of the school year)")
        report_parser.add_argument("--to", dest="last", metavar="DATE", help="last day, YYYY-MM-DD (default: today)")
        report_parser.add_argument("--municipality", metavar="NAME", help="only this municipality's answers and "
                                   "meetings")
        report_parser.add_argument("--out", metavar="PATH", help="HTML file to write (default: standard output)")

    purge_parser = _add(groups["db"], "purge", "delete what is older than RETENTION_DAYS (free text, questions)",
                        command, purge)
    if purge_parser is not None:
        purge_parser.add_argument("--dry-run", action="store_true", help="only show what would be deleted")
    restore_parser = _add(groups["db"], "restore", "replace the database with a backup (stop the bot first)",
                          command, restore)
    if restore_parser is not None:
        restore_parser.add_argument("path")
        restore_parser.add_argument("--yes", action="store_true", help="really replace the data")
    forget_parser = _add(groups["db"], "forget", "erase what identifies one Slack user (a written request)",
                         command, forget_user)
    if forget_parser is not None:
        forget_parser.add_argument("user", metavar="USER_ID")
        forget_parser.add_argument("--yes", action="store_true", help="really erase (otherwise show where it occurs)")
    data_parser = _add(groups["db"], "mydata", "everything stored about one Slack user, as JSON (a subject "
                       "access request)", command, user_data)
    if data_parser is not None:
        data_parser.add_argument("user", metavar="USER_ID")
        data_parser.add_argument("--out", metavar="PATH", help=out_help)
