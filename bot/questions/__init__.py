"""Answers guidance questions from the knowledge base, with sources, feedback and an honest "I don't know"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.questions import flows  # noqa: F401  (registers the question fallback, buttons and commands)

if TYPE_CHECKING:
    from bot.runtime import Bot


async def setup(bot: Bot) -> None:
    """Build the search index once at start, so the first question is as fast as the rest."""
    from bot.questions.service import load_engine

    await load_engine(bot)
