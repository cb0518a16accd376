"""CLI: `samsyv content check|reload|vectors|proposals`, `samsyv ask` (`samsyv export unanswered|feedback`: bot/reports/cli.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.settings import Settings


async def content_check(args: argparse.Namespace, settings: Settings) -> int:
    from bot.knowledge.check import check_content

    problems, summary = check_content(settings.content_dir)
    for problem in problems:
        print(problem)
    if settings.semantic_reranker != "off":
        from bot.questions.seed import seed_missing

        status = seed_missing(settings.content_dir, settings.semantic_reranker)
        if status is not None and status[0]:
            print(f"note: content/vectors lacks {status[0]} of {status[1]} article texts: run "
                  "`samsyv content vectors` and commit it (until then a fresh start embeds them first)")
    print(summary)
    return 1 if any(p.level == "error" for p in problems) else 0


async def content_vectors(args: argparse.Namespace, settings: Settings) -> int:
    """Write the shipped article vectors for the current content (embedding only what changed)."""
    from bot.questions.seed import write_seed

    written = write_seed(settings.content_dir, settings.semantic_reranker, settings.vector_dir)
    if written is None:
        print("the semantic reranker cannot run here (see the log line above): nothing written", file=sys.stderr)
        return 1
    path, count = written
    print(f"{count} article vectors written to {path}")
    return 0


async def content_reload(args: argparse.Namespace, settings: Settings) -> int:
    """Checks the content and marks it changed; running bots rebuild their index within seconds."""
    code = await content_check(args, settings)
    if code == 0:
        from bot.db import Database, versions
        from bot.questions.service import CONTENT_VERSION_NAME

        (settings.content_dir / "kb").touch()  # instances on this machine see the change on disk
        db = Database(settings.database_url)  # instances elsewhere see the shared version move
        try:
            await versions.bump(db, CONTENT_VERSION_NAME)
        finally:
            await db.dispose()
        print("content marked for reload: running bots pick it up within a few seconds")
    return code


async def ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.questions.engine import Answer, build_engine, build_reranker
    from bot.questions.semantic import vector_store

    engine = build_engine(settings.content_dir)
    store = vector_store(settings.semantic_reranker, settings.vector_dir, settings.content_dir)
    if store is not None:  # as the bot answers; vectors it lacks are computed now and stored
        missing = store.missing(engine.semantic_texts())
        if missing:
            print(f"embedding {len(missing)} article texts once (stored in {settings.vector_dir})", file=sys.stderr)
        engine.reranker = build_reranker(engine, store)

    def emit(answer: Answer, question: str) -> None:
        if args.json:
            print(json.dumps(answer.as_json(), ensure_ascii=False))
        else:
            status = "answered" if answer.answered else "declined"
            print(f"{status} {answer.article_id} ({answer.lang}, score {answer.score:.3f}) "
                  f"alternatives: {', '.join(answer.alternatives)} <- {question}")

    if args.batch:
        for line in Path(args.batch).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            question = json.loads(line)["q"]
            emit(engine.answer(question), question)
        return 0
    if not args.question:
        print("give a question or --batch FILE", file=sys.stderr)
        return 2
    question = " ".join(args.question)
    emit(engine.answer(question), question)
    return 0


async def content_proposals(args: argparse.Namespace, settings: Settings) -> int:
    """Counsellors' proposals from answered forwarded questions, personal data masked, ready to edit
    into `content/kb/` (an example question for an article, or a new article)."""
    from bot.questions.gaps import proposals
    from bot.runtime import open_bot

    async with open_bot(settings, start=False) as bot:
        rows = await proposals(bot)
    if args.json:
        for row in rows:
            print(json.dumps({**row, "created_at": str(row["created_at"])}, ensure_ascii=False))
        return 0
    if not rows:
        print("no proposals yet")
    for row in rows:
        target = f"example for {row['article_id']}" if row["kind"] == "example" else "new article"
        print(f"#{row['id']} {str(row['created_at'])[:10]} {row['lang']} {target}\n"
              f"  question: {row['question']}\n  answer:   {row['answer']}")
    return 0


def add_cli(groups: dict[str, Any], command: Any) -> None:
    command(groups["content"].add_parser("check", help="validate articles, locale files and templates"),
            content_check)
    command(groups["content"].add_parser("reload", help="check, then make running bots reload the content"),
            content_reload)
    command(groups["content"].add_parser(
        "vectors", help="write the article vectors shipped with the content (after editing articles)"),
        content_vectors)
    proposals_parser = command(groups["content"].add_parser(
        "proposals", help="counsellors' proposals for the knowledge base, personal data masked"), content_proposals)
    proposals_parser.add_argument("--json", action="store_true", help="one JSON object per proposal")
    ask_parser = command(groups["root"].add_parser("ask", help="ask the knowledge base a question"), ask)
    ask_parser.add_argument("question", nargs="*")
    ask_parser.add_argument("--json", action="store_true", help="one JSON object per question")
    ask_parser.add_argument("--batch", metavar="FILE", help="JSON lines with a 'q' field")
    # `samsyv export unanswered|feedback` live in bot/reports/cli.py, so every export is audited.
