"""Every Bolt listener of the bot: the slash command, DMs, mentions, App Home, buttons, modals, errors.

Buttons and modals are not matched here by name: one listener takes them all and the Bot's registry
finds the function in one lookup (`bot.runtime.handle_action` / `handle_form`), so a capability adds a
button in its own `register(registry)` and nowhere else.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from bot.i18n import t
from bot.interactions import ActionEvent, CommandRequest, FormSubmission
from bot.questions.welcome import suggested_questions, welcome_message
from bot.runtime import (
    Bot,
    handle_action,
    handle_command,
    handle_form,
    handle_message,
    handle_thread_reply,
    home_blocks,
)
from bot.ui import FormErrors, Message
from bot.users import first_greeting
from handlers.blocks import action_name, form_errors, form_values
from handlers.delivery import Delivery, RecentTaps, after_ack, deliver, tell_error, user_id_of, within_budget

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


THINKING_AFTER = 0.5  # seconds: a quicker answer needs no "thinking" status


async def _answer_message(bot: Bot, client: Any, event: dict[str, Any]) -> None:
    """A DM or an @mention: answered in a thread of the message; a slow DM answer shows a status first."""
    actor = await bot.actor(event.get("user", ""))
    text = event.get("text", "")
    if event.get("type") == "app_mention":
        text = " ".join(word for word in text.split() if not (word.startswith("<@") and word.endswith(">")))
    thread = event.get("thread_ts") or event.get("ts")
    is_dm = event.get("channel_type") == "im"
    request = CommandRequest(text=text, channel=event.get("channel"), thread_ts=thread, is_dm=is_dm)
    body = {"channel": {"id": event.get("channel")}}
    work = asyncio.ensure_future(handle_message(bot, actor, request))
    if is_dm and thread:
        done, _ = await asyncio.wait({work}, timeout=THINKING_AFTER)
        if not done:
            await set_thinking(client, event.get("channel"), thread, t(actor.lang, "welcome.thinking"))
    await after_ack(client, actor, deliver(Delivery(bot, client, actor, body, thread_ts=thread), work))


async def set_thinking(client: Any, channel: str | None, thread_ts: str, status: str) -> None:
    """Slack's "is thinking…" line under the thread (assistant.threads.setStatus); it clears itself when
    the reply is posted. Workspaces or apps without the agent features refuse it: that is fine."""
    try:
        await client.assistant_threads_setStatus(channel_id=channel, thread_ts=thread_ts, status=status)
    except Exception as exc:
        log.info("no thinking status in %s: %s", channel, getattr(exc, "response", {}).get("error", exc))


async def greet_once(bot: Bot, client: Any, user_id: str) -> None:
    """The first time someone opens the Messages tab: a welcome with three questions for their role."""
    if not user_id or not await first_greeting(bot.db, user_id):
        return
    actor = await bot.actor(user_id)
    await bot.messenger.dm(actor.user_id, welcome_message(actor))


async def on_message(ack: Any, event: dict[str, Any], client: Any, context: Any) -> None:
    await ack()
    # Ignore the bot's own messages, edits and other subtypes; answer what people write.
    if event.get("bot_id") or event.get("subtype"):
        return
    if event.get("channel_type") == "channel" and event.get("thread_ts"):
        await _thread_reply(context["bot"], client, event)
    elif event.get("channel_type") == "im":
        await _answer_message(context["bot"], client, event)


async def _thread_reply(bot: Bot, client: Any, event: dict[str, Any]) -> None:
    """A reply in a channel thread (e.g. a counsellor answering a forwarded question); outcomes go
    to the one who replied, visible only to them."""
    actor = await bot.actor(event.get("user", ""))
    request = CommandRequest(text=event.get("text", ""), channel=event.get("channel"),
                             thread_ts=event.get("thread_ts"))
    body = {"channel": {"id": event.get("channel")}}
    await after_ack(client, actor, deliver(Delivery(bot, client, actor, body),
                                           handle_thread_reply(bot, actor, request)))


async def on_mention(ack: Any, event: dict[str, Any], client: Any, context: Any) -> None:
    await ack()
    if event.get("bot_id"):
        return
    await _answer_message(context["bot"], client, event)


async def on_home_opened(ack: Any, event: dict[str, Any], client: Any, context: Any) -> None:
    await ack()
    bot: Bot = context["bot"]
    if event.get("tab") == "messages":
        await after_ack(client, await bot.actor(event.get("user", "")), greet_once(bot, client, event.get("user", "")))
        return
    if event.get("tab") not in (None, "home"):
        return
    actor = await bot.actor(event.get("user", ""))
    await bot.messenger.publish_home(actor.user_id, Message(text="home", blocks=await home_blocks(bot, actor)))


async def on_button(ack: Any, body: dict[str, Any], client: Any, respond: Any, context: Any,
                    request: Any) -> None:
    """Any button: the core commits first, then we ack, then deliver."""
    bot: Bot = context["bot"]
    clicked = (body.get("actions") or [{}])[0]
    tap = (user_id_of(body), str(clicked.get("action_id", "")), str(clicked.get("value", "")),
           str(clicked.get("action_ts", "")))
    recent: RecentTaps = bot.state.setdefault("slack.recent_taps", RecentTaps())
    if recent.seen(tap) and request.headers.get("x-slack-retry-num"):
        await ack()  # Slack's retry of a tap handled here already: nothing to do again
        return
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


async def on_assistant_thread_started(say: Any, set_suggested_prompts: Any, body: dict[str, Any],
                                      context: Any) -> None:
    """An assistant-view thread (Slack's AI app surface): the welcome, and the three questions as
    suggested prompts that Slack shows above the input."""
    bot: Bot = context["bot"]
    actor = await bot.actor(user_id_of(body) or (body.get("event", {}).get("assistant_thread") or {}).get("user_id", ""))
    message = welcome_message(actor)
    await say(text=message.text)
    await set_suggested_prompts(prompts=[{"title": q[:75], "message": q} for q in suggested_questions(actor)])


async def on_assistant_message(set_status: Any, payload: dict[str, Any], client: Any, context: Any) -> None:
    """A question in an assistant thread: the thinking status, then the answer in that thread."""
    if payload.get("bot_id") or payload.get("subtype"):  # never answer our own replies or edits
        return
    bot: Bot = context["bot"]
    actor = await bot.actor(payload.get("user", ""))
    await set_status(t(actor.lang, "welcome.thinking"))
    await _answer_message(bot, client, {**payload, "channel_type": "im"})


def assistant(assistant_class: Any) -> Any:
    """The Assistant middleware (Bolt's class is handed in, so this module imports no Slack package)."""
    helper = assistant_class()
    helper.thread_started(on_assistant_thread_started)
    helper.user_message(on_assistant_message)
    return helper


def register(app: Any, assistant_class: Any = None) -> None:
    """Attach every listener to a Bolt app (called by `bot/slack_main.py`, which owns the app)."""
    if assistant_class is not None:
        app.use(assistant(assistant_class))  # before the message listener: it takes assistant threads
    app.command("/syv")(on_command)
    app.event("message")(on_message)
    app.event("app_mention")(on_mention)
    app.event("app_home_opened")(on_home_opened)
    app.action(ANY)(on_button)
    app.view(ANY)(on_view_submission)
    app.error(on_error)
