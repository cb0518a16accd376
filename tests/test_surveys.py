"""Surveys and polls in the core: parsing, validation, answering, results, scheduling, series,
nudges, DMs question by question, App Home, templates and the console."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.console import Console, ConsoleMessenger
from bot.db import Database
from bot.db.schema import audit_log, due_items
from bot.errors import UserError
from bot.interactions import ActionEvent, CommandRequest, FormSubmission
from bot.runtime import Bot, handle_action, handle_command, handle_form, home_blocks
from bot.scheduler import run_due
from bot.surveys import api, delivery, service
from bot.surveys.models import (
    Anonymity,
    Audience,
    QuestionDraft,
    QuestionKind,
    Repeat,
    Respondent,
    SurveyDraft,
)
from bot.surveys.parsing import parse_poll, parse_questions, split_quoted
from bot.surveys.results import AnswerRow, survey_results
from bot.surveys.tables import survey_answers, survey_questions, survey_respondents, surveys
from bot.surveys.templates import check_templates, load_templates
from bot.ui import FormErrors, Message, OpenForm, Reply, SendFile, UpdateOrigin
from bot.users import Actor, Role, set_profile, set_role
from tests.conftest import LEAD

LEAD_ACTOR = Actor(user_id=LEAD, role=Role.lead)


def scale_question(text: str = "Hur väl får du in vägledning i undervisningen?") -> QuestionDraft:
    return QuestionDraft(kind=QuestionKind.scale5, text=text, low_label="Inte alls", high_label="Mycket väl")


def draft(**changes: Any) -> SurveyDraft:
    values: dict[str, Any] = dict(title="Puls", questions=[scale_question()], audience=Audience(channels=["C1"]))
    values.update(changes)
    return SurveyDraft(**values)


async def create_open(bot: Bot, **changes: Any) -> int:
    survey_id = await service.create_survey(bot.db, LEAD_ACTOR, draft(**changes), bot.clock.now())
    await delivery.open_survey(bot, survey_id, bot.clock.now())
    return survey_id


async def answer(bot: Bot, survey_id: int, user: str, raw: str, question: int = 0, toggle: bool = False,
                 role: str = "staff") -> Any:
    survey = await service.get_survey(bot.db, survey_id)
    return await service.record_answer(bot.db, survey_id, survey.questions[question].id,
                                       Respondent(key=user, role=role), raw, bot.clock.now(), toggle=toggle)


def texts(outcomes: list[Any]) -> str:
    out = []
    for outcome in outcomes:
        message = getattr(outcome, "message", None)
        if isinstance(message, Message):
            out.append(message.text + " " + " ".join(getattr(b, "text", "") for b in message.blocks))
        if isinstance(outcome, FormErrors):
            out.append(" ".join(outcome.errors.values()))
    return "\n".join(out)


async def count(bot: Bot, table: Any) -> int:
    async with bot.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar() or 0)


# --- parsing and validation -------------------------------------------------------------------------

def test_poll_line_reads_straight_and_curly_quotes() -> None:
    assert split_quoted('“Vilken dag?” “Tis dag” "Tor dag" ons') == ["Vilken dag?", "Tis dag", "Tor dag", "ons"]
    assert split_quoted("„Går det?” «Ja» »Nej«") == ["Går det?", "Ja", "Nej"]
    poll = parse_poll('"Fråga?" "A" "B"')
    assert (poll.kind, poll.text, poll.options) == (QuestionKind.single, "Fråga?", ["A", "B"])
    assert parse_poll('"Kommer du?"').kind == QuestionKind.yesno
    with pytest.raises(UserError) as caught:
        split_quoted('"Fråga? "A"')
    assert caught.value.key == "surveys.poll.unbalanced"


def test_poll_closing_time_also_typed_without_swedish_letters() -> None:
    from bot.surveys.parsing import split_closing

    for word in ("stänger", "stanger", "Stängs", "closes"):
        assert split_closing(f'"Fika?" "Ja" "Nej" {word} fredag 15') == ('"Fika?" "Ja" "Nej"', "fredag 15")
    assert split_closing('"Vad stänger vi fredag?" "Ja"') == ('"Vad stänger vi fredag?" "Ja"', None)


def test_question_lines_cover_every_kind() -> None:
    questions = parse_questions(
        "Hur väl? | skala: Inte alls - Mycket väl\n\nTroligt? | 0-10\nPrao? | ja/nej\n"
        "Program? | El; Bygg; Natur\nVeta mer? | flera: Jobb; Gymnasiet\nSaknar du något? | text\nHow well? | scale")
    assert [q.kind for q in questions] == [QuestionKind.scale5, QuestionKind.scale10, QuestionKind.yesno,
                                           QuestionKind.single, QuestionKind.multi, QuestionKind.text,
                                           QuestionKind.scale5]
    assert (questions[0].low_label, questions[0].high_label) == ("Inte alls", "Mycket väl")
    assert questions[3].options == ["El", "Bygg", "Natur"] and questions[4].options == ["Jobb", "Gymnasiet"]
    with pytest.raises(UserError) as caught:
        parse_questions("Bra fråga?\nUtan typ")
    assert caught.value.key == "surveys.parse.no_type" and caught.value.values == {"line": 1}


@pytest.mark.parametrize("text,expected", [
    ('poll "" "A" "B"', "Fråga 1 är tom"),
    ('poll "Fråga?" "A" "a"', "två likadana alternativ"),
    ('poll "Fråga?" ' + " ".join(f'"Alt {i}"' for i in range(11)), "för många alternativ"),
    ('poll "Fråga?" "Bara ett"', "minst 2 alternativ"),
    ('poll "' + "x" * 301 + '" "A" "B"', "för lång"),
    ('poll "Fråga?" "' + "y" * 76 + '" "B"', "för långt"),
    ('poll "Fråga? "A"', "citattecken"),
])
async def test_bad_polls_get_a_clear_reply_and_store_nothing(bot: Bot, text: str, expected: str) -> None:
    outcomes = await handle_command(bot, LEAD_ACTOR, CommandRequest(text=text, channel="C1"))
    assert expected in texts(outcomes)
    assert await count(bot, surveys) == 0 and await count(bot, survey_questions) == 0
    assert await count(bot, due_items) == 0


async def test_survey_form_errors_sit_next_to_their_fields_and_nothing_is_stored(bot: Bot) -> None:
    [form] = await handle_command(bot, LEAD_ACTOR, CommandRequest(text="enkät", channel="C1"))
    assert isinstance(form, OpenForm) and form.form.callback == "survey:create"
    now = bot.clock.now()
    values = {"title": "Puls", "questions": "Hur väl? | skala\nVilket? | A; B; a", "audience_channels": [],
              "anonymity": "anonymous", "opens_at": now + timedelta(days=2), "closes_at": now + timedelta(days=1),
              "repeat": "none", "show_results": "no"}
    [errors] = await handle_form(bot, LEAD_ACTOR, FormSubmission(callback="survey:create", values=values))
    assert isinstance(errors, FormErrors)
    assert "Fråga 2 har två likadana alternativ" in errors.errors["questions"]
    assert "kanaler, personer" in errors.errors["audience_channels"]
    assert "efter öppningstiden" in errors.errors["closes_at"]
    too_many = "\n".join(f"Fråga {i}? | ja/nej" for i in range(11))
    [errors] = await handle_form(bot, LEAD_ACTOR, FormSubmission(callback="survey:create", values={
        **values, "questions": too_many, "audience_channels": ["C1"], "opens_at": None, "closes_at": None}))
    assert isinstance(errors, FormErrors) and "högst 10 frågor" in errors.errors["questions"]
    [errors] = await handle_form(bot, LEAD_ACTOR, FormSubmission(callback="survey:create", values={
        **values, "title": None, "questions": None, "audience_channels": ["C1"], "opens_at": None, "closes_at": None}))
    assert isinstance(errors, FormErrors) and set(errors.errors) >= {"title", "questions"}
    assert await count(bot, surveys) == 0 and await count(bot, due_items) == 0


async def test_survey_from_template_opens_and_is_posted(bot: Bot) -> None:
    values = {"title": None, "template": "personal-puls-vagledning", "questions": None,
              "audience_channels": ["CSTAFF"], "anonymity": "anonymous", "repeat": "none", "show_results": "no"}
    outcomes = await handle_form(bot, LEAD_ACTOR, FormSubmission(callback="survey:create", values=values))
    assert "är öppen" in texts(outcomes)
    [survey] = await service.recent_surveys(bot.db)
    assert survey.title == "Puls: vägledning i undervisningen" and len(survey.questions) == 4
    assert survey.title_in("en") == "Pulse: guidance in teaching"
    assert survey.questions[0].localized("en").text.startswith("How well")
    lines = "\n".join(bot.state["console_lines"])
    assert "Inlägg i #CSTAFF" in lines and "Hur väl får du in studie- och yrkesvägledning" in lines
    assert "Anonym enkät" in lines


# --- answering --------------------------------------------------------------------------------------

async def test_last_answer_wins_and_concurrent_taps_leave_one_row(bot: Bot) -> None:
    survey_id = await create_open(bot)
    first = await answer(bot, survey_id, "U1", "2")
    second = await answer(bot, survey_id, "U1", "5")
    assert first.first_answer and not second.first_answer and second.respondent_count == 1
    await asyncio.gather(*(answer(bot, survey_id, "U2", str(v)) for v in (1, 2, 3, 4, 5, 1, 2, 3)))
    async with bot.db.read() as conn:
        rows = (await conn.execute(select(survey_answers.c.value))).scalars().all()
    assert len(rows) == 2 and "5" in rows
    assert await count(bot, survey_respondents) == 2
    assert (await service.get_survey(bot.db, survey_id)).respondent_count == 2


async def test_answers_are_validated_and_multi_choice_toggles(bot: Bot) -> None:
    survey_id = await create_open(bot, questions=[
        QuestionDraft(kind=QuestionKind.multi, text="Vad vill du veta mer om?", options=["Jobb", "Gymnasiet", "Prao"]),
        QuestionDraft(kind=QuestionKind.text, text="Något mer?"),
        QuestionDraft(kind=QuestionKind.scale10, text="Hur troligt?")])
    assert (await answer(bot, survey_id, "U1", "0", toggle=True)).value == "0"
    assert (await answer(bot, survey_id, "U1", "2", toggle=True)).value == "0,2"
    assert (await answer(bot, survey_id, "U1", "0", toggle=True)).value == "2"
    withdrawn = await answer(bot, survey_id, "U1", "2", toggle=True)
    assert withdrawn.value is None and withdrawn.respondent_count == 0
    for raw, question in (("7", 0), ("11", 2), ("-1", 2), ("x" * 501, 1)):
        with pytest.raises(UserError):
            await answer(bot, survey_id, "U1", raw, question=question)
    assert (await answer(bot, survey_id, "U1", "0", question=2)).value == "0"
    assert (await answer(bot, survey_id, "U1", "x" * 500, question=1)).value == "x" * 500


async def test_closed_and_unopened_surveys_refuse_answers_politely(bot: Bot) -> None:
    later = await service.create_survey(bot.db, LEAD_ACTOR, draft(opens_at=bot.clock.now() + timedelta(days=1)),
                                        bot.clock.now())
    with pytest.raises(UserError) as caught:
        await answer(bot, later, "U1", "3")
    assert caught.value.render("sv") == "Enkäten har inte öppnat än."
    survey_id = await create_open(bot)
    await answer(bot, survey_id, "U1", "3")
    await delivery.close_survey(bot, survey_id, bot.clock.now(), by=LEAD_ACTOR)
    survey = await service.get_survey(bot.db, survey_id)
    event = ActionEvent(action="survey:answer", value=f"{survey_id}:{survey.questions[0].id}:4", channel="C1")
    outcomes = await handle_action(bot, Actor(user_id="U1"), event)
    assert "enkäten är stängd och tar inte emot fler svar" in texts(outcomes)
    async with bot.db.read() as conn:
        assert (await conn.execute(select(survey_answers.c.value))).scalars().all() == ["3"]


async def test_the_confirmation_is_ephemeral_and_shows_results_only_when_allowed(bot: Bot) -> None:
    survey_id = await create_open(bot, show_results=True, questions=[
        QuestionDraft(kind=QuestionKind.yesno, text="Har du haft prao?")])
    survey = await service.get_survey(bot.db, survey_id)
    qid = survey.questions[0].id
    # Unknown users are pupils (least privilege), so the pupils' threshold (7) applies.
    for user in ("U1", "U2", "U3", "U4", "U5", "U6"):
        outcomes = await handle_action(bot, Actor(user_id=user), ActionEvent(
            action="survey:answer", value=f"{survey_id}:{qid}:yes", channel="C1"))
    [reply] = outcomes
    assert isinstance(reply, Reply) and not reply.in_thread  # only the person who answered sees it
    assert "Tack! Ditt svar: *Ja*. Du kan ändra ditt svar tills enkäten stänger." in texts(outcomes)
    assert "För få svar för att visa" in texts(outcomes)
    outcomes = await handle_action(bot, Actor(user_id="U7"), ActionEvent(
        action="survey:answer", value=f"{survey_id}:{qid}:no", channel="C1"))
    assert "Ja: █████████ 6 (86\u00a0%)" in texts(outcomes)


# --- results ----------------------------------------------------------------------------------------

async def test_results_maths_counts_percentages_mean_and_median(bot: Bot) -> None:
    survey_id = await create_open(bot, anonymity=Anonymity.named)
    survey = await service.get_survey(bot.db, survey_id)
    qid = survey.questions[0].id
    rows = [AnswerRow(question_id=qid, value=v, role=r) for v, r in
            [("1", "staff"), ("2", "staff"), ("4", "staff"), ("4", "pupil"), ("5", "pupil"), ("5", "pupil")]]
    result = survey_results(survey, rows, 1).questions[0]
    assert [(b.value, b.count, b.percent) for b in result.bars] == [
        ("1", 1, 16.7), ("2", 1, 16.7), ("3", 0, 0.0), ("4", 2, 33.3), ("5", 2, 33.3)]
    assert result.mean == 3.5 and result.median == 4.0 and result.n == 6
    assert [(g.name, g.n, g.mean) for g in result.groups] == [("pupil", 3, 4.67), ("staff", 3, 2.33)]
    even = survey_results(survey, rows[:4], 1).questions[0]
    assert even.median == 3.0 and even.mean == 2.75


async def test_minimum_group_size_hides_small_groups_in_anonymous_surveys(bot: Bot) -> None:
    survey_id = await create_open(bot)
    for user, value in [("U1", "1"), ("U2", "2"), ("U3", "3"), ("U4", "4")]:
        await answer(bot, survey_id, user, value)
    outcomes = await handle_command(bot, LEAD_ACTOR, CommandRequest(text=f"resultat {survey_id}", channel="C1"))
    assert "För få svar för att visa" in texts(outcomes) and "Medel" not in texts(outcomes)
    assert "n = 4" not in texts(outcomes)
    assert isinstance(outcomes[1], SendFile) and outcomes[1].content.startswith(b"\x89PNG")
    # Five staff and two pupils (issue 18, break 1): the totals show (7 = the pupils' threshold), but
    # not the staff, or total minus staff would give the two pupils' answers back.
    for user, value in [("U5", "5"), ("U6", "5"), ("U7", "4")]:
        await answer(bot, survey_id, user, value, role="pupil" if user in ("U6", "U7") else "staff")
    results = await service.results(bot.db, LEAD_ACTOR, survey_id, bot.settings.min_group_size,
                                    bot.settings.min_group_size_pupils)
    [question] = results.questions
    assert not question.hidden and question.n == 7
    assert [(g.name, g.hidden, g.mean) for g in question.groups] == [("pupil", True, None), ("staff", True, None)]
    text = texts(await handle_command(bot, LEAD_ACTOR, CommandRequest(text=f"results #{survey_id}")))
    assert "elev: _För få svar för att visa._" in text and "personal: _För få svar för att visa._" in text
    assert "Medel 3,4 · median 4" in text and "(n = 5)" not in text


# --- scheduling, restart, series --------------------------------------------------------------------

async def test_open_close_and_summary_happen_once_and_survive_a_restart(bot: Bot, clock: FakeClock) -> None:
    now = clock.now()
    survey_id = await service.create_survey(bot.db, LEAD_ACTOR, draft(
        opens_at=now + timedelta(hours=1), closes_at=now + timedelta(days=2),
        audience=Audience(channels=["C1"], users=["U1", "U2"])), now)
    assert (await service.get_survey(bot.db, survey_id)).status == "scheduled"
    lines: list[str] = bot.state["console_lines"]
    await run_due(bot, now)
    assert not any("Inlägg i #C1" in line for line in lines)

    # A restart: a fresh Bot over the same database file picks the items up.
    restarted = Bot(settings=bot.settings, db=Database(bot.settings.database_url), messenger=bot.messenger, clock=clock)
    try:
        clock.advance(hours=1)
        assert await run_due(restarted, clock.now()) == 1  # the opening; it queues one DM each
        while await run_due(restarted, clock.now()):
            pass
        assert sum("Inlägg i #C1" in line for line in lines) == 1
        assert sum("DM till U1" in line for line in lines) == 1
        assert await run_due(restarted, clock.now()) == 0
        await answer(restarted, survey_id, "U1", "4")
        clock.advance(days=2)
        await run_due(restarted, clock.now())
        await run_due(restarted, clock.now())
        survey = await service.get_survey(restarted.db, survey_id)
        assert survey.status == "closed" and survey.respondent_count == 1
        assert sum("Fil till ULEAD" in line for line in lines) == 1
        assert sum("DM till ULEAD: Resultat: Puls" in line for line in lines) == 1
        assert await run_due(restarted, clock.now() + timedelta(days=1)) == 0
    finally:
        await restarted.stop()


async def test_a_weekly_pulse_creates_the_next_round_at_close_and_reports_a_trend(bot: Bot, clock: FakeClock) -> None:
    now = clock.now()
    bot.settings.min_group_size = bot.settings.min_group_size_pupils = 1  # two answers per round
    first = await create_open(bot, repeat=Repeat.weekly, closes_at=now + timedelta(days=2),
                              anonymity=Anonymity.confidential)
    for user, value in [("U1", "2"), ("U2", "3")]:
        await answer(bot, first, user, value)
    clock.advance(days=2)
    await run_due(bot, clock.now())
    rounds = await service.recent_surveys(bot.db)
    assert [s.id for s in rounds] == [first + 1, first]
    second = rounds[0]
    assert second.series_id == rounds[1].series_id and second.status == "scheduled"
    assert second.opens_at == now + timedelta(days=7) and second.closes_at == now + timedelta(days=9)
    assert [q.text for q in second.questions] == [q.text for q in rounds[1].questions]
    clock.set(second.opens_at)
    await run_due(bot, clock.now())
    for user, value in [("U1", "4"), ("U2", "5")]:
        await answer(bot, second.id, user, value)
    text = texts(await handle_command(bot, LEAD_ACTOR, CommandRequest(text=f"resultat {second.id}")))
    assert "Trend: 2 mar: 2,5 · 9 mar: 4,5" in text
    # Stopping the series: this round closes and no third one is made.
    await handle_action(bot, LEAD_ACTOR, ActionEvent(action="survey:stop", value=str(second.id)))
    clock.advance(days=2)
    await run_due(bot, clock.now())
    assert [s.id for s in await service.recent_surveys(bot.db)] == [second.id, first]


def test_monthly_period_keeps_the_local_time_and_clamps_the_day() -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/Stockholm")
    jan31 = datetime(2026, 1, 31, 8, 0, tzinfo=UTC)  # 09:00 local
    assert service.add_period(jan31, Repeat.monthly, tz) == datetime(2026, 2, 28, 8, 0, tzinfo=UTC)
    march = datetime(2026, 3, 20, 8, 0, tzinfo=UTC)  # 09:00 CET -> 09:00 CEST
    assert service.add_period(march, Repeat.weekly, tz) == datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
    assert service.add_period(datetime(2026, 3, 25, 8, 0, tzinfo=UTC), Repeat.weekly, tz) == \
        datetime(2026, 4, 1, 7, 0, tzinfo=UTC)


# --- DMs, forms, nudges, App Home -------------------------------------------------------------------

async def test_dm_survey_goes_question_by_question_and_the_form_answers_all(bot: Bot) -> None:
    survey_id = await create_open(bot, anonymity=Anonymity.confidential, audience=Audience(users=["U1"]), questions=[
        QuestionDraft(kind=QuestionKind.yesno, text="Har du haft prao?"),
        QuestionDraft(kind=QuestionKind.single, text="Vilket program?", options=["El", "Bygg"]),
        QuestionDraft(kind=QuestionKind.text, text="Något mer?")])
    await run_due(bot, bot.clock.now())
    survey = await service.get_survey(bot.db, survey_id)
    q1, q2, q3 = survey.questions
    user = Actor(user_id="U1")
    outcomes = await handle_action(bot, user, ActionEvent(action="survey:step", value=f"{survey_id}:{q1.id}:yes",
                                                          channel="DU1", message_ts="1.0"))
    update, reply = outcomes
    assert isinstance(update, UpdateOrigin) and "Fråga 2 av 3" in texts([update]) and "Vilket program?" in texts([update])
    assert isinstance(reply, Reply) and "Tack!" in texts([reply])
    [update, _] = await handle_action(bot, user, ActionEvent(action="survey:step", value=f"{survey_id}:{q2.id}:1"))
    assert isinstance(update, UpdateOrigin) and "Fråga 3 av 3" in texts([update])
    [form] = await handle_action(bot, user, ActionEvent(action="survey:write", value=f"{survey_id}:{q3.id}"))
    assert isinstance(form, OpenForm) and [f.name for f in form.form.fields] == [f"q{q3.id}"]
    [errors] = await handle_form(bot, user, FormSubmission(callback="survey:answers", metadata=form.form.metadata,
                                                           values={f"q{q3.id}": "x" * 501}))
    assert isinstance(errors, FormErrors) and "högst 500" in errors.errors[f"q{q3.id}"]
    await handle_form(bot, user, FormSubmission(callback="survey:answers", metadata=form.form.metadata,
                                                values={f"q{q3.id}": "Mer prao, tack"}))
    # The whole survey in one modal, prefilled; changing answers there is all or nothing.
    [form] = await handle_action(bot, user, ActionEvent(action="survey:form", value=str(survey_id)))
    assert isinstance(form, OpenForm)
    assert [f.initial for f in form.form.fields] == ["yes", "1", "Mer prao, tack"]
    outcomes = await handle_form(bot, user, FormSubmission(callback="survey:answers", metadata=str(survey_id), values={
        f"q{q1.id}": "no", f"q{q2.id}": "0", f"q{q3.id}": "Mer prao, tack"}))
    assert "Dina svar är sparade" in texts(outcomes)
    assert await service.answers_of(bot.db, survey_id, "U1") == {q1.id: "no", q2.id: "0", q3.id: "Mer prao, tack"}
    async with bot.db.read() as conn:
        assert set((await conn.execute(select(survey_answers.c.user_id))).scalars().all()) == {"U1"}


async def test_nudges_reach_only_those_who_have_not_answered_once_a_day(bot: Bot) -> None:
    assert isinstance(bot.messenger, ConsoleMessenger)
    bot.messenger.members["CALL"] = [f"U{i}" for i in range(10)]
    survey_id = await create_open(bot, audience=Audience(channels=["CALL"]))
    for user in ("U0", "U1", "U2"):
        await answer(bot, survey_id, user, "3")
    outcomes = await handle_action(bot, LEAD_ACTOR, ActionEvent(action="survey:nudge", value=str(survey_id)))
    assert "7 personer" in texts(outcomes)
    await answer(bot, survey_id, "U3", "3")  # answers before the reminder reaches them
    while await run_due(bot, bot.clock.now()):
        pass
    lines = "\n".join(bot.state["console_lines"])
    reminded = sorted(u for u in (f"U{i}" for i in range(10)) if f"DM till {u}:" in lines)
    assert reminded == ["U4", "U5", "U6", "U7", "U8", "U9"]
    again = await handle_action(bot, LEAD_ACTOR, ActionEvent(action="survey:nudge", value=str(survey_id)))
    assert "en gång per dygn" in texts(again)
    bot.clock.advance(hours=24)  # type: ignore[attr-defined]
    assert "6 personer" in texts(await handle_action(bot, LEAD_ACTOR, ActionEvent(action="survey:nudge",
                                                                                 value=str(survey_id))))
    async with bot.db.read() as conn:
        actions = (await conn.execute(select(audit_log.c.action))).scalars().all()
    assert actions.count("survey.nudge") == 2


async def test_non_leads_are_refused_in_the_core_whatever_the_payload(bot: Bot) -> None:
    survey_id = await create_open(bot)
    pupil = Actor(user_id="U9", role=Role.pupil)
    for text in ('poll "Fråga?" "A" "B"', "enkät", f"resultat {survey_id}"):
        assert "projektledare" in texts(await handle_command(bot, pupil, CommandRequest(text=text, channel="C1")))
    for verb in ("results", "nudge", "close", "stop"):
        outcomes = await handle_action(bot, pupil, ActionEvent(action=f"survey:{verb}", value=str(survey_id)))
        assert "projektledare" in texts(outcomes)
    [errors] = await handle_form(bot, pupil, FormSubmission(callback="survey:create", values={
        "title": "x", "questions": "Fråga? | ja/nej", "audience_channels": ["C1"]}))
    assert isinstance(errors, FormErrors) and "projektledare" in errors.errors["_form"]
    with pytest.raises(UserError):
        await service.results(bot.db, pupil, survey_id, 5)
    with pytest.raises(UserError):
        await service.close(bot.db, survey_id, bot.clock.now(), bot.settings.tz, by=pupil)
    assert (await service.get_survey(bot.db, survey_id)).status == "open"
    assert await count(bot, surveys) == 1


async def test_open_surveys_for_a_person_home_section_and_send_to(bot: Bot) -> None:
    await set_role(bot.db, LEAD_ACTOR, "U1", Role.staff)
    await set_profile(bot.db, "U1", "Göteborg", "Skolan")
    first = await create_open(bot, title="Puls A", audience=Audience(users=["U1", "U2"]))
    second = await create_open(bot, title="Puls B", audience=Audience(users=["U2"]))
    u1 = await bot.actor("U1")
    assert [(s.id, s.answered) for s in await api.open_surveys_for(bot, u1)] == [(first, False)]
    qid = (await service.get_survey(bot.db, first)).questions[0].id
    await handle_action(bot, u1, ActionEvent(action="survey:answer", value=f"{first}:{qid}:4"))
    assert [(s.id, s.answered) for s in await api.open_surveys_for(bot, u1)] == [(first, True)]
    assert await api.send_survey_to(bot, second, ["U1"]) == 1
    while await run_due(bot, bot.clock.now()):
        pass
    assert [s.title for s in await api.open_surveys_for(bot, u1)] == ["Puls A", "Puls B"]
    home = await home_blocks(bot, u1)
    home_text = " ".join(getattr(b, "text", "") for b in home)
    assert "Puls A" in home_text and "du har svarat" in home_text and "inte besvarad" in home_text
    assert not any(getattr(getattr(b, "accessory", None), "action", "") == "survey:results" for b in home)
    lead_home = await home_blocks(bot, LEAD_ACTOR)
    assert sum(getattr(getattr(b, "accessory", None), "action", "") == "survey:results" for b in lead_home) == 2
    # Anonymous answers keep the role (for breakdowns) but never the user or the school.
    async with bot.db.read() as conn:
        row = (await conn.execute(select(survey_answers))).mappings().one()
    assert (row["user_id"], row["role"], row["municipality"], row["school"]) == (None, "staff", "Göteborg", None)


async def test_create_evaluation_for_a_meeting_from_the_template(bot: Bot) -> None:
    survey_id = await api.create_evaluation(bot, LEAD_ACTOR, ["U1", "U2"], bot.clock.now() + timedelta(days=3))
    survey = await service.get_survey(bot.db, survey_id)
    assert survey.template == "utvardering-traff" and survey.status == "open" and len(survey.questions) == 5
    while await run_due(bot, bot.clock.now()):
        pass
    lines = "\n".join(bot.state["console_lines"])
    assert "DM till U1" in lines and "DM till U2" in lines


# --- templates --------------------------------------------------------------------------------------

def test_shipped_templates_are_valid_and_bilingual() -> None:
    directory = Path(__file__).resolve().parent.parent / "content" / "surveys"
    assert check_templates(directory) == []
    templates = load_templates(directory)
    assert {"personal-puls-vagledning", "elev-framtidsval", "utvardering-traff"} <= set(templates)
    pupil = templates["elev-framtidsval"]
    assert pupil.audience == "pupils" and all(q.text["sv"] and q.text["en"] for q in pupil.questions)


def test_template_problems_name_the_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "id: bad\naudience: staff\ntitle: {sv: Hej}\ndescription: {sv: x, en: y}\nquestions:\n"
        "  - kind: single\n    text: {sv: Fråga, en: Question}\n    options: {sv: [A, a], en: [A, B]}\n",
        encoding="utf-8")
    (tmp_path / "worse.yaml").write_text("id: worse\nquestions: []\n", encoding="utf-8")
    problems = check_templates(tmp_path)
    assert any("bad.yaml: title: " in p and "missing language(s): en" in p for p in problems)
    assert any(p.startswith(str(tmp_path / "worse.yaml")) and "questions" in p for p in problems)
    assert load_templates(tmp_path) == {}


def test_cli_checks_survey_templates(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:///data/unused.db")
    assert main(["content", "check-surveys"]) == 0
    assert "survey templates are fine" in capsys.readouterr().out


# --- console ----------------------------------------------------------------------------------------

async def test_console_walk_through_poll_answer_results_and_close(bot: Bot, tmp_path: Path) -> None:
    lines: list[str] = []
    inputs = iter(['/syv poll “Ska vi ha fler studiebesök?” “Ja, gärna” “Nej”', "1", "1",
                   "/syv resultat 1", "/syv resultat", "quit"])

    async def read(prompt: str) -> str | None:
        return next(inputs, None)

    messenger = ConsoleMessenger(lines.append, tmp_path)
    bot.messenger = messenger
    await Console(bot, messenger, LEAD, read, lines.append).run()
    output = "\n".join(lines)
    assert "Inlägg i console" in output and "Ska vi ha fler studiebesök?" in output
    assert "[1] Ja, gärna" in output
    assert "Tack! Ditt svar: Ja, gärna." in output and "Ditt svar är ändrat till Ja, gärna" in output
    assert "Resultat: Ska vi ha fler studiebesök?" in output and "För få svar för att visa" in output
    assert (tmp_path / "survey-1.png").read_bytes().startswith(b"\x89PNG")
    # Close from the list's buttons: the last [n] "Stäng nu".
    close_number = max(i for i, (button, _) in enumerate(messenger.buttons, 1) if button.action == "survey:close")
    lines.clear()
    inputs = iter([str(close_number), str(len(messenger.buttons) + 1), "quit"])  # "Stäng nu", then "Ja, stäng nu"
    await Console(bot, messenger, LEAD, read, lines.append).run()
    assert "Enkät 1 \"Ska vi ha fler studiebesök?\" är stängd (färre än 7 svar)" in "\n".join(lines)


async def test_malformed_button_values_are_refused_not_crashing(bot: Bot) -> None:
    for value in ("", "x:y:z", "1", "1:2", "abc"):
        for verb in ("answer", "step", "write", "goto"):
            outcomes = await handle_action(bot, Actor(user_id="U1"), ActionEvent(action=f"survey:{verb}", value=value))
            assert isinstance(outcomes[0], Reply) and ":warning:" in texts(outcomes)
