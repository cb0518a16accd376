"""Checks a draft before anything is stored: every problem is reported against the form field it
belongs to, so the lead sees all of them at once and nothing is saved half."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.errors import UserError
from bot.surveys.models import (
    MAX_OPTION_TEXT,
    MAX_OPTIONS,
    MAX_QUESTION_TEXT,
    MAX_QUESTIONS,
    MAX_TITLE,
    MIN_OPTIONS,
    QuestionDraft,
    Repeat,
    SurveyDraft,
)

MAX_LABEL = 40
PERIODS = {Repeat.weekly: timedelta(days=7), Repeat.monthly: timedelta(days=28)}  # shortest month


def question_problem(question: QuestionDraft, number: int) -> UserError | None:
    """The first problem with one question, or None."""
    if not question.text.strip():
        return UserError("surveys.invalid.empty_question", number=number)
    if len(question.text) > MAX_QUESTION_TEXT:
        return UserError("surveys.invalid.question_too_long", number=number, limit=MAX_QUESTION_TEXT)
    for label in (question.low_label, question.high_label):
        if label is not None and len(label) > MAX_LABEL:
            return UserError("surveys.invalid.label_too_long", number=number, limit=MAX_LABEL)
    if question.kind.has_options:
        options = [o.strip() for o in question.options]
        if len(options) < MIN_OPTIONS:
            return UserError("surveys.invalid.too_few_options", number=number, min=MIN_OPTIONS)
        if len(options) > MAX_OPTIONS:
            return UserError("surveys.invalid.too_many_options", number=number, max=MAX_OPTIONS)
        if any(not o for o in options):
            return UserError("surveys.invalid.empty_option", number=number)
        if len({o.casefold() for o in options}) != len(options):
            return UserError("surveys.invalid.duplicate_options", number=number)
        too_long = next((o for o in options if len(o) > MAX_OPTION_TEXT), None)
        if too_long is not None:
            return UserError("surveys.invalid.option_too_long", number=number, limit=MAX_OPTION_TEXT)
    elif question.options:
        return UserError("surveys.invalid.options_not_allowed", number=number)
    return None


def draft_problems(draft: SurveyDraft, now: datetime) -> dict[str, UserError]:
    """Field name -> the problem with it; empty when the draft can be stored."""
    problems: dict[str, UserError] = {}
    if not draft.title.strip():
        problems["title"] = UserError("errors.required")
    elif len(draft.title) > MAX_TITLE:
        problems["title"] = UserError("errors.too_long", limit=MAX_TITLE)
    if not draft.questions:
        problems["questions"] = UserError("surveys.invalid.no_questions")
    elif len(draft.questions) > MAX_QUESTIONS:
        problems["questions"] = UserError("surveys.invalid.too_many_questions", max=MAX_QUESTIONS)
    else:
        for number, question in enumerate(draft.questions, 1):
            problem = question_problem(question, number)
            if problem is not None:
                problems["questions"] = problem
                break
    if draft.audience.empty:
        problems["audience_channels"] = UserError("surveys.invalid.no_audience")
    opens_at = draft.opens_at or now
    if draft.closes_at is not None:
        if draft.closes_at <= opens_at:
            problems["closes_at"] = UserError("surveys.invalid.close_before_open")
        elif draft.closes_at <= now:
            problems["closes_at"] = UserError("surveys.invalid.close_in_past")
    if draft.repeat != Repeat.none:
        if draft.closes_at is None:
            problems.setdefault("closes_at", UserError("surveys.invalid.repeat_needs_close"))
        elif draft.closes_at - opens_at > PERIODS[draft.repeat]:
            problems.setdefault("closes_at", UserError("surveys.invalid.repeat_too_long"))
    return problems
