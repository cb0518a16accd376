"""The local console chat: the same core flows as Slack, buttons as numbered choices, modals as prompts."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.i18n import t
from bot.interactions import ActionEvent, CommandRequest, FormSubmission
from bot.messaging import MessageRef
from bot.runtime import Bot, handle_action, handle_command, handle_form, handle_message, home_blocks
from bot.ui import (
    Actions,
    Button,
    Context,
    Divider,
    Fields,
    Form,
    FormErrors,
    Header,
    Message,
    OpenForm,
    Outcome,
    Reply,
    SendFile,
    ShowDocument,
    Text,
    UpdateOrigin,
)
from bot.users import Actor

InputFn = Callable[[str], Awaitable[str | None]]
OutputFn = Callable[[str], None]

_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_MENTION = re.compile(r"<[@#!]([^|>]+)(?:\|[^>]+)?>")


def plain(mrkdwn: str) -> str:
    """mrkdwn as terminal text: links as 'label (url)', mentions as '@U1', entities unescaped."""
    text = _LINK.sub(r"\2 (\1)", mrkdwn)
    text = _MENTION.sub(lambda m: "@" + m.group(1), text)
    return html.unescape(text)


def render_text(message: Message) -> list[str]:
    lines: list[str] = []
    for block in message.blocks:
        if isinstance(block, Header):
            lines.append(f"== {plain(block.text)} ==")
        elif isinstance(block, Text):
            lines.append(plain(block.text))
        elif isinstance(block, Fields):
            lines.extend(plain(item) for item in block.items)
        elif isinstance(block, Context):
            lines.append(f"  ({plain(block.text)})")
        elif isinstance(block, Divider):
            lines.append("-" * 40)
        elif isinstance(block, Actions):
            pass
    if not message.blocks:
        lines.append(plain(message.text))
    return lines


class ConsoleMessenger:
    """Prints what the bot would send in Slack; DMs to the console user get clickable numbers."""

    def __init__(self, out: OutputFn, files_dir: Path) -> None:
        self.out = out
        self.files_dir = files_dir
        self.user_id = ""
        self.lang = "sv"
        self.buttons: list[tuple[Button, MessageRef]] = []
        self._ts = 0
        self.members: dict[str, list[str]] = {}

    def _next_ref(self, channel: str) -> MessageRef:
        self._ts += 1
        return MessageRef(channel=channel, ts=f"{self._ts}.000000")

    def show(self, message: Message, ref: MessageRef | None = None, title: str | None = None) -> None:
        if title:
            self.out(f"--- {title} ---")
        for line in render_text(message):
            self.out(line)
        for button in message.buttons():
            if button.url:
                self.out(f"  -> {plain(button.label)}: {button.url}")
                continue
            self.buttons.append((button, ref or MessageRef(channel="console", ts="0")))
            self.out(f"  [{len(self.buttons)}] {plain(button.label)}")

    async def post(self, channel: str, message: Message, thread_ts: str | None = None) -> MessageRef:
        ref = self._next_ref(channel)
        self.show(message, ref, t(self.lang, "console.posted_in", channel=channel))
        return ref

    async def dm(self, user_id: str, message: Message) -> MessageRef:
        ref = self._next_ref(f"D-{user_id}")
        if user_id == self.user_id:
            self.show(message, ref, t(self.lang, "console.dm_to", user=user_id))
        else:
            self.out(f"--- {t(self.lang, 'console.dm_to', user=user_id)}: {plain(message.text)}")
        return ref

    async def update(self, ref: MessageRef, message: Message) -> None:
        self.out(f"--- {t(self.lang, 'console.updated', channel=ref.channel)}: {plain(message.text)}")

    async def upload(self, user_or_channel: str, filename: str, content: bytes, title: str,
                     comment: str = "") -> None:
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / Path(filename).name
        path.write_bytes(content)
        self.out(t(self.lang, "console.file_for", user=user_or_channel, filename=filename,
                   size=len(content), path=path))

    async def channel_members(self, channel: str) -> list[str]:
        return list(self.members.get(channel, [self.user_id]))

    async def publish_home(self, user_id: str, blocks: Message) -> None:
        self.show(blocks, title="App Home")


def parse_local_datetime(text: str, tz: Any) -> datetime | None:
    """'2026-03-29 09:00' in the bot's time zone -> an aware datetime; None when unreadable."""
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    return None


class Console:
    def __init__(self, bot: Bot, messenger: ConsoleMessenger, user_id: str, read: InputFn, out: OutputFn) -> None:
        self.bot, self.messenger, self.user_id, self.read, self.out = bot, messenger, user_id, read, out
        messenger.user_id = user_id

    async def actor(self) -> Actor:
        actor = await self.bot.actor(self.user_id)
        self.messenger.lang = actor.lang
        return actor

    async def run(self) -> None:
        actor = await self.actor()
        self.out(t(actor.lang, "console.welcome", user=self.user_id, role=t(actor.lang, f"roles.{actor.role.value}")))
        while True:
            line = await self.read("> ")
            if line is None or line.strip().lower() in {"quit", "exit", "avsluta"}:
                self.out(t((await self.actor()).lang, "console.bye"))
                return
            await self.handle_line(line)

    async def handle_line(self, line: str) -> None:
        actor = await self.actor()
        text = line.strip()
        if not text:
            return
        if text.isdigit() and 1 <= int(text) <= len(self.messenger.buttons):
            button, ref = self.messenger.buttons[int(text) - 1]
            event = ActionEvent(action=button.action, value=button.value, channel=ref.channel, message_ts=ref.ts)
            await self.deliver(actor, await handle_action(self.bot, actor, event))
            return
        if text.lower() in {"home", "hem"}:
            blocks = await home_blocks(self.bot, actor)
            self.messenger.show(Message(text="App Home", blocks=blocks), title="App Home")
            return
        if text.startswith("/syv"):
            request = CommandRequest(text=text[4:].strip(), channel="console", is_dm=False)
            await self.deliver(actor, await handle_command(self.bot, actor, request))
        else:
            request = CommandRequest(text=text, channel=f"D-{self.user_id}", is_dm=True)
            await self.deliver(actor, await handle_message(self.bot, actor, request))

    async def deliver(self, actor: Actor, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            if isinstance(outcome, Reply):
                self.messenger.show(outcome.message)
            elif isinstance(outcome, UpdateOrigin):
                self.messenger.show(outcome.message, title=t(actor.lang, "console.updated", channel="console"))
            elif isinstance(outcome, ShowDocument):
                self.messenger.show(outcome.message, title=plain(outcome.title))
            elif isinstance(outcome, SendFile):
                await self.messenger.upload(actor.user_id, outcome.filename, outcome.content, outcome.title)
            elif isinstance(outcome, OpenForm):
                await self.fill_form(actor, outcome.form)
            elif isinstance(outcome, FormErrors):
                for name, error in outcome.errors.items():
                    self.out(f"! {name}: {plain(error)}")

    async def fill_form(self, actor: Actor, form: Form) -> None:
        """Prompt field by field; on errors, ask again for the fields that were wrong."""
        self.out(f"=== {plain(form.title)} ===")
        if form.intro:
            self.out(plain(form.intro))
        values: dict[str, Any] = {}
        pending = list(form.fields)
        for _attempt in range(5):
            for field in pending:
                value = await self.ask_field(field)
                if value is _CANCEL:
                    self.out(t(actor.lang, "console.cancelled"))
                    return
                values[field.name] = value
            outcomes = await handle_form(self.bot, actor, FormSubmission(callback=form.callback, values=values,
                                                                         metadata=form.metadata))
            errors = [o for o in outcomes if isinstance(o, FormErrors)]
            if not errors:
                await self.deliver(actor, outcomes)
                return
            await self.deliver(actor, list[Outcome](errors))
            wrong = set(errors[0].errors)
            pending = [f for f in form.fields if f.name in wrong] or list(form.fields)
        self.out(t(actor.lang, "console.cancelled"))

    async def ask_field(self, field: Any) -> Any:
        label = plain(field.label) + (f" ({t(self.messenger.lang, 'console.optional')})" if field.optional else "")
        if field.options:
            for index, option in enumerate(field.options, 1):
                self.out(f"  {index}. {plain(option.label)}")
        if field.initial not in (None, "", []):
            label += f" [{field.initial}]"
        raw = await self.read(f"{label}: ")
        if raw is None:
            return _CANCEL
        raw = raw.strip()
        if not raw and field.initial not in (None, ""):
            return field.initial
        if field.kind in {"select", "radio"}:
            return _pick(field.options, raw)[0] if raw else None
        if field.kind in {"multiselect", "checkboxes"}:
            return _pick(field.options, raw)
        if field.kind in {"users", "channels", "conversations"}:
            return [part.strip() for part in raw.split(",") if part.strip()]
        if field.kind == "datetime":
            return parse_local_datetime(raw, self.bot.settings.tz) if raw else None
        if field.kind == "multiline":
            return raw.replace("\\n", "\n") or None
        return raw or None


_CANCEL = object()


def _pick(options: list[Any], raw: str) -> list[str]:
    picked: list[str] = []
    for part in raw.split(","):
        part = part.strip()
        if part.isdigit() and 1 <= int(part) <= len(options):
            picked.append(options[int(part) - 1].value)
        elif any(o.value == part for o in options):
            picked.append(part)
    return picked


async def stdin_reader(prompt: str) -> str | None:
    try:
        return await asyncio.to_thread(input, prompt)
    except EOFError:
        return None
