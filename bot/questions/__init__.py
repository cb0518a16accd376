"""Answers guidance questions from the knowledge base, with sources, feedback and an honest "I don't know"."""

from __future__ import annotations

from bot.interactions import Registry
from bot.questions import flows, gaps, welcome
from bot.questions.service import ensure_engine
from bot.users import Role


def register(registry: Registry) -> None:
    """Free text, the buttons under an answer, `/syv ladda om`, counsellors' replies to forwarded
    questions; the search index is built at start."""
    registry.answer_free_text(flows.answer_question)
    registry.command("reload", flows.reload_command, min_role=Role.lead, help_key="help.cmd.reload")
    registry.action("q:more", flows.on_more)
    registry.action("q:show", flows.on_show)
    registry.action("q:fb", flows.on_feedback)
    registry.action("q:ask", flows.on_ask)
    registry.action("q:forward", flows.on_forward)
    registry.action("q:noforward", flows.on_no_forward)
    registry.action(welcome.ACTION, welcome.on_suggested)
    registry.on_thread_reply(gaps.on_thread_reply)
    registry.action("gap:example", gaps.on_propose_example)
    registry.action("gap:article", gaps.on_propose_article)
    registry.setup(ensure_engine)
