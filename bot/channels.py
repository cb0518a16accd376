"""The one rule for channels people type or pick in any form: "#syv-projekt", "syv-projekt",
"<#C123|syv-projekt>" and "C123" all become the channel id; anything else is refused with the same
message in every form. Names are looked up through the Messenger (Slack: conversations.list)."""

from __future__ import annotations

import re
from typing import Any

from bot.i18n import t
from bot.ui import esc

MENTION = re.compile(r"^<#([CG][A-Z0-9]{2,40})(?:\|[^>]*)?>$")
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9_]{2,40}$")
CHANNEL_NAME = re.compile(r"^#?([\w\-]{1,80})$")
MAX_CHANNELS = 20


async def resolve_channels(bot: Any, values: dict[str, Any], name: str, errors: dict[str, str],
                           lang: str) -> list[str]:
    """The form field's channels as ids (in order, without repeats); an error on `name` when one is unknown."""
    raw = values.get(name) or []
    items = [part for part in re.split(r"[,\s]+", raw) if part] if isinstance(raw, str) else list(raw)
    found: list[str] = []
    for item in items:
        text = str(item).strip()
        channel = await _channel_id(bot, text)
        if channel is None:
            errors[name] = t(lang, "forms.bad_channel", value=esc(text[:60]))
            return []
        if channel not in found:
            found.append(channel)
    if len(found) > MAX_CHANNELS:
        errors[name] = t(lang, "forms.too_many_channels", limit=MAX_CHANNELS)
        return []
    return found


async def _channel_id(bot: Any, text: str) -> str | None:
    mention = MENTION.match(text)
    if mention is not None:
        return mention.group(1)
    if CHANNEL_ID.match(text):
        return text
    named = CHANNEL_NAME.match(text)
    if named is None:
        return None
    finder = getattr(bot.messenger, "find_channel", None)
    return await finder(named.group(1).lower()) if finder is not None else None
