"""A survey's answers as an Excel workbook: a summary sheet, then one sheet per question.

The summary follows the same suppression as every other summary (bot.reports.summary); the question
sheets hold the same rows as the CSV. Cells are typed so Excel can work with them: numbers as numbers,
dates and times as dates with a format, percentages as percentages; header rows are frozen and columns
fit their content. Text that Excel would run as a formula is stored as text (with Excel's own
quote-prefix flag, so no apostrophe shows), never as a formula.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.csvfile import FORMULA_START
from bot.formatting import percent
from bot.i18n import t
from bot.reports.exports import Responses, response_cells, response_header, role_name
from bot.reports.summary import QuestionSummary

BOLD = Font(bold=True)
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
DATE_FORMAT = "yyyy-mm-dd"
TIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0.0%"
MAX_WIDTH = 60
_DAY = re.compile(r"^\d{4}-\d\d-\d\d$")
_MINUTE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d$")


class Percent(float):
    """A share in per cent (57.1) that the sheet stores as 0.571 with a percentage format."""


def _typed(value: Any) -> tuple[Any, str | None]:
    """(value to store, number format): dates and times as such, percentages as fractions."""
    if isinstance(value, Percent):
        return float(value) / 100.0, PERCENT_FORMAT
    if isinstance(value, datetime):
        return value.replace(tzinfo=None), TIME_FORMAT
    if isinstance(value, date):
        return value, DATE_FORMAT
    if isinstance(value, str) and _DAY.match(value):
        return date.fromisoformat(value), DATE_FORMAT
    if isinstance(value, str) and _MINUTE.match(value):
        return datetime.strptime(value, "%Y-%m-%d %H:%M"), TIME_FORMAT
    return value, None


def sheet_title(number: int, text: str, used: set[str]) -> str:
    """'F1 Hur väl...' within Excel's 31 characters, without the characters Excel forbids, unique."""
    base = _BAD_SHEET_CHARS.sub(" ", f"{number}. {text}").strip()[:31].strip()
    title, n = base, 1
    while title.casefold() in used:
        n += 1
        title = f"{base[:27]} ({n})"
    used.add(title.casefold())
    return title


def _row(sheet: Worksheet, values: list[Any], bold: bool = False) -> None:
    typed = [_typed(None if raw == "" else raw) for raw in values]
    sheet.append([value for value, _ in typed])  # an empty list still moves on one row
    if not values:
        return
    for cell, (value, number_format) in zip(sheet[sheet.max_row], typed, strict=False):
        if value is None:
            continue
        if isinstance(value, str) and value[:1] in FORMULA_START:
            cell.data_type = "s"  # text, not a formula
            cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
        if number_format:
            cell.number_format = number_format
        if bold:
            cell.font = BOLD


def _fit_columns(sheet: Worksheet) -> None:
    """Column widths from the longest value in each column (dates and times by their format)."""
    widths: dict[int, int] = {}
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is None:
                continue
            if isinstance(cell.value, datetime):
                length = len(TIME_FORMAT)
            elif isinstance(cell.value, date):
                length = len(DATE_FORMAT)
            else:
                length = max(len(line) for line in str(cell.value).splitlines() or [""])
            widths[cell.column] = max(widths.get(cell.column, 0), length)
    for column, length in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = min(MAX_WIDTH, length + 2)


def _distribution(summary: QuestionSummary, lang: str) -> str:
    return "; ".join(f"{s.label}: {s.count} ({percent(lang, s.percent, 1)})" for s in summary.shares)


def _write_summary(sheet: Worksheet, responses: Responses, lang: str, tz: Any) -> None:
    survey = responses.survey
    too_few = t(lang, "report.too_few")
    _row(sheet, [t(lang, "report.col.survey"), survey.title], bold=True)
    _row(sheet, [t(lang, "report.col.anonymity"), t(lang, f"report.anonymity.{survey.anonymity}")])
    _row(sheet, [t(lang, "report.col.status"), t(lang, f"report.status.{survey.status}")])
    _row(sheet, [t(lang, "report.col.opens"), survey.opens_at.astimezone(tz)])
    _row(sheet, [t(lang, "report.col.closes"), survey.closes_at.astimezone(tz) if survey.closes_at else ""])
    hidden = responses.respondents is None
    _row(sheet, [t(lang, "report.col.respondents"), too_few if hidden else responses.respondents])
    _row(sheet, [t(lang, "report.col.invited"), survey.invited if survey.invited is not None and not hidden else ""])
    _row(sheet, [t(lang, "report.col.min_group"), responses.min_group_size])
    _row(sheet, [])
    _row(sheet, [t(lang, f"report.col.{c}") for c in ("question_no", "question", "kind", "answers", "mean", "median",
                                                        "percent_yes", "distribution")], bold=True)
    for summary in responses.summary.questions:
        question = summary.question
        kind = t(lang, f"report.qkind.{question.kind}")
        if summary.hidden:
            _row(sheet, [question.number, question.text, kind, too_few, too_few, too_few, too_few, too_few])
            continue
        _row(sheet, [question.number, question.text, kind, summary.n,
                     summary.mean if summary.mean is not None else "",
                     summary.median if summary.median is not None else "",
                     Percent(summary.percent_yes) if summary.percent_yes is not None else "",
                     _distribution(summary, lang) if summary.shares else t(lang, "report.free_text")])
    groups = [(s, g) for s in responses.summary.questions for g in s.groups if not s.hidden]
    if groups:
        _row(sheet, [])
        _row(sheet, [t(lang, f"report.col.{c}") for c in ("question_no", "group", "name", "answers", "mean",
                                                            "percent_yes")], bold=True)
        for summary, group in groups:
            name = role_name(lang, group.name) if group.dimension == "role" else group.name
            dimension = t(lang, f"report.col.{group.dimension}")
            if group.hidden:
                _row(sheet, [summary.question.number, dimension, name, too_few, too_few, too_few])
            else:
                _row(sheet, [summary.question.number, dimension, name, group.n,
                             group.mean if group.mean is not None else "",
                             Percent(group.percent_yes) if group.percent_yes is not None else ""])
    sheet.freeze_panes = "A11"  # the survey's facts and the questions' header stay in view
    _fit_columns(sheet)


def responses_xlsx(responses: Responses, lang: str, tz: Any) -> bytes:
    workbook = Workbook()
    summary_sheet = workbook.active
    assert summary_sheet is not None
    summary_sheet.title = t(lang, "report.sheet.summary")
    _write_summary(summary_sheet, responses, lang, tz)
    used = {summary_sheet.title.casefold()}
    header = response_header(lang, responses.named)
    withheld = set(responses.withheld)
    for question in responses.survey.questions:
        sheet = workbook.create_sheet(sheet_title(question.number, question.text, used))
        _row(sheet, header, bold=True)
        rows = [r for r in responses.rows if r.question.id == question.id]
        for row in rows:
            _row(sheet, response_cells(responses, row))
        if question.id in withheld:
            _row(sheet, [t(lang, "report.too_few")])
        sheet.freeze_panes = "A2"
        _fit_columns(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
