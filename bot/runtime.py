"""The running bot: settings, storage, clock and messenger, and the dispatch that both front ends use."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from bot import conferences, core_commands, questions, reports, surveys
from bot.clock import Clock, SystemClock
from bot.coalesce import Coalescer
from bot.db import Database
from bot.db.migrate import SchemaBehind, require_current_schema, upgrade
from bot.errors import Forbidden, UserError
from bot.i18n import t
from bot.ids import MAX_VALUE_LENGTH
from bot.interactions import ActionEvent, CommandRequest, FormSubmission, Registry
from bot.messaging import LogMessenger, Messenger
from bot.pacing import SendHold, hold_sends
from bot.settings import Settings
from bot.ui import Block, Context, FormErrors, Message, Outcome, Reply, Text
from bot.users import Actor, audit, get_actor

log = logging.getLogger(__name__)

# Each has `register(registry)`; the order is the order of `/syv hjälp` and of the App Home sections' ties.
CAPABILITIES: tuple[ModuleType, ...] = (core_commands, questions, conferences, surveys, reports)


def build_registry() -> Registry:
    registry = Registry()
    for capability in CAPABILITIES:
        capability.register(registry)
    return registry


@dataclass
class Bot:
    settings: Settings
    db: Database
    messenger: Messenger
    clock: Clock = field(default_factory=SystemClock)
    state: dict[str, Any] = field(default_factory=dict)  # per-capability state (e.g. the search index)
    registry: Registry = field(default_factory=build_registry)
    coalescer: Coalescer = field(init=False)
    # Run at stop, after the last update has gone out (e.g. a front end closing its HTTP session).
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    send_hold: SendHold = field(default_factory=SendHold)  # paced sends wait while Slack says 429

    async def rate_limited(self, seconds: float) -> None:
        """A send was answered 429: hold every instance's paced sends for Retry-After seconds."""
        await hold_sends(self.db, self.send_hold, seconds)

    def __post_init__(self) -> None:
        self.coalescer = Coalescer(self.settings.update_interval_seconds, self.db)

    async def actor(self, user_id: str) -> Actor:
        return await get_actor(self.db, self.settings, user_id)

    async def start(self) -> None:
        """Build what capabilities need before the first request (e.g. the search index)."""
        for setup in self.registry.setups:
            await setup(self)
        # What start-up built (the search index: millions of objects) lives as long as the process; moved
        # out of the garbage collector's sight, a full collection during a burst no longer walks it all
        # (it showed as 0.5-1 s stalls in the ack tail of `make bench`).
        gc.freeze()

    async def stop(self) -> None:
        await self.coalescer.drain()
        for close in self.closers:
            try:
                await close()
            except Exception:
                log.exception("closing %s failed", close)
        await self.db.dispose()


QUESTION_WORDS = 3


def looks_like_question(rest: str) -> bool:
    """A sentence of a few words ending in "?" and without quoted poll options."""
    rest = rest.strip()
    return len(rest.split()) >= QUESTION_WORDS and rest.endswith("?") and not any(q in rest for q in "\"“”«»")


async def audit_refusal(bot: Bot, actor: Actor, exc: UserError, what: str) -> None:
    """Every refusal goes to the audit log (forged lead buttons and forms included), once."""
    if isinstance(exc, Forbidden) and not exc.logged:
        async with bot.db.write() as conn:
            await audit(conn, actor.user_id, "denied", what=what)
        exc.logged = True


def error_reply(actor: Actor, exc: UserError) -> list[Outcome]:
    return [Reply(message=Message(text=exc.render(actor.lang), blocks=[Text(text=f":warning: {exc.render(actor.lang)}")]))]


async def handle_command(bot: Bot, actor: Actor, request: CommandRequest) -> list[Outcome]:
    """`/syv <words>`: a registered command, help when empty, otherwise a question."""
    text = request.text.strip()
    try:
        if not text:
            from bot.core_commands import help_outcomes

            return await help_outcomes(bot, actor)
        matched = bot.registry.match_command(text)
        if matched is not None:
            command, rest = matched
            if not actor.at_least(command.min_role):
                # "/syv resultat av gymnasievalet?" from a pupil is a question, not a forbidden command.
                if looks_like_question(rest):
                    return await _question(bot, actor, request)
                raise Forbidden("errors.lead_only" if command.min_role.value == "lead" else "errors.not_allowed")
            return await command.fn(bot, actor, rest, request)
        return await _question(bot, actor, request)
    except UserError as exc:
        await audit_refusal(bot, actor, exc, f"command:{text.split(maxsplit=1)[0][:40] if text else ''}")
        return error_reply(actor, exc)


# In a DM or mention only these words act as commands; everything else is a question.
DM_COMMANDS = {"help", "language"}


async def handle_message(bot: Bot, actor: Actor, request: CommandRequest) -> list[Outcome]:
    """A DM or an @mention: "hjälp"/"help" and "språk en" work, anything else is a question."""
    matched = bot.registry.match_command(request.text)
    is_command = matched is not None and matched[0].name in DM_COMMANDS and \
        (matched[0].name != "help" or not matched[1])
    if is_command or not request.text.strip():
        return await handle_command(bot, actor, request)
    return await _question(bot, actor, request)


async def handle_thread_reply(bot: Bot, actor: Actor, request: CommandRequest) -> list[Outcome]:
    """A reply in a channel thread: every capability that listens for those may act on it."""
    outcomes: list[Outcome] = []
    for fn in bot.registry.thread_replies:
        outcomes += await fn(bot, actor, request.text, request)
    return outcomes


async def _question(bot: Bot, actor: Actor, request: CommandRequest) -> list[Outcome]:
    """Free text goes to the question answerer (registered by bot.questions)."""
    if bot.registry.fallback is None:
        return [Reply(message=Message(text=t(actor.lang, "errors.unknown_command")))]
    try:
        return await bot.registry.fallback(bot, actor, request.text.strip(), request)
    except UserError as exc:  # "too long" and friends answer in the question's thread, like the answer would
        return [Reply(message=reply.message, in_thread=request.thread_ts is not None)
                for reply in error_reply(actor, exc) if isinstance(reply, Reply)]


def _stale(actor: Actor, what: str, name: str) -> list[Outcome]:
    """A button or form nothing handles (an older release's, or a forged id): say so kindly, log it once."""
    log.warning("no handler for %s %.80r", what, name)
    return [Reply(message=Message(text=t(actor.lang, "errors.stale_button")))]


async def handle_action(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    fn = bot.registry.actions.get(event.action)
    if fn is None:
        return _stale(actor, "action", event.action)
    if len(event.value) > MAX_VALUE_LENGTH:  # no button the bot sent carries this much
        log.warning("refused %s with a %d-character value", event.action, len(event.value))
        return error_reply(actor, UserError("errors.invalid_value"))
    try:
        return await fn(bot, actor, event)
    except UserError as exc:
        await audit_refusal(bot, actor, exc, event.action)
        return error_reply(actor, exc)


async def handle_form(bot: Bot, actor: Actor, submission: FormSubmission) -> list[Outcome]:
    fn = bot.registry.forms.get(submission.callback)
    if fn is None:
        return _stale(actor, "form", submission.callback)
    try:
        return await fn(bot, actor, submission)
    except UserError as exc:
        await audit_refusal(bot, actor, exc, submission.callback)
        return [FormErrors(errors={"_form": exc.render(actor.lang)})]


async def home_blocks(bot: Bot, actor: Actor) -> list[Block]:
    """The App Home tab: each capability contributes a section for this user."""
    blocks: list[Block] = []
    for _, section in bot.registry.home_sections:
        try:
            blocks.extend(await section(bot, actor))
        except Exception:  # one broken section must not blank the whole tab
            log.exception("home section failed")
            blocks.append(Context(text=t(actor.lang, "errors.generic")))
    return blocks


@asynccontextmanager
async def open_bot(settings: Settings, messenger: Messenger | None = None, start: bool = True,
                   migrate: bool = True) -> AsyncIterator[Bot]:
    """A ready Bot for one command-line command: one-off commands migrate (under the migration lock);
    long-running servers (console, `samsyv web`) only check the schema, like `run`."""
    if migrate:
        await upgrade(settings.database_url)
    bot = Bot(settings=settings, db=Database(settings.database_url), messenger=messenger or LogMessenger())
    if not migrate:
        try:
            await require_current_schema(bot.db)
        except SchemaBehind:
            await bot.db.dispose()
            raise
    try:
        if start:
            await bot.start()
        yield bot
    finally:
        await bot.stop()
