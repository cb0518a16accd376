"""The pupils' pages, the report and the QR poster in a real browser: Debian's Chromium driven by
Playwright (never a browser Playwright downloads), axe-core on every page state, screenshots saved.

`make test` installs Chromium when it is missing (see the Makefile); without it these tests skip with
one line. axe-core is vendored in tests/vendor/axe-core (MPL-2.0) and injected into each page under test.
Screenshots go to data/screenshots/ (gitignored), with stable names, for people to look at.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.runtime import Bot
from bot.settings import PROJECT_ROOT
from bot.surveys import delivery, service
from bot.surveys.links import create_link, link_url
from bot.surveys.models import Anonymity, Audience, QuestionDraft, QuestionKind, QuestionText, SurveyDraft
from bot.web.app import pupil_app
from tests.test_reports import T0, seed_period
from tests.test_reports_support import LEAD_ACTOR

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
SCREENSHOTS = PROJECT_ROOT / "data" / "screenshots"

pytestmark = pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium not installed: browser tests skipped "
                                                           "(apt-get install chromium, or `make test` as root)")


# --- the browser, the server, axe --------------------------------------------------------------------

@pytest.fixture
async def chromium() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        await browser.close()


@pytest.fixture
async def base_url(bot: Bot) -> AsyncIterator[str]:
    runner = web.AppRunner(pupil_app(bot))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    await bot.coalescer.drain()
    await runner.cleanup()


def axe_source() -> str:
    content = AXE.read_bytes()
    assert hashlib.sha256(content).hexdigest() == AXE_SHA256, "tests/vendor/axe-core/axe.min.js changed"
    return content.decode("utf-8")


async def audit(page: Any, state: str, javascript: bool = True) -> None:
    """axe-core's full default rule set (WCAG 2 A/AA and best practices) on the page as it is now.

    axe needs JavaScript (timers, promises). A page opened with JavaScript off is audited as the same
    document (server-rendered, self-contained) in a JavaScript-enabled page of the same size."""
    if not javascript:
        viewport = page.viewport_size
        helper_context = await page.context.browser.new_context(viewport=viewport)
        try:
            helper = await helper_context.new_page()
            await helper.set_content(await page.content())
            await audit(helper, state)
        finally:
            await helper_context.close()
        return
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.evaluate(axe_source())
    violations = await page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                             nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
    }""")
    assert violations == [], f"axe violations on {state}: {violations}"


async def page_width(page: Any) -> tuple[int, int]:
    return await page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")


async def shot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    await page.screenshot(path=str(path), full_page=True)
    return path


async def pupil_survey(bot: Bot, **extra: Any) -> int:
    draft = SurveyDraft(title="Vad tänker du om framtiden?", audience=Audience(channels=["C1"]),
                        anonymity=Anonymity.anonymous, questions=[
        QuestionDraft(kind=QuestionKind.scale5, text="Hur mycket har du tänkt på vad du vill göra efter nian?",
                      low_label="Inte alls", high_label="Jättemycket"),
        QuestionDraft(kind=QuestionKind.scale10, text="Hur troligt är det att du väljer ett yrkesprogram?"),
        QuestionDraft(kind=QuestionKind.yesno, text="Vet du vem på skolan du kan prata med om framtiden?"),
        QuestionDraft(kind=QuestionKind.single, text="Vem pratar du mest med om framtiden?",
                      options=["Familjen", "Kompisar", "Studie- och yrkesvägledaren"]),
        QuestionDraft(kind=QuestionKind.multi, text="Vad vill du veta mer om?",
                      options=["Olika gymnasieprogram", "Olika jobb", "Hur man söker till gymnasiet"]),
        QuestionDraft(kind=QuestionKind.text, text="Något mer du vill säga?"),
    ], **extra)
    survey_id = await service.create_survey(bot.db, LEAD_ACTOR, draft, bot.clock.now())
    await delivery.open_survey(bot, survey_id, bot.clock.now())
    return survey_id


async def answer_rows(bot: Bot, survey_id: int) -> dict[int, str]:
    from sqlalchemy import select

    from bot.surveys.tables import survey_answers

    async with bot.db.read() as conn:
        rows = (await conn.execute(select(survey_answers.c.question_id, survey_answers.c.value).where(
            survey_answers.c.survey_id == survey_id))).all()
    return {int(q): str(v) for q, v in rows}


# --- the pupils' page ----------------------------------------------------------------------------------

async def test_a_pupil_answers_with_the_keyboard_only_at_phone_width_without_javascript(
        bot: Bot, chromium: Any, base_url: str) -> None:
    survey_id = await pupil_survey(bot)
    created = await create_link(bot.db, LEAD_ACTOR, survey_id, bot.clock.now())
    url = link_url(base_url, created.token)
    context = await chromium.new_context(viewport={"width": 360, "height": 780}, java_script_enabled=False,
                                         bypass_csp=True, locale="en-GB")  # an English browser: still Swedish
    page = await context.new_page()
    response = await page.goto(url)
    assert response is not None and response.status == 200
    assert await page.locator("html").get_attribute("lang") == "sv"
    assert await page.locator('meta[http-equiv="refresh"]').count() == 0
    width, inner = await page_width(page)
    assert width <= inner, f"the page scrolls sideways at 360 px: {width} > {inner}"
    survey = await service.get_survey(bot.db, survey_id)
    scale5, scale10, yesno, single, multi, free = survey.questions
    for question in (scale5, scale10):  # a scale stays on one row at 360 px
        tops = {round((await box.bounding_box())["y"]) for box in await page.locator(
            f'input[name="q{question.id}"]').all()}
        assert len(tops) == 1, f"the {question.kind} scale wraps: rows at {sorted(tops)}"
    await audit(page, "the form (sv, 360 px, no JavaScript)", javascript=False)

    # Keyboard only: Tab between questions, Space to choose, arrows within a scale, Enter to send.
    await page.keyboard.press("Tab")
    assert await page.evaluate("() => document.activeElement.name") == f"q{scale5.id}"
    await page.keyboard.press("Space")
    for _ in range(3):
        await page.keyboard.press("ArrowRight")  # 1 -> 4
    await page.keyboard.press("Tab")
    await page.keyboard.press("Space")
    for _ in range(9):
        await page.keyboard.press("ArrowRight")  # 0 -> 9
    await page.keyboard.press("Tab")
    await page.keyboard.press("Space")  # yes
    await page.keyboard.press("Tab")
    await page.keyboard.press("Space")  # Familjen
    await page.keyboard.press("Tab")
    await page.keyboard.press("Space")  # Olika gymnasieprogram
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Space")  # Hur man söker till gymnasiet
    await page.keyboard.press("Tab")
    await page.keyboard.type("Jag vill bli snickare")
    await page.keyboard.press("Tab")
    assert await page.evaluate("() => document.activeElement.type") == "submit"
    await page.set_viewport_size({"width": 390, "height": 844})
    await shot(page, "pupils-sv-390.png")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert page.url.split("?")[0].endswith("/tack")  # post-redirect-get
    assert await page.locator("h1").inner_text() == "Tack!"
    assert await answer_rows(bot, survey_id) == {scale5.id: "4", scale10.id: "9", yesno.id: "yes", single.id: "0",
                                                 multi.id: "0,2", free.id: "Jag vill bli snickare"}
    await audit(page, "the thank-you page (sv)", javascript=False)
    await shot(page, "pupils-sv-thanks-390.png")

    # The next pupil on this phone: an empty form; an empty send is explained, not lost.
    await page.get_by_role("link", name="Ny elev – börja om").click()
    assert await page.locator("input:checked").count() == 0 and await page.locator("textarea").input_value() == ""
    await page.get_by_role("button", name="Skicka mina svar").press("Enter")
    await page.wait_for_load_state()
    assert "Svara på minst en fråga" in await page.locator('[role="alert"]').inner_text()
    await audit(page, "the form with an error (sv)", javascript=False)
    await context.close()


async def test_the_page_in_arabic_is_right_to_left_and_shows_the_results_after_sending(
        bot: Bot, chromium: Any, base_url: str) -> None:
    draft = SurveyDraft(title="Framtiden", title_translations={"ar": "المستقبل"}, audience=Audience(channels=["C1"]),
                        show_results=True, questions=[
        QuestionDraft(kind=QuestionKind.scale5, text="Hur säker känner du dig på ditt val?", low_label="Inte alls",
                      high_label="Helt säker", translations={"ar": QuestionText(
                          text="ما مدى تأكدك من اختيارك؟", low_label="أبدًا", high_label="متأكد تمامًا")}),
        QuestionDraft(kind=QuestionKind.yesno, text="Har du haft prao?", translations={
            "ar": QuestionText(text="هل قمت بالتدريب العملي؟")})])
    survey_id = await service.create_survey(bot.db, LEAD_ACTOR, draft, bot.clock.now())
    await delivery.open_survey(bot, survey_id, bot.clock.now())
    created = await create_link(bot.db, LEAD_ACTOR, survey_id, bot.clock.now())
    url = link_url(base_url, created.token)
    context = await chromium.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False,
                                         bypass_csp=True)
    page = await context.new_page()
    await page.goto(url)
    assert await page.locator("html").get_attribute("dir") == "ltr"
    await page.get_by_role("link", name="العربية").click()
    assert await page.locator("html").get_attribute("dir") == "rtl"
    assert await page.locator("html").get_attribute("lang") == "ar"
    assert await page.locator("h1").inner_text() == "المستقبل"
    width, inner = await page_width(page)
    assert width <= inner
    await audit(page, "the form in Arabic", javascript=False)
    await shot(page, "pupils-ar-390.png")
    for index in range(bot.settings.min_group_size_pupils):
        await page.goto(url + "?lang=ar")
        await page.locator('input[value="4"]').check()
        await page.locator(f'input[value="{"yes" if index else "no"}"]').check()
        async with page.expect_navigation():
            await page.get_by_role("button", name="أرسل إجاباتي").click()
    assert await page.locator("html").get_attribute("dir") == "rtl"
    assert await page.locator("h1").inner_text() == "شكرًا!"
    assert await page.locator("progress").count() == 5 + 2  # the lead chose to show results; enough answers
    await audit(page, "the thank-you page with results, in Arabic", javascript=False)
    await shot(page, "pupils-ar-thanks-390.png")
    await context.close()


# --- the report and the poster --------------------------------------------------------------------

async def test_the_report_reads_on_a_desktop_a_phone_and_paper(bot: Bot, chromium: Any) -> None:
    from bot.reports.report import gather, parse_period, render_html

    await seed_period(bot)
    # The seeded pulses have six pupils' answers each; this test is about layout and accessibility (the
    # thresholds are tested in test_disclosure and test_reports), so let groups of five show here.
    bot.settings = bot.settings.model_copy(update={"min_group_size_pupils": 5})
    report = await gather(bot, LEAD_ACTOR, parse_period("2026-02-01", "2026-02-28", None, T0.date()), via="test")
    html = render_html(report, "sv", bot.settings.tz)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "report.html").write_text(html, encoding="utf-8")
    context = await chromium.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto((SCREENSHOTS / "report.html").as_uri())
    assert await page.locator("main").count() == 1 and await page.locator("h1").count() == 1
    assert await page.locator("figure img").count() >= 6  # every question with answers, trends, meetings
    assert "3,7" in await page.locator("main").inner_text() and "3.67" not in await page.locator("main").inner_text()
    await audit(page, "the report at 1280 px")
    await shot(page, "report-1280.png")
    await page.set_viewport_size({"width": 390, "height": 844})
    width, inner = await page_width(page)
    assert width <= inner, f"the report scrolls sideways at 390 px: {width} > {inner}"
    await audit(page, "the report at 390 px")
    await shot(page, "report-390.png")
    await page.emulate_media(media="print")
    pdf = await page.pdf(format="A4", prefer_css_page_size=True)
    (SCREENSHOTS / "report.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 2
    await context.close()


async def test_the_qr_poster_is_one_a4_page_and_the_codes_sheet_prints(chromium: Any) -> None:
    from bot.surveys.qr import codes_sheet_html, poster_html

    url = "https://samsyv.example.se/s/" + "x" * 32
    context = await chromium.new_context(viewport={"width": 794, "height": 1123})
    page = await context.new_page()
    await page.set_content(poster_html("Vad tänker du om framtiden?", url, "sv", "anonymous").decode())
    box = await page.locator("svg.qr").bounding_box()
    assert box is not None and box["width"] > 400 and abs(box["width"] - box["height"]) < 1
    await audit(page, "the QR poster")
    await page.screenshot(path=str(SCREENSHOTS / "qr-poster.png"), full_page=True)
    pdf = await page.pdf(prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1, "the poster prints on exactly one page"
    (SCREENSHOTS / "qr-poster.pdf").write_bytes(pdf)
    await page.set_content(codes_sheet_html("Puls 7B", url, ["ABC234", "XYZ789", "KLM456"], "sv").decode())
    await audit(page, "the sheet of pupil codes")
    await page.screenshot(path=str(SCREENSHOTS / "pupil-codes.png"), full_page=True)
    await context.close()
