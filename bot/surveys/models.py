"""The survey domain in plain data: question kinds, anonymity modes, drafts and the respondent.

Nothing here knows Slack. A `Respondent` is whoever answers, identified by an opaque `key` (a Slack
user id, or a token from a web link for pupils under Slack's age limit), so the core can be reached
from any front end.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

MAX_QUESTIONS = 10
MIN_OPTIONS = 2
MAX_OPTIONS = 10
MAX_TEXT_ANSWER = 500
MAX_QUESTION_TEXT = 300
MAX_OPTION_TEXT = 75  # a button label
MAX_TITLE = 150


class QuestionKind(StrEnum):
    scale5 = "scale5"    # 1-5 with end labels
    scale10 = "scale10"  # 0-10
    yesno = "yesno"
    single = "single"    # one of 2-10 options
    multi = "multi"      # any of 2-10 options
    text = "text"        # short free text, at most 500 characters

    @property
    def is_scale(self) -> bool:
        return self in (QuestionKind.scale5, QuestionKind.scale10)

    @property
    def has_options(self) -> bool:
        return self in (QuestionKind.single, QuestionKind.multi)

    def scale_values(self) -> list[int]:
        return list(range(1, 6)) if self == QuestionKind.scale5 else list(range(0, 11))


class Anonymity(StrEnum):
    anonymous = "anonymous"        # nothing links an answer to a person, not even after close
    confidential = "confidential"  # identities kept for leads, never in results
    named = "named"                # identities visible to leads in exports


class Repeat(StrEnum):
    none = "none"
    weekly = "weekly"
    monthly = "monthly"


class Status(StrEnum):
    scheduled = "scheduled"
    open = "open"
    closed = "closed"


class QuestionText(BaseModel):
    """The words of a question in one language."""

    text: str
    options: list[str] = Field(default_factory=list)
    low_label: str | None = None
    high_label: str | None = None


class QuestionDraft(BaseModel):
    kind: QuestionKind
    text: str
    options: list[str] = Field(default_factory=list)
    low_label: str | None = None
    high_label: str | None = None
    translations: dict[str, QuestionText] = Field(default_factory=dict)  # other languages (templates)


class Audience(BaseModel):
    channels: list[str] = Field(default_factory=list)    # post the survey in these channels
    users: list[str] = Field(default_factory=list)       # DM these people
    members_of: list[str] = Field(default_factory=list)  # DM every member of these channels

    @property
    def empty(self) -> bool:
        return not (self.channels or self.users or self.members_of)


class SurveyDraft(BaseModel):
    """What a lead asked for, before it is validated and stored."""

    kind: str = "survey"  # "poll" for the one-line quick poll
    title: str
    title_translations: dict[str, str] = Field(default_factory=dict)
    lang: str = "sv"
    questions: list[QuestionDraft]
    audience: Audience
    anonymity: Anonymity = Anonymity.anonymous
    opens_at: datetime | None = None  # None: now
    closes_at: datetime | None = None  # None: open until a lead closes it
    show_results: bool = False
    repeat: Repeat = Repeat.none
    template: str | None = None


class Respondent(BaseModel):
    """Whoever answers. Only `key` identifies them, and it is only ever stored as a keyed hash
    (anonymous surveys) or, for confidential and named surveys, as the user id next to the answer."""

    key: str
    role: str | None = None
    municipality: str | None = None
    school: str | None = None


class Question(BaseModel):
    id: int
    survey_id: int
    position: int
    kind: QuestionKind
    text: str
    options: list[str] = Field(default_factory=list)
    low_label: str | None = None
    high_label: str | None = None
    translations: dict[str, QuestionText] = Field(default_factory=dict)

    def localized(self, lang: str) -> QuestionText:
        """The question in `lang` when a translation exists, else as it was written."""
        own = self.translations.get(lang)
        if own is not None:
            return own
        return QuestionText(text=self.text, options=self.options, low_label=self.low_label,
                            high_label=self.high_label)


class Survey(BaseModel):
    id: int
    series_id: str | None = None
    kind: str
    title: str
    title_translations: dict[str, str] = Field(default_factory=dict)
    lang: str
    anonymity: Anonymity
    show_results: bool
    status: Status
    audience: Audience
    created_by: str
    created_at: datetime
    opens_at: datetime
    closes_at: datetime | None = None
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    respondent_count: int = 0
    last_nudge_at: datetime | None = None
    template: str | None = None
    questions: list[Question] = Field(default_factory=list)

    def title_in(self, lang: str) -> str:
        return self.title_translations.get(lang) or self.title

    @property
    def is_open(self) -> bool:
        return self.status == Status.open


class OpenSurvey(BaseModel):
    """One open survey as seen by one person (for "vilka enkäter är öppna?" and App Home)."""

    id: int
    title: str
    closes_at: datetime | None
    answered: bool
    question_count: int


class AnswerSaved(BaseModel):
    """What the respondent is told after an answer was committed."""

    survey_id: int
    question_id: int
    value: str | None  # None: the answer was withdrawn (a multiple choice with nothing left ticked)
    first_answer: bool
    respondent_count: int


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
