"""Slack and console flows: `/syv export ...`, `/syv rapport`, `/syv mina data`, `/syv glöm mig`, `/syv logg`,
their buttons (action prefix "report") and the leads' App Home section.

Thin on purpose: parse, call the core (which checks the role itself, whatever the payload claims),
and hand files to the person who asked by DM.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.disclosure import count_threshold
from bot.errors import UserError
from bot.i18n import t, words
from bot.interactions import ActionEvent, CommandRequest
from bot.reports.audit import audit_view, require_lead_logged
from bot.reports.exports import KINDS, ExportFile, export_file
from bot.reports.privacy import forget, my_data
from bot.reports.report import (
    figures_message,
    gather,
    parse_period,
    parse_period_words,
    report_filename,
    report_html,
)
from bot.surveys import records
from bot.ui import (
    Actions,
    Block,
    Button,
    Context,
    Divider,
    Header,
    Message,
    Outcome,
    Reply,
    SendFile,
    Text,
    UpdateOrigin,
    esc,
)
from bot.users import Actor

if TYPE_CHECKING:
    from bot.runtime import Bot

RECENT_SURVEYS = 5
FORMAT_WORDS = {"csv": "csv", "xlsx": "xlsx", "excel": "xlsx", "json": "json"}


def _sent(actor: Actor, file: ExportFile) -> list[Outcome]:
    return [SendFile(filename=file.filename, content=file.content, title=file.title),
            Reply(message=Message(text=t(actor.lang, "report.sent", filename=file.filename)))]


def parse_export(rest: str) -> tuple[str | None, int | None, str]:
    """'svar 12 xlsx' -> ("responses", 12, "xlsx"); unknown words -> (None, None, "csv")."""
    parts = rest.lower().split()
    if not parts:
        return None, None, "csv"
    kind = next((k for k in KINDS if parts[0] in words(f"report.words.{k}")), None)
    survey_id = next((int(p) for p in parts[1:] if p.isdigit()), None)
    fmt = next((FORMAT_WORDS[p] for p in parts[1:] if p in FORMAT_WORDS), "csv")
    return kind, survey_id, fmt


async def export_menu(bot: Bot, actor: Actor) -> Message:
    await require_lead_logged(bot, actor, "export.menu")
    lang = actor.lang
    blocks: list[Block] = [
        Header(text=t(lang, "report.menu.title")),
        Text(text=t(lang, "report.menu.intro")),
        Actions(buttons=[
            Button(label=t(lang, "report.menu.report"), action="report:report", style="primary"),
            Button(label=t(lang, "report.menu.surveys"), action="report:export", value="surveys"),
            Button(label=t(lang, "report.menu.conferences"), action="report:export", value="conferences"),
            Button(label=t(lang, "report.menu.unanswered"), action="report:export", value="unanswered"),
            Button(label=t(lang, "report.menu.feedback"), action="report:export", value="feedback"),
            Button(label=t(lang, "report.menu.audit"), action="report:export", value="audit"),
        ]),
    ]
    async with bot.db.read() as conn:
        recent = (await records.list_surveys(conn))[-RECENT_SURVEYS:]
    min_size = count_threshold(bot.settings)
    if recent:
        blocks.append(Divider())
        blocks.append(Text(text=t(lang, "report.menu.responses")))
    for survey in reversed(recent):
        blocks.append(Text(text=t(lang, "report.menu.survey", id=survey.id, title=esc(survey.title),
                                  anonymity=t(lang, f"report.anonymity.{survey.anonymity}"),
                                  n=survey.respondent_count if survey.respondent_count >= min_size
                                  else t(lang, "report.too_few_short"))))
        blocks.append(Actions(buttons=[
            Button(label=label, action="report:export", value=f"responses:{survey.id}:{fmt}")
            for fmt, label in (("csv", "CSV"), ("xlsx", "Excel"), ("json", "JSON"))]))
    blocks.append(Context(text=t(lang, "report.menu.hint")))
    return Message(text=t(lang, "report.menu.title"), blocks=blocks)


async def export_command(bot: Bot, actor: Actor, rest: str, request: CommandRequest) -> list[Outcome]:
    await require_lead_logged(bot, actor, "export")
    if not rest.strip():
        return [Reply(message=await export_menu(bot, actor))]
    kind, survey_id, fmt = parse_export(rest)
    if kind is None:
        raise UserError("report.errors.unknown_export")
    return _sent(actor, await export_file(bot, actor, kind, survey_id, fmt))


async def report_outcomes(bot: Bot, actor: Actor, first: str | None, last: str | None, municipality: str | None,
                          rest: str | None = None) -> list[Outcome]:
    await require_lead_logged(bot, actor, "report")
    today = bot.clock.now().astimezone(bot.settings.tz).date()
    period = parse_period_words(rest, today) if rest is not None else parse_period(first, last, municipality, today)
    report = await gather(bot, actor, period, via="slack")
    content = await report_html(report, actor.lang, bot.settings.tz)
    return [Reply(message=figures_message(report, actor.lang, bot.settings.tz)),
            SendFile(filename=report_filename(actor.lang, period), content=content,
                     title=t(actor.lang, "report.title.report", first=str(period.first_day), last=str(period.last_day)))]


async def report_command(bot: Bot, actor: Actor, rest: str, request: CommandRequest) -> list[Outcome]:
    return await report_outcomes(bot, actor, None, None, None, rest=rest)


async def mydata_command(bot: Bot, actor: Actor, rest: str, request: CommandRequest) -> list[Outcome]:
    file = await my_data(bot, actor)
    return [SendFile(filename=file.filename, content=file.content, title=file.title),
            Reply(message=Message(text=t(actor.lang, "report.mydata.sent"), blocks=[
                Text(text=t(actor.lang, "report.mydata.sent")),
                Context(text=t(actor.lang, "report.mydata.hint"))]))]


def forget_question(actor: Actor) -> Message:
    return Message(text=t(actor.lang, "report.forget.title"), blocks=[
        Header(text=t(actor.lang, "report.forget.title")),
        Text(text=t(actor.lang, "report.forget.explain")),
        Actions(buttons=[
            Button(label=t(actor.lang, "report.forget.confirm"), action="report:forget", value="confirm",
                   style="danger"),
            Button(label=t(actor.lang, "report.forget.cancel"), action="report:keep"),
        ]),
    ])


async def forget_command(bot: Bot, actor: Actor, rest: str, request: CommandRequest) -> list[Outcome]:
    return [Reply(message=forget_question(actor))]


async def audit_command(bot: Bot, actor: Actor, rest: str, request: CommandRequest) -> list[Outcome]:
    limit = int(rest) if rest.strip().isdigit() else 20
    return [Reply(message=await _audit_message(bot, actor, max(1, min(limit, 50))))]


async def _audit_message(bot: Bot, actor: Actor, limit: int = 20) -> Message:
    message = await audit_view(bot, actor, limit)
    message.blocks.append(Actions(buttons=[
        Button(label=t(actor.lang, "report.menu.audit"), action="report:export", value="audit")]))
    return message


async def on_forget(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    # Always the person who clicked: the button carries nobody's id, so it cannot be aimed at someone else.
    await forget(bot, actor, actor.user_id)
    done = Message(text=t(actor.lang, "report.forget.done"), blocks=[Text(text=t(actor.lang, "report.forget.done"))])
    return [UpdateOrigin(message=done)]


async def on_keep(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    kept = Message(text=t(actor.lang, "report.forget.kept"), blocks=[Text(text=t(actor.lang, "report.forget.kept"))])
    return [UpdateOrigin(message=kept)]


async def on_my_data(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    return await mydata_command(bot, actor, "", CommandRequest(text=""))


async def on_export_menu(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    return [Reply(message=await export_menu(bot, actor))]


async def on_audit(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    return [Reply(message=await _audit_message(bot, actor))]


async def on_report(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    first, last, municipality = (event.value.split("|") + ["", "", ""])[:3] if event.value else ("", "", "")
    return await report_outcomes(bot, actor, first or None, last or None, municipality or None)


async def on_export(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    parts = event.value.split(":")
    kind = parts[0]
    survey_id = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() and len(parts[1]) <= 18 else None
    fmt = parts[2] if len(parts) > 2 else "csv"
    return _sent(actor, await export_file(bot, actor, kind, survey_id, fmt))


async def home_section(bot: Bot, actor: Actor) -> list[Block]:
    blocks: list[Block] = []
    if actor.is_lead:
        blocks += [
            Header(text=t(actor.lang, "report.home.title")),
            Actions(buttons=[
                Button(label=t(actor.lang, "report.menu.report"), action="report:report"),
                Button(label=t(actor.lang, "report.home.exports"), action="report:menu"),
                Button(label=t(actor.lang, "report.home.audit"), action="report:audit"),
            ]),
        ]
    blocks.append(Context(text=t(actor.lang, "report.home.privacy")))
    return blocks
