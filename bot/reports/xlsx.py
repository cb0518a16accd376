"""A survey's answers as an Excel workbook: a summary sheet, then one sheet per question.

The summary follows the same suppression as every other summary (bot.reports.summary); the question
sheets hold the same rows as the CSV. Text that Excel would run as a formula is neutralised.
"""

from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from bot.csvfile import safe_cell
from bot.i18n import t
from bot.reports.exports import Responses, response_cells, response_header, role_name
from bot.reports.summary import QuestionSummary

BOLD = Font(bold=True)
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


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
    sheet.append([safe_cell(v) for v in values])
    if bold:
        for cell in sheet[sheet.max_row]:
            cell.font = BOLD


def _distribution(summary: QuestionSummary) -> str:
    return "; ".join(f"{s.label}: {s.count} ({s.percent:g} %)" for s in summary.shares)


def _write_summary(sheet: Worksheet, responses: Responses, lang: str, tz: Any) -> None:
    survey = responses.survey
    too_few = t(lang, "report.too_few")
    _row(sheet, [t(lang, "report.col.survey"), survey.title], bold=True)
    _row(sheet, [t(lang, "report.col.anonymity"), t(lang, f"report.anonymity.{survey.anonymity}")])
    _row(sheet, [t(lang, "report.col.status"), t(lang, f"report.status.{survey.status}")])
    _row(sheet, [t(lang, "report.col.opens"), f"{survey.opens_at.astimezone(tz):%Y-%m-%d %H:%M}"])
    _row(sheet, [t(lang, "report.col.closes"),
                 f"{survey.closes_at.astimezone(tz):%Y-%m-%d %H:%M}" if survey.closes_at else ""])
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
                     summary.percent_yes if summary.percent_yes is not None else "",
                     _distribution(summary) if summary.shares else t(lang, "report.free_text")])
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
                             group.percent_yes if group.percent_yes is not None else ""])
    sheet.column_dimensions["B"].width = 50
    sheet.column_dimensions["H"].width = 60


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
        sheet.column_dimensions["D"].width = 40
        sheet.column_dimensions["E"].width = 40
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
