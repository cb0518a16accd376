"""Issue 18: each way we broke anonymity, tried again through the real outputs, and shown fixed.

(Breaks 6 and 7, shared devices and ballot stuffing on the pupils' pages, are tested with the web pages.)
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from openpyxl import load_workbook

from bot.interactions import CommandRequest
from bot.reports.exports import export_file
from bot.reports.report import gather, parse_period, render_html
from bot.runtime import Bot, handle_command
from tests.test_reports_support import LEAD_ACTOR, make_survey

T0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def texts(outcomes: list[Any]) -> str:
    return "\n".join(o.message.model_dump_json() for o in outcomes if hasattr(o, "message"))


async def test_break_1_the_pupil_cannot_be_subtracted_from_slack_results_the_summary_or_the_report(bot: Bot) -> None:
    # 6 staff answered 4, 6 counsellors answered 2, 1 pupil answered 5 (one municipality).
    answers = ([{"q": 0, "value": "4", "role": "staff", "municipality": "Ale"}] * 6
               + [{"q": 0, "value": "2", "role": "counsellor", "municipality": "Ale"}] * 6
               + [{"q": 0, "value": "5", "role": "pupil", "municipality": "Ale"}])
    survey_id, _ = await make_survey(bot, title="Personalpuls", opens_at=T0, answers=answers,
                                     questions=[("scale5", "Hur trygg känner du dig?", [])])
    shown = texts(await handle_command(bot, LEAD_ACTOR, CommandRequest(text=f"resultat {survey_id}", channel="C1")))
    # A pupil answered, so the pupils' threshold (7) applies: 13 answers show, but no group of 6 does,
    # and so nothing is left to subtract.
    assert "(n = 13)" in shown
    assert "medel 4" not in shown and "medel 2" not in shown and "(n = 6)" not in shown
    report = await gather(bot, LEAD_ACTOR, parse_period("2026-02-01", "2026-02-28", None, T0.date()), via="test")
    [question] = report.surveys[0].questions
    assert question.n == 13 and all(g.hidden for g in question.groups if g.dimension == "role")
    page = render_html(report, "sv", bot.settings.tz)
    assert "medel 4" not in page.lower() and "personal: 6" not in page
    document = json.loads((await export_file(bot, LEAD_ACTOR, "responses", survey_id, "json")).content)
    assert all(g["hidden"] for g in document["questions"][0]["groups"])


async def test_break_2_no_municipality_and_role_combination_below_the_threshold_in_any_export(bot: Bot) -> None:
    # A = 1 counsellor + 4 staff, B = 4 counsellors + 1 staff: every single group has 5.
    people = ([("A", "counsellor")] + [("A", "staff")] * 4 + [("B", "counsellor")] * 4 + [("B", "staff")])
    answers = [{"q": q, "value": str(1 + (i + q) % 5), "role": role, "municipality": place}
               for q in (0, 1) for i, (place, role) in enumerate(people)]
    survey_id, _ = await make_survey(bot, title="Personalpuls", opens_at=T0, answers=answers, questions=[
        ("scale5", "Fråga ett?", []), ("scale5", "Fråga två?", [])])
    rows = csv_rows((await export_file(bot, LEAD_ACTOR, "responses", survey_id, "csv")).content)
    header, body = rows[0], rows[1:]
    place, role, when = header.index("kommun"), header.index("roll"), header.index("tid")
    assert len(body) == 20
    for number in ("1", "2"):
        printed = Counter((r[place], r[role]) for r in body if r[2] == number)
        assert all(n >= 5 for n in printed.values()), printed
        assert ("A", "vägledare") not in printed
    assert {r[when] for r in body} == {""}, "no time: a day is an attribute too"
    book = load_workbook(io.BytesIO((await export_file(bot, LEAD_ACTOR, "responses", survey_id, "xlsx")).content))
    for sheet in book.worksheets[1:]:
        printed = Counter((r[6], r[8]) for r in sheet.iter_rows(min_row=2, values_only=True))
        assert all(n >= 5 for n in printed.values()) and ("A", "vägledare") not in printed
    document = json.loads((await export_file(bot, LEAD_ACTOR, "responses", survey_id, "json")).content)
    printed = Counter((a["question"], a["municipality"], a["role"]) for a in document["answers"])
    assert all(n >= 5 for n in printed.values())
    groups = {(g["dimension"], g["name"]): g["hidden"] for g in document["questions"][0]["groups"]}
    assert groups[("role", "counsellor")] and groups[("role", "staff")], "A minus staff = two people"
