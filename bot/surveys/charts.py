"""A survey's results as chart panels (drawn by bot.charts, the one charting module): option names in
full, scale ends labelled from the question ("1 – Inte alls"), a note when several answers were
allowed and the group-size note where the results keep bars back.

Only what `SurveyResults` shows is drawn: bot.disclosure, through the results module, decides what may
be revealed."""

from __future__ import annotations

import asyncio

from bot.charts import ChartBar, Panel, panels_png
from bot.formatting import number
from bot.i18n import t
from bot.surveys.models import Question, QuestionKind
from bot.surveys.results import QuestionResult, SurveyResults


def _plain(text: str) -> str:
    """Locale texts are Slack mrkdwn; a chart shows them without the _italic_ and *bold* markers."""
    return text.replace("*", "").strip("_")


def value_label(question: Question, value: str, lang: str) -> str:
    """A stored value as the chart shows it: 'Ja', an option's full words, '1 – Inte alls'."""
    own = question.localized(lang)
    if question.kind == QuestionKind.yesno:
        return t(lang, f"surveys.{value}")
    if question.kind.has_options:
        return own.options[int(value)] if value.isdigit() and int(value) < len(own.options) else value
    if question.kind.is_scale:
        values = [str(v) for v in question.kind.scale_values()]
        end = own.low_label if value == values[0] else own.high_label if value == values[-1] else None
        return f"{value} – {end}" if end else value
    return value


def question_panel(result: QuestionResult, lang: str, min_group_size: int) -> Panel:
    """One question's panel; `min_group_size` is the threshold the results were decided with."""
    question = result.question
    title = f"{question.position + 1}. {question.localized(lang).text}"
    if result.hidden:
        return Panel(title=title, note=t(lang, "surveys.chart.group_note", min=min_group_size))
    if question.kind == QuestionKind.text or not result.bars:
        return Panel(title=title, note=_plain(t(lang, "surveys.chart.text_answers", count=result.n)))
    footnotes = []
    if result.mean is not None:
        footnotes.append(t(lang, "surveys.chart.mean", mean=number(lang, result.mean)))
    if question.kind == QuestionKind.multi:
        footnotes.append(t(lang, "surveys.chart.multi_note"))
    bars = [ChartBar(label=value_label(question, bar.value, lang), count=bar.count, percent=bar.percent)
            for bar in result.bars]
    return Panel(title=title, bars=bars, footnotes=footnotes)


def chart_png(results: SurveyResults, lang: str) -> bytes:
    """The whole survey; the count in the title only when the disclosure rules let it be shown."""
    title = results.survey.title_in(lang)
    if results.respondent_count is not None:
        title = f"{title} (n = {results.respondent_count})"
    return panels_png(title, [question_panel(r, lang, results.min_group_size) for r in results.questions], lang)


async def render_chart(results: SurveyResults, lang: str) -> bytes:
    """Drawing takes a moment of CPU: do it off the event loop."""
    return await asyncio.to_thread(chart_png, results, lang)
