"""Summaries with small groups suppressed: the one place that decides what a number may reveal.

Every summary (an export's summary sheet, the HTML report, the figures in Slack) goes through here.
A group with fewer than MIN_GROUP_SIZE answers shows no number at all. Hiding one group is not enough
when the others are shown: total minus the shown groups would give the hidden one back, so more groups
are hidden (smallest first) until what is left over is empty or itself large enough.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, Field

from bot.reports.data import AnswerInfo, QuestionInfo, SurveyInfo, answer_label

DIMENSIONS = ("municipality", "role")


class Share(BaseModel):
    label: str
    count: int
    percent: float


class GroupSummary(BaseModel):
    dimension: str  # municipality | role
    name: str
    hidden: bool
    n: int | None = None  # None when hidden
    mean: float | None = None
    percent_yes: float | None = None


class QuestionSummary(BaseModel):
    question: QuestionInfo
    hidden: bool
    n: int
    mean: float | None = None
    median: float | None = None
    percent_yes: float | None = None
    shares: list[Share] = Field(default_factory=list)
    groups: list[GroupSummary] = Field(default_factory=list)


class SurveySummary(BaseModel):
    survey: SurveyInfo
    questions: list[QuestionSummary]
    respondents_by: list[GroupSummary] = Field(default_factory=list)  # answers per municipality / role


class TrendPoint(BaseModel):
    survey_id: int
    opens_at: datetime
    n: int
    hidden: bool
    value: float | None = None  # mean for scales, percent yes for yes/no


class Trend(BaseModel):
    """One question (by position) across the instances of a repeating pulse."""

    series_id: str
    title: str
    question: str
    kind: str
    points: list[TrendPoint]


def hidden_groups(sizes: dict[str, int], total: int, min_size: int) -> set[str]:
    """Names of groups to hide: the small ones, plus as many more as needed so that the remainder
    (total minus every shown group) is empty or at least `min_size` and cannot be worked out."""
    hidden = {name for name, n in sizes.items() if n < min_size}
    shown = sorted((n, name) for name, n in sizes.items() if name not in hidden)
    while shown:
        remainder = total - sum(n for n, _ in shown)
        if remainder == 0 or remainder >= min_size:
            break
        hidden.add(shown.pop(0)[1])
    return hidden


def _percent(count: int, total: int) -> float:
    return round(100.0 * count / total, 1) if total else 0.0


def _mean(question: QuestionInfo, values: Sequence[str]) -> float | None:
    numbers = [int(v) for v in values if v.isdigit()]
    return round(statistics.fmean(numbers), 2) if question.is_scale and numbers else None


def _percent_yes(question: QuestionInfo, values: Sequence[str]) -> float | None:
    if question.kind != "yesno" or not values:
        return None
    return _percent(sum(1 for v in values if v == "yes"), len(values))


def _shares(question: QuestionInfo, values: Sequence[str], lang: str) -> list[Share]:
    if question.kind == "text":
        return []
    counts: Counter[str] = Counter()
    for value in values:
        counts.update([p for p in value.split(",") if p] if question.kind == "multi" else [value])
    if question.is_scale:
        keys = [str(v) for v in (range(1, 6) if question.kind == "scale5" else range(0, 11))]
    elif question.kind == "yesno":
        keys = ["yes", "no"]
    else:
        keys = [str(i) for i in range(len(question.options))]
    keys += sorted(k for k in counts if k not in keys)
    return [Share(label=answer_label(question, key, lang), count=counts[key], percent=_percent(counts[key], len(values)))
            for key in keys]


def _groups(question: QuestionInfo, answers: list[AnswerInfo], min_size: int) -> list[GroupSummary]:
    found: list[GroupSummary] = []
    for dimension in DIMENSIONS:
        by: dict[str, list[str]] = defaultdict(list)
        for answer in answers:
            name = getattr(answer, dimension)
            if name:
                by[name].append(answer.value)
        if not by or (len(by) == 1 and len(next(iter(by.values()))) == len(answers)):
            continue  # one group that is everybody says nothing the total does not
        hide = hidden_groups({name: len(values) for name, values in by.items()}, len(answers), min_size)
        for name in sorted(by, key=str.casefold):
            values = by[name]
            if name in hide:
                found.append(GroupSummary(dimension=dimension, name=name, hidden=True))
            else:
                found.append(GroupSummary(dimension=dimension, name=name, hidden=False, n=len(values),
                                          mean=_mean(question, values), percent_yes=_percent_yes(question, values)))
    return found


def summarize_question(question: QuestionInfo, answers: list[AnswerInfo], min_size: int, lang: str) -> QuestionSummary:
    values = [a.value for a in answers]
    if len(values) < min_size:
        return QuestionSummary(question=question, hidden=True, n=len(values))
    median = None
    if question.is_scale:
        median = float(statistics.median(int(v) for v in values if v.isdigit()))
    return QuestionSummary(question=question, hidden=False, n=len(values), mean=_mean(question, values),
                           median=median, percent_yes=_percent_yes(question, values),
                           shares=_shares(question, values, lang),
                           groups=_groups(question, answers, min_size) if question.kind != "text" else [])


def respondents_by(survey: SurveyInfo, answers: list[AnswerInfo], min_size: int) -> list[GroupSummary]:
    """Answers per municipality and role, taken from the most answered question (a person answers a
    question once), so a lead sees which groups took part; small groups hidden like everywhere else."""
    by_question: dict[int, list[AnswerInfo]] = defaultdict(list)
    for answer in answers:
        by_question[answer.question_id].append(answer)
    if not by_question:
        return []
    widest = max(by_question.values(), key=len)
    found: list[GroupSummary] = []
    for dimension in DIMENSIONS:
        sizes = Counter(getattr(a, dimension) for a in widest if getattr(a, dimension))
        if not sizes:
            continue
        hide = hidden_groups(dict(sizes), len(widest), min_size)
        for name in sorted(sizes, key=str.casefold):
            found.append(GroupSummary(dimension=dimension, name=name, hidden=name in hide,
                                      n=None if name in hide else sizes[name]))
    return found


def summarize_survey(survey: SurveyInfo, answers: list[AnswerInfo], min_size: int, lang: str) -> SurveySummary:
    by_question: dict[int, list[AnswerInfo]] = defaultdict(list)
    for answer in answers:
        by_question[answer.question_id].append(answer)
    return SurveySummary(survey=survey, questions=[
        summarize_question(q, by_question[q.id], min_size, lang) for q in survey.questions],
        respondents_by=respondents_by(survey, answers, min_size))


def trends(summaries: list[SurveySummary]) -> list[Trend]:
    """For each repeating pulse with at least two instances: each scale or yes/no question over time."""
    by_series: dict[str, list[SurveySummary]] = defaultdict(list)
    for summary in summaries:
        if summary.survey.series_id:
            by_series[summary.survey.series_id].append(summary)
    found: list[Trend] = []
    for series_id, instances in by_series.items():
        if len(instances) < 2:
            continue
        instances.sort(key=lambda s: s.survey.opens_at)
        first = instances[0]
        for question in first.survey.questions:
            if not (question.is_scale or question.kind == "yesno"):
                continue
            points = []
            for instance in instances:
                same = next((q for q in instance.questions if q.question.position == question.position
                             and q.question.kind == question.kind), None)
                if same is None:
                    continue
                value = same.mean if question.is_scale else same.percent_yes
                points.append(TrendPoint(survey_id=instance.survey.id, opens_at=instance.survey.opens_at,
                                         n=same.n, hidden=same.hidden, value=None if same.hidden else value))
            found.append(Trend(series_id=series_id, title=first.survey.title, question=question.text,
                               kind=question.kind, points=points))
    return found
