"""Reports and exports: files opened again cell by cell, anonymity, small-group suppression everywhere,
leads only (also with forged payloads) and every export and report in the audit log."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.db.schema import audit_log
from bot.errors import Forbidden
from bot.interactions import ActionEvent, CommandRequest
from bot.reports.exports import export_file
from bot.reports.report import figures_message, gather, parse_period, render_html
from bot.runtime import Bot, handle_action, handle_command
from bot.ui import Message, Reply, SendFile
from tests.test_reports_support import (
    LEAD_ACTOR,
    PUPIL_ACTOR,
    STAFF_ACTOR,
    log_question,
    make_meeting,
    make_survey,
)

T0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _pupils_at_five(bot: Bot) -> None:
    """These surveys have six pupils; their arithmetic was written for a threshold of 5. The pupils'
    own threshold (7) is tested in test_disclosure.py and test_privacy_breaks.py."""
    bot.settings.min_group_size_pupils = 5
TOO_FEW = "för få svar för att visa"


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, so Excel shows å, ä and ö"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def message_text(message: Message) -> str:
    return message.model_dump_json()


async def audit_actions(bot: Bot) -> list[tuple[str, str, dict[str, object]]]:
    async with bot.db.read() as conn:
        rows = (await conn.execute(select(audit_log).order_by(audit_log.c.id))).mappings().all()
    return [(r["actor"], r["action"], dict(r["detail"])) for r in rows]


async def named_survey(bot: Bot) -> tuple[int, list[int]]:
    return await make_survey(bot, title="Personalenkät åäö", anonymity="named", opens_at=T0, questions=[
        ("scale5", "Hur väl känner du till vägledningsplanen?", []),
        ("single", "Vilken aktivitet?", ["Prao", "Studiebesök", "Mässa"]),
        ("text", "Övrigt?", []),
    ], answers=[
        {"q": 0, "value": "4", "user_id": "UANNA", "role": "staff", "municipality": "Göteborg", "school": "Ekskolan",
         "at": T0 + timedelta(hours=1)},
        {"q": 1, "value": "2", "user_id": "UANNA", "role": "staff", "municipality": "Göteborg", "school": "Ekskolan",
         "at": T0 + timedelta(hours=1)},
        {"q": 2, "value": "=HYPERLINK(\"http://x\")", "user_id": "UANNA", "role": "staff",
         "municipality": "Göteborg", "school": "Ekskolan", "at": T0 + timedelta(hours=1)},
        {"q": 0, "value": "2", "user_id": "UBO", "role": "counsellor", "municipality": "Ale", "school": "Åskolan",
         "at": T0 + timedelta(hours=2)},
    ])


async def test_named_responses_csv_cell_by_cell(bot: Bot) -> None:
    survey_id, _ = await named_survey(bot)
    file = await export_file(bot, LEAD_ACTOR, "responses", survey_id, "csv")
    assert file.filename == f"enkat-{survey_id}-svar.csv"
    rows = read_csv(file.content)
    assert rows[0] == ["enkät_id", "enkät", "fråga_nr", "fråga", "svar", "tid", "kommun", "skola", "roll", "svarande"]
    assert rows[1:] == [
        [str(survey_id), "Personalenkät åäö", "1", "Hur väl känner du till vägledningsplanen?", "4",
         "2026-02-02 11:00", "Göteborg", "Ekskolan", "personal", "UANNA"],
        [str(survey_id), "Personalenkät åäö", "1", "Hur väl känner du till vägledningsplanen?", "2",
         "2026-02-02 12:00", "Ale", "Åskolan", "studie- och yrkesvägledare", "UBO"],
        [str(survey_id), "Personalenkät åäö", "2", "Vilken aktivitet?", "Mässa",
         "2026-02-02 11:00", "Göteborg", "Ekskolan", "personal", "UANNA"],
        # A formula in free text is neutralised, so opening the file in Excel runs nothing.
        [str(survey_id), "Personalenkät åäö", "3", "Övrigt?", "'=HYPERLINK(\"http://x\")",
         "2026-02-02 11:00", "Göteborg", "Ekskolan", "personal", "UANNA"],
    ]
    assert ("ULEAD", "export.responses", {"survey_id": survey_id, "format": "csv", "rows": 4,
                                          "anonymity": "named"}) in await audit_actions(bot)


async def anonymous_survey(bot: Bot, opens_at: datetime = T0, title: str = "Elevpuls",
                           series_id: str | None = None, scores: list[str] | None = None) -> tuple[int, list[int]]:
    """Six scale answers (five from Göteborg, one from Ale), three yes/no answers, two free-text answers.
    The rows carry a user id on purpose: the export must never read it, even if a row had one."""
    scores = scores or ["5", "4", "4", "3", "5", "1"]
    places = ["Göteborg"] * 5 + ["Ale"]
    answers = [{"q": 0, "value": v, "role": "pupil", "municipality": m, "user_id": f"UKID{i}",
                "at": datetime(opens_at.year, opens_at.month, opens_at.day, tzinfo=UTC)}
               for i, (v, m) in enumerate(zip(scores, places, strict=True))]
    answers += [{"q": 1, "value": v, "role": "pupil", "municipality": "Göteborg", "user_id": f"UKID{i}",
                 "at": datetime(opens_at.year, opens_at.month, opens_at.day, tzinfo=UTC)}
                for i, v in enumerate(["yes", "no", "yes"])]
    answers += [{"q": 2, "value": v, "user_id": f"UKID{i}"} for i, v in enumerate(["Mer prao!", "Bra"])]
    return await make_survey(bot, title=title, anonymity="anonymous", opens_at=opens_at, series_id=series_id,
                             respondents=6,
                             questions=[("scale5", "Hur trygg känner du dig inför gymnasievalet?", []),
                                        ("yesno", "Har du pratat med en vägledare?", []),
                                        ("text", "Vad vill du veta mer om?", [])],
                             answers=answers)


async def test_anonymous_exports_carry_no_identity_and_withhold_small_groups(bot: Bot) -> None:
    survey_id, _ = await anonymous_survey(bot)
    files = {fmt: await export_file(bot, LEAD_ACTOR, "responses", survey_id, fmt) for fmt in ("csv", "xlsx", "json")}
    for fmt, file in files.items():
        raw = file.content if fmt != "xlsx" else b"".join(
            str(c.value).encode() for ws in load_workbook(io.BytesIO(file.content)) for r in ws.iter_rows() for c in r)
        assert b"UKID" not in raw, fmt
        assert b"Mer prao" not in raw, f"{fmt}: two free-text answers are too few to show"

    rows = read_csv(files["csv"].content)
    assert "svarande" not in rows[0] and len(rows[0]) == 9
    scale = [r for r in rows[1:] if r[2] == "1"]
    # No time; the one answer from Ale has its municipality blanked (and so Göteborg's too).
    assert sorted((r[4], r[5], r[6], r[8]) for r in scale) == [
        ("1", "", "", "elev"), ("3", "", "", "elev"), ("4", "", "", "elev"),
        ("4", "", "", "elev"), ("5", "", "", "elev"), ("5", "", "", "elev")]
    # Hiding Ale alone is not enough: 6 - 5 = 1 would give Ale back, so Göteborg is blanked too.
    assert not [r for r in rows[1:] if r[2] == "2"], "three yes/no answers are too few: withheld"
    assert not [r for r in rows[1:] if r[2] == "3"]

    document = json.loads(files["json"].content)
    assert "respondent" not in json.dumps(document["answers"])
    assert [q["hidden"] for q in document["questions"]] == [False, True, True]
    assert document["questions"][1] == {"number": 2, "text": "Har du pratat med en vägledare?", "kind": "yesno",
                                        "options": [], "answers": None, "hidden": True, "note": TOO_FEW}
    assert document["questions"][0]["mean"] == 3.67
    groups = {(g["dimension"], g["name"]): g for g in document["questions"][0]["groups"]}
    assert groups[("municipality", "Ale")]["hidden"] and groups[("municipality", "Göteborg")]["hidden"]
    assert groups[("municipality", "Göteborg")]["mean"] is None


async def test_xlsx_has_a_summary_and_one_sheet_per_question(bot: Bot) -> None:
    survey_id, _ = await anonymous_survey(bot)
    file = await export_file(bot, LEAD_ACTOR, "responses", survey_id, "xlsx")
    book = load_workbook(io.BytesIO(file.content))
    assert book.sheetnames == ["Sammanfattning", "1. Hur trygg känner du dig infö", "2. Har du pratat med en vägleda",
                               "3. Vad vill du veta mer om"]
    summary = [[c.value for c in row] for row in book["Sammanfattning"].iter_rows()]
    assert summary[0][:2] == ["enkät", "Elevpuls"]
    assert summary[1][:2] == ["anonymitet", "anonym"]
    assert summary[5][:2] == ["svarande", 6]
    assert summary[7][:2] == ["minsta gruppstorlek", 5]
    header = summary[9]
    assert header == ["fråga_nr", "fråga", "typ", "antal svar", "medel", "median", "andel ja (%)", "fördelning"]
    assert summary[10] == [1, "Hur trygg känner du dig inför gymnasievalet?", "skala 1–5", 6, 3.67, 4, None,
                           "1: 1 (16,7\u00a0%); 2: 0 (0\u00a0%); 3: 1 (16,7\u00a0%); 4: 2 (33,3\u00a0%); 5: 2 (33,3\u00a0%)"]
    assert summary[11] == [2, "Har du pratat med en vägledare?", "ja/nej"] + [TOO_FEW] * 5
    assert summary[12] == [3, "Vad vill du veta mer om?", "fritext"] + [TOO_FEW] * 5
    groups = summary[14:]
    assert groups[0] == ["fråga_nr", "grupp", "namn", "antal svar", "medel", "andel ja (%)", None, None]
    assert [row[:6] for row in groups[1:]] == [[1, "kommun", "Ale", TOO_FEW, TOO_FEW, TOO_FEW],
                                               [1, "kommun", "Göteborg", TOO_FEW, TOO_FEW, TOO_FEW]]
    first = [[c.value for c in row] for row in book.worksheets[1].iter_rows()]
    assert first[0] == ["enkät_id", "enkät", "fråga_nr", "fråga", "svar", "tid", "kommun", "skola", "roll"]
    assert sorted(row[4] for row in first[1:]) == [1, 3, 4, 4, 5, 5]  # numbers, so Excel can compute with them
    assert all(row[5] is None and row[6] is None and row[7] is None for row in first[1:])
    assert book.worksheets[1].freeze_panes == "A2"  # the header row stays in view
    # Dates and times are date cells with a format, not text.
    assert book["Sammanfattning"]["B4"].is_date and book["Sammanfattning"]["B4"].number_format == "yyyy-mm-dd hh:mm"
    second = [[c.value for c in row] for row in book.worksheets[2].iter_rows()]
    assert second[1:] == [[TOO_FEW] + [None] * 8]


async def seed_period(bot: Bot) -> None:
    await anonymous_survey(bot, T0, "Elevpuls v6", series_id="pulse-1")
    await anonymous_survey(bot, T0 + timedelta(days=7), "Elevpuls v7", series_id="pulse-1",
                           scores=["5", "5", "4", "4", "5", "2"])
    await anonymous_survey(bot, T0 + timedelta(days=14), "Elevpuls v8", series_id="pulse-1",
                           scores=["2", "3", "4", "5", "1", "4"])
    await make_meeting(bot, title="Processträff 2", start=T0 + timedelta(days=3), invited=["U1", "U2", "U3", "U4"],
                       rsvps={"U1": "yes", "U2": "yes", "U3": "maybe", "U4": "no"})
    await make_meeting(bot, title="Träff i Ale", start=T0 + timedelta(days=4), unit="Ale", invited=["U5"],
                       rsvps={"U5": "yes"})
    for i in range(6):
        await log_question(bot, at=T0 + timedelta(days=i), question="Hur funkar prao?", answered=True,
                           helpful=i % 3 != 0)
    for i in range(3):
        await log_question(bot, at=T0 + timedelta(days=i), question="Vad tjänar en  SYV?", answered=False,
                           role="pupil")
    await log_question(bot, at=T0 + timedelta(days=1), question="När börjar lovet?", answered=False, role="pupil")
    await log_question(bot, at=T0 - timedelta(days=60), question="Gammal fråga", answered=False)


async def test_report_html_is_self_contained_with_charts_trends_attendance_and_questions(bot: Bot) -> None:
    await seed_period(bot)
    period = parse_period("2026-02-01", "2026-02-28", None, T0.date())
    report = await gather(bot, LEAD_ACTOR, period, via="test")
    page = render_html(report, "sv", bot.settings.tz)
    assert page.startswith("<!DOCTYPE html>") and "SAMSYV-rapport 2026-02-01 – 2026-02-28" in page
    assert len(re.findall(r'src="data:image/png;base64,[A-Za-z0-9+/=]{200,}"', page)) >= 3
    assert not re.search(r'(src|href)="(https?:)?//', page) and "<script" not in page and "<link" not in page
    # The pulse over time: 3.67 -> 4.17 -> 3.17, each from six answers.
    assert [p.value for p in report.trends[0].points] == [3.67, 4.17, 3.17]
    assert report.trends[1].points[0].hidden and report.trends[1].points[0].value is None
    assert "Processträff 2" in page and "Träff i Ale" in page
    meeting = report.meetings[0]
    assert (meeting.invited, meeting.yes, meeting.maybe, meeting.no) == (4, 2, 1, 1)
    q = report.questions
    assert (q.asked, q.answered, q.declined, q.helpful, q.not_helpful) == (10, 6, 4, 4, 2)
    assert q.top_unanswered == [("Vad tjänar en  SYV?", 3), ("När börjar lovet?", 1)]
    assert "Gammal fråga" not in page  # outside the period
    assert "Vad tjänar en  SYV?" in page
    roles = {g.name: g for g in q.by_role}
    # 4 questions from pupils < 5: hidden; and staff too, or 10 - 6 would give the pupils' number back.
    assert roles["pupil"].hidden and roles["staff"].hidden and roles["staff"].n is None
    assert TOO_FEW in page
    assert ("ULEAD", "report.create", {"first_day": "2026-02-01", "last_day": "2026-02-28", "municipality": None,
                                       "via": "test"}) in await audit_actions(bot)

    ale = await gather(bot, LEAD_ACTOR, parse_period("2026-02-01", "2026-02-28", "ale", T0.date()), via="test")
    assert [m.title for m in ale.meetings] == ["Träff i Ale"]
    assert all(s.questions[0].hidden for s in ale.surveys), "one answer from Ale per survey: hidden"


async def test_small_groups_are_suppressed_in_every_summary(bot: Bot) -> None:
    survey_id, _ = await make_survey(bot, title="Liten enkät", anonymity="confidential", opens_at=T0, questions=[
        ("scale10", "Hur nöjd är du?", [])], answers=[
        {"q": 0, "value": v, "user_id": f"UT{i}", "role": "staff", "municipality": "Kungsbacka", "school": "S"}
        for i, v in enumerate(["9", "1", "10"])])
    secret_mean = "6.67"
    period = parse_period("2026-02-01", "2026-02-28", None, T0.date())
    report = await gather(bot, LEAD_ACTOR, period, via="test")
    outputs = {
        "html": render_html(report, "sv", bot.settings.tz),
        "slack": message_text(figures_message(report, "sv", bot.settings.tz)),
        "json": (await export_file(bot, LEAD_ACTOR, "responses", survey_id, "json")).content.decode(),
        "xlsx": json.dumps([[c.value for c in row] for row in load_workbook(io.BytesIO(
            (await export_file(bot, LEAD_ACTOR, "responses", survey_id, "xlsx")).content))["Sammanfattning"]
            .iter_rows()], ensure_ascii=False, default=str),
    }
    for name, text in outputs.items():
        assert TOO_FEW in text, name
        assert secret_mean not in text and "6,67" not in text, name
    en = render_html(report, "en", bot.settings.tz)
    assert "too few answers to show" in en


async def test_every_export_and_report_is_refused_to_non_leads_and_logged(bot: Bot) -> None:
    survey_id, _ = await named_survey(bot)
    for actor in (PUPIL_ACTOR, STAFF_ACTOR):
        for kind in ("responses", "surveys", "conferences", "unanswered", "feedback", "audit"):
            with pytest.raises(Forbidden):
                await export_file(bot, actor, kind, survey_id, "xlsx")
        with pytest.raises(Forbidden):
            await gather(bot, actor, parse_period(None, None, None, T0.date()), via="test")
        # Forged buttons: the core refuses whatever the payload says.
        for action, value in (("report:export", f"responses:{survey_id}:csv"), ("report:export", "audit"),
                              ("report:report", "2026-01-01|2026-12-31|"), ("report:menu", ""),
                              ("report:audit", "")):
            outcomes = await handle_action(bot, actor, ActionEvent(action=action, value=value))
            assert not any(isinstance(o, SendFile) for o in outcomes)
            [reply] = outcomes
            assert isinstance(reply, Reply) and "Det här får bara projektledare göra" in reply.message.text
        for text in ("export svar 1 csv", "rapport", "logg"):
            [reply] = await handle_command(bot, actor, CommandRequest(text=text, channel="C1"))
            assert isinstance(reply, Reply) and "projektledare" in reply.message.text
    log = await audit_actions(bot)
    denied = [(who, detail["what"]) for who, action, detail in log if action == "denied"]
    assert denied.count(("UPUPIL1", "export.responses")) == 2 and denied.count(("USTAFF1", "report")) == 2
    assert {what for _, what in denied} >= {"export.responses", "export.surveys", "export.conferences",
                                            "export.unanswered", "export.feedback", "export.audit", "report",
                                            "export.menu", "audit.view"}
    assert not [a for _, a, _ in log if a.startswith("export.") or a == "report.create"]

    # A lead gets each one, and each is in the log with who, when and what.
    for kind in ("responses", "surveys", "conferences", "unanswered", "feedback", "audit"):
        file = await export_file(bot, LEAD_ACTOR, kind, survey_id, "csv")
        assert file.content.startswith(b"\xef\xbb\xbf")
    actions = [a for who, a, _ in await audit_actions(bot) if who == "ULEAD"]
    assert actions == ["export.responses", "export.surveys", "export.conferences", "export.unanswered",
                       "export.feedback", "export.audit"]


async def test_role_changes_are_in_the_audit_log_leads_can_read(bot: Bot) -> None:
    await handle_command(bot, LEAD_ACTOR, CommandRequest(text="roll <@UNEW> vägledare", channel="C1"))
    [reply] = await handle_command(bot, LEAD_ACTOR, CommandRequest(text="logg", channel="C1"))
    assert isinstance(reply, Reply)
    shown = message_text(reply.message)
    assert "role.set" in shown and "<@ULEAD>" in shown and "UNEW" in shown
    assert [b.value for b in reply.message.buttons()] == ["audit"]
    [_, reply2] = await handle_action(bot, LEAD_ACTOR, ActionEvent(action="report:export", value="audit"))
    log = await audit_actions(bot)
    assert [a for _, a, _ in log] == ["role.set", "audit.view", "export.audit"]
    assert isinstance(reply2, Reply)


async def test_survey_list_and_attendance_exports(bot: Bot) -> None:
    survey_id, _ = await anonymous_survey(bot)
    await make_meeting(bot, title="Uppstart", start=T0, invited=["U1", "U2"], rsvps={"U1": "yes", "U2": "no"})
    rows = read_csv((await export_file(bot, LEAD_ACTOR, "surveys")).content)
    assert rows[0] == ["enkät_id", "enkät", "typ", "anonymitet", "status", "öppnar", "stänger", "svarande",
                       "tillfrågade", "svarsfrekvens_procent", "serie"]
    assert rows[1] == [str(survey_id), "Elevpuls", "enkät", "anonym", "stängd", "2026-02-02 10:00", "2026-02-04 10:00",
                       "6", "10", "60", ""]
    # The same attendance format as the meeting's own download: a row per person and meeting.

    rows = read_csv((await export_file(bot, LEAD_ACTOR, "conferences")).content)
    assert rows[0] == ["Träff", "Start", "Slut", "Typ", "Kommun eller skola", "Status", "Slack-ID", "Svar",
                       "Plats på väntelistan", "Svarade"]
    assert [(r[0], r[1], r[6], r[7]) for r in rows[1:]] == [("Uppstart", "2026-02-02 10:00", "U1", "Kommer"),
                                                            ("Uppstart", "2026-02-02 10:00", "U2", "Kan inte")]


def test_xlsx_keeps_formula_text_as_text_without_a_visible_apostrophe() -> None:
    from openpyxl import Workbook

    from bot.reports.xlsx import Percent, _fit_columns, _row

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    _row(sheet, ["svar", "andel"], bold=True)
    _row(sheet, ['=HYPERLINK("http://evil.example","klicka")', Percent(57.1)])
    _row(sheet, [])
    _row(sheet, ["-1 känns fel", "2026-02-02 10:15"])
    _fit_columns(sheet)
    saved = io.BytesIO()
    book.save(saved)
    reread = load_workbook(saved).active
    assert reread is not None
    cell = reread["A2"]
    assert cell.value == '=HYPERLINK("http://evil.example","klicka")' and cell.data_type == "s"
    assert cell.quotePrefix and not str(cell.value).startswith("'")
    assert reread["B2"].value == pytest.approx(0.571) and reread["B2"].number_format == "0.0%"
    assert reread["A3"].value is None and reread["A4"].value == "-1 känns fel" and reread["A4"].quotePrefix
    assert reread["B4"].value == datetime(2026, 2, 2, 10, 15) and reread["B4"].number_format == "yyyy-mm-dd hh:mm"
    assert 40 < reread.column_dimensions["A"].width <= 60
