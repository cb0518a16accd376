"""Slack side of the surveys capability: its buttons and forms go to the core in bot/surveys."""

from __future__ import annotations

from typing import Any

from handlers import dispatch

PREFIX = "survey"


def register(app: Any) -> None:
    dispatch.register_prefix(app, PREFIX)
