"""`samsyv content check-surveys`: validate the survey templates in content/surveys/."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from bot.settings import Settings
from bot.surveys.templates import check_templates


async def _check(args: argparse.Namespace, settings: Settings) -> int:
    problems = check_templates(settings.content_dir / "surveys")
    for problem in problems:
        print(problem)
    if not problems:
        print("survey templates are fine")
    return 1 if problems else 0


def add_cli(groups: dict[str, Any], command: Callable[..., Any]) -> None:
    command(groups["content"].add_parser("check-surveys", help="validate the survey templates"), _check)
