"""Numbers as readers expect them in their language: `3,4` and `57 %` in Swedish, `3.4` and `57%` in
English. The one helper every chart, report, message and page uses, so no output mixes the two."""

from __future__ import annotations

NBSP = "\u00a0"  # keeps "57 %" on one line


def number(lang: str, value: float | int | None, decimals: int = 1) -> str:
    """`value` rounded to at most `decimals` places, trailing zeros dropped; '' for None."""
    if value is None:
        return ""
    text = f"{round(float(value), decimals):.{decimals}f}" if decimals > 0 else f"{round(float(value)):d}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    if lang == "sv":
        text = text.replace(".", ",").replace("-", "\u2212")
    return text


def percent(lang: str, value: float | int | None, decimals: int = 0) -> str:
    """A percentage: whole numbers by default (57 % of 7 answers is 4, not 57,1)."""
    if value is None:
        return ""
    shown = number(lang, value, decimals)
    return f"{shown}{NBSP}%" if lang == "sv" else f"{shown}%"
