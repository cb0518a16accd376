"""Results maths: counts, percentages, mean and median, breakdowns by role, trends.

Pure functions over plain rows. What may be shown is decided by `bot.disclosure` (the one place for
that rule): a question whose total is below the survey's threshold shows nothing, not even its
count; a role shows only when no combination of the shown figures (here and in every report and
export of the same answers) isolates fewer people than the threshold.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, Field

from bot.disclosure import Decision, Thresholds, decide, includes_pupils, threshold
from bot.redact import mask_personal_data
from bot.surveys.models import Question, QuestionKind, Survey


class AnswerRow(BaseModel):
    question_id: int
    value: str
    role: str | None = None
    municipality: str | None = None


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
    respondent_count: int | None  # None: fewer than the threshold answered, so not even that is shown
    questions: list[QuestionResult]
    min_group_size: int = 1


def _values(kind: QuestionKind, option_count: int) -> list[str]:
    if kind.is_scale:
        return [str(v) for v in kind.scale_values()]
    if kind == QuestionKind.yesno:
        return ["yes", "no"]
    return [str(i) for i in range(option_count)]


def _split(kind: QuestionKind, value: str) -> list[str]:
    return [part for part in value.split(",") if part] if kind == QuestionKind.multi else [value]


def _percent(count: int, total: int) -> float:
    return round(100.0 * count / total, 1) if total else 0.0


def tally(kind: QuestionKind, option_count: int, values: list[str]) -> tuple[list[Bar], float | None, float | None]:
    """Bars for every possible value (zeros included) and, for scales, mean and median: the one set of
    maths for every output (reports use it too)."""
    counts: Counter[str] = Counter()
    for value in values:
        counts.update(_split(kind, value))
    if kind == QuestionKind.text:
        return [], None, None
    keys = _values(kind, option_count)
    keys += sorted(k for k in counts if k not in keys)
    bars = [Bar(value=v, count=counts[v], percent=_percent(counts[v], len(values))) for v in keys]
    numbers = [int(v) for v in values if v.isdigit()] if kind.is_scale else []
    if numbers:
        return bars, round(statistics.fmean(numbers), 2), float(statistics.median(numbers))
    return bars, None, None


def percent_yes(bars: list[Bar]) -> float | None:
    return next((bar.percent for bar in bars if bar.value == "yes"), None)


def summarize_values(question: Question, values: list[str]) -> tuple[list[Bar], float | None, float | None]:
    return tally(question.kind, len(question.options), values)


def survey_threshold(settings: Thresholds, rows: Iterable[AnswerRow], pupils: bool = False) -> int:
    """The survey's threshold: the pupils' one when any answer (or the audience: `pupils`) is a pupil's."""
    return threshold(settings, pupils or includes_pupils(row.role for row in rows))


def decision_for(rows: list[AnswerRow], k: int) -> Decision:
    return decide([{"municipality": row.municipality, "role": row.role} for row in rows], k)


def _group(question: Question, name: str, values: list[str], shown: bool) -> GroupResult:
    if not shown:
        return GroupResult(name=name, n=0, hidden=True)
    bars, mean, _ = summarize_values(question, values)
    result = GroupResult(name=name, n=len(values), hidden=False, mean=mean)
    if question.kind == QuestionKind.yesno:
        result.percent_yes = percent_yes(bars)
    elif question.kind.has_options and bars:
        result.top_value = max(bars, key=lambda bar: bar.count).value
    return result


def question_result(survey: Survey, question: Question, rows: list[AnswerRow], k: int) -> QuestionResult:
    values = [row.value for row in rows]
    decision = decision_for(rows, k)
    if not decision.total_shown:
        return QuestionResult(question=question, n=0, hidden=True)
    if question.kind == QuestionKind.text:
        # Sorted, not in answer order, so the order says nothing about who wrote what when.
        return QuestionResult(question=question, n=len(values), hidden=False, texts=sorted((mask_personal_data(v) for v in values), key=str.casefold))
    bars, mean, median = summarize_values(question, values)
    result = QuestionResult(question=question, n=len(values), hidden=False, bars=bars, mean=mean, median=median)
    by_role: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row.role:
            by_role[row.role].append(row.value)
    result.groups = [_group(question, str(g.value("role")), by_role[str(g.value("role"))], g.shown)
                     for g in decision.breakdown("role")]
    return result


def survey_results(survey: Survey, rows: list[AnswerRow], k: int) -> SurveyResults:
    by_question: dict[int, list[AnswerRow]] = defaultdict(list)
    for row in rows:
        by_question[row.question_id].append(row)
    count = survey.respondent_count if survey.respondent_count >= k else None
    return SurveyResults(survey=survey, respondent_count=count, min_group_size=k, questions=[
        question_result(survey, question, by_question[question.id], k) for question in survey.questions])


def trend_point(survey: Survey, question: Question, rows: list[AnswerRow], k: int) -> TrendPoint:
    hidden = not decision_for(rows, k).total_shown
    point = TrendPoint(survey_id=survey.id, opens_at=survey.opens_at, n=0 if hidden else len(rows), hidden=hidden)
    if not hidden:
        bars, mean, _ = summarize_values(question, [row.value for row in rows])
        point.mean = mean
        if question.kind == QuestionKind.yesno:
            point.percent_yes = percent_yes(bars)
    return point
