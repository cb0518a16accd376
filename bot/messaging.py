"""How the core sends messages without knowing Slack: the Slack side and the console implement this."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from pydantic import BaseModel

from bot.ui import Message


class NotInChannel(Exception):
    """The bot may not post in this channel until someone invites it (Slack's not_in_channel)."""

    def __init__(self, channel: str) -> None:
        super().__init__(channel)
        self.channel = channel


class MessageRef(BaseModel):
    """Where a sent message lives, so it can be updated later."""

    channel: str
    ts: str


class Messenger(Protocol):
    async def post(self, channel: str, message: Message, thread_ts: str | None = None) -> MessageRef: ...

    async def dm(self, user_id: str, message: Message) -> MessageRef: ...

    async def update(self, ref: MessageRef, message: Message) -> None: ...

    async def upload(self, user_or_channel: str, filename: str, content: bytes, title: str,
                     comment: str = "") -> None: ...

    async def channel_members(self, channel: str) -> list[str]: ...

    async def publish_home(self, user_id: str, blocks: Message) -> None: ...


log = logging.getLogger("samsyv")


class LogMessenger:
    """For CLI commands that run without Slack: anything the core would send is logged, not lost silently."""

    async def post(self, channel: str, message: Any, thread_ts: str | None = None) -> Any:
        log.info("would post a message (%d characters); not connected to Slack", len(message.text or ""))
        return MessageRef(channel=channel, ts="0")

    async def dm(self, user_id: str, message: Any) -> Any:
        return await self.post(user_id, message)

    async def update(self, ref: Any, message: Any) -> None:
        log.info("would update a message; not connected to Slack")

    async def upload(self, user_or_channel: str, filename: str, content: bytes, title: str, comment: str = "") -> None:
        log.info("would upload a file (%d bytes); not connected to Slack", len(content))

    async def channel_members(self, channel: str) -> list[str]:
        return []

    async def publish_home(self, user_id: str, blocks: Any) -> None:
        return None
