"""A posted form turned into the core's raw answers, checked question by question so that every
problem is shown next to its question and nothing is stored half.

The page is prefilled with the browser's current answers, so a sent form is the whole new state: an
emptied free text or multiple choice withdraws that answer. A scale, yes/no or single choice cannot be
unticked in a browser, so an empty one was never answered and is left out.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from bot.surveys.models import MAX_TEXT_ANSWER, Question, QuestionKind, Survey


class ParsedAnswers(BaseModel):
    raw: dict[int, str] = Field(default_factory=dict)  # question id -> value for the core ("" withdraws)
    kept: dict[int, str | list[str]] = Field(default_factory=dict)  # what was sent, to show it again
    errors: dict[int, str] = Field(default_factory=dict)  # question id -> locale key

    @property
    def empty(self) -> bool:
        return not any(value.strip() for value in self.raw.values())


def allowed_values(question: Question) -> list[str]:
    if question.kind.is_scale:
        return [str(v) for v in question.kind.scale_values()]
    if question.kind == QuestionKind.yesno:
        return ["yes", "no"]
    return [str(i) for i in range(len(question.options))]


def parse_answers(survey: Survey, form: dict[str, list[str]]) -> ParsedAnswers:
    parsed = ParsedAnswers()
    for question in survey.questions:
        sent = [value for value in form.get(f"q{question.id}", []) if value != ""]
        if question.kind == QuestionKind.text:
            text = sent[0].replace("\r\n", "\n") if sent else ""
            parsed.kept[question.id] = text
            if len(sent) > 1:
                parsed.errors[question.id] = "web.page.error_invalid"
            elif len(text.strip()) > MAX_TEXT_ANSWER:
                parsed.errors[question.id] = "web.page.error_too_long"
            parsed.raw[question.id] = text
            continue
        allowed = allowed_values(question)
        valid = [value for value in sent if value in allowed]
        parsed.kept[question.id] = valid if question.kind == QuestionKind.multi else (valid[0] if valid else "")
        if len(valid) != len(sent) or (question.kind != QuestionKind.multi and len(sent) > 1):
            parsed.errors[question.id] = "web.page.error_invalid"
        chosen = sorted(set(valid), key=allowed.index)
        if chosen or question.kind == QuestionKind.multi:
            parsed.raw[question.id] = ",".join(chosen)
    return parsed


def stored_as_kept(survey: Survey, stored: dict[int, str]) -> dict[int, str | list[str]]:
    """The core's stored values (question id -> "2" / "0,2" / text) in the form's shape."""
    kept: dict[int, str | list[str]] = {}
    for question in survey.questions:
        value = stored.get(question.id)
        if value is None:
            continue
        kept[question.id] = [v for v in value.split(",") if v] if question.kind == QuestionKind.multi else value
    return kept
