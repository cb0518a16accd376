"""The registry that ties words, buttons, forms and due items to core functions.

The running `Bot` owns one `Registry` and hands it to each capability's `register(registry)`; the Slack
handlers and the console both dispatch through it, so every flow works the same in both front ends.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from bot.i18n import words
from bot.ui import Block, Outcome
from bot.users import Actor, Role

if TYPE_CHECKING:
    from bot.runtime import Bot


class ActionEvent(BaseModel):
    """A button click: which action, its value, and where the clicked message lives."""

    action: str
    value: str = ""
    channel: str | None = None
    message_ts: str | None = None


class FormSubmission(BaseModel):
    callback: str
    values: dict[str, Any] = Field(default_factory=dict)
    metadata: str = ""


class CommandRequest(BaseModel):
    """A `/syv ...` command or a message to the bot."""

    text: str
    channel: str | None = None
    thread_ts: str | None = None
    is_dm: bool = False


CommandFn = Callable[["Bot", Actor, str, CommandRequest], Awaitable[list[Outcome]]]
ActionFn = Callable[["Bot", Actor, ActionEvent], Awaitable[list[Outcome]]]
FormFn = Callable[["Bot", Actor, FormSubmission], Awaitable[list[Outcome]]]
HomeFn = Callable[["Bot", Actor], Awaitable[list[Block]]]
DueFn = Callable[["Bot", dict[str, Any], datetime], Awaitable[None]]


@dataclass
class Command:
    name: str  # locale key "command.<name>" holds the words in each language
    fn: CommandFn
    min_role: Role = Role.pupil
    help_key: str | None = None


@dataclass
class DueKind:
    fn: DueFn
    paced: bool = False  # sends one Slack message: keep under the workspace's rate limit


LoopStarter = Callable[["Bot"], Awaitable[None]]
SetupFn = Callable[["Bot"], Awaitable[object]]


class DuplicateRegistration(ValueError):
    """Two capabilities claimed the same command, action, form or due-item name."""


@dataclass
class Registry:
    """Everything a running bot can be asked to do, by name. Owned by `Bot`; each capability fills it in
    its `register(registry)`, so one lookup finds the function behind any button, form or due item."""

    commands: list[Command] = field(default_factory=list)
    actions: dict[str, ActionFn] = field(default_factory=dict)
    forms: dict[str, FormFn] = field(default_factory=dict)
    home_sections: list[tuple[int, HomeFn]] = field(default_factory=list)
    due_kinds: dict[str, DueKind] = field(default_factory=dict)
    loop_starters: list[LoopStarter] = field(default_factory=list)
    setups: list[SetupFn] = field(default_factory=list)
    fallback: CommandFn | None = None  # free text: the question answerer
    thread_replies: list[CommandFn] = field(default_factory=list)  # replies in channel threads

    def command(self, name: str, fn: CommandFn, min_role: Role = Role.pupil, help_key: str | None = None) -> None:
        if any(cmd.name == name for cmd in self.commands):
            raise DuplicateRegistration(f"command {name}")
        self.commands.append(Command(name, fn, min_role, help_key))

    def action(self, name: str, fn: ActionFn) -> None:
        """`name` is the full action id the UI model puts on a button, e.g. `survey:answer`."""
        _claim(self.actions, name, fn, "action")

    def form(self, name: str, fn: FormFn) -> None:
        _claim(self.forms, name, fn, "form")

    def home(self, order: int, fn: HomeFn) -> None:
        self.home_sections.append((order, fn))
        self.home_sections.sort(key=lambda item: item[0])

    def due(self, kind: str, fn: DueFn, paced: bool = False) -> None:
        _claim(self.due_kinds, kind, DueKind(fn, paced), "due-item kind")

    def on_loop_start(self, fn: LoopStarter) -> None:
        """Run once when the due-items loop starts, e.g. to plan a recurring item such as the daily purge."""
        self.loop_starters.append(fn)

    def setup(self, fn: SetupFn) -> None:
        """Run at `Bot.start()`, before the first request (e.g. building the search index)."""
        self.setups.append(fn)

    def answer_free_text(self, fn: CommandFn) -> None:
        if self.fallback is not None:
            raise DuplicateRegistration("free-text fallback")
        self.fallback = fn

    def on_thread_reply(self, fn: CommandFn) -> None:
        """A person's reply in a thread of a channel the bot is in (e.g. a forwarded question's thread)."""
        self.thread_replies.append(fn)

    def match_command(self, text: str) -> tuple[Command, str] | None:
        """The command whose word starts `text` (longest alias wins) and the rest of the text."""
        text = unicodedata.normalize("NFC", text)  # a decomposed "ä" is one letter, as in the aliases
        lowered = text.strip().lower()
        best: tuple[int, Command] | None = None
        for cmd in self.commands:
            for alias in words(f"command.{cmd.name}"):
                if (lowered == alias or lowered.startswith(alias + " ")) and (best is None or len(alias) > best[0]):
                    best = (len(alias), cmd)
        if best is None:
            return None
        return best[1], text.strip()[best[0]:].strip()


def _claim(table: dict[str, Any], name: str, value: Any, what: str) -> None:
    if name in table:
        raise DuplicateRegistration(f"{what} {name}")
    table[name] = value
