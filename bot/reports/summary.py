"""Report and export summaries of survey answers: the figures from `bot.surveys.results.tally` (the one
set of maths), shown only where `bot.disclosure` (the one place that decides what a number may
reveal) allows, with the same decision as Slack results for the same answers.

A municipality-filtered report is a view *within* the decision over all of a question's answers, so
the filtered report and the unfiltered one together reveal no more than either alone.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from pydantic import BaseModel, Field

from bot.disclosure import DIMENSIONS, Decision, Thresholds, decide, includes_pupils, threshold
from bot.reports.data import answer_label
from bot.surveys.models import QuestionKind
from bot.surveys.records import AnswerInfo, QuestionInfo, SurveyInfo
from bot.surveys.results import percent_yes, tally


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
    min_group_size: int = 1
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


def survey_threshold(settings: Thresholds, survey: SurveyInfo, answers: list[AnswerInfo]) -> int:
    return threshold(settings, survey.has_pupil_link or includes_pupils(a.role for a in answers))


def decision_for(answers: list[AnswerInfo], k: int) -> Decision:
    return decide([{"municipality": a.municipality, "role": a.role} for a in answers], k)


def _in_scope(answers: list[AnswerInfo], municipality: str | None) -> list[AnswerInfo]:
    if not municipality:
        return answers
    wanted = municipality.strip().casefold()
    return [a for a in answers if (a.municipality or "").casefold() == wanted]


def _scope(decision: Decision, answers: list[AnswerInfo], municipality: str | None) -> Decision:
    if not municipality:
        return decision
    wanted = municipality.strip().casefold()
    name = next((a.municipality for a in answers if (a.municipality or "").casefold() == wanted), municipality)
    return decision.within(municipality=name)


def _figures(question: QuestionInfo, values: list[str]) -> tuple[float | None, float | None, float | None]:
    bars, mean, median = tally(QuestionKind(question.kind), len(question.options), values)
    return mean, median, percent_yes(bars) if question.kind == "yesno" and values else None


def _groups(question: QuestionInfo, answers: list[AnswerInfo], view: Decision) -> list[GroupSummary]:
    found: list[GroupSummary] = []
    for dimension in DIMENSIONS:
        for group in view.breakdown(dimension):
            name = str(group.value(dimension))
            if not group.shown:
                found.append(GroupSummary(dimension=dimension, name=name, hidden=True))
                continue
            values = [a.value for a in answers if getattr(a, dimension) == name]
            mean, _, yes = _figures(question, values)
            found.append(GroupSummary(dimension=dimension, name=name, hidden=False, n=len(values), mean=mean,
                                      percent_yes=yes))
    return found


def summarize_question(question: QuestionInfo, answers: list[AnswerInfo], k: int, lang: str,
                       municipality: str | None = None) -> QuestionSummary:
    """`answers`: all of the question's answers (unfiltered); `municipality` narrows the view."""
    view = _scope(decision_for(answers, k), answers, municipality)
    mine = _in_scope(answers, municipality)
    values = [a.value for a in mine]
    if not view.total_shown:
        return QuestionSummary(question=question, hidden=True, n=0)
    bars, _, _ = tally(QuestionKind(question.kind), len(question.options), values)
    mean, median, yes = _figures(question, values)
    shares = [Share(label=answer_label(question, bar.value, lang), count=bar.count, percent=bar.percent)
              for bar in bars]
    return QuestionSummary(question=question, hidden=False, n=len(values), mean=mean, median=median,
                           percent_yes=yes, shares=shares,
                           groups=_groups(question, mine, view) if question.kind != "text" else [])


def respondents_by(survey: SurveyInfo, answers: list[AnswerInfo], k: int,
                   municipality: str | None = None) -> list[GroupSummary]:
    """Answers per municipality and role, taken from the most answered question (a person answers a
    question once), so a lead sees which groups took part; hidden exactly as that question's groups."""
    by_question: dict[int, list[AnswerInfo]] = defaultdict(list)
    for answer in answers:
        by_question[answer.question_id].append(answer)
    if not by_question:
        return []
    widest = max(by_question.values(), key=lambda rows: len(_in_scope(rows, municipality)))
    view = _scope(decision_for(widest, k), widest, municipality)
    if not view.total_shown:
        return []
    return [GroupSummary(dimension=dimension, name=str(g.value(dimension)), hidden=not g.shown,
                         n=g.n if g.shown else None)
            for dimension in DIMENSIONS for g in view.breakdown(dimension)]


def summarize_survey(survey: SurveyInfo, answers: list[AnswerInfo], k: int, lang: str,
                     municipality: str | None = None) -> SurveySummary:
    by_question: dict[int, list[AnswerInfo]] = defaultdict(list)
    for answer in answers:
        by_question[answer.question_id].append(answer)
    return SurveySummary(survey=survey, min_group_size=k, questions=[
        summarize_question(q, by_question[q.id], k, lang, municipality) for q in survey.questions],
        respondents_by=respondents_by(survey, answers, k, municipality))


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
