"""The running bot: settings, storage, clock and messenger, and the dispatch that both front ends use."""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock, SystemClock
from bot.coalesce import Coalescer
from bot.db import Database
from bot.errors import UserError
from bot.i18n import t
from bot.interactions import ActionEvent, CommandRequest, FormSubmission, registry
from bot.messaging import Messenger
from bot.settings import Settings
from bot.ui import Block, Context, FormErrors, Message, Outcome, Reply, Text
from bot.users import Actor, get_actor

log = logging.getLogger(__name__)

CAPABILITIES = (
    "bot.core_commands",
    "bot.questions",
    "bot.conferences",
    "bot.surveys",
    "bot.reports",
)


def load_capabilities() -> None:
    """Import each capability once so that it registers its commands, actions, forms and due items."""
    for name in CAPABILITIES:
        importlib.import_module(name)


@dataclass
class Bot:
    settings: Settings
    db: Database
    messenger: Messenger
    clock: Clock = field(default_factory=SystemClock)
    state: dict[str, Any] = field(default_factory=dict)  # per-capability state (e.g. the search index)
    coalescer: Coalescer = field(init=False)

    def __post_init__(self) -> None:
        load_capabilities()
        self.coalescer = Coalescer(self.settings.update_interval_seconds)

    async def actor(self, user_id: str) -> Actor:
        return await get_actor(self.db, self.settings, user_id)

    async def start(self) -> None:
        """Build what capabilities need before the first request (e.g. the search index)."""
        for name in CAPABILITIES:
            setup = getattr(importlib.import_module(name), "setup", None)
            if setup is not None:
                await setup(self)

    async def stop(self) -> None:
        await self.coalescer.drain()
        await self.db.dispose()


QUESTION_WORDS = 3


def looks_like_question(rest: str) -> bool:
    """A sentence of a few words ending in "?" and without quoted poll options."""
    rest = rest.strip()
    return len(rest.split()) >= QUESTION_WORDS and rest.endswith("?") and not any(q in rest for q in "\"“”«»")


def error_reply(actor: Actor, exc: UserError) -> list[Outcome]:
    return [Reply(message=Message(text=exc.render(actor.lang), blocks=[Text(text=f":warning: {exc.render(actor.lang)}")]))]


async def handle_command(bot: Bot, actor: Actor, request: CommandRequest) -> list[Outcome]:
    """`/syv <words>`: a registered command, help when empty, otherwise a question."""
    text = request.text.strip()
    try:
        if not text:
            from bot.core_commands import help_outcomes

            return await help_outcomes(bot, actor)
        matched = registry.match_command(text)
        if matched is not None:
            command, rest = matched
            if not actor.at_least(command.min_role):
                # "/syv resultat av gymnasievalet?" from a pupil is a question, not a forbidden command.
                if looks_like_question(rest):
                    return await _question(bot, actor, request)
                raise UserError("errors.lead_only" if command.min_role.value == "lead" else "errors.not_allowed")
            return await command.fn(bot, actor, rest, request)
        return await _question(bot, actor, request)
    except UserError as exc:
        return error_reply(actor, exc)


# In a DM or mention only these words act as commands; everything else is a question.
DM_COMMANDS = {"help", "language"}


async def handle_message(bot: Bot, actor: Actor, request: CommandRequest) -> list[Outcome]:
    """A DM or an @mention: "hjälp"/"help" and "språk en" work, anything else is a question."""
    matched = registry.match_command(request.text)
    is_command = matched is not None and matched[0].name in DM_COMMANDS and \
        (matched[0].name != "help" or not matched[1])
    if is_command or not request.text.strip():
        return await handle_command(bot, actor, request)
    return await _question(bot, actor, request)


async def _question(bot: Bot, actor: Actor, request: CommandRequest) -> list[Outcome]:
    """Free text goes to the question answerer (registered by bot.questions)."""
    if registry.fallback is None:
        return [Reply(message=Message(text=t(actor.lang, "errors.unknown_command")))]
    try:
        return await registry.fallback(bot, actor, request.text.strip(), request)
    except UserError as exc:
        return error_reply(actor, exc)


async def handle_action(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    fn = registry.find_action(event.action)
    if fn is None:
        log.warning("no handler for action %s", event.action)
        return []
    try:
        return await fn(bot, actor, event)
    except UserError as exc:
        return error_reply(actor, exc)


async def handle_form(bot: Bot, actor: Actor, submission: FormSubmission) -> list[Outcome]:
    fn = registry.forms.get(submission.callback)
    if fn is None:
        log.warning("no handler for form %s", submission.callback)
        return []
    try:
        return await fn(bot, actor, submission)
    except UserError as exc:
        return [FormErrors(errors={"_form": exc.render(actor.lang)})]


async def home_blocks(bot: Bot, actor: Actor) -> list[Block]:
    """The App Home tab: each capability contributes a section for this user."""
    blocks: list[Block] = []
    for _, section in registry.home_sections:
        try:
            blocks.extend(await section(bot, actor))
        except Exception:  # one broken section must not blank the whole tab
            log.exception("home section failed")
            blocks.append(Context(text=t(actor.lang, "errors.generic")))
    return blocks
