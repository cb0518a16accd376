"""Exports for the project team: a survey's answers (CSV, XLSX, JSON), the survey list, attendance per
meeting, the bot's unanswered questions and feedback, and the audit log.

Every export is for leads only (checked here, whatever the button or command said) and is written to
the audit log with who, when and what. What an export may contain:
- anonymous surveys: never a person, no time and no school, each question's rows shuffled (so one
  person's answers cannot be lined up across questions), questions below the threshold withheld, and
  only the municipality and role combinations `bot.disclosure` shows (free text: none at all);
- confidential surveys: no person either, but exact times and the school;
- named surveys: the respondent's Slack user id as well.
CSV files are UTF-8 with a byte-order mark and semicolons, which Excel with Swedish settings opens
directly; a cell that Excel would run as a formula is prefixed with an apostrophe.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from bot.csvfile import csv_bytes
from bot.disclosure import count_threshold
from bot.errors import UserError
from bot.i18n import t
from bot.redact import mask_personal_data
from bot.reports import data
from bot.reports.audit import entries, record, require_lead_logged
from bot.reports.summary import SurveySummary, decision_for, summarize_survey, survey_threshold
from bot.surveys import records
from bot.surveys.records import AnswerInfo, QuestionInfo, SurveyInfo
from bot.users import Actor

if TYPE_CHECKING:
    from bot.runtime import Bot

FORMATS = ("csv", "xlsx", "json")
KINDS = ("responses", "surveys", "conferences", "unanswered", "feedback", "audit")
MEDIA = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "json": "application/json"}


class ExportFile(BaseModel):
    filename: str
    content: bytes
    title: str
    rows: int = 0


class ResponseRow(BaseModel):
    question: QuestionInfo
    answer: str | int
    at: str
    municipality: str = ""
    school: str = ""
    role: str = ""
    respondent: str = ""


class Responses(BaseModel):
    """One survey ready to be written in any format."""

    survey: SurveyInfo
    summary: SurveySummary
    rows: list[ResponseRow]
    withheld: list[int]  # question ids whose rows are not exported (anonymous, too few answers)
    min_group_size: int

    @property
    def named(self) -> bool:
        return self.survey.anonymity == "named"

    @property
    def respondents(self) -> int | None:
        """The number of respondents, or None below the threshold (then not even that is shown)."""
        count = self.survey.respondent_count
        return count if count >= self.min_group_size else None


_shuffle = random.SystemRandom().shuffle  # an order nobody can reproduce


def role_name(lang: str, role: str | None) -> str:
    return t(lang, f"roles.{role}") if role in ("lead", "counsellor", "staff", "pupil") else (role or "")


def _local(value: datetime, tz: Any) -> str:
    return f"{value.astimezone(tz):%Y-%m-%d %H:%M}"


def build_responses(survey: SurveyInfo, answers: list[AnswerInfo], k: int, lang: str, tz: Any) -> Responses:
    """Rows for every format. Anonymous surveys: a question below the threshold is withheld; each row
    carries only the attributes `bot.disclosure` allows for its person (so every combination printed is
    a shown group, shared by at least k people), no time, no school, no respondent; free text carries
    no attributes at all; and each question's rows are shuffled, so nothing lines one person's rows up
    across questions."""
    anonymous = survey.anonymity == "anonymous"
    by_question: dict[int, list[AnswerInfo]] = defaultdict(list)
    for answer in answers:
        by_question[answer.question_id].append(answer)
    rows: list[ResponseRow] = []
    withheld: list[int] = []
    for question in survey.questions:
        mine = by_question[question.id]
        decision = decision_for(mine, k)
        if anonymous and not decision.total_shown:
            if mine:
                withheld.append(question.id)
            continue
        found = []
        for answer in mine:
            if anonymous:
                shown = {} if question.kind == "text" else decision.export_attributes(
                    {"municipality": answer.municipality, "role": answer.role})
                municipality, role, school, at = shown.get("municipality", ""), shown.get("role", ""), "", ""
            else:
                municipality, role = answer.municipality or "", answer.role or ""
                school, at = answer.school or "", _local(answer.at, tz)
            found.append(ResponseRow(
                question=question, at=at,
                answer=mask_personal_data(answer.value) if question.kind == "text" else data.answer_cell(
                    question, answer.value, lang),
                municipality=municipality, school=school, role=role_name(lang, role) if role else "",
                respondent=(answer.user_id or "") if survey.anonymity == "named" else ""))
        if anonymous:
            _shuffle(found)
        rows.extend(found)
    summary = summarize_survey(survey, answers, k, lang)
    return Responses(survey=survey, summary=summary, rows=rows, withheld=withheld, min_group_size=k)


def response_header(lang: str, named: bool) -> list[str]:
    columns = ["survey_id", "survey", "question_no", "question", "answer", "time", "municipality", "school", "role"]
    if named:
        columns.append("respondent")
    return [t(lang, f"report.col.{c}") for c in columns]


def response_cells(responses: Responses, row: ResponseRow) -> list[Any]:
    cells: list[Any] = [responses.survey.id, responses.survey.title, row.question.number, row.question.text,
                        row.answer, row.at, row.municipality, row.school, row.role]
    if responses.named:
        cells.append(row.respondent)
    return cells


def responses_csv(responses: Responses, lang: str) -> bytes:
    return csv_bytes(response_header(lang, responses.named), [response_cells(responses, r) for r in responses.rows])


def responses_json(responses: Responses, lang: str, tz: Any) -> bytes:
    survey = responses.survey
    summary_by_id = {q.question.id: q for q in responses.summary.questions}
    questions = []
    for question in survey.questions:
        summary = summary_by_id[question.id]
        item: dict[str, Any] = {"number": question.number, "text": question.text, "kind": question.kind,
                                "options": question.options, "answers": None if summary.hidden else summary.n,
                                "hidden": summary.hidden}
        if summary.hidden:
            item["note"] = t(lang, "report.too_few")
        else:
            item.update(mean=summary.mean, median=summary.median, percent_yes=summary.percent_yes,
                        shares=[s.model_dump() for s in summary.shares],
                        groups=[g.model_dump() for g in summary.groups])
        questions.append(item)
    answers = []
    for row in responses.rows:
        entry: dict[str, Any] = {"question": row.question.number, "answer": row.answer, "time": row.at,
                                 "municipality": row.municipality or None, "school": row.school or None,
                                 "role": row.role or None}
        if responses.named:
            entry["respondent"] = row.respondent or None
        answers.append(entry)
    document = {
        "survey": {"id": survey.id, "title": survey.title, "kind": survey.kind, "anonymity": survey.anonymity,
                   "status": survey.status, "opens_at": _local(survey.opens_at, tz),
                   "closes_at": _local(survey.closes_at, tz) if survey.closes_at else None,
                   "respondents": responses.respondents,
                   "invited": survey.invited if responses.respondents is not None else None},
        "min_group_size": responses.min_group_size,
        "questions": questions,
        "answers": answers,
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


async def responses_export(bot: Bot, actor: Actor, survey_id: int, fmt: str) -> ExportFile:
    await require_lead_logged(bot, actor, "export.responses", survey_id=survey_id)
    if fmt not in FORMATS:
        raise UserError("report.errors.format", formats=", ".join(FORMATS))
    async with bot.db.read() as conn:
        survey = await records.load_survey(conn, survey_id)
        if survey is None:
            raise UserError("report.errors.no_survey", id=survey_id)
        answers = await records.load_answers(conn, survey_id)
    lang, tz = actor.lang, bot.settings.tz
    responses = build_responses(survey, answers, survey_threshold(bot.settings, survey, answers), lang, tz)
    if fmt == "csv":
        content = responses_csv(responses, lang)
    elif fmt == "json":
        content = responses_json(responses, lang, tz)
    else:
        from bot.reports.xlsx import responses_xlsx

        content = responses_xlsx(responses, lang, tz)
    await record(bot, actor, "export.responses", survey_id=survey_id, format=fmt, rows=len(responses.rows),
                 anonymity=survey.anonymity)
    return ExportFile(filename=f"{t(lang, 'report.file.responses', id=survey_id)}.{fmt}", content=content,
                      title=t(lang, "report.title.responses", title=survey.title), rows=len(responses.rows))


def survey_list_rows(surveys: list[SurveyInfo], lang: str, tz: Any,
                     min_size: int = 1) -> tuple[list[str], list[list[Any]]]:
    """One row per survey; a respondent count below `min_size` (and the rate it gives) left blank."""
    columns = ["survey_id", "survey", "kind", "anonymity", "status", "opens", "closes", "respondents", "invited",
               "answer_rate", "series"]
    rows = [[s.id, s.title, t(lang, f"report.kind.{s.kind}"), t(lang, f"report.anonymity.{s.anonymity}"),
             t(lang, f"report.status.{s.status}"), _local(s.opens_at, tz),
             _local(s.closes_at, tz) if s.closes_at else "",
             s.respondent_count if s.respondent_count >= min_size else t(lang, "report.too_few_short"),
             s.invited if s.invited is not None else "",
             s.answer_rate if s.answer_rate is not None and s.respondent_count >= min_size else "",
             s.series_id or ""] for s in surveys]
    return [t(lang, f"report.col.{c}") for c in columns], rows


async def surveys_export(bot: Bot, actor: Actor, fmt: str = "csv") -> ExportFile:
    await require_lead_logged(bot, actor, "export.surveys")
    if fmt not in ("csv", "json"):
        raise UserError("report.errors.format", formats="csv, json")
    async with bot.db.read() as conn:
        surveys = await records.list_surveys(conn)
    header, rows = survey_list_rows(surveys, actor.lang, bot.settings.tz, count_threshold(bot.settings))
    if fmt == "csv":
        content = csv_bytes(header, rows)
    else:
        content = json.dumps([dict(zip(header, row, strict=True)) for row in rows], ensure_ascii=False,
                             indent=2).encode("utf-8")
    await record(bot, actor, "export.surveys", format=fmt, rows=len(rows))
    return ExportFile(filename=f"{t(actor.lang, 'report.file.surveys')}.{fmt}", content=content,
                      title=t(actor.lang, "report.title.surveys"), rows=len(rows))


async def conferences_export(bot: Bot, actor: Actor) -> ExportFile:
    """Attendance for every meeting in the one attendance format (bot.conferences.exports): a row per
    person and meeting, which a pivot table turns into the funder's totals."""
    from bot.conferences import service as conference_service
    from bot.conferences.exports import attendance_csv

    await require_lead_logged(bot, actor, "export.conferences")
    async with bot.db.read() as conn:
        every = await conference_service.all_conferences(conn)
        attendance = [(conf, await conference_service.attendees(conn, conf.id)) for conf in every]
    lang, tz = actor.lang, bot.settings.tz
    content = attendance_csv(attendance, lang, tz)
    count = sum(max(1, len(people)) for _, people in attendance)
    await record(bot, actor, "export.conferences", rows=count)
    return ExportFile(filename=f"{t(lang, 'report.file.conferences')}.csv", content=content,
                      title=t(lang, "report.title.conferences"), rows=count)


async def questions_export(bot: Bot, actor: Actor, what: str) -> ExportFile:
    """The question answerer's own CSV (unchanged format, shared with `samsyv export unanswered|feedback`)."""
    await require_lead_logged(bot, actor, f"export.{what}")
    from bot.questions.exports import export_csv

    content = await export_csv(bot, what, actor.lang)
    rows = max(0, content.decode("utf-8-sig").count("\n") - 1)
    await record(bot, actor, f"export.{what}", rows=rows)
    return ExportFile(filename=f"{t(actor.lang, f'report.file.{what}')}.csv", content=content,
                      title=t(actor.lang, f"report.title.{what}"), rows=rows)


async def audit_export(bot: Bot, actor: Actor) -> ExportFile:
    await require_lead_logged(bot, actor, "export.audit")
    found = await entries(bot, limit=None)
    lang, tz = actor.lang, bot.settings.tz
    rows = [[e.id, _local(e.at, tz), e.actor, e.action, json.dumps(e.detail, ensure_ascii=False, default=str)]
            for e in reversed(found)]
    content = csv_bytes([t(lang, f"report.col.{c}") for c in ("id", "time", "actor", "action", "detail")], rows)
    await record(bot, actor, "export.audit", rows=len(rows))
    return ExportFile(filename=f"{t(lang, 'report.file.audit')}.csv", content=content,
                      title=t(lang, "report.title.audit"), rows=len(rows))


async def export_file(bot: Bot, actor: Actor, kind: str, survey_id: int | None = None, fmt: str = "csv") -> ExportFile:
    """One entry point for Slack, the console and the CLI."""
    if kind == "responses":
        if survey_id is None:
            await require_lead_logged(bot, actor, "export.responses")
            raise UserError("report.errors.which_survey")
        return await responses_export(bot, actor, survey_id, fmt)
    if kind == "surveys":
        return await surveys_export(bot, actor, fmt if fmt in ("csv", "json") else "csv")
    if kind == "conferences":
        return await conferences_export(bot, actor)
    if kind in ("unanswered", "feedback"):
        return await questions_export(bot, actor, kind)
    if kind == "audit":
        return await audit_export(bot, actor)
    await require_lead_logged(bot, actor, f"export.{kind}")
    raise UserError("report.errors.unknown_export")
