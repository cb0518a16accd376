"""Helpers for the conference tests: a messenger that records what the bot sends, and form shortcuts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.conferences.models import Conference
from bot.conferences.tables import conferences
from bot.console import ConsoleMessenger, render_text
from bot.interactions import ActionEvent, FormSubmission
from bot.messaging import MessageRef
from bot.runtime import Bot, handle_action, handle_form
from bot.scheduler import run_due
from bot.ui import FormErrors, Message, Outcome
from tests.conftest import LEAD

TZ = ZoneInfo("Europe/Stockholm")


class RecordingMessenger(ConsoleMessenger):
    """The console messenger (real code), also keeping what was sent so tests can assert on it."""

    def __init__(self, files_dir: Path) -> None:
        super().__init__(lambda _line: None, files_dir)
        self.dms: list[tuple[str, Message]] = []
        self.posts: list[tuple[str, Message, MessageRef]] = []
        self.updates: list[tuple[MessageRef, Message]] = []
        self.homes: list[tuple[str, Message]] = []

    async def post(self, channel: str, message: Message, thread_ts: str | None = None) -> MessageRef:
        ref = await super().post(channel, message, thread_ts)
        self.posts.append((channel, message, ref))
        return ref

    async def dm(self, user_id: str, message: Message) -> MessageRef:
        ref = await super().dm(user_id, message)
        self.dms.append((user_id, message))
        return ref

    async def update(self, ref: MessageRef, message: Message) -> None:
        await super().update(ref, message)
        self.updates.append((ref, message))

    async def publish_home(self, user_id: str, blocks: Message) -> None:
        self.homes.append((user_id, blocks))

    def dms_to(self, user: str) -> list[str]:
        return [text(m) for u, m in self.dms if u == user]


def text(message: Message) -> str:
    actions = " ".join(b.action for b in message.buttons())
    return "\n".join(render_text(message)) + "\n" + message.text + "\n" + actions


def recorder(bot: Bot, tmp_path: Path) -> RecordingMessenger:
    messenger = RecordingMessenger(tmp_path / "files")
    bot.messenger = messenger
    return messenger


def local(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


def meeting_values(start: datetime, end: datetime | None = None, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": "Processträff 1", "kind": "process", "unit": "Lunaskolan", "start": start,
        "end": end or start + timedelta(hours=2), "location": "Aulan, Lunaskolan", "capacity": None,
        "description": "Vi kartlägger nuläget.", "material": "Träffmaterial | https://example.org/material-1",
        "channels": [], "people": [], "survey": None, "allow_overlap": []}
    values.update(extra)
    return values


async def submit(bot: Bot, callback: str, values: dict[str, Any], user: str = LEAD,
                 metadata: str = "") -> list[Outcome]:
    actor = await bot.actor(user)
    return await handle_form(bot, actor, FormSubmission(callback=callback, values=values, metadata=metadata))


async def click(bot: Bot, action: str, value: object, user: str, channel: str | None = "C1",
                ts: str | None = "1.0") -> list[Outcome]:
    actor = await bot.actor(user)
    return await handle_action(bot, actor, ActionEvent(action=action, value=str(value), channel=channel,
                                                       message_ts=ts))


async def create(bot: Bot, start: datetime, **extra: Any) -> Conference:
    outcomes = await submit(bot, "conf:create", meeting_values(start, **extra))
    assert not [o for o in outcomes if isinstance(o, FormErrors)], outcomes
    return (await all_meetings(bot))[-1]


async def all_meetings(bot: Bot) -> list[Conference]:
    async with bot.db.read() as conn:
        rows = (await conn.execute(select(conferences).order_by(conferences.c.id))).mappings().all()
    return [Conference.from_row(r) for r in rows]


async def run_all_due(bot: Bot, now: datetime) -> int:
    """Run due items until none is left (a fan-out schedules the per-person items it then sends)."""
    total = 0
    while (ran := await run_due(bot, now)) > 0:
        total += ran
    return total


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
