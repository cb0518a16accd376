"""The registry that ties words, buttons and forms to core functions.

Capabilities register here at import time; the Slack handlers and the console both dispatch through
it, so every flow works the same in both front ends.
"""

from __future__ import annotations

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


@dataclass
class Registry:
    commands: list[Command] = field(default_factory=list)
    actions: dict[str, ActionFn] = field(default_factory=dict)
    forms: dict[str, FormFn] = field(default_factory=dict)
    home_sections: list[tuple[int, HomeFn]] = field(default_factory=list)
    due_kinds: dict[str, DueKind] = field(default_factory=dict)
    fallback: CommandFn | None = None  # free text: the question answerer

    def command(self, name: str, min_role: Role = Role.pupil,
                help_key: str | None = None) -> Callable[[CommandFn], CommandFn]:
        def deco(fn: CommandFn) -> CommandFn:
            self.commands.append(Command(name, fn, min_role, help_key))
            return fn
        return deco

    def action(self, prefix: str) -> Callable[[ActionFn], ActionFn]:
        def deco(fn: ActionFn) -> ActionFn:
            self.actions[prefix] = fn
            return fn
        return deco

    def form(self, callback: str) -> Callable[[FormFn], FormFn]:
        def deco(fn: FormFn) -> FormFn:
            self.forms[callback] = fn
            return fn
        return deco

    def home(self, order: int) -> Callable[[HomeFn], HomeFn]:
        def deco(fn: HomeFn) -> HomeFn:
            self.home_sections.append((order, fn))
            self.home_sections.sort(key=lambda item: item[0])
            return fn
        return deco

    def due(self, kind: str, paced: bool = False) -> Callable[[DueFn], DueFn]:
        def deco(fn: DueFn) -> DueFn:
            self.due_kinds[kind] = DueKind(fn, paced)
            return fn
        return deco

    def match_command(self, text: str) -> tuple[Command, str] | None:
        """The command whose word starts `text` (longest alias wins) and the rest of the text."""
        lowered = text.strip().lower()
        best: tuple[int, Command] | None = None
        for cmd in self.commands:
            for alias in words(f"command.{cmd.name}"):
                if (lowered == alias or lowered.startswith(alias + " ")) and (best is None or len(alias) > best[0]):
                    best = (len(alias), cmd)
        if best is None:
            return None
        return best[1], text.strip()[best[0]:].strip()

    def find_action(self, action: str) -> ActionFn | None:
        prefix = action.split(":", 1)[0]
        return self.actions.get(prefix)


registry = Registry()
