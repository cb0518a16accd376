"""Anonymity must be real: after close nothing in the database links an answer to a person."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.console import ConsoleMessenger
from bot.interactions import ActionEvent
from bot.runtime import Bot, handle_action
from bot.scheduler import run_due
from bot.surveys import delivery, service
from bot.surveys.models import Anonymity, Audience, QuestionDraft, QuestionKind, Respondent, SurveyDraft
from bot.surveys.tables import survey_answers, survey_keys, survey_respondents
from bot.users import Actor, Role
from tests.conftest import LEAD
from tests.dbscan import every_text_value, sqlite_file

LEAD_ACTOR = Actor(user_id=LEAD, role=Role.lead)
PEOPLE = [f"UPUPIL{i:02d}" for i in range(10)]


def raw_bytes(path: Path) -> bytes:
    """The database file as a byte string, after SQLite has moved its log into it."""
    with sqlite3.connect(path) as conn:
        conn.execute("pragma wal_checkpoint(TRUNCATE)")
    conn.close()
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def _anonymous_survey(bot: Bot) -> int:
    assert isinstance(bot.messenger, ConsoleMessenger)
    bot.messenger.members["CKLASS7B"] = PEOPLE[5:]
    draft = SurveyDraft(title="Vad tänker du om framtiden?", anonymity=Anonymity.anonymous,
                        audience=Audience(users=PEOPLE[:5], members_of=["CKLASS7B"], channels=["CALL"]),
                        questions=[
                            QuestionDraft(kind=QuestionKind.scale5, text="Hur mycket har du tänkt på det?",
                                          low_label="Inte alls", high_label="Jättemycket"),
                            QuestionDraft(kind=QuestionKind.multi, text="Vad vill du veta mer om?",
                                          options=["Jobb", "Gymnasiet", "Prao"]),
                            QuestionDraft(kind=QuestionKind.text, text="Något mer?")])
    survey_id = await service.create_survey(bot.db, LEAD_ACTOR, draft, bot.clock.now())
    await delivery.open_survey(bot, survey_id, bot.clock.now())
    return survey_id


async def test_after_close_nothing_in_any_table_links_an_answer_to_a_person(bot: Bot) -> None:
    survey_id = await _anonymous_survey(bot)
    while await run_due(bot, bot.clock.now()):  # one DM each
        pass
    survey = await service.get_survey(bot.db, survey_id)
    scale, multi, text = survey.questions
    for index, person in enumerate(PEOPLE[:8]):
        respondent = Respondent(key=person, role="pupil", municipality="Göteborg", school="Kvarnbyskolan")
        await service.record_answer(bot.db, survey_id, scale.id, respondent, str(1 + index % 5), bot.clock.now())
        await service.record_answer(bot.db, survey_id, multi.id, respondent, str(index % 3), bot.clock.now(), toggle=True)
        await service.record_answer(bot.db, survey_id, text.id, respondent, f"Jag gillar {person[-2:]}-bygg",
                                    bot.clock.now())
    # Through the button path too, and a changed answer.
    await handle_action(bot, Actor(user_id=PEOPLE[0]), ActionEvent(action="survey:answer",
                                                                    value=f"{survey_id}:{scale.id}:5"))
    # Double answers are blocked while open: one row per person and question, one respondent each.
    async with bot.db.read() as conn:
        rows = (await conn.execute(select(survey_answers))).mappings().all()
        secret = (await conn.execute(select(survey_keys.c.secret))).scalar_one()
        hashes = set((await conn.execute(select(survey_respondents.c.respondent))).scalars().all())
    assert len(rows) == 8 * 3 and len(hashes) == 8
    assert all(r["user_id"] is None and r["school"] is None for r in rows)
    assert all(r["role"] is None and r["municipality"] is None for r in rows if r["question_id"] == text.id)
    assert (await service.get_survey(bot.db, survey_id)).respondent_count == 8
    # A nudge while open: the keyed hash finds the two who have not answered, without storing who answered.
    await handle_action(bot, LEAD_ACTOR, ActionEvent(action="survey:nudge", value=str(survey_id)))
    while await run_due(bot, bot.clock.now()):
        pass
    lines = "\n".join(bot.state["console_lines"])
    assert lines.count("DM till UPUPIL08") == 2 and lines.count("DM till UPUPIL00") == 1

    # Positive control: while open, the queued DMs name people, and the scan finds them.
    db_path = sqlite_file(bot.db)
    if db_path is not None:
        assert PEOPLE[0].encode() in raw_bytes(db_path)
    assert any(PEOPLE[9] in value for _, _, value in await every_text_value(bot.db))

    asked = await handle_action(bot, LEAD_ACTOR, ActionEvent(action="survey:close", value=str(survey_id)))
    assert "aldrig mer kopplas till någon" in asked[0].message.text  # type: ignore[union-attr]
    if db_path is not None:
        assert PEOPLE[0].encode() in raw_bytes(db_path)  # asking closed nothing
    assert any(PEOPLE[0] in value for _, _, value in await every_text_value(bot.db))
    await handle_action(bot, LEAD_ACTOR, ActionEvent(action="survey:close_confirmed", value=str(survey_id)))
    while await run_due(bot, bot.clock.now()):  # summary, DMs marked closed
        pass

    values = await every_text_value(bot.db)
    assert any(table == "survey_answers" for table, _, _ in values)  # the answers are still there
    secrets = [secret, *hashes]
    leaks = [(table, column, value) for table, column, value in values
             if any(person in value for person in PEOPLE) or any(s in value for s in secrets)]
    assert leaks == []
    if db_path is not None:  # PostgreSQL's pages and WAL: what it can promise is in docs/privacy.md
        content = raw_bytes(db_path)
        for needle in PEOPLE + secrets:
            assert needle.encode() not in content, f"{needle} is still somewhere in the database file"
    results = await service.results(bot.db, LEAD_ACTOR, survey_id, bot.settings.min_group_size)
    assert results.respondent_count == 8 and results.questions[0].n == 8


async def test_confidential_and_named_surveys_keep_the_user_with_the_answer(bot: Bot) -> None:
    for mode in (Anonymity.confidential, Anonymity.named):
        draft = SurveyDraft(title=f"Puls {mode}", anonymity=mode, audience=Audience(channels=["C1"]),
                            questions=[QuestionDraft(kind=QuestionKind.yesno, text="Fråga?")])
        survey_id = await service.create_survey(bot.db, LEAD_ACTOR, draft, bot.clock.now())
        await delivery.open_survey(bot, survey_id, bot.clock.now())
        survey = await service.get_survey(bot.db, survey_id)
        await service.record_answer(bot.db, survey_id, survey.questions[0].id,
                                    Respondent(key="U1", role="staff", school="Skolan"), "yes", bot.clock.now())
        await delivery.close_survey(bot, survey_id, bot.clock.now(), by=LEAD_ACTOR)
        async with bot.db.read() as conn:
            row: Any = (await conn.execute(select(survey_answers).where(
                survey_answers.c.survey_id == survey_id))).mappings().one()
        assert (row["user_id"], row["school"], row["respondent"]) == ("U1", "Skolan", None)
    lines = "\n".join(bot.state["console_lines"])
    assert "Konfidentiell enkät" in lines and "Enkät med namn" in lines
