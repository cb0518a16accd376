"""Results maths: counts, percentages, mean and median, breakdowns, with the minimum group size.

Pure functions over plain rows, so the maths is easy to test and the reports issue can reuse it.
For anonymous surveys no number at all is shown for a group (the whole question, or one role in a
breakdown) with fewer than `min_group_size` answers; confidential surveys hide small groups in
breakdowns too, because identities must never be inferable from results.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import datetime

from pydantic import BaseModel, Field

from bot.surveys.models import Anonymity, Question, QuestionKind, Survey


class AnswerRow(BaseModel):
    question_id: int
    value: str
    role: str | None = None


class Bar(BaseModel):
    value: str  # the stored value: "4", "yes", an option index
    count: int
    percent: float


class GroupResult(BaseModel):
    name: str  # a role
    n: int
    hidden: bool
    mean: float | None = None
    percent_yes: float | None = None
    top_value: str | None = None


class TrendPoint(BaseModel):
    survey_id: int
    opens_at: datetime
    n: int
    hidden: bool
    mean: float | None = None
    percent_yes: float | None = None


class QuestionResult(BaseModel):
    question: Question
    n: int
    hidden: bool
    bars: list[Bar] = Field(default_factory=list)
    mean: float | None = None
    median: float | None = None
    texts: list[str] = Field(default_factory=list)
    groups: list[GroupResult] = Field(default_factory=list)
    trend: list[TrendPoint] = Field(default_factory=list)


class SurveyResults(BaseModel):
    survey: Survey
    respondent_count: int
    questions: list[QuestionResult]


def _values(kind: QuestionKind, question: Question) -> list[str]:
    if kind.is_scale:
        return [str(v) for v in kind.scale_values()]
    if kind == QuestionKind.yesno:
        return ["yes", "no"]
    return [str(i) for i in range(len(question.options))]


def _split(kind: QuestionKind, value: str) -> list[str]:
    return [part for part in value.split(",") if part] if kind == QuestionKind.multi else [value]


def _percent(count: int, total: int) -> float:
    return round(100.0 * count / total, 1) if total else 0.0


def summarize_values(question: Question, values: list[str]) -> tuple[list[Bar], float | None, float | None]:
    """Bars for every possible value (zeros included) and, for scales, mean and median."""
    kind = question.kind
    counts: Counter[str] = Counter()
    for value in values:
        counts.update(_split(kind, value))
    bars = [Bar(value=v, count=counts[v], percent=_percent(counts[v], len(values))) for v in _values(kind, question)]
    if kind.is_scale and values:
        numbers = [int(v) for v in values]
        return bars, round(statistics.fmean(numbers), 2), float(statistics.median(numbers))
    return bars, None, None


def _group(question: Question, name: str, values: list[str], hide_below: int) -> GroupResult:
    if len(values) < hide_below:
        return GroupResult(name=name, n=len(values), hidden=True)
    bars, mean, _ = summarize_values(question, values)
    result = GroupResult(name=name, n=len(values), hidden=False, mean=mean)
    if question.kind == QuestionKind.yesno:
        result.percent_yes = bars[0].percent
    elif question.kind.has_options and bars:
        result.top_value = max(bars, key=lambda bar: bar.count).value
    return result


def question_result(survey: Survey, question: Question, rows: list[AnswerRow], min_group_size: int) -> QuestionResult:
    values = [row.value for row in rows]
    anonymous = survey.anonymity == Anonymity.anonymous
    if anonymous and len(values) < min_group_size:
        return QuestionResult(question=question, n=len(values), hidden=True)
    if question.kind == QuestionKind.text:
        # Sorted, not in answer order, so the order says nothing about who wrote what when.
        return QuestionResult(question=question, n=len(values), hidden=False, texts=sorted(values, key=str.casefold))
    bars, mean, median = summarize_values(question, values)
    result = QuestionResult(question=question, n=len(values), hidden=False, bars=bars, mean=mean, median=median)
    by_role: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row.role:
            by_role[row.role].append(row.value)
    if len(by_role) >= 2:
        hide_below = min_group_size if survey.anonymity != Anonymity.named else 1
        result.groups = [_group(question, role, by_role[role], hide_below) for role in sorted(by_role)]
    return result


def survey_results(survey: Survey, rows: list[AnswerRow], min_group_size: int) -> SurveyResults:
    by_question: dict[int, list[AnswerRow]] = defaultdict(list)
    for row in rows:
        by_question[row.question_id].append(row)
    return SurveyResults(survey=survey, respondent_count=survey.respondent_count, questions=[
        question_result(survey, question, by_question[question.id], min_group_size)
        for question in survey.questions])


def trend_point(survey: Survey, question: Question, values: list[str], min_group_size: int) -> TrendPoint:
    hidden = survey.anonymity == Anonymity.anonymous and len(values) < min_group_size
    point = TrendPoint(survey_id=survey.id, opens_at=survey.opens_at, n=len(values), hidden=hidden)
    if not hidden and values:
        bars, mean, _ = summarize_values(question, values)
        point.mean = mean
        if question.kind == QuestionKind.yesno:
            point.percent_yes = bars[0].percent
    return point
