"""Bar charts of survey results as PNG, drawn with matplotlib's Agg backend (no display, no pyplot
global state, so it is safe in a server and in a worker thread)."""

from __future__ import annotations

import asyncio
import io
import textwrap

from bot.i18n import t
from bot.surveys.models import QuestionKind
from bot.surveys.results import QuestionResult, SurveyResults

BAR_COLOR = "#2a6f97"


def _labels(result: QuestionResult, lang: str) -> list[str]:
    question = result.question
    own = question.localized(lang)
    labels: list[str] = []
    for bar in result.bars:
        if question.kind == QuestionKind.yesno:
            labels.append(t(lang, f"surveys.{bar.value}"))
        elif question.kind.has_options:
            labels.append(textwrap.shorten(own.options[int(bar.value)], 40, placeholder="…"))
        else:
            labels.append(bar.value)
    return labels


def _plain(text: str) -> str:
    """Locale texts are Slack mrkdwn; a chart shows them without the _italic_ and *bold* markers."""
    return text.replace("*", "").strip("_")


def chart_png(results: SurveyResults, lang: str) -> bytes:
    """One horizontal bar chart per question with numbers; hidden and free-text questions get a note."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # imported late: keeps start-up fast
    from matplotlib.figure import Figure

    shown = list(results.questions)
    heights = [max(1.4, 0.38 * max(len(r.bars), 2) + 0.9) for r in shown]
    figure = Figure(figsize=(8, sum(heights) + 0.6), dpi=100, layout="constrained")  # room for every title
    FigureCanvasAgg(figure)
    title = results.survey.title_in(lang)
    heading = title if results.respondent_count is None else f"{title} (n = {results.respondent_count})"
    figure.suptitle(textwrap.shorten(heading, 90, placeholder="…"),
                    fontsize=12, fontweight="bold")
    grid = figure.add_gridspec(len(shown), 1, height_ratios=heights)
    for index, result in enumerate(shown):
        axes = figure.add_subplot(grid[index, 0])
        heading = textwrap.fill(f"{result.question.position + 1}. {result.question.localized(lang).text}", 80)
        axes.set_title(heading, fontsize=9, loc="left")
        if result.hidden or result.question.kind == QuestionKind.text or not result.bars:
            note = (t(lang, "surveys.results.too_few") if result.hidden
                    else t(lang, "surveys.chart.text_answers", count=result.n))
            axes.text(0.0, 0.5, _plain(note), fontsize=9, va="center")
            axes.set_axis_off()
            continue
        labels = _labels(result, lang)
        counts = [bar.count for bar in result.bars]
        positions = list(range(len(counts)))
        axes.barh(positions, counts, color=BAR_COLOR)
        axes.set_yticks(positions, labels=labels, fontsize=8)
        axes.invert_yaxis()
        axes.set_xlim(0, max(counts + [1]) * 1.25)
        axes.tick_params(axis="x", labelsize=8)
        for position, bar in zip(positions, result.bars, strict=True):
            axes.text(bar.count, position, f" {bar.count} ({round(bar.percent)} %)", va="center", fontsize=8)
        if result.mean is not None:
            axes.set_xlabel(t(lang, "surveys.chart.mean", mean=f"{result.mean:.1f}"), fontsize=8)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


async def render_chart(results: SurveyResults, lang: str) -> bytes:
    """Drawing takes a moment of CPU: do it off the event loop."""
    return await asyncio.to_thread(chart_png, results, lang)
