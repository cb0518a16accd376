"""The first greeting in the Messages tab: who the bot is and three questions to try, chosen for the
person's role. Slack's assistant threads show them as suggested prompts; everywhere else (and as the
fallback) they are buttons under a plain message, answered like typed questions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import UserError
from bot.i18n import t
from bot.interactions import ActionEvent, CommandRequest
from bot.ui import Actions, Button, Message, Outcome, Text
from bot.users import Actor

if TYPE_CHECKING:
    from bot.runtime import Bot

SUGGESTIONS = 3
ACTION = "q:suggested"


def suggested_questions(actor: Actor) -> list[str]:
    return [t(actor.lang, f"welcome.suggest.{actor.role.value}.{n}") for n in range(1, SUGGESTIONS + 1)]


def welcome_message(actor: Actor) -> Message:
    text = t(actor.lang, "welcome.text", role=t(actor.lang, f"roles.{actor.role.value}"))
    return Message(text=text, blocks=[Text(text=text), Actions(buttons=[
        Button(label=question, action=ACTION, value=f"{actor.role.value}.{n}")
        for n, question in enumerate(suggested_questions(actor), 1)])])


async def on_suggested(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    """A suggestion was pressed: answer it as if it were typed (the value names the locale key only)."""
    from bot.questions.flows import answer_question

    role, _, number = event.value.partition(".")
    if role != actor.role.value or number not in {str(n) for n in range(1, SUGGESTIONS + 1)}:
        raise UserError("errors.invalid_value")
    question = t(actor.lang, f"welcome.suggest.{role}.{number}")
    return await answer_question(bot, actor, question, CommandRequest(text=question, channel=event.channel,
                                                                      is_dm=True))
