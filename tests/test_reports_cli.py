"""The command line: `samsyv export ...`, `samsyv report`, `samsyv db purge|forget|mydata`, files opened again."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from bot.cli import build_parser, main
from bot.db import Database
from bot.messaging import LogMessenger
from bot.runtime import Bot
from bot.users import set_profile
from tests.conftest import make_settings
from tests.test_reports_support import log_question, make_meeting, make_survey

T0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def cli_db(empty_db_url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int]:
    """A database migrated by `samsyv db upgrade` (SQLite or PostgreSQL), with one named survey, a meeting,
    questions and a user; DATABASE_URL points at it."""
    db = empty_db_url
    monkeypatch.setenv("DATABASE_URL", db)
    monkeypatch.setenv("PROJECT_LEADS", "ULEAD")
    assert main(["db", "upgrade"]) == 0

    async def seed() -> int:
        bot = Bot(settings=make_settings(db), db=Database(db), messenger=LogMessenger())
        try:
            survey_id, _ = await make_survey(bot, title="Utvärdering å", anonymity="named", opens_at=T0, questions=[
                ("scale10", "Hur nöjd?", []), ("multi", "Vad var bäst?", ["Föreläsning", "Workshop", "Fika"])],
                answers=[{"q": 0, "value": "9", "user_id": "UANNA", "role": "staff", "municipality": "Ale"},
                         {"q": 1, "value": "0,2", "user_id": "UANNA", "role": "staff", "municipality": "Ale"}])
            await make_meeting(bot, title="Uppstart", start=T0, invited=["UANNA"], rsvps={"UANNA": "yes"})
            await log_question(bot, at=T0, question="Vad är prao?", answered=True, helpful=True)
            await log_question(bot, at=T0, question="Lönen?", answered=False)
            await log_question(bot, at=T0 - timedelta(days=400), question="Uråldrig", answered=False)
            await set_profile(bot.db, "UANNA", "Ale", "Åskolan")
            return survey_id
        finally:
            await bot.db.dispose()

    return db, asyncio.run(seed())


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Query the database the CLI wrote to, outside any bot (the tests here are synchronous)."""
    async def fetch() -> list[tuple[Any, ...]]:
        db = Database(url)
        try:
            async with db.read() as conn:
                return [tuple(r) for r in (await conn.execute(text(sql))).all()]
        finally:
            await db.dispose()

    return asyncio.run(fetch())


def audit_rows(db: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in rows(db, "select actor, action from audit_log order by id")]


def test_cli_exports_responses_in_every_format(cli_db: tuple[str, int], tmp_path: Path) -> None:
    db, survey_id = cli_db
    for fmt in ("csv", "xlsx", "json"):
        assert main(["export", "responses", "--survey", str(survey_id), "--format", fmt,
                     "--out", str(tmp_path / f"out.{fmt}")]) == 0
    rows = list(csv.reader(io.StringIO((tmp_path / "out.csv").read_bytes().decode("utf-8-sig")), delimiter=";"))
    assert rows[0][-1] == "svarande"
    assert [r[2:] for r in rows[1:]] == [
        ["1", "Hur nöjd?", "9", "2026-02-02 11:00", "Ale", "", "personal", "UANNA"],
        ["2", "Vad var bäst?", "Föreläsning; Fika", "2026-02-02 11:00", "Ale", "", "personal", "UANNA"]]
    book = load_workbook(tmp_path / "out.xlsx")
    assert [[c.value for c in r] for r in book.worksheets[2].iter_rows()][1][4] == "Föreläsning; Fika"
    document = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert document["answers"][0] == {"question": 1, "answer": 9, "time": "2026-02-02 11:00", "municipality": "Ale",
                                      "school": None, "role": "personal", "respondent": "UANNA"}
    assert document["questions"][0]["hidden"] is True  # one answer < MIN_GROUP_SIZE, named or not
    actions = audit_rows(db)
    assert [a for _, a in actions] == ["export.responses"] * 3 and actions[0][0].startswith("cli:")
    assert main(["export", "responses", "--survey", "999", "--out", str(tmp_path / "x.csv")]) == 1
    assert main(["export", "responses", "--survey", str(survey_id), "--format", "xlsx"]) == 2, "xlsx needs --out"


def test_cli_exports_lists_questions_and_the_audit_log(cli_db: tuple[str, int], tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    db, survey_id = cli_db
    assert main(["export", "surveys", "--format", "json", "--out", str(tmp_path / "s.json")]) == 0
    [survey] = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert survey["enkät_id"] == survey_id and survey["anonymitet"] == "med namn"
    # The questions capability's exports, in the same CSV dialect as every export, now audited.
    assert main(["export", "unanswered", "--out", str(tmp_path / "u.csv")]) == 0
    rows = list(csv.reader(io.StringIO((tmp_path / "u.csv").read_bytes().decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["frågad", "språk", "fråga"] and {r[2] for r in rows[1:]} == {"Lönen?", "Uråldrig"}
    assert main(["export", "feedback"]) == 0
    assert "Vad är prao?" in capsys.readouterr().out
    assert main(["export", "audit", "--out", str(tmp_path / "a.csv")]) == 0
    log = list(csv.reader(io.StringIO((tmp_path / "a.csv").read_bytes().decode("utf-8-sig")), delimiter=";"))
    assert log[0] == ["id", "tid", "vem", "händelse", "detaljer"]
    assert [r[3] for r in log[1:]] == ["export.surveys", "export.unanswered", "export.feedback"]
    assert [a for _, a in audit_rows(db)][-1] == "export.audit"
    # `export conferences` stays the conferences capability's (one parser, its own options).
    parsed = build_parser().parse_args(["export", "conferences", "--csv", str(tmp_path / "c.csv")])
    assert parsed.handler.__wrapped__.__module__ == "bot.conferences.cli"
    assert main(["export", "conferences", "--csv", str(tmp_path / "c.csv")]) == 0
    assert (tmp_path / "c.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert audit_rows(db)[-1] == (audit_rows(db)[0][0], "export.conferences")


def test_cli_report_purge_forget_and_mydata(cli_db: tuple[str, int], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    db, _ = cli_db
    assert main(["report", "--from", "2026-02-01", "--to", "2026-02-28", "--municipality", "Ale",
                 "--out", str(tmp_path / "r.html")]) == 0
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Uppstart" not in page, "the meeting is in Göteborg"
    assert "Bara kommunen Ale" in page and "Lönen?" in page
    assert main(["report", "--from", "2026-03-01", "--to", "2026-02-01"]) == 2
    assert "Startdatumet ligger efter slutdatumet" in capsys.readouterr().err

    assert main(["db", "purge", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would delete" in out and "     1  logged questions" in out and "     1  unanswered questions" in out
    assert rows(db, "select count(*) from question_log") == [(3,)]
    assert main(["db", "purge"]) == 0
    assert [r[0] for r in rows(db, "select question from question_log order by id")] == ["Vad är prao?", "Lönen?"]

    assert main(["db", "mydata", "UANNA", "--out", str(tmp_path / "anna.json")]) == 0
    anna = json.loads((tmp_path / "anna.json").read_text(encoding="utf-8"))
    assert anna["profile"]["school"] == "Åskolan" and len(anna["survey_answers"]) == 2
    assert main(["db", "forget", "UANNA"]) == 0
    assert "run again with --yes" in capsys.readouterr().out
    assert main(["db", "forget", "UANNA", "--yes"]) == 0
    assert "forgot UANNA" in capsys.readouterr().out
    assert rows(db, "select count(*) from users") == [(0,)]
    actions = [a for _, a in audit_rows(db)]
    assert actions == ["report.create", "privacy.purge", "privacy.mydata", "privacy.forget"]


def test_a_backup_is_in_the_audit_log(cli_db: tuple[Path, int], tmp_path: Path) -> None:
    db, _ = cli_db
    assert main(["db", "backup", str(tmp_path / "copy.db")]) == 0
    [(who, action)] = audit_rows(db)
    assert action == "db.backup" and who.startswith("cli:")  # issue 18: a copy of everything is audited
