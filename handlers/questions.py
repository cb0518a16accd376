"""Slack side of the questions capability: its buttons and forms go to the core in bot/questions."""

from __future__ import annotations

from typing import Any

from handlers import dispatch

PREFIX = "q"


def register(app: Any) -> None:
    dispatch.register_prefix(app, PREFIX)
