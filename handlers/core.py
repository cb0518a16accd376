"""Slash command, DMs, mentions, App Home and the global error handler."""

from __future__ import annotations

import logging
from typing import Any

from bot.runtime import Bot, home_blocks
from bot.ui import Message
from handlers import dispatch

log = logging.getLogger(__name__)


async def on_message(ack: Any, event: dict[str, Any], client: Any, context: Any) -> None:
    await ack()
    # Ignore the bot's own messages, edits and other subtypes; answer what people write.
    if event.get("bot_id") or event.get("subtype") or event.get("channel_type") != "im":
        return
    await dispatch.message(context["bot"], client, event)


async def on_mention(ack: Any, event: dict[str, Any], client: Any, context: Any) -> None:
    await ack()
    if event.get("bot_id"):
        return
    await dispatch.message(context["bot"], client, event)


async def on_home_opened(ack: Any, event: dict[str, Any], context: Any) -> None:
    await ack()
    if event.get("tab") not in (None, "home"):
        return
    bot: Bot = context["bot"]
    actor = await bot.actor(event.get("user", ""))
    await bot.messenger.publish_home(actor.user_id, Message(text="home", blocks=await home_blocks(bot, actor)))


async def on_error(error: Exception, body: dict[str, Any], context: Any, client: Any) -> None:
    """One friendly line to the user in their language; the details go to the log; we keep running."""
    log.error("error handling %s: %s", body.get("type") or body.get("command"), error, exc_info=error)
    bot: Bot | None = context.get("bot") if context else None
    user = dispatch.user_id_of(body)
    if bot is None or not user:
        return
    await dispatch.tell_error(client, await bot.actor(user))


def register(app: Any) -> None:
    app.command("/syv")(dispatch.command)
    app.event("message")(on_message)
    app.event("app_mention")(on_mention)
    app.event("app_home_opened")(on_home_opened)
    app.error(on_error)
    dispatch.register_prefix(app, "core")
