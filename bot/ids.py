"""The one rule for ids that come back in button values, form metadata and commands: digits only, and
few enough to be a database id. A 10,000-digit "id" was never sent by the bot, and would otherwise
overflow int() or the database driver instead of getting a clear "invalid answer"."""

from __future__ import annotations

MAX_ID_DIGITS = 18  # a 64-bit integer
MAX_VALUE_LENGTH = 2000  # Slack's limit for a button value: anything longer is not one the bot sent


def is_id(value: object) -> bool:
    return isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= MAX_ID_DIGITS


def parse_id(value: object) -> int | None:
    """The id in `value`, or None when it cannot be one."""
    text = value.strip() if isinstance(value, str) else ""
    return int(text) if is_id(text) else None
