"""Slack side of the conferences capability: its buttons and forms go to the core in bot/conferences."""

from __future__ import annotations

from typing import Any

from handlers import dispatch

PREFIX = "conf"


def register(app: Any) -> None:
    dispatch.register_prefix(app, PREFIX)
