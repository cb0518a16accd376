"""Every Bolt listener of the bot: the slash command, DMs, mentions, App Home, buttons, modals, errors.

Buttons and modals are not matched here by name: one listener takes them all and the Bot's registry
finds the function in one lookup (`bot.runtime.handle_action` / `handle_form`), so a capability adds a
button in its own `register(registry)` and nowhere else.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.interactions import ActionEvent, CommandRequest, FormSubmission
from bot.runtime import Bot, handle_action, handle_command, handle_form, handle_message, home_blocks
from bot.ui import FormErrors, Message
from handlers.blocks import action_name, form_errors, form_values
from handlers.delivery import Delivery, after_ack, deliver, tell_error, user_id_of, within_budget

log = logging.getLogger(__name__)

ANY = re.compile(".+")


async def on_command(ack: Any, body: dict[str, Any], client: Any, respond: Any, context: Any) -> None:
    """`/syv ...`: ack at once, then answer."""
    await ack()
    bot: Bot = context["bot"]
    actor = await bot.actor(user_id_of(body))
    request = CommandRequest(text=body.get("text", ""), channel=body.get("channel_id"),
                             is_dm=str(body.get("channel_id", "")).startswith("D"))
    await after_ack(client, actor, deliver(Delivery(bot, client, actor, body, respond),
                                           handle_command(bot, actor, request)))


async def _answer_message(bot: Bot, client: Any, event: dict[str, Any]) -> None:
    """A DM or an @mention: answered in a thread of the message."""
    actor = await bot.actor(event.get("user", ""))
    text = event.get("text", "")
    if event.get("type") == "app_mention":
        text = " ".join(word for word in text.split() if not (word.startswith("<@") and word.endswith(">")))
    thread = event.get("thread_ts") or event.get("ts")
    request = CommandRequest(text=text, channel=event.get("channel"), thread_ts=thread,
                             is_dm=event.get("channel_type") == "im")
    body = {"channel": {"id": event.get("channel")}}
    await after_ack(client, actor, deliver(Delivery(bot, client, actor, body, thread_ts=thread),
                                           handle_message(bot, actor, request)))


async def on_message(ack: Any, event: dict[str, Any], client: Any, context: Any) -> None:
    await ack()
    # Ignore the bot's own messages, edits and other subtypes; answer what people write.
    if event.get("bot_id") or event.get("subtype") or event.get("channel_type") != "im":
        return
    await _answer_message(context["bot"], client, event)


async def on_mention(ack: Any, event: dict[str, Any], client: Any, context: Any) -> None:
    await ack()
    if event.get("bot_id"):
        return
    await _answer_message(context["bot"], client, event)


async def on_home_opened(ack: Any, event: dict[str, Any], context: Any) -> None:
    await ack()
    if event.get("tab") not in (None, "home"):
        return
    bot: Bot = context["bot"]
    actor = await bot.actor(event.get("user", ""))
    await bot.messenger.publish_home(actor.user_id, Message(text="home", blocks=await home_blocks(bot, actor)))


async def on_button(ack: Any, body: dict[str, Any], client: Any, respond: Any, context: Any) -> None:
    """Any button: the core commits first, then we ack, then deliver."""
    bot: Bot = context["bot"]
    clicked = (body.get("actions") or [{}])[0]
    actor = await bot.actor(user_id_of(body))
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    event = ActionEvent(action=action_name(clicked.get("action_id", "")), value=clicked.get("value", ""),
                        channel=channel, message_ts=(body.get("container") or {}).get("message_ts"))
    task, _ = await within_budget(handle_action(bot, actor, event))
    await ack()
    await after_ack(client, actor, deliver(Delivery(bot, client, actor, body, respond), task))


async def on_view_submission(ack: Any, body: dict[str, Any], client: Any, context: Any) -> None:
    """Any modal: validation errors go back in the ack, next to the field; nothing is saved then."""
    bot: Bot = context["bot"]
    view = body.get("view", {})
    actor = await bot.actor(user_id_of(body))
    submission = FormSubmission(callback=view.get("callback_id", ""), values=form_values(view, bot.settings.tz),
                                metadata=view.get("private_metadata", ""))
    task, in_time = await within_budget(handle_form(bot, actor, submission))
    if not in_time or task.exception() is not None:
        await ack()  # slow or failed: close the modal in time, then deliver or report the error
        await after_ack(client, actor, deliver(Delivery(bot, client, actor, body), task))
        return
    outcomes = task.result()
    errors = [o for o in outcomes if isinstance(o, FormErrors)]
    if errors:
        await ack(response_action="errors", errors=form_errors(errors[0].errors, view))
        return
    await ack()
    await after_ack(client, actor, Delivery(bot, client, actor, body).send(outcomes))


async def on_error(error: Exception, body: dict[str, Any], context: Any, client: Any) -> None:
    """One friendly line to the user in their language; the details go to the log; we keep running."""
    log.error("error handling %s: %s", body.get("type") or body.get("command"), error, exc_info=error)
    bot: Bot | None = context.get("bot") if context else None
    user = user_id_of(body)
    if bot is None or not user:
        return
    await tell_error(client, await bot.actor(user))


def register(app: Any) -> None:
    """Attach every listener to a Bolt app (called by `bot/slack_main.py`, which owns the app)."""
    app.command("/syv")(on_command)
    app.event("message")(on_message)
    app.event("app_mention")(on_mention)
    app.event("app_home_opened")(on_home_opened)
    app.action(ANY)(on_button)
    app.view(ANY)(on_view_submission)
    app.error(on_error)
