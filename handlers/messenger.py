"""The Slack implementation of the core's Messenger, over the Web API client Bolt hands us."""

from __future__ import annotations

from typing import Any

from bot.messaging import MessageRef, NotInChannel
from bot.ui import Message
from handlers.blocks import home_view, message_kwargs

NOT_IN_CHANNEL = {"not_in_channel", "channel_not_found"}  # a private channel the bot is not in is "not found"


class SlackMessenger:
    def __init__(self, client: Any) -> None:
        self.client = client
        self._dm_channels: dict[str, str] = {}
        self._channel_ids: dict[str, str] = {}

    async def post(self, channel: str, message: Message, thread_ts: str | None = None) -> MessageRef:
        try:
            response = await self.client.chat_postMessage(channel=channel, thread_ts=thread_ts,
                                                          unfurl_links=False, **message_kwargs(message))
        except Exception as exc:  # slack_sdk's SlackApiError: the core only needs to know this one case
            error = getattr(getattr(exc, "response", None), "get", lambda _key: None)("error")
            if error in NOT_IN_CHANNEL:
                raise NotInChannel(channel) from None
            raise
        return MessageRef(channel=response["channel"], ts=response["ts"])

    async def dm(self, user_id: str, message: Message) -> MessageRef:
        # Posting to a user ID lands in the app's Messages tab without a conversations.open round trip.
        return await self.post(user_id, message)

    async def update(self, ref: MessageRef, message: Message) -> None:
        await self.client.chat_update(channel=ref.channel, ts=ref.ts, **message_kwargs(message))

    async def dm_channel(self, user_id: str) -> str:
        if user_id not in self._dm_channels:
            response = await self.client.conversations_open(users=user_id)
            self._dm_channels[user_id] = response["channel"]["id"]
        return self._dm_channels[user_id]

    async def upload(self, user_or_channel: str, filename: str, content: bytes, title: str,
                     comment: str = "") -> None:
        channel = user_or_channel
        if user_or_channel.startswith(("U", "W")):
            channel = await self.dm_channel(user_or_channel)
        await self.client.files_upload_v2(channel=channel, filename=filename, content=content, title=title,
                                          initial_comment=comment or None)

    async def channel_members(self, channel: str) -> list[str]:
        members: list[str] = []
        cursor = None
        while True:
            response = await self.client.conversations_members(channel=channel, cursor=cursor, limit=1000)
            members.extend(response["members"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return members

    async def find_channel(self, name: str) -> str | None:
        """A channel's id from its name (what people type in the console or a text field)."""
        if name not in self._channel_ids:
            cursor = None
            while True:
                response = await self.client.conversations_list(
                    types="public_channel,private_channel", exclude_archived=True, limit=1000, cursor=cursor)
                for channel in response.get("channels") or []:
                    self._channel_ids[str(channel.get("name", "")).lower()] = channel["id"]
                cursor = (response.get("response_metadata") or {}).get("next_cursor")
                if not cursor or name in self._channel_ids:
                    break
        return self._channel_ids.get(name)

    async def publish_home(self, user_id: str, blocks: Message) -> None:
        await self.client.views_publish(user_id=user_id, view=home_view(blocks.blocks))
