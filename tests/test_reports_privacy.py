"""Privacy controls: retention purge (FakeClock), "forget me" checked against the whole database file,
"my data" complete, and restoring a backup."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from bot.clock import FakeClock
from bot.conferences.tables import conference_rsvps
from bot.db.migrate import backup_sync
from bot.db.schema import audit_log, due_items, users
from bot.interactions import ActionEvent, CommandRequest
from bot.questions.tables import content_proposals, feedback, question_log, unanswered
from bot.reports.privacy import PURGE_KIND, ensure_daily_purge, mentions, purge
from bot.runtime import Bot, handle_action, handle_command
from bot.scheduler import run_due, run_forever, schedule
from bot.surveys.anonymity import respondent_hash
from bot.surveys.tables import survey_answers, survey_audience, survey_keys, survey_respondents
from bot.ui import Reply, SendFile, UpdateOrigin
from bot.users import Actor, Role, set_profile, set_role
from tests.dbscan import scan_database, sqlite_file
from tests.test_reports_support import (
    LEAD_ACTOR,
    file_bytes_hold,
    log_question,
    make_meeting,
    make_survey,
)

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TARGET = "UPUPIL42"


async def count(bot: Bot, table: object) -> int:
    async with bot.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar() or 0)  # type: ignore[arg-type]


async def test_purge_deletes_exactly_what_is_past_retention(bot: Bot, clock: FakeClock) -> None:
    days = bot.settings.retention_days
    assert days == 365
    old, fresh = NOW - timedelta(days=days + 1), NOW - timedelta(days=days - 1)
    old_answered = await log_question(bot, at=old, question="gammal", answered=True, helpful=True)
    await log_question(bot, at=old, question="gammal obesvarad", answered=False)
    new_answered = await log_question(bot, at=fresh, question="ny", answered=True, helpful=False)
    await log_question(bot, at=fresh, question="ny obesvarad", answered=False)
    survey_id, _ = await make_survey(bot, anonymity="anonymous", opens_at=old - timedelta(days=1), questions=[
        ("text", "Något mer?", []), ("scale5", "Hur trygg?", [])], answers=[
        {"q": 0, "value": "gammal fritext", "at": old}, {"q": 0, "value": "ny fritext", "at": fresh},
        {"q": 1, "value": "4", "at": old}])
    async with bot.db.write() as conn:
        await schedule(conn, "survey.summary", "old-done", old, {"survey_id": survey_id})
        await conn.execute(due_items.update().where(due_items.c.key == "old-done").values(done_at=old))
        for at, text in ((old, "gammalt förslag"), (fresh, "nytt förslag")):  # counsellors' proposals quote people
            await conn.execute(content_proposals.insert().values(
                created_at=at, kind="article", lang="sv", question=text, answer="svar", proposed_by="UCOUNS"))

    # The first purge is planned when the due-items loop starts: 03:00 Swedish time, the next night.
    await ensure_daily_purge(bot)
    await ensure_daily_purge(bot)  # a restart plans nothing twice
    async with bot.db.read() as conn:
        [planned] = (await conn.execute(select(due_items).where(due_items.c.kind == PURGE_KIND))).mappings().all()
    assert planned["key"] == "privacy.purge:2026-03-03"
    assert planned["due_at"].replace(tzinfo=UTC) == datetime(2026, 3, 3, 2, 0, tzinfo=UTC)

    dry = await purge(bot, NOW, dry_run=True)
    assert (dry.text_answers, dry.questions, dry.feedback, dry.unanswered, dry.proposals, dry.finished_items) == \
        (1, 2, 1, 1, 1, 1)
    assert await count(bot, question_log) == 4  # nothing deleted by a dry run

    assert await run_due(bot, clock.now()) == 0
    clock.set(datetime(2026, 3, 3, 2, 0, tzinfo=UTC))
    assert await run_due(bot, clock.now()) == 1
    cutoff = clock.now() - timedelta(days=days)
    async with bot.db.read() as conn:
        questions = (await conn.execute(select(question_log.c.id, question_log.c.question))).all()
        votes = (await conn.execute(select(feedback.c.question_id))).scalars().all()
        open_questions = (await conn.execute(select(unanswered.c.question))).scalars().all()
        proposed = (await conn.execute(select(content_proposals.c.question))).scalars().all()
        answers = (await conn.execute(select(survey_answers.c.value))).scalars().all()
        keys = (await conn.execute(select(due_items.c.key).order_by(due_items.c.id))).scalars().all()
        purged = (await conn.execute(select(audit_log.c.detail).where(audit_log.c.action == "privacy.purge"))
                  ).scalars().all()
    assert {q for _, q in questions} == {"ny", "ny obesvarad"} and all(
        old_answered != i for i, _ in questions)
    assert votes == [new_answered]
    assert open_questions == ["ny obesvarad"]
    assert proposed == ["nytt förslag"]
    assert sorted(answers) == ["4", "ny fritext"], "only free text is purged; old scale answers stay"
    assert "old-done" not in keys
    assert keys[-1] == "privacy.purge:2026-03-04", "tomorrow's purge is planned"
    assert purged == [{"cutoff": cutoff.isoformat(), "text_answers": 1, "questions": 2, "feedback": 1,
                       "unanswered": 1, "proposals": 1, "finished_items": 1}]

    # A day later, the answer written 364 days before the first purge has passed retention too.
    clock.set(datetime(2026, 3, 5, 2, 0, tzinfo=UTC))
    assert await run_due(bot, clock.now()) == 1
    assert await count(bot, question_log) == 0 and await count(bot, unanswered) == 0
    assert await count(bot, content_proposals) == 0
    async with bot.db.read() as conn:
        assert (await conn.execute(select(survey_answers.c.value))).scalars().all() == ["4"]


async def test_the_due_items_loop_plans_the_purge_when_it_starts(bot: Bot) -> None:
    stop = asyncio.Event()
    stop.set()
    await run_forever(bot, stop)
    async with bot.db.read() as conn:
        kinds = (await conn.execute(select(due_items.c.kind).where(due_items.c.done_at.is_(None)))).scalars().all()
    assert kinds == [PURGE_KIND]


async def seed_person(bot: Bot) -> dict[str, int]:
    """UPUPIL42 everywhere a person can be: profile, meetings, surveys of every kind, due items, audit log."""
    await set_profile(bot.db, TARGET, "Göteborg", "Ekskolan")
    await set_role(bot.db, LEAD_ACTOR, TARGET, Role.staff)
    past = await make_meeting(bot, title="Förra träffen", start=NOW - timedelta(days=10), invited=[TARGET, "U2"],
                              rsvps={TARGET: "yes", "U2": "yes"}, audience_users=[TARGET, "U2"])
    future = await make_meeting(bot, title="Nästa träff", start=NOW + timedelta(days=10), invited=[TARGET, "U3"],
                                rsvps={TARGET: "yes", "U3": "waitlist"}, capacity=1, audience_users=[TARGET])
    named, _ = await make_survey(bot, title="Namngiven", anonymity="named", opens_at=NOW - timedelta(days=3),
                                 questions=[("text", "Vad tyckte du?", [])], answers=[
        {"q": 0, "value": "Bra träff", "user_id": TARGET, "role": "staff", "municipality": "Göteborg",
         "school": "Ekskolan"}], audience={"channels": [], "users": [TARGET, "U2"], "members_of": []})
    confidential, _ = await make_survey(bot, title="Konfidentiell", anonymity="confidential",
                                        opens_at=NOW - timedelta(days=3), questions=[("yesno", "Nöjd?", [])],
                                        answers=[{"q": 0, "value": "yes", "user_id": TARGET, "school": "Ekskolan"}])
    anonymous, _ = await make_survey(bot, title="Anonym", anonymity="anonymous", opens_at=NOW - timedelta(days=3),
                                     questions=[("scale5", "Trygg?", [])],
                                     answers=[{"q": 0, "value": "5", "role": "staff"}])
    # An open anonymous survey: its key can still turn the id into the hash next to the answer.
    open_id, [open_q] = await make_survey(bot, title="Öppen", anonymity="anonymous", status="open",
                                          opens_at=NOW - timedelta(days=1), questions=[("scale5", "Hur går det?", [])],
                                          answers=[])
    secret = "ab" * 32
    who = respondent_hash(secret, open_id, TARGET)
    async with bot.db.write() as conn:
        await conn.execute(insert(survey_keys).values(survey_id=open_id, secret=secret))
        await conn.execute(insert(survey_audience).values(survey_id=open_id, member=who))
        await conn.execute(insert(survey_respondents).values(survey_id=open_id, respondent=who))
        await conn.execute(insert(survey_answers).values(survey_id=open_id, question_id=open_q, value="3",
                                                         respondent=who, created_at=NOW, updated_at=NOW))
        await schedule(conn, "conf.remind", f"conf:{future}:remind:24:{TARGET}", NOW + timedelta(days=9),
                       {"conference_id": future, "user": TARGET})
        await schedule(conn, "survey.summary", f"survey:{named}:summary", NOW + timedelta(days=1),
                       {"survey_id": named, "note": f"asked by <@{TARGET}>", "people": [TARGET, "U2"]})
    return {"past": past, "future": future, "named": named, "confidential": confidential, "anonymous": anonymous,
            "open": open_id}


async def test_forget_me_leaves_nothing_identifying_anywhere_in_the_database(bot: Bot) -> None:
    ids = await seed_person(bot)
    person = await bot.actor(TARGET)
    await handle_command(bot, person, CommandRequest(text="mina data", channel="C1"))  # logged under their id
    assert await scan_database(bot.db, TARGET), "the seed put the id in many places"

    [question] = await handle_command(bot, person, CommandRequest(text="glöm mig", channel="C1"))
    assert isinstance(question, Reply)
    [confirm, cancel] = question.message.buttons()
    assert confirm.style == "danger" and "Det går inte att ångra" in question.message.model_dump_json()
    [kept] = await handle_action(bot, person, ActionEvent(action=cancel.action, value=cancel.value))
    assert isinstance(kept, UpdateOrigin) and "Inget har raderats" in kept.message.text
    assert await mentions_count(bot) > 0

    [done] = await handle_action(bot, person, ActionEvent(action=confirm.action, value="UOTHER"))
    assert isinstance(done, UpdateOrigin) and "raderat" in done.message.text

    assert await scan_database(bot.db, TARGET) == []
    path = sqlite_file(bot.db)
    if path is not None:  # PostgreSQL's pages and WAL: what it can promise is in docs/privacy.md
        assert file_bytes_hold(path, TARGET) == [], "not even in deleted pages or the write-ahead log"
    async with bot.db.read() as conn:
        assert (await conn.execute(select(users).where(users.c.user_id == TARGET))).first() is None
        rsvps = (await conn.execute(select(conference_rsvps.c.conference_id, conference_rsvps.c.user_id,
                                           conference_rsvps.c.status).order_by(conference_rsvps.c.id))).all()
        answers = (await conn.execute(select(survey_answers.c.survey_id, survey_answers.c.value,
                                             survey_answers.c.user_id, survey_answers.c.school,
                                             survey_answers.c.respondent))).all()
        log = (await conn.execute(select(audit_log.c.actor, audit_log.c.action, audit_log.c.detail)
                                  .order_by(audit_log.c.id))).all()
        summary = (await conn.execute(select(due_items.c.payload).where(due_items.c.key == f"survey:{ids['named']}:summary"))
                   ).scalar_one()
    pseudonym = log[-1].actor
    assert pseudonym.startswith("forgotten-") and log[-1].action == "privacy.forget"
    # Past meeting: still counted, under the pseudonym. Next meeting: the seat went to the waitlist.
    assert (ids["past"], pseudonym, "yes") in rsvps and (ids["past"], "U2", "yes") in rsvps
    assert (ids["future"], "U3", "yes") in rsvps and not [r for r in rsvps if r[0] == ids["future"] and r[1] != "U3"]
    # Answers stay, unlinked: no user id, no school, no hash.
    assert {(a.survey_id, a.value) for a in answers} == {(ids["named"], "Bra träff"), (ids["confidential"], "yes"),
                                                        (ids["anonymous"], "5"), (ids["open"], "3")}
    assert all(a.user_id is None and a.school is None and a.respondent is None for a in answers)
    # The audit log keeps every event; the role change and the data request now name the pseudonym.
    assert ("ULEAD", "role.set", {"user": pseudonym, "role": "staff"}) in [(a, b, c) for a, b, c in log]
    assert (pseudonym, "privacy.mydata", {}) in [(a, b, c) for a, b, c in log]
    assert summary == {"survey_id": ids["named"], "note": f"asked by <@{pseudonym}>", "people": ["U2"]}
    assert await count(bot, survey_respondents) == 0 and await count(bot, survey_audience) == 0
    # They are a stranger now: least privilege, no profile.
    again = await bot.actor(TARGET)
    assert again.role == Role.pupil and again.school is None


async def mentions_count(bot: Bot) -> int:
    async with bot.db.read() as conn:
        return sum((await mentions(conn, TARGET)).values())


async def test_my_data_holds_everything_stored_about_the_person(bot: Bot) -> None:
    ids = await seed_person(bot)
    person = await bot.actor(TARGET)
    outcomes = await handle_command(bot, person, CommandRequest(text="my data", channel="C1"))
    [file] = [o for o in outcomes if isinstance(o, SendFile)]
    assert file.filename == "mina-data-2026-03-02.json"
    document = json.loads(file.content)
    assert document["user_id"] == TARGET
    profile = document["profile"]
    assert (profile["role"], profile["municipality"], profile["school"]) == ("staff", "Göteborg", "Ekskolan")
    assert {(a["survey"], a["answer"]) for a in document["survey_answers"]} == {("Namngiven", "Bra träff"),
                                                                                ("Konfidentiell", "Ja")}
    assert {m["meeting"] for m in document["meeting_invitations"]} == {"Förra träffen", "Nästa träff"}
    assert {(m["meeting"], m["answer"]) for m in document["meeting_answers"]} == {("Förra träffen", "yes"),
                                                                                  ("Nästa träff", "yes")}
    assert [e["action"] for e in document["audit_log"]] == ["role.set"]
    assert {m["kind"] for m in document["scheduled_messages"]} == {"conf.remind", "survey.summary"}
    assert "anonyma enkäter" in document["not_linked"]
    # Complete: every table in which the id occurs (scanned generically) is accounted for.
    tables = {place.split(".")[0] for place in await scan_database(bot.db, TARGET)}
    assert set(document["found_in"]) == tables
    assert {"users", "conferences", "conference_invitees", "conference_rsvps", "surveys", "survey_answers",
            "due_items", "audit_log"} <= tables
    # Nobody else's survey answers or ids leak into the file beyond the meetings they share.
    assert "U3" not in json.dumps(document["meeting_answers"])
    assert ids


async def test_forget_can_only_be_aimed_at_yourself_unless_a_lead(bot: Bot) -> None:
    from bot.errors import Forbidden
    from bot.reports.privacy import forget

    await set_profile(bot.db, TARGET, "Ale", "Åskolan")
    with pytest.raises(Forbidden):
        await forget(bot, Actor(user_id="UOTHER"), TARGET)
    async with bot.db.read() as conn:
        assert (await conn.execute(select(users.c.user_id).where(users.c.user_id == TARGET))).first() is not None
    result = await forget(bot, LEAD_ACTOR, TARGET)  # a lead acting on a written request (e.g. from a parent)
    async with bot.db.read() as conn:
        log = (await conn.execute(select(audit_log.c.actor, audit_log.c.action, audit_log.c.detail))).all()
    assert ("UOTHER", "denied", {"what": "privacy.forget"}) in [tuple(r) for r in log]
    assert ("ULEAD", "privacy.forget", {"user": result.pseudonym, "rows": result.rows}) in [tuple(r) for r in log]


async def test_a_backup_can_be_restored_to_the_data_as_it_was(bot: Bot, db_path: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli import main

    await set_profile(bot.db, "UKEEP", "Göteborg", "Ekskolan")
    await log_question(bot, at=NOW, question="före backup", answered=True)
    backup = backup_sync(bot.settings.database_url, tmp_path / "backups" / "samsyv-2026-03-02.db")
    await set_profile(bot.db, "UKEEP", "Ale", "Åskolan")
    await set_profile(bot.db, "ULATER", "Ale", None)
    await log_question(bot, at=NOW, question="efter backup", answered=True)
    await bot.db.dispose()  # the bot is stopped before a restore

    monkeypatch.setenv("DATABASE_URL", bot.settings.database_url)
    assert await asyncio.to_thread(main, ["db", "restore", str(backup)]) == 2, "refuses without --yes"
    assert await asyncio.to_thread(main, ["db", "restore", str(tmp_path / "missing.db"), "--yes"]) == 1
    assert await asyncio.to_thread(main, ["db", "restore", str(backup), "--yes"]) == 0
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("select municipality, school from users where user_id='UKEEP'").fetchone() == (
            "Göteborg", "Ekskolan")
        assert conn.execute("select count(*) from users where user_id='ULATER'").fetchone() == (0,)
        assert [r[0] for r in conn.execute("select question from question_log")] == ["före backup"]
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
    conn.close()
