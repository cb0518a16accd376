"""The reports flows through Slack (signed requests, the fake Web API, files uploaded to the lead's DM)
and through the console."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select

from bot.console import Console, ConsoleMessenger
from bot.db.schema import audit_log, users
from bot.runtime import Bot
from tests.conftest import LEAD, SlackDriver, text_of
from tests.fakeslack import FakeSlack
from tests.test_reports_support import log_question, make_meeting, make_survey

T0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
PUPIL = "UPUPIL7"


async def seed(bot: Bot) -> int:
    survey_id, _ = await make_survey(bot, title="Elevpuls", anonymity="anonymous", opens_at=T0, respondents=5,
                                     questions=[("yesno", "Har du gjort prao?", [])], answers=[
        {"q": 0, "value": v, "role": "staff", "municipality": "Göteborg"} for v in ("yes", "yes", "no", "yes", "yes")])
    await make_meeting(bot, title="Processträff 3", start=T0 + timedelta(days=2), invited=["U1", "U2"],
                       rsvps={"U1": "yes"})
    await log_question(bot, at=T0, question="Vad är prao?", answered=True, helpful=True)
    return survey_id


async def uploaded(fake_slack: FakeSlack, count: int = 1) -> list[tuple[str, bytes]]:
    """The files sent so far (name, content), as Slack's external upload flow received them."""
    await fake_slack.wait_for("files.completeUploadExternal", count)
    names = [args.get("filename", "") for args in fake_slack.of("files.getUploadURLExternal")]
    return list(zip(names, fake_slack.uploads.values(), strict=True))


async def audit_of(bot: Bot) -> list[tuple[str, str]]:
    async with bot.db.read() as conn:
        return [(r.actor, r.action) for r in (await conn.execute(select(audit_log).order_by(audit_log.c.id))).all()]


async def test_a_lead_gets_exports_by_dm_from_the_command_and_the_menu(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    survey_id = await seed(slack.bot)
    await slack.command(f"export svar {survey_id} excel")
    [(name, content)] = await uploaded(fake_slack)
    assert name == f"enkat-{survey_id}-svar.xlsx"
    [complete] = fake_slack.of("files.completeUploadExternal")
    assert complete.get("channel_id", "").startswith("D"), "the file goes to the lead's DM"
    book = load_workbook(io.BytesIO(content))
    summary = [[c.value for c in row] for row in book["Sammanfattning"].iter_rows()]
    assert summary[10] == [1, "Har du gjort prao?", "ja/nej", 5, None, None, 0.8,
                           "Ja: 4 (80\u00a0%); Nej: 1 (20\u00a0%)"]
    assert book["Sammanfattning"]["G11"].number_format == "0.0%"  # a percentage Excel can compute with
    [reply] = await fake_slack.wait_responses(1)
    assert "Klart! Jag har skickat" in text_of(reply)

    await slack.command("export")
    [_, menu] = await fake_slack.wait_responses(2)
    shown = text_of(menu)
    assert "Exporter och rapporter" in shown and f"responses:{survey_id}:xlsx" in shown
    await slack.click("report:export|2", "surveys", ephemeral=True)
    files = await uploaded(fake_slack, 2)
    name, content = files[1]
    assert name == "enkater.csv"
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert rows[1][:2] == [str(survey_id), "Elevpuls"]
    assert [a for w, a in await audit_of(slack.bot) if w == LEAD] == ["export.responses", "export.surveys"]


async def test_non_leads_are_refused_in_slack_also_with_forged_buttons(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    survey_id = await seed(slack.bot)
    await slack.command(f"export svar {survey_id} csv", user=PUPIL)
    [refused] = await fake_slack.wait_responses(1)
    assert "Det här får bara projektledare göra" in text_of(refused)
    for action, value in (("report:export", f"responses:{survey_id}:csv"), ("report:export", "audit"),
                          ("report:report", ""), ("report:menu", "")):
        await slack.click(action, value, user=PUPIL, ephemeral=True)
    responses = await fake_slack.wait_responses(5)
    assert all("Det här får bara projektledare göra" in text_of(r) for r in responses[1:])
    assert fake_slack.of("files.getUploadURLExternal") == []
    log = await audit_of(slack.bot)
    assert log == [(PUPIL, "denied")] * 5  # the command too (issue 18: every refusal is audited)


async def test_the_report_command_posts_figures_and_sends_the_html(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    await seed(slack.bot)
    await slack.command("rapport 2026-02-01 2026-02-28")
    [(name, content)] = await uploaded(fake_slack)
    assert name == "rapport-2026-02-01-2026-02-28.html"
    page = content.decode()
    assert "data:image/png;base64," in page and "Processträff 3" in page
    [figures] = await fake_slack.wait_responses(1)
    shown = text_of(figures)
    assert "SAMSYV-rapport 2026-02-01 – 2026-02-28" in shown
    assert "5 svar, 80\u00a0% ja" in shown and "Processträff 3" in shown and "2 inbjudna, 1 kommer" in shown
    await slack.command("rapport 2026-02-31")
    [_, bad] = await fake_slack.wait_responses(2)
    assert '"2026-02-31" är inget datum' in bad["text"]
    assert [a for _, a in await audit_of(slack.bot)] == ["report.create"]


async def test_my_data_and_forget_me_in_slack(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    await make_meeting(slack.bot, title="Träff", start=T0 + timedelta(days=60), invited=[PUPIL], rsvps={PUPIL: "maybe"})
    await slack.command("språk en", user=PUPIL)
    await fake_slack.wait_responses(1)  # a command is acked at once: wait until the language is stored
    await slack.command("my data", user=PUPIL)
    [(name, content)] = await uploaded(fake_slack)
    assert name == "my-data-2026-03-02.json"
    document = json.loads(content)
    assert document["profile"]["language"] == "en" and document["meeting_answers"][0]["answer"] == "maybe"

    await slack.command("forget me", user=PUPIL)
    responses = await fake_slack.wait_responses(3)
    assert "This cannot be undone" in text_of(responses[2])
    await slack.click("report:forget", "confirm", user=PUPIL, ephemeral=True)
    [*_, done] = await fake_slack.wait_responses(4)
    assert done.get("replace_original") is True and "I have erased" in text_of(done)
    async with slack.bot.db.read() as conn:
        assert (await conn.execute(select(users).where(users.c.user_id == PUPIL))).first() is None
    assert fake_slack.of("files.getUploadURLExternal")[0]["filename"] == "my-data-2026-03-02.json"


async def test_leads_read_the_audit_log_in_slack(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    await slack.command("roll <@UNEW> vägledare")
    await fake_slack.wait_responses(1)  # the role is stored before the log is read
    await slack.command("logg")
    [_, log] = await fake_slack.wait_responses(2)
    shown = text_of(log)
    assert "Granskningslogg" in shown and "role.set" in shown and "report:export" in shown
    await slack.command("audit", user=PUPIL)
    [*_, refused] = await fake_slack.wait_responses(3)
    assert "projektledare" in text_of(refused)


async def test_console_walk_through(bot: Bot, tmp_path: Path) -> None:
    await seed(bot)
    lines: list[str] = []
    messenger = ConsoleMessenger(lines.append, tmp_path / "files")
    bot.messenger = messenger
    inputs = iter(["/syv export", "2", "/syv rapport 2026-02-01 2026-02-28", "/syv logg", "quit"])

    async def read(prompt: str) -> str | None:
        return next(inputs, None)

    await Console(bot, messenger, LEAD, read, lines.append).run()
    output = "\n".join(lines)
    assert "Exporter och rapporter" in output and "[2] Enkätlista" in output
    assert (tmp_path / "files" / "enkater.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert (tmp_path / "files" / "rapport-2026-02-01-2026-02-28.html").exists()
    assert "export.surveys" in output and "report.create" in output  # the log shows both

    lines.clear()
    pupil_inputs = iter(["/syv glöm mig", "1", "quit"])

    async def pupil_read(prompt: str) -> str | None:
        return next(pupil_inputs, None)

    messenger.buttons.clear()
    await Console(bot, messenger, PUPIL, pupil_read, lines.append).run()
    output = "\n".join(lines)
    assert "Ja, glöm mig" in output and "Jag har raderat det som kunde kopplas till dig" in output
