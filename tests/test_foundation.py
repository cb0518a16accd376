"""The foundation: settings, storage, HTTP mode with signatures, roles, help, language, console."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.db import Database
from bot.db.migrate import backup_sync
from bot.db.schema import audit_log, users
from bot.logs import RedactSecrets
from bot.runtime import Bot
from bot.settings import Settings, SettingsError, load_settings
from tests.conftest import LEAD, SlackDriver, run_console, sign, text_of
from tests.fakeslack import FakeSlack


def test_bad_setting_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PORT", "not-a-port")
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("Invalid setting PORT:") and "\n" not in err and "Traceback" not in err


@pytest.mark.parametrize("name,value", [("BOT_TIMEZONE", "Mars/Olympus"), ("DEFAULT_LANGUAGE", "de"),
                                        ("DATABASE_URL", "mysql://x"), ("PROJECT_LEADS", "U1,<!channel>")])
def test_each_bad_setting_names_itself(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=f"Invalid setting {name}"):
        load_settings(_env_file=None)


def test_secrets_never_reach_the_log() -> None:
    redact = RedactSecrets(["super-secret-signing"])
    line = redact.redact("token xoxb-123-456-abc and xapp-1-A1-xyz and super-secret-signing")
    assert "xoxb-123" not in line and "xapp-1" not in line and "super-secret-signing" not in line


@pytest.mark.sqlite_only
async def test_sqlite_runs_in_wal_with_foreign_keys(bot: Bot) -> None:
    async with bot.db.read() as conn:
        assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
        assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
        assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() >= 5000
        assert (await conn.exec_driver_sql("PRAGMA secure_delete")).scalar() == 1


async def test_backup_is_a_consistent_copy(bot: Bot, db_path: Path, tmp_path: Path) -> None:
    from bot.users import set_language

    await set_language(bot.db, "U1", "en")
    target = backup_sync(bot.settings.database_url, tmp_path / "backup.db")
    with sqlite3.connect(target) as conn:
        assert conn.execute("select lang from users where user_id='U1'").fetchone() == ("en",)
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)


async def test_healthz_and_url_verification(slack: SlackDriver) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.get(f"{slack.base}/healthz") as response:
            assert response.status == 200 and (await response.json())["ok"] is True
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"}).encode()
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{slack.base}/slack/events", data=body,
                                headers={"Content-Type": "application/json", **sign(body)}) as response:
            assert response.status == 200 and (await response.json())["challenge"] == "abc123"


async def test_bad_or_stale_signature_is_rejected_and_changes_nothing(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    from urllib.parse import urlencode

    body = urlencode({"command": "/syv", "text": "språk en", "user_id": "U9", "channel_id": "C1",
                      "team_id": "T1", "response_url": fake_slack.response_url, "trigger_id": "t"}).encode()
    forged = await slack.post(body, "application/x-www-form-urlencoded", sign(body, secret="wrong"))
    stale = await slack.post(body, "application/x-www-form-urlencoded", sign(body, int(time.time()) - 600))
    unsigned = await slack.post(body, "application/x-www-form-urlencoded", {})
    assert (forged.status, stale.status, unsigned.status) == (401, 401, 401)
    async with slack.bot.db.read() as conn:
        assert (await conn.execute(select(users))).first() is None
    assert fake_slack.calls == [] and fake_slack.responses == []


async def test_signed_slash_command_answers_help_in_the_users_language(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    response = await slack.command("hjälp", user="U2")
    assert response.status == 200
    [reply] = await fake_slack.wait_responses(1)
    assert "Det här kan jag hjälpa dig med" in text_of(reply)
    await slack.command("språk en", user="U2")
    await fake_slack.wait_responses(2)
    await slack.command("help", user="U2")
    replies = await fake_slack.wait_responses(3)
    assert "Here is what I can help you with" in text_of(replies[-1])


async def test_help_shows_pupils_questions_for_pupils_and_staff_questions_for_staff(
        slack: SlackDriver, fake_slack: FakeSlack) -> None:
    await slack.command("hjälp", user="U2")  # nobody gave U2 a role: a pupil
    [pupil] = await fake_slack.wait_responses(1)
    await slack.command("hjälp", user=LEAD)
    lead = (await fake_slack.wait_responses(2))[-1]
    assert "hur kontaktar jag min syv?" in text_of(pupil) and "mattelektionerna" not in text_of(pupil)
    assert "mattelektionerna" in text_of(lead) and "min syv" not in text_of(lead)


async def test_roles_are_granted_by_leads_only_and_audited(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    await slack.command("roll <@U7|anna> vägledare", user="U3")  # not a lead: refused
    await slack.command("roll <@U7|anna> vägledare", user=LEAD)
    replies = await fake_slack.wait_responses(2)
    assert "projektledare" in text_of(replies[0])
    actor = await slack.bot.actor("U7")
    assert actor.role.value == "counsellor"
    async with slack.bot.db.read() as conn:
        rows = (await conn.execute(select(audit_log))).mappings().all()
    # The refusal is audited too (issue 18): a forged or mistaken lead command leaves a trace.
    assert [(r["actor"], r["action"], r["detail"].get("user") or r["detail"].get("what")) for r in rows] == [
        ("U3", "denied", "command:roll"), (LEAD, "role.set", "U7")]


async def test_unknown_users_get_least_privilege(bot: Bot) -> None:
    actor = await bot.actor("UNEW")
    assert actor.role.value == "pupil" and actor.lang == "sv"
    assert (await bot.actor(LEAD)).is_lead


async def test_app_home_is_published(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    await slack.event({"type": "app_home_opened", "user": "U4", "tab": "home", "channel": "D4"})
    [call] = await fake_slack.wait_for("views.publish")
    assert call["user_id"] == "U4" and "SAMSYV" in text_of(call)


async def test_rate_limited_calls_are_retried(bot: Bot, settings: object, fake_slack: FakeSlack) -> None:
    from bot.slack_main import make_app
    from bot.ui import Message

    make_app(bot, bot.settings)
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0)
    fake_slack.fail_next("chat.postMessage", status=500)
    await bot.messenger.post("C1", Message(text="hej"))
    methods = [c.method for c in fake_slack.calls]
    assert methods == ["chat.postMessage#429", "chat.postMessage#500", "chat.postMessage"]


async def test_console_walks_help_language_and_buttons(bot: Bot, tmp_path: Path) -> None:
    output = await run_console(bot, ["/syv hjälp", "/syv språk en", "help"], tmp_path / "files")
    assert "Det här kan jag hjälpa dig med" in output
    assert "Here is what I can help you with" in output
    assert output.strip().endswith("Bye!")


def test_command_words_typed_without_swedish_letters(bot: Bot) -> None:
    """An English keyboard or a phone: "/syv hjalp", "/syv enkat lank 12", a decomposed "ä"."""
    import unicodedata

    for typed, name, rest in [("hjalp", "help", ""), ("Hjälp", "help", ""), ("sprak en", "language", "en"),
                              ("enkat länk 12", "survey", "länk 12"),
                              (unicodedata.normalize("NFD", "enkät lank 12"), "survey", "lank 12")]:
        found = bot.registry.match_command(typed)
        assert found is not None and (found[0].name, found[1]) == (name, rest), typed
    assert bot.registry.match_command("hjalpa mig") is None  # a question, not the command


def test_core_has_no_slack_imports_outside_the_entry_point() -> None:
    root = Path(__file__).resolve().parent.parent
    offenders = []
    for path in list((root / "bot").rglob("*.py")) + list((root / "handlers").rglob("*.py")):
        if path.name == "slack_main.py":
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith(("import slack_", "from slack_")):
                offenders.append(f"{path.relative_to(root)}: {line.strip()}")
    assert offenders == []


def test_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name in ("run", "console", "web", "db", "content", "export", "ask", "report"):
        assert name in out


async def test_an_unexpected_error_gets_a_friendly_message_and_the_bot_keeps_running(
        slack: SlackDriver, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*_args: object) -> list[object]:
        raise RuntimeError("database exploded")

    monkeypatch.setitem(slack.bot.registry.actions, "q:more", broken)  # inject a fault into one capability
    response = await slack.click("q:more", "prao|sv", user="U9")
    assert response.status == 200
    [notice] = await fake_slack.wait_for("chat.postMessage")
    assert notice["channel"] == "U9" and "Något gick fel" in text_of(notice)
    monkeypatch.undo()
    await slack.command("hjälp", user="U9")
    [reply] = await fake_slack.wait_responses(1)
    assert "Det här kan jag hjälpa dig med" in text_of(reply)


def test_db_backup_cli_copies_a_live_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "live.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "backup", str(tmp_path / "copy.db")]) == 0
    with sqlite3.connect(tmp_path / "copy.db") as conn:
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
    assert {"users", "audit_log", "due_items", "alembic_version"} <= tables


async def test_a_lead_command_word_in_a_pupils_sentence_is_a_question(bot: Bot) -> None:
    from bot.interactions import CommandRequest
    from bot.runtime import handle_command

    pupil = await bot.actor("UPUPIL")
    [refused] = await handle_command(bot, pupil, CommandRequest(text="resultat 3"))
    assert "projektledare" in refused.message.text  # type: ignore[union-attr]
    [answered] = await handle_command(bot, pupil, CommandRequest(text="resultat av gymnasievalet, när kommer de?"))
    assert "projektledare" not in answered.message.text  # type: ignore[union-attr]


async def test_a_button_or_form_nothing_handles_gets_a_friendly_line_and_one_warning(
        slack: SlackDriver, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.runtime")
    response = await slack.click("survey:from-an-old-release", "1", user="U9", ephemeral=True)
    assert response.status == 200
    [reply] = await fake_slack.wait_responses(1)
    assert "Den här knappen fungerar inte längre" in text_of(reply)
    response = await slack.submit({"type": "modal", "callback_id": "conf:forged", "private_metadata": ""}, {},
                                  user="U9")
    assert response.status == 200
    [notice] = await fake_slack.wait_for("chat.postMessage")
    assert notice["channel"] == "U9" and "fungerar inte längre" in text_of(notice)
    warnings = [r for r in caplog.records if r.name == "bot.runtime" and r.levelno == logging.WARNING]
    assert len(warnings) == 2 and all(r.exc_info is None for r in warnings)


def test_each_bot_owns_its_registry_and_names_are_claimed_once(settings: Settings) -> None:
    from bot.console import ConsoleMessenger
    from bot.interactions import DuplicateRegistration, Registry
    from bot.runtime import build_registry

    first = Bot(settings=settings, db=Database(settings.database_url), messenger=ConsoleMessenger(print, Path(".")))
    second = Bot(settings=settings, db=Database(settings.database_url), messenger=ConsoleMessenger(print, Path(".")))
    assert first.registry is not second.registry
    assert first.registry.actions.keys() == second.registry.actions.keys()
    # Every name is a full name: one lookup finds the function behind any button or form.
    assert all(":" in name for name in [*first.registry.actions, *first.registry.forms])
    assert {"survey:answer", "conf:yes", "q:forward", "report:export"} <= first.registry.actions.keys()
    registry = build_registry()
    with pytest.raises(DuplicateRegistration):
        registry.action("survey:answer", registry.actions["survey:answer"])
    assert Registry().actions == {}
