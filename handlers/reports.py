"""Slack side of the reports capability: its buttons and forms go to the core in bot/reports."""

from __future__ import annotations

from typing import Any

from handlers import dispatch

PREFIX = "report"


def register(app: Any) -> None:
    dispatch.register_prefix(app, PREFIX)
