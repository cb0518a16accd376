"""Pupil web links end to end: a real aiohttp server on 127.0.0.1, a real SQLite file, the survey core.

A pupil here is an aiohttp client session with its own cookie jar (one browser); the lead acts through
the same core flows as Slack and the console.
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web
from sqlalchemy import func, select

from bot.console import Console, ConsoleMessenger
from bot.errors import Forbidden
from bot.interactions import ActionEvent, CommandRequest
from bot.runtime import Bot, handle_action, handle_command
from bot.settings import CONTENT_DIR, Settings
from bot.surveys import delivery, service
from bot.surveys.links import create_link, token_hash
from bot.surveys.models import Anonymity, Audience, QuestionDraft, QuestionKind, SurveyDraft
from bot.surveys.tables import survey_answers, survey_links
from bot.ui import Reply
from bot.users import Actor, Role
from bot.web.app import PrivateAccessLogger, pupil_app
from bot.web.security import CHANGE_COOKIE_NAME, COOKIE_NAME, respondent_key
from tests.conftest import LEAD, SIGNING_SECRET, SlackDriver, text_of
from tests.dbscan import every_text_value, sqlite_file
from tests.fakeslack import FakeSlack
from tests.test_surveys_anonymity import raw_bytes

LEAD_ACTOR = Actor(user_id=LEAD, role=Role.lead)
PUPIL = Actor(user_id="UPUPIL1", role=Role.pupil)
EVIL_TITLE = '<script>alert("x")</script> Framtid & "val"'
URL = re.compile(r"https?://[^\s|>]+/s/([A-Za-z0-9_-]+)")


# --- helpers ----------------------------------------------------------------------------------------

@dataclass
class Server:
    base: str
    pages: Any = None


@dataclass
class Browser:
    """One pupil's browser: its own cookie jar, like a phone or a school Chromebook."""

    base: str
    session: aiohttp.ClientSession
    last_html: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    async def open(self, path: str, **headers: str) -> tuple[int, str]:
        async with self.session.get(self.base + path, headers=headers or None, allow_redirects=False) as resp:
            status, body = resp.status, await resp.text()
            self.headers = dict(resp.headers)
        self.last_html = body
        return status, body

    def csrf(self) -> str:
        found = re.search(r'name="csrf" value="([0-9a-f]+)"', self.last_html)
        assert found is not None, "the form has a CSRF token"
        return found.group(1)

    async def send(self, path: str, fields: list[tuple[str, str]], csrf: str | None = "auto") -> tuple[int, str]:
        data = list(fields)
        if csrf == "auto":
            data.append(("csrf", self.csrf()))
        elif csrf is not None:
            data.append(("csrf", csrf))
        async with self.session.post(self.base + path, data=data) as resp:  # follows the 303 to /tack
            self.redirects = [str(h.status) for h in resp.history]
            return resp.status, await resp.text()

    redirects: list[str] = field(default_factory=list)

    def cookie(self, name: str = COOKIE_NAME) -> str | None:
        for morsel in self.session.cookie_jar:
            if morsel.key == name:
                return morsel.value
        return None


@pytest.fixture
async def server(bot: Bot) -> AsyncIterator[Server]:
    runner = web.AppRunner(pupil_app(bot))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield Server(f"http://127.0.0.1:{port}")
    await bot.coalescer.drain()
    await runner.cleanup()


@pytest.fixture
async def browser_factory(server: Server) -> AsyncIterator[Callable[[], Browser]]:
    sessions: list[aiohttp.ClientSession] = []

    def make() -> Browser:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # 127.0.0.1 is an IP
        sessions.append(session)
        return Browser(server.base, session)

    yield make
    for session in sessions:
        await session.close()


async def make_survey(bot: Bot, anonymity: Anonymity = Anonymity.anonymous, title: str = EVIL_TITLE,
                      closes_in_hours: float | None = None) -> int:
    """Every question kind, created and opened through the core, posted in channel C1."""
    from datetime import timedelta

    closes_at = bot.clock.now() + timedelta(hours=closes_in_hours) if closes_in_hours else None
    draft = SurveyDraft(title=title, anonymity=anonymity, audience=Audience(channels=["C1"]), closes_at=closes_at,
                        questions=[
                            QuestionDraft(kind=QuestionKind.scale5, text="Hur mycket har du tänkt på framtiden?",
                                          low_label="Inte alls", high_label="<b>Jättemycket</b>"),
                            QuestionDraft(kind=QuestionKind.scale10, text="Hur troligt är gymnasiet?"),
                            QuestionDraft(kind=QuestionKind.yesno, text="Har du haft prao?"),
                            QuestionDraft(kind=QuestionKind.single, text="Vilket program lockar?",
                                          options=["El", "Bygg", "<i>Natur</i>"]),
                            QuestionDraft(kind=QuestionKind.multi, text="Vad vill du veta mer om?",
                                          options=["Jobb", "Gymnasiet", "Prao"]),
                            QuestionDraft(kind=QuestionKind.text, text="Något mer? <img src=x onerror=alert(1)>"),
                        ])
    survey_id = await service.create_survey(bot.db, LEAD_ACTOR, draft, bot.clock.now())
    await delivery.open_survey(bot, survey_id, bot.clock.now())
    return survey_id


def reply_text(outcomes: list[Any]) -> str:
    replies = [o for o in outcomes if isinstance(o, Reply)]
    assert replies, outcomes
    return "\n".join(o.message.model_dump_json() for o in replies)


async def lead_link(bot: Bot, survey_id: int) -> str:
    """The path /s/<token> of a new link, created by the lead's button."""
    outcomes = await handle_action(bot, LEAD_ACTOR, ActionEvent(action="survey:link", value=str(survey_id)))
    found = URL.search(reply_text(outcomes))
    assert found is not None, reply_text(outcomes)
    return f"/s/{found.group(1)}"


async def link_rows(bot: Bot) -> list[Any]:
    async with bot.db.read() as conn:
        return list((await conn.execute(select(survey_links))).mappings().all())


async def answer_rows(bot: Bot, survey_id: int) -> list[Any]:
    async with bot.db.read() as conn:
        return list((await conn.execute(select(survey_answers).where(
            survey_answers.c.survey_id == survey_id))).mappings().all())


def full_answers(survey: Any, scale: str = "4", pick: str = "2", text: str = "Jag vill bli snickare") -> list[tuple[str, str]]:
    scale5, scale10, yesno, single, multi, free = survey.questions
    return [(f"q{scale5.id}", scale), (f"q{scale10.id}", "9"), (f"q{yesno.id}", "yes"), (f"q{single.id}", pick),
            (f"q{multi.id}", "0"), (f"q{multi.id}", "2"), (f"q{free.id}", text), ("lang", "sv")]


# --- creating and revoking links -------------------------------------------------------------------

async def test_a_lead_creates_a_link_and_nobody_else_can(bot: Bot, settings: Settings) -> None:
    survey_id = await make_survey(bot)
    # A pupil: the command, a forged button payload and the core function itself all refuse.
    refused = await handle_command(bot, PUPIL, CommandRequest(text=f"enkät länk {survey_id}"))
    assert "projektledare" in reply_text(refused)
    forged = await handle_action(bot, PUPIL, ActionEvent(action="survey:link", value=str(survey_id)))
    assert "projektledare" in reply_text(forged)
    with pytest.raises(Forbidden):
        await create_link(bot.db, PUPIL, survey_id, bot.clock.now())
    assert await link_rows(bot) == []

    # The lead's controls carry the button; the command and the button both give a link.
    created = await service.get_survey(bot.db, survey_id)
    from bot.surveys.views import created_message

    assert "Webblänk för elever" in created_message(created, "sv", settings.tz).model_dump_json()
    outcomes = await handle_command(bot, LEAD_ACTOR, CommandRequest(text=f"enkät länk {survey_id}"))
    shown = reply_text(outcomes)
    match = URL.search(shown)
    assert match is not None and match.group(0).startswith("http://localhost:3000/s/")
    token = match.group(1)
    assert len(token) == 32 and "lärplattform" in shown and "survey:unlink" in shown
    english = await handle_command(bot, LEAD_ACTOR.model_copy(update={"lang": "en"}),
                                   CommandRequest(text=f"survey link {survey_id}"))
    assert "learning platform" in reply_text(english)
    [first, second] = await link_rows(bot)
    # Only the SHA-256 of the token is stored, never the token.
    assert first["token_hash"] == token_hash(token) and first["created_by"] == LEAD
    assert all(token not in value for _, _, value in await every_text_value(bot.db))
    async with bot.db.read() as conn:
        from bot.db.schema import audit_log

        actions = (await conn.execute(select(audit_log.c.action))).scalars().all()
    assert actions.count("survey.link_create") == 2

    usage = await handle_command(bot, LEAD_ACTOR, CommandRequest(text="enkät länk"))
    assert "/syv enkät länk 12" in reply_text(usage)


async def test_link_clicks_through_slack_are_refused_for_a_forged_payload(slack: SlackDriver,
                                                                         fake_slack: FakeSlack) -> None:
    survey_id = await make_survey(slack.bot)
    await slack.click("survey:link", str(survey_id), user="U3")
    await slack.click("survey:unlink", f"{survey_id}:1", user="U3")
    refusals = await fake_slack.wait_responses(2)
    assert all("projektledare" in text_of(r) for r in refusals)
    assert await link_rows(slack.bot) == []
    await slack.click("survey:link", str(survey_id), user=LEAD)
    reply = (await fake_slack.wait_responses(3))[-1]
    assert URL.search(text_of(reply)) is not None and "Återkalla länken" in text_of(reply)
    [row] = await link_rows(slack.bot)
    assert row["revoked_at"] is None


# --- the page -------------------------------------------------------------------------------------

async def test_the_page_shows_every_question_kind_escaped_and_accessible(
        bot: Bot, browser_factory: Callable[[], Browser]) -> None:
    survey_id = await make_survey(bot)
    path = await lead_link(bot, survey_id)
    pupil = browser_factory()

    # First visit from a learning platform: the form itself sets the cookie (no meta-refresh hop).
    status, page = await pupil.open(path)
    assert status == 200 and 'http-equiv="refresh"' not in page
    cookie_header = pupil.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie_header and "SameSite=Lax" in cookie_header and "Path=/s/" in cookie_header
    assert pupil.cookie() is not None
    survey = await service.get_survey(bot.db, survey_id)
    scale5, scale10, yesno, single, multi, free = survey.questions
    assert page.startswith("<!doctype html>") and '<html lang="sv" dir="ltr">' in page
    # User-supplied text is escaped everywhere; the only markup is ours.
    assert "<script" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<b>" not in page and "&lt;b&gt;Jättemycket&lt;/b&gt;" in page
    assert "<i>" not in page and "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    # Every question kind, as native inputs inside fieldsets with legends.
    for value in range(1, 6):
        assert f'name="q{scale5.id}" value="{value}"' in page
    for value in range(0, 11):
        assert f'type="radio" name="q{scale10.id}" value="{value}"' in page
    assert f'type="radio" name="q{yesno.id}" value="yes"' in page and ">Ja<" in page
    assert f'type="radio" name="q{single.id}" value="2"' in page
    assert page.count(f'type="checkbox" name="q{multi.id}"') == 3
    assert f'<textarea id="q{free.id}" name="q{free.id}" maxlength="500"' in page
    assert page.count("<fieldset") == 5 and page.count("<legend>") == 5
    # The anonymity mode in plain words, no scripts, no external resources, strict headers.
    assert "Den här enkäten är anonym." in page and "inte dina lärare" in page
    assert "src=" not in page.replace("&lt;img src=x", "") and "<link" not in page
    assert "default-src 'none'" in pupil.headers["Content-Security-Policy"]
    assert pupil.headers["Referrer-Policy"] == "no-referrer" and pupil.headers["Cache-Control"] == "no-store"
    assert 'name="viewport"' in page
    # A Swedish-only survey stays Swedish in an English browser and offers no other language.
    status, preferred = await pupil.open(path, **{"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="sv" dir="ltr">' in preferred and 'class="lang"' not in preferred
    status, asked = await pupil.open(path + "?lang=en")
    assert '<html lang="sv" dir="ltr">' in asked and "Den här enkäten är anonym." in asked


async def test_posting_without_a_valid_csrf_token_is_refused(
        bot: Bot, browser_factory: Callable[[], Browser]) -> None:
    survey_id = await make_survey(bot)
    path = await lead_link(bot, survey_id)
    survey = await service.get_survey(bot.db, survey_id)
    pupil, other = browser_factory(), browser_factory()
    await pupil.open(path)
    await other.open(path)
    status, page = await pupil.send(path, full_answers(survey), csrf=None)
    assert status == 403 and "Försök igen" in page
    status, _ = await pupil.send(path, full_answers(survey), csrf="0" * 64)
    assert status == 403
    # A token from another browser is bound to that browser's cookie and does not work here.
    status, _ = await pupil.send(path, full_answers(survey), csrf=other.csrf())
    assert status == 403
    # Without any cookie (what a cross-site form post gets with SameSite=Lax) it is refused too.
    async with aiohttp.ClientSession() as stranger:
        async with stranger.post(pupil.base + path, data=[*full_answers(survey), ("csrf", pupil.csrf())]) as resp:
            assert resp.status == 403
    assert await answer_rows(bot, survey_id) == []


async def test_answers_are_recorded_and_the_next_pupil_starts_empty(
        bot: Bot, browser_factory: Callable[[], Browser]) -> None:
    survey_id = await make_survey(bot, anonymity=Anonymity.anonymous)
    path = await lead_link(bot, survey_id)
    survey = await service.get_survey(bot.db, survey_id)
    scale5, scale10, yesno, single, multi, free = survey.questions
    pupil = browser_factory()
    await pupil.open(path)
    first_cookie = pupil.cookie()
    status, thanks = await pupil.send(path, full_answers(survey))
    # Post–redirect–get: the answer's response is a 303 to the thank-you page.
    assert pupil.redirects == ["303"] and status == 200
    assert "<h1>Tack!</h1>" in thanks and "6 av 6" in thanks and "Ny elev – börja om" in thanks
    assert "Ändra mina svar" in thanks and "10 minuter" in thanks

    results = await service.results(bot.db, LEAD_ACTOR, survey_id, min_group_size=1)
    by_id = {r.question.id: r for r in results.questions}
    assert results.respondent_count == 1
    assert {b.value: b.count for b in by_id[scale5.id].bars}["4"] == 1
    assert {b.value: b.count for b in by_id[multi.id].bars} == {"0": 1, "1": 0, "2": 1}
    assert by_id[free.id].texts == ["Jag vill bli snickare"]
    rows = await answer_rows(bot, survey_id)
    assert {r["question_id"]: r["value"] for r in rows}[multi.id] == "0,2"
    assert all(r["role"] == "pupil" for r in rows if r["question_id"] != free.id)

    # Reloading the thank-you page sends nothing again.
    status, again = await pupil.open(f"{path}/tack?lang=sv&n=6")
    assert status == 200 and "Tack!" in again and len(await answer_rows(bot, survey_id)) == 6

    # Changing one's answers is an explicit choice (the link on the thank-you page), prefilled.
    assert pupil.cookie() != first_cookie and pupil.cookie(CHANGE_COOKIE_NAME) == first_cookie
    status, page = await pupil.open(f"{path}?lang=sv&change=1")
    assert "Du ändrar svaren du nyss skickade." in page and 'name="change" value="1"' in page
    assert f'name="q{scale5.id}" value="4" checked' in page and "Jag vill bli snickare</textarea>" in page
    assert f'name="q{multi.id}" value="0" checked' in page and f'name="q{multi.id}" value="1">' in page
    second = [(name, value) for name, value in full_answers(survey, scale="1", pick="0", text="")
              if name != f"q{multi.id}"] + [("change", "1")]
    status, _ = await pupil.send(path, second)
    assert status == 200
    rows = await answer_rows(bot, survey_id)
    per_question = {r["question_id"]: r["value"] for r in rows}
    assert len(rows) == 4 and len(per_question) == 4  # one row per question; emptied ones withdrawn
    assert per_question[scale5.id] == "1" and per_question[single.id] == "0" and per_question[yesno.id] == "yes"
    assert multi.id not in per_question and free.id not in per_question
    assert (await service.get_survey(bot.db, survey_id)).respondent_count == 1

    # The next pupil on the same device ("Ny elev – börja om", or the link opened again) sees an empty
    # form with a fresh id, and that closes the last pupil's change window.
    status, page = await pupil.open(f"{path}?lang=sv&new=1")
    assert " checked" not in page and "Jag vill bli snickare" not in page
    assert pupil.cookie(CHANGE_COOKIE_NAME) in (None, "")
    status, page = await pupil.open(f"{path}?lang=sv&change=1")
    assert "Du ändrar" not in page and " checked" not in page
    assert (await pupil.send(path, full_answers(survey)))[0] == 200
    assert (await service.get_survey(bot.db, survey_id)).respondent_count == 2
    # Another device cannot use the change link.
    friend = browser_factory()
    status, page = await friend.open(f"{path}?change=1")
    assert " checked" not in page and "Du ändrar" not in page


async def test_a_link_takes_at_most_its_answers_and_one_time_codes_once(
        bot: Bot, browser_factory: Callable[[], Browser]) -> None:
    from bot.surveys.links import link_url, web_answers

    survey_id = await make_survey(bot, title="Puls 7B")
    survey = await service.get_survey(bot.db, survey_id)
    created = await create_link(bot.db, LEAD_ACTOR, survey_id, bot.clock.now(), max_answers=2, code_count=3)
    assert len(created.codes) == 3 and len(set(created.codes)) == 3
    path = link_url("", created.token)
    pupil = browser_factory()
    status, page = await pupil.open(path)
    assert 'name="code"' in page and "Din elevkod" in page
    status, page = await pupil.send(path, full_answers(survey))  # no code
    assert status == 400 and "Koden fungerar inte" in page
    status, page = await pupil.send(path, [*full_answers(survey), ("code", "ZZZZZZ")])
    assert status == 400
    assert (await pupil.send(path, [*full_answers(survey), ("code", created.codes[0].lower())]))[0] == 200
    await pupil.open(path)
    status, page = await pupil.send(path, [*full_answers(survey), ("code", created.codes[0])])  # used up
    assert status == 400 and "redan använts" in page
    assert (await pupil.send(path, [*full_answers(survey), ("code", created.codes[1])]))[0] == 200
    # Two answers: the link is full, however many codes are left.
    status, page = await pupil.open(path)
    assert status == 403 and "Enkäten är full" in page
    assert (await service.get_survey(bot.db, survey_id)).respondent_count == 2
    assert (await web_answers(bot.db, survey_id)).model_dump() == {"total": 2, "without_code": 0}
    # A plain link counts its answers as "without a code"; codes are stored only as hashes.
    plain = await lead_link(bot, survey_id)
    other = browser_factory()
    await other.open(plain)
    assert (await other.send(plain, full_answers(survey)))[0] == 200
    assert (await web_answers(bot.db, survey_id)).model_dump() == {"total": 3, "without_code": 1}
    from bot.surveys.tables import survey_link_codes

    async with bot.db.read() as conn:
        stored = (await conn.execute(select(survey_link_codes.c.code_hash))).scalars().all()
    assert len(stored) == 3 and not set(created.codes) & set(stored)
    # The report counts web answers apart from the people asked in Slack: the rate never passes 100 %.
    from bot.surveys import records as data

    async with bot.db.read() as conn:
        [info] = await data.list_surveys(conn, survey_id=survey_id)
    assert (info.web_answers, info.web_without_code, info.respondent_count) == (3, 1, 3)
    assert info.answer_rate in (None, 0.0)
    assert info.model_copy(update={"invited": 1, "respondent_count": 9, "web_answers": 1}).answer_rate == 100.0
    results = await handle_command(bot, LEAD_ACTOR, CommandRequest(text=f"resultat {survey_id}"))
    assert "Webbsvar: 3, varav 1 utan elevkod." in reply_text(results)


async def test_a_translated_survey_offers_its_languages_and_arabic_is_right_to_left(
        bot: Bot, browser_factory: Callable[[], Browser]) -> None:
    from bot.surveys.models import QuestionText

    draft = SurveyDraft(title="Framtiden", title_translations={"ar": "المستقبل"}, lang="sv",
                        audience=Audience(channels=["C1"]), questions=[
                            QuestionDraft(kind=QuestionKind.yesno, text="Har du haft prao?", translations={
                                "ar": QuestionText(text="هل قمت بالتدريب العملي؟")})])
    survey_id = await service.create_survey(bot.db, LEAD_ACTOR, draft, bot.clock.now())
    await delivery.open_survey(bot, survey_id, bot.clock.now())
    path = await lead_link(bot, survey_id)
    pupil = browser_factory()
    status, page = await pupil.open(path)
    assert '<html lang="sv" dir="ltr">' in page and 'lang="ar" hreflang="ar" dir="rtl">العربية</a>' in page
    assert "Svenska" in page and "English" not in page  # only the languages the survey has
    status, arabic = await pupil.open(path + "?lang=ar")
    assert '<html lang="ar" dir="rtl">' in arabic and "المستقبل" in arabic and "هل قمت بالتدريب العملي؟" in arabic
    assert "أرسل إجاباتي" in arabic and ">نعم<" in arabic
    survey = await service.get_survey(bot.db, survey_id)
    status, thanks = await pupil.send(path, [(f"q{survey.questions[0].id}", "yes"), ("lang", "ar")])
    assert status == 200 and '<html lang="ar" dir="rtl">' in thanks and "شكرًا!" in thanks


async def test_results_are_shown_after_sending_only_when_the_lead_chose_it(
        bot: Bot, browser_factory: Callable[[], Browser]) -> None:
    draft = SurveyDraft(title="Puls", show_results=True, audience=Audience(channels=["C1"]), questions=[
        QuestionDraft(kind=QuestionKind.yesno, text="Har du haft prao?"),
        QuestionDraft(kind=QuestionKind.text, text="Något mer?")])
    survey_id = await service.create_survey(bot.db, LEAD_ACTOR, draft, bot.clock.now())
    await delivery.open_survey(bot, survey_id, bot.clock.now())
    path = await lead_link(bot, survey_id)
    survey = await service.get_survey(bot.db, survey_id)
    yesno, free = survey.questions
    pupil = browser_factory()
    pages_seen = []
    for index in range(bot.settings.min_group_size_pupils):
        await pupil.open(path)
        status, page = await pupil.send(path, [(f"q{yesno.id}", "yes" if index else "no"),
                                               (f"q{free.id}", f"hemligt {index}"), ("lang", "sv")])
        pages_seen.append(page)
    assert "Så här har alla svarat hittills" in pages_seen[0] and "För få svar än" in pages_seen[0]
    last = pages_seen[-1]
    assert "86\u00a0%" in last and "<progress" in last and "hemligt" not in last  # never free text
    hidden = await make_survey(bot, title="Dold")
    hidden_path = await lead_link(bot, hidden)
    await pupil.open(hidden_path)
    hidden_survey = await service.get_survey(bot.db, hidden)
    _status, page = await pupil.send(hidden_path, full_answers(hidden_survey))
    assert "Så här har alla svarat" not in page


async def test_bad_answers_are_shown_next_to_their_question_and_nothing_is_stored(
        bot: Bot, browser_factory: Callable[[], Browser]) -> None:
    survey_id = await make_survey(bot)
    path = await lead_link(bot, survey_id)
    survey = await service.get_survey(bot.db, survey_id)
    scale5, *_rest, free = survey.questions
    pupil = browser_factory()
    await pupil.open(path)
    too_long = [(n, v) for n, v in full_answers(survey, text="å" * 501)]
    status, page = await pupil.send(path, too_long)
    assert status == 400 and "högst 500 tecken" in page and f'id="q{free.id}-error"' in page
    assert "å" * 501 in page  # what the pupil wrote is kept, not lost
    status, page = await pupil.send(path, [(f"q{scale5.id}", "7"), ("lang", "sv")])
    assert status == 400 and f'id="q{scale5.id}-error"' in page
    status, page = await pupil.send(path, [("lang", "sv")])
    assert status == 400 and "Svara på minst en fråga" in page
    status, page = await pupil.send(path, [(f"q{free.id}", "x" * 200_000)])
    assert status == 413
    assert await answer_rows(bot, survey_id) == []
    # Exactly 500 characters is fine.
    status, _ = await pupil.send(path, [(f"q{free.id}", "å" * 500), ("lang", "sv")])
    assert status == 200 and len(await answer_rows(bot, survey_id)) == 1


async def test_answers_after_close_are_refused_politely(bot: Bot, browser_factory: Callable[[], Browser]) -> None:
    survey_id = await make_survey(bot, closes_in_hours=2)
    path = await lead_link(bot, survey_id)
    survey = await service.get_survey(bot.db, survey_id)
    pupil = browser_factory()
    status, page = await pupil.open(path)
    assert status == 200 and "Enkäten stänger" in page
    csrf = pupil.csrf()
    bot.clock.advance(hours=3)  # past closes_at, before the due close has run
    status, page = await pupil.send(path, full_answers(survey), csrf=csrf)
    assert status == 410 and "Enkäten är stängd" in page
    await delivery.close_survey(bot, survey_id, bot.clock.now(), by=LEAD_ACTOR)
    status, page = await pupil.open(path)
    assert status == 410 and "tar inte emot fler svar" in page and "<form" not in page
    status, _ = await pupil.send(path, full_answers(survey), csrf=csrf)
    assert status == 410
    assert await answer_rows(bot, survey_id) == []
    closed_link = await handle_action(bot, LEAD_ACTOR, ActionEvent(action="survey:link", value=str(survey_id)))
    assert "stängd" in reply_text(closed_link)


async def test_a_revoked_or_unknown_link_is_a_404_that_reveals_nothing(
        bot: Bot, browser_factory: Callable[[], Browser]) -> None:
    survey_id = await make_survey(bot)
    path = await lead_link(bot, survey_id)
    keep = await lead_link(bot, survey_id)
    survey = await service.get_survey(bot.db, survey_id)
    pupil = browser_factory()
    await pupil.open(path)
    csrf = pupil.csrf()
    [first, _second] = await link_rows(bot)

    forged = await handle_action(bot, PUPIL, ActionEvent(action="survey:unlink", value=f"{survey_id}:{first['id']}"))
    assert "projektledare" in reply_text(forged)
    revoked = await handle_action(bot, LEAD_ACTOR, ActionEvent(action="survey:unlink",
                                                               value=f"{survey_id}:{first['id']}"))
    assert "fungerar inte längre" in reply_text(revoked)

    status, gone = await pupil.open(path)
    assert status == 404
    status, _ = await pupil.send(path, full_answers(survey), csrf=csrf)
    assert status == 404
    status, unknown = await pupil.open("/s/" + "A" * 32)
    assert status == 404 and unknown == gone  # the same page: no hint whether a survey exists
    status, odd = await pupil.open("/s/%3Cscript%3E")
    assert status == 404 and "<script" not in odd
    assert (await pupil.open(keep))[0] == 200  # the other link still works
    everything = await handle_command(bot, LEAD_ACTOR, CommandRequest(text=f"enkät länk återkalla {survey_id}"))
    assert "1 webblänk" in reply_text(everything)
    assert (await pupil.open(keep))[0] == 404
    assert await answer_rows(bot, survey_id) == []
    async with bot.db.read() as conn:
        from bot.db.schema import audit_log

        actions = (await conn.execute(select(audit_log.c.action))).scalars().all()
    assert actions.count("survey.link_revoke") == 2


async def test_an_anonymous_survey_keeps_no_trace_of_the_browser_after_close(
        bot: Bot, browser_factory: Callable[[], Browser]) -> None:
    survey_id = await make_survey(bot, anonymity=Anonymity.anonymous)
    path = await lead_link(bot, survey_id)
    survey = await service.get_survey(bot.db, survey_id)
    pupils = [browser_factory() for _ in range(4)]
    for index, pupil in enumerate(pupils):
        await pupil.open(path)
        assert (await pupil.send(path, full_answers(survey, scale=str(1 + index), text=f"svar {index}")))[0] == 200
    await pupils[0].open(f"{path}?change=1")
    assert (await pupils[0].send(path, [*full_answers(survey, scale="5"), ("change", "1")]))[0] == 200  # still one
    cookies = [p.cookie(CHANGE_COOKIE_NAME) for p in pupils] + [p.cookie() for p in pupils]
    assert all(cookies)
    needles = [c for c in cookies if c] + [respondent_key(c, survey_id) for c in cookies if c]
    rows = await answer_rows(bot, survey_id)
    assert len(rows) == 4 * 6 and all(r["user_id"] is None and r["school"] is None for r in rows)
    # Even while open, neither the cookie nor the key derived from it is stored anywhere.
    assert not [v for v in await every_text_value(bot.db) if any(n in v[2] for n in needles)]
    async with bot.db.read() as conn:
        hashes = set((await conn.execute(select(survey_answers.c.respondent))).scalars().all())
    assert len(hashes) == 4  # the core's keyed hashes, deleted at close

    await delivery.close_survey(bot, survey_id, bot.clock.now(), by=LEAD_ACTOR)
    values = await every_text_value(bot.db)
    assert any(table == "survey_answers" for table, _, _ in values)
    leaks = [(t, c, v) for t, c, v in values if any(n in v for n in [*needles, *hashes])]
    assert leaks == []
    db_path = sqlite_file(bot.db)
    if db_path is not None:  # PostgreSQL's pages and WAL: what it can promise is in docs/privacy.md
        content = raw_bytes(db_path)
        for needle in [*needles, *hashes]:
            assert needle.encode() not in content
    results = await service.results(bot.db, LEAD_ACTOR, survey_id, min_group_size=1)
    assert results.respondent_count == 4
    async with bot.db.read() as conn:
        count = (await conn.execute(select(func.count()).select_from(survey_answers).where(
            survey_answers.c.respondent.is_not(None)))).scalar()
    assert count == 0


async def test_the_rate_limit_stops_form_spam_from_one_address(bot: Bot) -> None:
    survey_id = await make_survey(bot)
    path = await lead_link(bot, survey_id)
    runner = web.AppRunner(pupil_app(bot, post_limit=3))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            pupil = Browser(f"http://127.0.0.1:{port}", session)
            await pupil.open(path)
            survey = await service.get_survey(bot.db, survey_id)
            statuses = []
            for _ in range(5):
                await pupil.open(path)  # each answer gives the next pupil a fresh id and form
                statuses.append((await pupil.send(path, full_answers(survey)))[0])
    finally:
        await runner.cleanup()
    assert statuses == [200, 200, 200, 429, 429]


# --- wiring -----------------------------------------------------------------------------------------

async def test_http_mode_and_socket_mode_serve_the_pupil_pages(bot: Bot, settings: Settings,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    from bot.slack_main import http_app, make_app
    from bot.web.app import serve_pupil_pages

    caplog.set_level(logging.INFO, logger="aiohttp.access")

    survey_id = await make_survey(bot)
    path = await lead_link(bot, survey_id)
    runner = web.AppRunner(http_app(make_app(bot, settings, verify=True), SIGNING_SECRET, bot),
                           access_log_class=PrivateAccessLogger)  # as run_http does
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    with socket.socket() as probe:  # a free port for the Socket Mode side
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    socket_side = await serve_pupil_pages(bot, free_port)
    assert socket_side is not None
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            for base in (f"http://127.0.0.1:{port}", f"http://127.0.0.1:{free_port}"):
                status, page = await Browser(base, session).open(path)
                assert status == 200 and "Framtid" in page
                async with session.get(base + "/healthz") as health:
                    assert health.status == 200
            async with session.post(f"http://127.0.0.1:{port}/slack/events", data=b"{}") as unsigned:
                assert unsigned.status == 401  # the Slack endpoint is untouched
    finally:
        await socket_side.cleanup()
        await runner.cleanup()
    # The Socket Mode side logs requests without the link token (a bearer secret) or the pupil's IP.
    access = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert any('"GET /s/<token>" 200' in line for line in access)
    assert not any(path.removeprefix("/s/") in line or "127.0.0.1" in line for line in access)


async def test_console_walkthrough_prints_the_link(bot: Bot, tmp_path: Path) -> None:
    survey_id = await make_survey(bot, title="Puls 7B")
    lines: list[str] = []
    inputs = iter([f"/syv enkät länk {survey_id}", "1", "quit"])

    async def read(prompt: str) -> str | None:
        return next(inputs, None)

    messenger = ConsoleMessenger(lines.append, tmp_path / "console-files")
    bot.messenger = messenger
    await Console(bot, messenger, LEAD, read, lines.append).run()
    output = "\n".join(lines)
    assert 'Webblänk för elever till enkät' in output and "Puls 7B" in output
    assert URL.search(output) is not None and "http://localhost:3000/s/" in output
    assert "[1] Återkalla länken" in output and "fungerar inte längre" in output
    [row] = await link_rows(bot)
    assert row["revoked_at"] is not None


def test_content_check_passes_with_the_web_locale_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from bot.cli import main
    from bot.knowledge.check import check_locales

    def flat(node: Any, prefix: str = "") -> set[str]:
        keys: set[str] = set()
        for key, value in node.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            keys |= flat(value, name) if isinstance(value, dict) else {name}
        return keys

    sv = yaml.safe_load((CONTENT_DIR / "locales" / "sv" / "web.yaml").read_text(encoding="utf-8"))
    en = yaml.safe_load((CONTENT_DIR / "locales" / "en" / "web.yaml").read_text(encoding="utf-8"))
    assert flat(sv) == flat(en) and len(flat(sv)) > 40
    assert check_locales(CONTENT_DIR / "locales") == []
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    assert main(["content", "check"]) == 0


async def test_a_confidential_survey_stores_a_hash_of_the_browser_never_its_cookie(
        bot: Bot, browser_factory: Callable[[], Browser]) -> None:
    survey_id = await make_survey(bot, anonymity=Anonymity.confidential, title="Puls")
    path = await lead_link(bot, survey_id)
    survey = await service.get_survey(bot.db, survey_id)
    pupil = browser_factory()
    status, page = await pupil.open(path)
    assert "Du svarar utan namn." in page
    assert (await pupil.send(path, full_answers(survey)))[0] == 200
    cookie = pupil.cookie(CHANGE_COOKIE_NAME)
    assert cookie is not None
    rows = await answer_rows(bot, survey_id)
    # A pseudonym per survey: the same browser in another survey would get another key.
    assert {r["user_id"] for r in rows} == {respondent_key(cookie, survey_id)}
    assert respondent_key(cookie, survey_id) != respondent_key(cookie, survey_id + 1)
    assert not [v for v in await every_text_value(bot.db) if cookie in v[2]]
    await pupil.open(path)
    status, page = await pupil.send(path, [(f"q{survey.questions[0].id}", "9"), ("lang", "en")])
    assert status == 400 and "Något behöver rättas i fråga 1." in page  # the survey has no English


async def test_the_lead_gets_a_qr_code_a_poster_and_a_sheet_of_codes(bot: Bot) -> None:
    from bot.ui import SendFile

    survey_id = await make_survey(bot, title="Puls 7B")
    outcomes = await handle_command(bot, LEAD_ACTOR, CommandRequest(text=f"enkät länk {survey_id} max 30 koder 4"))
    shown = reply_text(outcomes)
    match = URL.search(shown)
    assert match is not None and "högst 30 svar" in shown and "4 engångskoder" in shown
    files = {o.filename.rsplit("-", 1)[-1]: o for o in outcomes if isinstance(o, SendFile)}
    assert set(files) == {"qr.png", "qr.svg", "affisch.html", "elevkoder.html"}
    assert files["qr.png"].content.startswith(b"\x89PNG\r\n\x1a\n")
    assert b"<svg" in files["qr.svg"].content
    poster = files["affisch.html"].content.decode()
    assert "@page{size:A4" in poster and match.group(0) in poster and 'role="img"' in poster
    assert "Puls 7B" in poster and "Den här enkäten är anonym." in poster
    sheet = files["elevkoder.html"].content.decode()
    assert sheet.count('class="code"') == 4
    [row] = await link_rows(bot)
    assert row["max_answers"] == 30
    bad = await handle_command(bot, LEAD_ACTOR, CommandRequest(text=f"enkät länk {survey_id} max noll"))
    assert "/syv enkät länk 12" in reply_text(bad)
