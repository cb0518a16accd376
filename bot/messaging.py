"""How the core sends messages without knowing Slack: the Slack side and the console implement this."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel

from bot.ui import Message


class MessageRef(BaseModel):
    """Where a sent message lives, so it can be updated later."""

    channel: str
    ts: str


class Messenger(Protocol):
    async def post(self, channel: str, message: Message, thread_ts: str | None = None) -> MessageRef: ...

    async def dm(self, user_id: str, message: Message) -> MessageRef: ...

    async def update(self, ref: MessageRef, message: Message) -> None: ...

    async def ephemeral(self, channel: str, user_id: str, message: Message) -> None: ...

    async def upload(self, user_or_channel: str, filename: str, content: bytes, title: str,
                     comment: str = "") -> None: ...

    async def channel_members(self, channel: str) -> list[str]: ...

    async def publish_home(self, user_id: str, blocks: Message) -> None: ...
