"""Issue 18: each way we broke anonymity, tried again through the real outputs, and shown fixed.

(Breaks 6 and 7, shared devices and ballot stuffing on the pupils' pages, are tested with the web pages.)
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select

from bot.conferences.tables import conference_messages, conferences
from bot.console import ConsoleMessenger
from bot.db.erasure import erasure_pending
from bot.db.schema import audit_log
from bot.interactions import ActionEvent, CommandRequest
from bot.logs import QUIET_LIBRARIES, setup_logging
from bot.questions.tables import question_log
from bot.reports.exports import export_file
from bot.reports.privacy import forget
from bot.reports.report import gather, parse_period, render_html
from bot.runtime import Bot, handle_action, handle_command
from bot.scheduler import run_due
from bot.surveys import delivery, service
from bot.surveys.models import Anonymity, Audience, QuestionDraft, QuestionKind, Respondent, SurveyDraft
from bot.surveys.tables import survey_answers, survey_keys, survey_messages, survey_respondents, surveys
from bot.users import Actor
from tests.conftest import SlackDriver
from tests.fakeslack import FakeSlack
from tests.test_reports_support import LEAD_ACTOR, make_survey

T0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def file_bytes(path: Path) -> bytes:
    """The database file and its write-ahead log, as bytes."""
    wal = path.with_name(path.name.removesuffix("-wal") + "-wal")
    main = path.with_name(path.name.removesuffix("-wal"))
    return main.read_bytes() + (wal.read_bytes() if wal.exists() else b"") if path == main else path.read_bytes()


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


# --- break 3: row order in the database after close ------------------------------------------------

async def _answered_anonymous_survey(bot: Bot) -> tuple[int, list[tuple[int, str]]]:
    """Eight pupils answer a scale (stored with role and municipality) and then a free text (without);
    returns the survey and the rows as stored while open, in id order."""
    draft = SurveyDraft(title="Trivsel", anonymity=Anonymity.anonymous, audience=Audience(channels=["C1"]),
                        questions=[QuestionDraft(kind=QuestionKind.scale5, text="Hur trivs du?"),
                                   QuestionDraft(kind=QuestionKind.text, text="Något mer?")])
    survey_id = await service.create_survey(bot.db, LEAD_ACTOR, draft, bot.clock.now())
    await delivery.open_survey(bot, survey_id, bot.clock.now())
    scale, text = (await service.get_survey(bot.db, survey_id)).questions
    for i in range(8):
        pupil = Respondent(key=f"UPUPIL{i}", role="pupil", municipality="Mölndal" if i < 4 else "Ale")
        await service.record_answer(bot.db, survey_id, scale.id, pupil, str(1 + i % 5), bot.clock.now())
        await service.record_answer(bot.db, survey_id, text.id, pupil, f"Svar nummer {i}", bot.clock.now())
    async with bot.db.read() as conn:
        before = [(r.id, r.value) for r in (await conn.execute(
            select(survey_answers.c.id, survey_answers.c.value).order_by(survey_answers.c.id))).all()]
    return survey_id, before


async def test_break_3_after_close_row_ids_and_times_no_longer_pair_a_free_text_with_its_writer(bot: Bot) -> None:
    survey_id, before = await _answered_anonymous_survey(bot)
    # While open, each free text sits right after its writer's scale answer.
    assert [value for _, value in before][:4] == ["1", "Svar nummer 0", "2", "Svar nummer 1"]
    await delivery.close_survey(bot, survey_id, bot.clock.now(), by=LEAD_ACTOR)
    async with bot.db.read() as conn:
        after = (await conn.execute(select(survey_answers).order_by(survey_answers.c.id))).mappings().all()
    assert sorted(r["value"] for r in after) == sorted(value for _, value in before), "nothing lost"
    assert [r["value"] for r in after] != [value for _, value in before], "re-inserted in a random order"
    assert {r["created_at"] for r in after} == {after[0]["updated_at"]}, "one shared day for every row"
    assert all(r["respondent"] is None and r["user_id"] is None for r in after)
    texts_only = [r for r in after if r["value"].startswith("Svar")]
    assert all(r["role"] is None and r["municipality"] is None for r in texts_only)


# --- break 4: the WAL truncation that anonymity relies on -------------------------------------------

async def test_break_4_a_busy_checkpoint_is_retried_logged_shown_and_finished_later(
        bot: Bot, db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    survey_id, _ = await _answered_anonymous_survey(bot)
    async with bot.db.read() as conn:
        key = (await conn.execute(select(survey_keys.c.secret))).scalar_one()
    reader = sqlite3.connect(db_path)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM survey_answers").fetchone()  # holds a read snapshot of the log
    try:
        with caplog.at_level(logging.ERROR, logger="bot.db.erasure"):
            outcomes = await handle_action(bot, LEAD_ACTOR, ActionEvent(action="survey:close_confirmed", value=str(survey_id)))
        assert "erasure pending" in caplog.text
        assert "databasens logg kunde inte tömmas ännu" in texts(outcomes)
        assert await erasure_pending(bot)
        wal = db_path.with_name(db_path.name + "-wal")
        assert key.encode() in file_bytes(wal), "positive control: the deleted key still sits in the log"
    finally:
        reader.rollback()
        reader.close()
    # The due-items loop retries until it succeeds.
    bot.clock.advance(minutes=2)  # type: ignore[attr-defined]
    while await run_due(bot, bot.clock.now()):
        pass
    assert not await erasure_pending(bot)
    assert key.encode() not in file_bytes(db_path), "the survey key is gone from the file and from the log"


# --- break 5: logs ----------------------------------------------------------------------------------

@pytest.fixture
def debug_logging(bot: Bot) -> Iterator[None]:
    """LOG_LEVEL=DEBUG as .env.example offers it, set up the way the bot does; restored afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in QUIET_LIBRARIES})
    setup_logging("DEBUG", bot.settings.secrets())
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # as echo=True would: the filter still holds
    try:
        yield
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)


async def test_break_5_a_whole_anonymous_survey_at_debug_logs_no_user_key_hash_or_token(
        slack: SlackDriver, fake_slack: FakeSlack, debug_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    people = [f"UELEV{i:02d}" for i in range(8)]
    fake_slack.members["C1"] = people
    await slack.command('poll "Hur trivs du i skolan?" "Bra" "Sådär" "Dåligt"', channel="C1")
    [post] = await fake_slack.wait_for("chat.postMessage")
    buttons = [e for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]]
    survey_id = int(buttons[0]["value"].split(":")[0])
    for i, person in enumerate(people):
        await slack.click(buttons[i % 3]["action_id"], buttons[i % 3]["value"], user=person, channel="C1",
                          message_ts=post["ts"] if "ts" in post else "1700000001.000100")
    async with slack.bot.db.read() as conn:
        key = (await conn.execute(select(survey_keys.c.secret))).scalar_one()
        hashes = list((await conn.execute(select(survey_respondents.c.respondent))).scalars().all())
    assert len(hashes) == 8
    outcomes = await handle_action(slack.bot, LEAD_ACTOR, ActionEvent(action="survey:link", value=str(survey_id)))
    token = re.search(r"/s/([A-Za-z0-9_-]{16,})", texts(outcomes))
    assert token is not None
    await slack.click("survey:close_confirmed", str(survey_id), user="ULEAD", channel="C1")
    await fake_slack.wait_for("chat.update")
    while await run_due(slack.bot, slack.bot.clock.now()):
        pass
    assert (await service.get_survey(slack.bot.db, survey_id)).status == "closed"
    logging.getLogger("slack_sdk.web.async_client").debug("positive control %s", people[0])
    logging.getLogger("bot.test").debug("our own debug lines do get through")
    log = capsys.readouterr().err
    assert "our own debug lines do get through" in log and "positive control" not in log
    for needle in [*people, key, *hashes, token.group(1)]:
        assert needle not in log, f"{needle[:12]}… is in the log"
    assert "SELECT" not in log and "INSERT" not in log, "no SQL statements"


# --- break 8: other leaks ---------------------------------------------------------------------------

async def test_break_8_only_the_asker_can_forward_their_question(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    await slack.event({"type": "app_mention", "channel": "C9", "user": "UASKER", "ts": "1700000000.000002",
                       "text": "<@UBOT> hur fungerar skrivaren i personalrummet?"})
    [reply] = await fake_slack.wait_for("chat.postMessage")
    ask = next(e for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]
               if e["action_id"].startswith("q:ask"))
    question_id = ask["value"].split("|")[0]
    # The thread is public: someone else presses the same button, or forges the sequential id.
    for value in (ask["value"], question_id, f"{question_id}|guessed"):
        await slack.click("q:forward", value, user="UOTHER", channel="C9")
    await fake_slack.wait_responses(3)
    assert [c for c in fake_slack.of("chat.postMessage") if c["channel"] == "CGUIDE"] == []
    async with slack.bot.db.read() as conn:
        denied = (await conn.execute(select(audit_log.c.actor, audit_log.c.detail).where(
            audit_log.c.action == "denied"))).all()
    assert [(who, detail["what"]) for who, detail in denied] == [("UOTHER", "q:forward")] * 3
    await slack.click("q:forward", ask["value"], user="UASKER", channel="C9")
    await fake_slack.wait_responses(4)
    assert len([c for c in fake_slack.of("chat.postMessage") if c["channel"] == "CGUIDE"]) == 1


async def test_break_8_forget_me_removes_the_dm_channel_ids_and_message_rows(bot: Bot) -> None:
    person = "UFORGET"
    async with bot.db.write() as conn:
        survey_id = (await conn.execute(insert(surveys).values(
            kind="survey", title="Puls", title_translations={}, lang="sv", anonymity="anonymous",
            show_results=False, status="open", audience={}, created_by="ULEAD", created_at=T0, opens_at=T0,
            respondent_count=0))).inserted_primary_key[0]  # type: ignore[index]
        meeting_id = await make_meeting_row(conn)
        await conn.execute(insert(survey_messages).values(survey_id=survey_id, kind="dm", channel="DFORGET1",
                                                          ts="1.1"))
        await conn.execute(insert(survey_messages).values(survey_id=survey_id, kind="channel", channel="C1", ts="1.2"))
        await conn.execute(insert(conference_messages).values(conference_id=meeting_id, channel="DFORGET1",
                                                              ts="2.1", lang="sv", user_id=person))
    assert isinstance(bot.messenger, ConsoleMessenger)
    await forget(bot, Actor(user_id=person), person)
    async with bot.db.read() as conn:
        left = (await conn.execute(select(survey_messages.c.channel))).scalars().all()
        conf_left = (await conn.execute(select(conference_messages))).all()
        audits = (await conn.execute(select(audit_log.c.action))).scalars().all()
    assert left == ["C1"] and conf_left == []
    assert "privacy.forget" in audits


async def make_meeting_row(conn: Any) -> int:
    result = await conn.execute(insert(conferences).values(
        uid="m@samsyv", title="Träff", kind="process", unit=None, start_at=T0, end_at=T0, location="", capacity=None,
        description=None, material=[], status="scheduled", sequence=0, audience_channels=[], audience_users=[],
        created_by="ULEAD", created_at=T0, updated_at=T0))
    return int(result.inserted_primary_key[0])


async def test_break_8_results_views_of_confidential_and_named_surveys_are_audited(bot: Bot) -> None:
    for anonymity in ("confidential", "named", "anonymous"):
        survey_id, _ = await make_survey(bot, title=anonymity, anonymity=anonymity, opens_at=T0,
                                         questions=[("yesno", "Fråga?", [])], answers=[])
        await handle_command(bot, LEAD_ACTOR, CommandRequest(text=f"resultat {survey_id}", channel="C1"))
    async with bot.db.read() as conn:
        viewed = (await conn.execute(select(audit_log.c.detail).where(audit_log.c.action == "survey.results"))
                  ).scalars().all()
    assert sorted(d["anonymity"] for d in viewed) == ["confidential", "named"]


# --- break 9: pupils' own words in reports ---------------------------------------------------------

async def test_break_9_a_pupil_telling_of_bullying_gets_help_and_their_words_stay_out_of_reports(bot: Bot) -> None:
    pupil = Actor(user_id="UELEV7B", lang="sv")
    said = "jag heter Anna Svensson i 7B och blir mobbad, vad ska jag göra"
    outcomes = await handle_command(bot, pupil, CommandRequest(text=said, channel="D1"))
    reply = texts(outcomes)
    assert "kuratorn" in reply and "elevhälsan" in reply and "116 111" in reply and "112" in reply
    assert "Fråga en vägledare" in reply and "Läs mer" not in reply
    # Someone else asks something the bot cannot answer, with a name and a phone number in it.
    other = "Hej, jag heter Omar Ali, kan ni ringa mig på 070-123 45 67 om när fotbollsträningen börjar?"
    await handle_command(bot, Actor(user_id="UELEV9", lang="sv"), CommandRequest(text=other, channel="D2"))
    report = await gather(bot, LEAD_ACTOR, parse_period(None, None, None, bot.clock.now().date()), via="test")
    page = render_html(report, "sv", bot.settings.tz)
    unanswered_csv = (await export_file(bot, LEAD_ACTOR, "unanswered")).content.decode("utf-8-sig")
    feedback_csv = (await export_file(bot, LEAD_ACTOR, "feedback")).content.decode("utf-8-sig")
    for output in (page, unanswered_csv, feedback_csv):
        assert "mobbad" not in output and "Anna" not in output and "Svensson" not in output
        assert "Omar" not in output and "070-123" not in output
    assert "[namn]" in unanswered_csv and "[telefon]" in unanswered_csv
    async with bot.db.read() as conn:
        stored = (await conn.execute(select(question_log.c.question))).scalars().all()
    assert all("Anna" not in q and "Omar" not in q for q in stored), "masked before it is stored"
