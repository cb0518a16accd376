"""Every chart the bot draws, in one look: survey questions (Slack uploads and the HTML report), pulse
trends and the report's grouped bars. PNG from matplotlib's Agg backend (no display, no pyplot global
state, so it is safe in a server and in a worker thread).

The callers decide what may be shown (the disclosure rules); this module only draws what it is given:
a bar whose count is None is drawn as a gap with a dash, never a number, and a panel with a note
instead of bars shows the note (the group-size note, "free-text answers").
"""

from __future__ import annotations

import io
import textwrap
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from bot.formatting import number, percent

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

COLORS = ("#2a6f97", "#c4572f", "#4f8a6d", "#b08a1e", "#6d597a")
LABEL_WIDTH = 28  # characters per line of an option name: wrapped, never cut
TITLE_WIDTH = 80


class ChartBar(BaseModel):
    label: str
    count: int | None  # None: hidden by the disclosure rules
    percent: float | None = None


class Panel(BaseModel):
    """One question: its bars, or a note in their place; footnotes under the bars."""

    title: str
    bars: list[ChartBar] = Field(default_factory=list)
    note: str | None = None
    footnotes: list[str] = Field(default_factory=list)


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # imported late: keeps start-up fast
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def _integer_ticks(axes: Axes, axis: str = "x") -> None:
    from matplotlib.ticker import MaxNLocator

    target = axes.xaxis if axis == "x" else axes.yaxis
    target.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))


def wrap(text: str, width: int = LABEL_WIDTH) -> str:
    return textwrap.fill(text, width, break_long_words=False) or text


def _panel_height(panel: Panel) -> float:
    if not panel.bars:
        return 1.0 + 0.2 * len(panel.footnotes)
    lines = sum(max(1, wrap(bar.label).count("\n") + 1) for bar in panel.bars)
    title_lines = wrap(panel.title, TITLE_WIDTH).count("\n") + 1
    return 0.5 + 0.24 * lines + 0.18 * len(panel.bars) + 0.18 * title_lines + 0.2 * len(panel.footnotes)


def _draw_panel(axes: Axes, panel: Panel, lang: str) -> None:
    if panel.title:
        axes.set_title(wrap(panel.title, TITLE_WIDTH), fontsize=9, loc="left")
    if not panel.bars:
        axes.text(0.0, 0.5, panel.note or "", fontsize=9, va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return
    positions = list(range(len(panel.bars)))
    counts = [bar.count or 0 for bar in panel.bars]
    axes.barh(positions, counts, color=COLORS[0], height=0.7)
    axes.set_yticks(positions, labels=[wrap(bar.label) for bar in panel.bars], fontsize=8)
    axes.invert_yaxis()
    top = max(counts + [1])
    axes.set_xlim(0, top * 1.3)
    _integer_ticks(axes)
    axes.tick_params(axis="x", labelsize=8)
    for position, bar in zip(positions, panel.bars, strict=True):
        if bar.count is None:
            label = " –"
        elif bar.percent is None:
            label = f" {bar.count}"
        else:
            label = f" {bar.count} ({percent(lang, bar.percent)})"
        axes.text(bar.count or 0, position, label, va="center", fontsize=8)
    notes = ([panel.note] if panel.note else []) + panel.footnotes
    if notes:
        axes.set_xlabel("\n".join(wrap(n, 90) for n in notes), fontsize=8, loc="left")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.grid(axis="x", alpha=0.3)


def panel_png(panel: Panel, lang: str) -> bytes:
    """One question on its own (the HTML report shows each question next to its table)."""
    figure = _figure(7, _panel_height(panel))
    _draw_panel(figure.add_subplot(1, 1, 1), panel, lang)
    return _png(figure)


def panels_png(title: str, panels: list[Panel], lang: str) -> bytes:
    """A whole survey in one image (Slack uploads): every question under the survey's title."""
    figure = _figure(8, sum(_panel_height(p) for p in panels) + 0.6)
    figure.suptitle(textwrap.shorten(title, 90, placeholder="…"), fontsize=12, fontweight="bold")
    if not panels:
        return _png(figure)
    grid = figure.add_gridspec(len(panels), 1, height_ratios=[_panel_height(p) for p in panels])
    for index, panel in enumerate(panels):
        _draw_panel(figure.add_subplot(grid[index, 0]), panel, lang)
    return _png(figure)


def trend_png(title: str, points: list[tuple[datetime, float | None]], y_label: str, y_max: float,
              lang: str, as_percent: bool = False) -> bytes:
    """One question of a repeating pulse over time as a line; hidden instances leave a gap."""
    from matplotlib.dates import date2num

    figure = _figure(7, 2.8)
    axes = figure.add_subplot(1, 1, 1)
    xs = [float(date2num(p[0])) for p in points]
    ys = [p[1] if p[1] is not None else float("nan") for p in points]
    axes.plot(xs, ys, marker="o", color=COLORS[0])
    for x, y in zip(xs, ys, strict=True):
        if y == y:  # not NaN
            text = percent(lang, y) if as_percent else number(lang, y)
            axes.annotate(text, (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    axes.set_ylim(0, y_max)
    axes.set_ylabel(y_label)
    if title:
        axes.set_title(wrap(title, TITLE_WIDTH), fontsize=10, loc="left")
    axes.grid(axis="y", alpha=0.3)
    axes.yaxis.set_major_formatter(lambda value, _pos: number(lang, value))
    # One tick per instance, labelled with its ISO date: no month names in the wrong language.
    every = max(1, len(points) // 8 + (1 if len(points) % 8 else 0))
    axes.set_xticks(xs[::every], labels=[f"{p[0]:%Y-%m-%d}" for p in points][::every], fontsize=8)
    if len(xs) == 1:
        axes.set_xlim(xs[0] - 15, xs[0] + 15)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return _png(figure)


def grouped_bars_png(title: str, labels: list[str], series: list[tuple[str, list[int]]]) -> bytes:
    """Horizontal grouped bars of counts, e.g. answers per meeting or questions per month.

    Series that are zero everywhere are left out of the legend and the bars, so rows are never empty
    because of them; labels are wrapped, never cut."""
    shown = [(name, values) for name, values in series if any(values)] or series[:1]
    wrapped = [wrap(label, 36) for label in labels]
    lines = sum(label.count("\n") + 1 for label in wrapped)
    rows = max(len(labels), 1)
    figure = _figure(7.5, 1.2 + 0.22 * lines + 0.16 * rows * len(shown))
    axes = figure.add_subplot(1, 1, 1)
    height = 0.8 / max(len(shown), 1)
    positions = list(range(len(labels)))
    for index, (name, values) in enumerate(shown):
        offsets = [p + (index - (len(shown) - 1) / 2) * height for p in positions]
        axes.barh(offsets, values, height=height, label=name, color=COLORS[index % len(COLORS)])
    axes.set_yticks(positions, labels=wrapped, fontsize=8)
    axes.set_ylim(len(labels) - 0.5, -0.5)  # exactly one row per label, first at the top
    axes.set_title(title, fontsize=10, loc="left")
    figure.legend(fontsize=8, loc="outside lower center", ncols=max(len(shown), 1), frameon=False)
    _integer_ticks(axes)
    axes.grid(axis="x", alpha=0.3)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return _png(figure)
