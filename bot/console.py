"""The local console chat: the same core flows as Slack, buttons as numbered choices, modals as prompts."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.dates import UnclearDate, parse_when, say_when
from bot.i18n import t
from bot.interactions import ActionEvent, CommandRequest, FormSubmission
from bot.messaging import MessageRef
from bot.runtime import Bot, handle_action, handle_command, handle_form, handle_message, home_blocks
from bot.ui import (
    Actions,
    Block,
    Button,
    Context,
    Divider,
    Fields,
    Form,
    FormErrors,
    FormField,
    Header,
    Markdown,
    Message,
    OpenForm,
    Option,
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


# Slack emoji codes the bot's texts use, as terminal characters; any other code is dropped.
EMOJI = {"warning": "⚠️", "lock": "🔒", "closed_lock_with_key": "🔐", "bust_in_silhouette": "👤", "wave": "👋",
         "white_check_mark": "✅", "calendar": "📆", "link": "🔗", "+1": "👍", "-1": "👎", "thumbsup": "👍",
         "thumbsdown": "👎", "tada": "🎉", "bulb": "💡", "mag": "🔍", "hourglass_flowing_sand": "⏳"}
_EMOJI = re.compile(r":([a-z][a-z0-9_]*|[+-]1):")  # a word, so "kl 09:00:00" stays
_CHANNEL = re.compile(r"<#([A-Z0-9_]+)(?:\|([^>]*))?>")
_USER = re.compile(r"<@([A-Z0-9_]+)(?:\|[^>]+)?>")
_SPECIAL = re.compile(r"<!([a-z]+)(?:\|[^>]+)?>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_BARE_LINK = re.compile(r"<(https?://[^|>]+)>")
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)\*(?![\w*])")  # *bold* -> bold
_ITALIC = re.compile(r"(?<![\w])_(?!\s)([^_\n]+?)_(?![\w])")  # _italic_ -> italic, but not C_SYV_X
CHANNEL_NAMES: dict[str, str] = {}  # console channel id -> the name the user typed


def plain(mrkdwn: str) -> str:
    """mrkdwn as terminal text: links as 'label (url)', channels as '#name', people as '@U1', emoji codes
    as emoji (unknown ones dropped), entities unescaped."""
    text = _LINK.sub(r"\2 (\1)", mrkdwn)
    text = _BARE_LINK.sub(r"\1", text)
    text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or CHANNEL_NAMES.get(m.group(1), m.group(1))), text)
    text = _USER.sub(lambda m: "@" + m.group(1), text)
    text = _SPECIAL.sub(lambda m: "@" + m.group(1), text)
    text = _EMOJI.sub(lambda m: EMOJI.get(m.group(1), ""), text)
    text = _BOLD.sub(r"\1", text)
    text = _ITALIC.sub(r"\1", text)
    return html.unescape(text).lstrip(" ")


def channel_label(channel: str) -> str:
    return plain(f"<#{channel}>") if re.fullmatch(r"[A-Z0-9_]+", channel) else channel


def render_text(message: Message) -> list[str]:
    """Every block's text; the buttons are numbered by ConsoleMessenger.show right under their block."""
    return [line for block in message.blocks for line in block_lines(block)] or [plain(message.text)]


def block_lines(block: Block) -> list[str]:
    if isinstance(block, Header):
        return [f"== {plain(block.text)} =="]
    if isinstance(block, Text):
        return [plain(block.text)]
    if isinstance(block, Markdown):
        return [plain(block.fallback)]
    if isinstance(block, Fields):
        return [plain(item) for item in block.items]
    if isinstance(block, Context):
        return [f"  ({plain(block.text)})"]
    if isinstance(block, Divider):
        return ["-" * 40]
    return []


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
        """The message's blocks in order, each block's buttons on one line right under it."""
        if title:
            self.out(f"--- {title} ---")
        if not message.blocks:
            self.out(plain(message.text))
        for block in message.blocks:
            for line in block_lines(block):
                self.out(line)
            buttons = block.buttons if isinstance(block, Actions) else \
                [block.accessory] if isinstance(block, Text) and block.accessory else []
            if buttons:
                self.out("  " + "  ".join(self._number(b, ref) for b in buttons))

    def _number(self, button: Button, ref: MessageRef | None) -> str:
        if button.url:
            return f"{plain(button.label)}: {button.url}"
        self.buttons.append((button, ref or MessageRef(channel="console", ts="0")))
        return f"[{len(self.buttons)}] {plain(button.label)}"

    async def post(self, channel: str, message: Message, thread_ts: str | None = None) -> MessageRef:
        ref = self._next_ref(channel)
        self.show(message, ref, t(self.lang, "console.posted_in", channel=channel_label(channel)))
        return ref

    async def dm(self, user_id: str, message: Message) -> MessageRef:
        ref = self._next_ref(f"D-{user_id}")
        if user_id == self.user_id:
            self.show(message, ref, t(self.lang, "console.dm_to", user=user_id))
        else:
            self.out(f"--- {t(self.lang, 'console.dm_to', user=user_id)}: {plain(message.text)}")
        return ref

    async def update(self, ref: MessageRef, message: Message) -> None:
        self.out(f"--- {t(self.lang, 'console.updated', channel=channel_label(ref.channel))}: {plain(message.text)}")

    async def upload(self, user_or_channel: str, filename: str, content: bytes, title: str,
                     comment: str = "") -> None:
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / Path(filename).name
        path.write_bytes(content)
        self.out(t(self.lang, "console.file_for", user=user_or_channel, filename=filename,
                   size=len(content), path=path))

    async def channel_members(self, channel: str) -> list[str]:
        return list(self.members.get(channel, [self.user_id]))

    async def find_channel(self, name: str) -> str | None:
        """The console has no real channels: every name is one, with an id that shows as '#name'."""
        channel = "C_" + re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_")
        CHANNEL_NAMES[channel] = name
        return channel

    async def publish_home(self, user_id: str, blocks: Message) -> None:
        self.show(blocks, title=t(self.lang, "console.home"))


QUIT_WORDS = {"quit", "exit", "avsluta"}
CANCEL_WORDS = {"avbryt", "cancel"}


class _Leave(Exception):
    """The person typed avbryt/cancel (or quit, or input ended) inside a form."""

    def __init__(self, quit_console: bool) -> None:
        super().__init__()
        self.quit_console = quit_console


class Console:
    def __init__(self, bot: Bot, messenger: ConsoleMessenger, user_id: str, read: InputFn, out: OutputFn) -> None:
        self.bot, self.messenger, self.user_id, self.read, self.out = bot, messenger, user_id, read, out
        messenger.user_id = user_id
        self.lang = "sv"
        self._quit = False  # `quit` typed inside a form: leave the form, then the console
        self._eof = False  # standard input closed

    async def actor(self) -> Actor:
        actor = await self.bot.actor(self.user_id)
        self.messenger.lang = self.lang = actor.lang
        return actor

    async def run(self) -> int:
        """Until `quit` (0), or until standard input closes (1: a service manager must not think all is well)."""
        actor = await self.actor()
        self.out(t(actor.lang, "console.welcome", user=self.user_id, role=t(actor.lang, f"roles.{actor.role.value}"),
                   url=self.bot.settings.public_url))
        while not self._quit:
            line = await self.read("> ")
            if line is None:
                self._eof = True
                break
            if line.strip().lower() in QUIT_WORDS:
                break
            await self.handle_line(line)
        if self._eof:
            self.out(t(self.lang, "console.stdin_closed"))
            return 1
        self.out(t((await self.actor()).lang, "console.bye"))
        return 0

    async def handle_line(self, line: str) -> None:
        actor = await self.actor()
        text = line.strip()
        if not text:
            return
        if text.isdigit() and len(text) <= 6:
            await self.press(actor, int(text))
            return
        if text.lower() in {"home", "hem"}:
            self.messenger.buttons.clear()
            blocks = await home_blocks(self.bot, actor)
            self.messenger.show(Message(text=t(self.lang, "console.home"), blocks=blocks),
                                title=t(self.lang, "console.home"))
            return
        self.messenger.buttons.clear()  # a new request: its buttons are numbered from 1
        if text.startswith("/syv"):
            request = CommandRequest(text=text[4:].strip(), channel="console", is_dm=False)
            await self.deliver(actor, await handle_command(self.bot, actor, request))
        else:
            request = CommandRequest(text=text, channel=f"D-{self.user_id}", is_dm=True)
            await self.deliver(actor, await handle_message(self.bot, actor, request))

    async def press(self, actor: Actor, number: int) -> None:
        buttons = self.messenger.buttons
        if not 1 <= number <= len(buttons):
            self.out(t(self.lang, "console.no_button", choices=_range(len(buttons)))
                     if buttons else t(self.lang, "console.no_buttons"))
            return
        button, ref = buttons[number - 1]
        event = ActionEvent(action=button.action, value=button.value, channel=ref.channel, message_ts=ref.ts)
        await self.deliver(actor, await handle_action(self.bot, actor, event))

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
                for error in outcome.errors.values():
                    self.out(f"! {plain(error)}")

    async def fill_form(self, actor: Actor, form: Form) -> None:
        """Prompt field by field; on errors, show each next to its label and ask again for those fields.
        `avbryt`/`cancel` at any prompt leaves the form; nothing is saved then."""
        self.out(f"=== {plain(form.title)} ===")
        if form.intro:
            self.out(plain(form.intro))
        self.out(t(self.lang, "console.form_hint"))
        values: dict[str, Any] = {}
        pending = list(form.fields)
        labels = {f.name: plain(f.label) for f in form.fields}
        try:
            while True:
                for field in pending:
                    values[field.name] = await self.ask_field(field)
                outcomes = await handle_form(self.bot, actor, FormSubmission(
                    callback=form.callback, values=values, metadata=form.metadata))
                errors = [o for o in outcomes if isinstance(o, FormErrors)]
                if not errors:
                    await self.deliver(actor, outcomes)
                    return
                for name, error in errors[0].errors.items():
                    self.out(f"! {labels[name] + ': ' if name in labels else ''}{plain(error)}")
                wrong = set(errors[0].errors)
                pending = [f for f in form.fields if f.name in wrong] or list(form.fields)
        except _Leave as leave:
            self.out(t(self.lang, "console.cancelled"))
            if leave.quit_console:
                self._quit = True

    async def _line(self, prompt: str) -> str:
        raw = await self.read(prompt)
        if raw is None:
            self._eof = True
            raise _Leave(quit_console=True)
        word = raw.strip().lower()
        if word in CANCEL_WORDS or word in QUIT_WORDS:
            raise _Leave(quit_console=word in QUIT_WORDS)
        return raw.strip()

    def _initial_text(self, field: FormField) -> str | None:
        """What Enter keeps, in words: an option's label, a local time, never an internal value."""
        initial = field.initial
        if initial in (None, "", []):
            return None
        if field.options:
            chosen = initial if isinstance(initial, list) else [initial]
            labels = [plain(o.label) for o in field.options if o.value in chosen]
            return ", ".join(labels) or None
        if isinstance(initial, datetime):
            return say_when(initial, self.bot.settings.tz, self.lang, self.bot.clock.now())
        if isinstance(initial, list):
            return ", ".join(channel_label(str(i)) for i in initial)
        return str(initial)

    async def ask_field(self, field: FormField) -> Any:
        """One field's value, asked again until it is valid for the field's kind."""
        label = plain(field.label)
        if field.optional:
            label += f" ({t(self.lang, 'console.optional')})"
        if field.hint:
            self.out(f"  ({plain(field.hint)})")
        if field.options:
            for index, option in enumerate(field.options, 1):
                self.out(f"  {index}. {plain(option.label)}")
        shown = self._initial_text(field)
        if shown:
            label += f" [{shown}]"
        if field.kind == "multiline":
            return await self._multiline(label, field)
        while True:
            raw = await self._line(f"{label}: ")
            if not raw:
                if field.initial not in (None, "", []):
                    return field.initial
                if not field.optional:
                    self.out(f"! {t(self.lang, 'errors.required')}")
                    continue
                return [] if field.kind in MULTI_KINDS else None
            value = self._read_value(field, raw)
            if value is not _INVALID:
                return value

    def _read_value(self, field: FormField, raw: str) -> Any:
        if field.kind in {"select", "radio"}:
            picked = _pick(field.options, raw)
            if picked is None or len(picked) != 1:
                self.out(f"! {t(self.lang, 'console.choose_one', choices=_range(len(field.options)))}")
                return _INVALID
            return picked[0]
        if field.kind in {"multiselect", "checkboxes"}:
            picked = _pick(field.options, raw)
            if picked is None:
                self.out(f"! {t(self.lang, 'console.choose_some', choices=_range(len(field.options)))}")
                return _INVALID
            return picked
        if field.kind in {"users", "channels", "conversations"}:
            return [part.strip() for part in re.split(r"[,\s]+", raw) if part.strip()]
        if field.kind == "datetime":
            tz, now = self.bot.settings.tz, self.bot.clock.now()
            try:
                when = parse_when(raw, now, tz)
            except UnclearDate as exc:
                self.out(f"! {exc.render(self.lang)}")
                return _INVALID
            self.out(f"  {t(self.lang, 'dates.understood', when=say_when(when, tz, self.lang, now))}")
            return when
        return raw

    async def _multiline(self, label: str, field: FormField) -> Any:
        """Several lines, ended by an empty line; Enter on the first line keeps the initial value."""
        self.out(f"{label}: ({t(self.lang, 'console.multiline')})")
        lines: list[str] = []
        while True:
            raw = await self._line("| ")
            if not raw:
                break
            lines.append(raw)
        if not lines:
            if field.initial not in (None, ""):
                return field.initial
            return None
        return "\n".join(lines)


MULTI_KINDS = {"multiselect", "checkboxes", "users", "channels", "conversations"}
_INVALID = object()


def _range(count: int) -> str:
    return "1" if count == 1 else f"1–{count}"


def _pick(options: list[Option], raw: str) -> list[str] | None:
    """Numbers or values separated by commas -> the chosen values; None when any part is not a choice."""
    picked: list[str] = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        if part.isdigit() and len(part) <= 4 and 1 <= int(part) <= len(options):
            value = options[int(part) - 1].value
        else:
            value = next((o.value for o in options if part.lower() in {o.value.lower(), plain(o.label).lower()}), "")
            if not value:
                return None
        if value not in picked:
            picked.append(value)
    return picked


async def stdin_reader(prompt: str) -> str | None:
    try:
        return await asyncio.to_thread(input, prompt)
    except EOFError:
        return None
