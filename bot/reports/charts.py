"""Report charts as PNG, drawn with matplotlib's Agg backend (no display, no pyplot global state, so it
is safe in a server thread). Suppressed points are simply not drawn: a gap, never a number."""

from __future__ import annotations

import io
import textwrap
from datetime import datetime

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

COLORS = ("#2a6f97", "#e07a5f", "#81b29a", "#f2cc8f", "#6d597a")


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def trend_png(title: str, points: list[tuple[datetime, float | None]], y_label: str, y_max: float) -> bytes:
    """One question of a repeating pulse over time; hidden instances leave a gap."""
    figure = Figure(figsize=(7, 2.8), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    xs = [float(date2num(p[0])) for p in points]
    ys = [p[1] if p[1] is not None else float("nan") for p in points]
    axes.plot(xs, ys, marker="o", color=COLORS[0])
    for x, y in zip(xs, ys, strict=True):
        if y == y:  # not NaN
            axes.annotate(f"{y:g}", (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    axes.set_ylim(0, y_max)
    axes.set_ylabel(y_label)
    axes.set_title(textwrap.shorten(title, 80, placeholder="…"), fontsize=10)
    axes.grid(axis="y", alpha=0.3)
    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    return _png(figure)


def grouped_bars_png(title: str, labels: list[str], series: list[tuple[str, list[int]]]) -> bytes:
    """Horizontal grouped bars, e.g. answers per meeting or questions per month."""
    rows = max(len(labels), 1)
    figure = Figure(figsize=(7, 0.9 + 0.32 * rows * max(1, len(series)) ** 0.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    height = 0.8 / max(len(series), 1)
    positions = list(range(len(labels)))
    for index, (name, values) in enumerate(series):
        offsets = [p + (index - (len(series) - 1) / 2) * height for p in positions]
        axes.barh(offsets, values, height=height, label=name, color=COLORS[index % len(COLORS)])
    axes.set_yticks(positions)
    axes.set_yticklabels([textwrap.shorten(label, 45, placeholder="…") for label in labels], fontsize=8)
    axes.invert_yaxis()
    axes.set_title(title, fontsize=10)
    axes.legend(fontsize=8, loc="lower right")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="x", alpha=0.3)
    return _png(figure)
