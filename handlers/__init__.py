"""The Slack side: one module per capability, each with `register(app)`.

Like the `listeners/` folder of Slack's Bolt templates. These modules never import slack_bolt or
slack_sdk themselves: the app and its client are handed in by `bot/slack_main.py`.
"""

from __future__ import annotations

from typing import Any

from handlers import conferences, core, questions, reports, surveys

MODULES = (core, questions, conferences, surveys, reports)


def register_all(app: Any) -> None:
    for module in MODULES:
        module.register(app)
