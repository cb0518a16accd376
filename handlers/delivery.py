"""Where a request's outcomes go, and the rules around the ack: run the core flow, ack in time, deliver.

Clicks and form submissions run their core function first, so an answer is committed before the ack.
Every answer the core writes for the request (`db.run`) must commit within ACK_BUDGET or is rolled back
(never committed later): the core then tells the person it was not saved. If the core itself takes
longer, we ack once each of its answers has committed or been refused, and deliver when it is done, so
Slack's 3 s limit always holds and nobody is thanked for something not stored. Other writes (a lead's
nudge to 1,500 people) may finish after the ack; their outcome is delivered when they are done. Slash commands and events ack at
once (their answer may take longer).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable
from typing import Any

import aiohttp

from bot.db.writer import deadline
from bot.i18n import t
from bot.runtime import Bot
from bot.ui import FormErrors, Message, OpenForm, Outcome, Reply, SendFile, ShowDocument, UpdateOrigin
from bot.users import Actor
from handlers.blocks import document_view, form_view, message_kwargs

log = logging.getLogger(__name__)

ACK_BUDGET = 2.0


async def within_budget(work: Awaitable[list[Outcome]]) -> tuple[asyncio.Task[list[Outcome]], bool]:
    """Start the core flow with its writes bound to the ack budget; return when it is done, or when the
    budget is spent and each write it made is settled (committed, or refused and rolled back)."""
    with deadline(ACK_BUDGET) as writes:
        task = asyncio.ensure_future(work)  # the task copies the context: its writes carry the deadline
    done, _ = await asyncio.wait({task}, timeout=ACK_BUDGET)
    if not done:
        await writes.settled()
    return task, bool(done)


class Responder:
    """Posts to response_urls over one kept-alive HTTP session (Bolt's `respond` opens a new session and
    connection for every reply, a large share of a tap's cost in a burst)."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    async def send(self, url: str, message: dict[str, Any]) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        async with self._session.post(url, json=message) as response:  # a response_url takes plain JSON
            if response.status >= 400:
                raise RuntimeError(f"response_url answered {response.status}: {(await response.text())[:200]}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def responder_of(bot: Bot) -> Responder:
    responder: Responder | None = bot.state.get("slack.responder")
    if responder is None:
        responder = bot.state["slack.responder"] = Responder()
        bot.closers.append(responder.close)
    return responder


class RecentTaps:
    """Taps handled lately in this process, by Slack's action_ts: a retry of one is acked, not re-applied
    (a second multiple-choice toggle would undo the first)."""

    def __init__(self, size: int = 5000) -> None:
        self.size = size
        self._seen: OrderedDict[tuple[str, ...], None] = OrderedDict()

    def seen(self, key: tuple[str, ...]) -> bool:
        if key in self._seen:
            return True
        self._seen[key] = None
        while len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return False


class Delivery:
    """Where outcomes go for one request: the channel, thread, trigger and response_url it came with."""

    def __init__(self, bot: Bot, client: Any, actor: Actor, body: dict[str, Any], respond: Any = None,
                 thread_ts: str | None = None) -> None:
        self.bot, self.client, self.actor, self.body, self.respond = bot, client, actor, body, respond
        self.thread_ts = thread_ts
        channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
        self.channel: str | None = channel
        container = body.get("container") or {}
        self.origin_ts: str | None = container.get("message_ts")
        self.origin_ephemeral = bool(container.get("is_ephemeral"))

    async def send(self, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            try:
                await self._send_one(outcome)
            except Exception:
                log.exception("delivering %s failed", outcome.kind)

    async def _send_one(self, outcome: Outcome) -> None:
        if isinstance(outcome, Reply):
            kwargs = message_kwargs(outcome.message)
            if outcome.in_thread and self.channel:
                await self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts,
                                                   unfurl_links=False, **kwargs)
            elif self.respond is not None and self.body.get("response_url"):
                await responder_of(self.bot).send(self.body["response_url"], {
                    "response_type": "ephemeral", "replace_original": False, **kwargs})
            elif self.channel and not self.channel.startswith("D"):
                await self.client.chat_postEphemeral(channel=self.channel, user=self.actor.user_id, **kwargs)
            else:
                await self.client.chat_postMessage(channel=self.actor.user_id, **kwargs)
        elif isinstance(outcome, UpdateOrigin):
            kwargs = message_kwargs(outcome.message)
            if self.origin_ephemeral and self.respond is not None and self.body.get("response_url"):
                await responder_of(self.bot).send(self.body["response_url"], {"replace_original": True, **kwargs})
            elif self.channel and self.origin_ts:
                await self.client.chat_update(channel=self.channel, ts=self.origin_ts, **kwargs)
        elif isinstance(outcome, OpenForm):
            await self.client.views_open(trigger_id=self.body["trigger_id"],
                                         view=form_view(outcome.form, self.bot.settings.tz))
        elif isinstance(outcome, ShowDocument):
            if self.body.get("trigger_id"):
                await self.client.views_open(trigger_id=self.body["trigger_id"], view=document_view(
                    outcome.title, outcome.message, t(self.actor.lang, "common.close")))
        elif isinstance(outcome, SendFile):
            await self.bot.messenger.upload(self.actor.user_id, outcome.filename, outcome.content, outcome.title,
                                            outcome.comment)
        elif isinstance(outcome, FormErrors):
            await self.send([Reply(message=Message(text="\n".join(outcome.errors.values())))])


async def deliver(delivery: Delivery, outcomes: Awaitable[list[Outcome]]) -> None:
    await delivery.send(await outcomes)


async def after_ack(client: Any, actor: Actor, work: Awaitable[Any]) -> None:
    """Run what follows an ack: errors are logged and the user told here, because an exception that
    escapes a listener after its ack makes Bolt forget the ack (and Slack then sees a failure)."""
    try:
        await work
    except Exception:
        log.exception("error after ack")  # no user id: logs carry no personal data
        await tell_error(client, actor)


async def tell_error(client: Any, actor: Actor) -> None:
    try:
        await client.chat_postMessage(channel=actor.user_id, **message_kwargs(
            Message(text=t(actor.lang, "errors.generic"))))
    except Exception:
        log.exception("could not tell the user about the error")


def user_id_of(body: dict[str, Any]) -> str:
    return body.get("user_id") or (body.get("user") or {}).get("id") or body.get("event", {}).get("user", "")
