"""Commands every user has: help, language, role (leads), and the App Home greeting."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.db import erasure
from bot.i18n import t
from bot.interactions import CommandRequest, Registry
from bot.ui import Block, Context, Divider, Header, Message, Outcome, Reply, Text
from bot.users import Actor, Role, parse_role, set_language, set_role

if TYPE_CHECKING:
    from bot.runtime import Bot


def help_message(registry: Registry, actor: Actor) -> Message:
    """What the actor may do; pupils get an introduction and example questions written for them."""
    pupil = actor.role == Role.pupil
    lines = [t(actor.lang, "help.intro_pupil" if pupil else "help.intro")]
    for command in registry.commands:
        if command.help_key and actor.at_least(command.min_role):
            lines.append(f"• {t(actor.lang, command.help_key)}")
    lines.append(t(actor.lang, "help.ask_pupil" if pupil else "help.ask"))
    role = t(actor.lang, f"roles.{actor.role.value}")
    return Message(text=t(actor.lang, "help.title"), blocks=[
        Header(text=t(actor.lang, "help.title")),
        Text(text="\n".join(lines)),
        Context(text=t(actor.lang, "help.your_role", role=role)),
    ])


async def help_outcomes(bot: Bot, actor: Actor) -> list[Outcome]:
    return [Reply(message=help_message(bot.registry, actor))]


async def help_command(bot: Bot, actor: Actor, rest: str, request: CommandRequest) -> list[Outcome]:
    return await help_outcomes(bot, actor)


async def language_command(bot: Bot, actor: Actor, rest: str, request: CommandRequest) -> list[Outcome]:
    choice = rest.strip().lower()
    lang = {"sv": "sv", "svenska": "sv", "swedish": "sv", "en": "en", "engelska": "en", "english": "en"}.get(choice)
    if lang is None:
        return [Reply(message=Message(text=t(actor.lang, "language.usage")))]
    await set_language(bot.db, actor.user_id, lang)
    return [Reply(message=Message(text=t(lang, "language.set")))]


def parse_user_mention(text: str) -> str | None:
    """`<@U123|name>` or `<@U123>` or a bare ID -> U123."""
    text = text.strip()
    if text.startswith("<@") and text.endswith(">"):
        text = text[2:-1].split("|", 1)[0]
    return text if text and text.replace("_", "").replace("-", "").isalnum() else None


async def role_command(bot: Bot, actor: Actor, rest: str, request: CommandRequest) -> list[Outcome]:
    parts = rest.split()
    user = parse_user_mention(parts[0]) if parts else None
    if len(parts) != 2 or user is None:
        return [Reply(message=Message(text=t(actor.lang, "role.usage")))]
    role = parse_role(parts[1])
    await set_role(bot.db, actor, user, role)
    return [Reply(message=Message(text=t(actor.lang, "role.set", user=f"<@{user}>",
                                         role=t(actor.lang, f"roles.{role.value}"))))]


async def home_greeting(bot: Bot, actor: Actor) -> list[Block]:
    return [
        Header(text=t(actor.lang, "home.title")),
        Text(text=t(actor.lang, "home.intro")),
        Context(text=t(actor.lang, "help.your_role", role=t(actor.lang, f"roles.{actor.role.value}"))),
        Divider(),
    ]


def register(registry: Registry) -> None:
    registry.command("help", help_command, help_key="help.cmd.help")
    registry.command("language", language_command, help_key="help.cmd.language")
    registry.command("role", role_command, min_role=Role.lead, help_key="help.cmd.role")
    registry.home(0, home_greeting)
    registry.due(erasure.CHECKPOINT_KIND, erasure.due_checkpoint)
