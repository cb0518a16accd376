"""Commands, buttons, forms, due items and the App Home section of the surveys capability.

Thin glue: read the request, call `service`/`delivery`, render with `views`. Lead-only steps check
the role here AND in the core functions, so a forged button or form payload is refused either way.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any

from bot.channels import resolve_channels
from bot.dates import UnclearDate, form_moment, parse_when
from bot.db.erasure import erasure_pending
from bot.disclosure import count_threshold
from bot.errors import UserError
from bot.i18n import t
from bot.ids import is_id, parse_id
from bot.interactions import ActionEvent, CommandRequest, FormSubmission
from bot.schoolyear import holiday_note, school_calendar
from bot.surveys import delivery, link_flows, service
from bot.surveys.charts import render_chart
from bot.surveys.links import web_answers
from bot.surveys.models import (
    MAX_TITLE,
    Anonymity,
    Audience,
    QuestionDraft,
    QuestionKind,
    Repeat,
    Respondent,
    Status,
    SurveyDraft,
)
from bot.surveys.parsing import parse_poll, parse_questions, split_closing
from bot.surveys.templates import Template, load_templates
from bot.surveys.validation import draft_problems
from bot.surveys.views import (
    answer_form,
    confirmation,
    count_text,
    create_form,
    created_message,
    dm_message,
    home_section,
    results_message,
    survey_list_message,
)
from bot.ui import (
    Actions,
    Block,
    Button,
    Context,
    FormErrors,
    Message,
    OpenForm,
    Outcome,
    Reply,
    SendFile,
    Text,
    UpdateOrigin,
    clip,
    esc,
)
from bot.users import Actor, require_lead

if TYPE_CHECKING:
    from bot.runtime import Bot

log = logging.getLogger(__name__)
POLL_CLOSING_TIME = time(16, 0)  # "stänger fredag": at the end of that school day


def respondent_of(actor: Actor) -> Respondent:
    return Respondent(key=actor.user_id, role=actor.role.value, municipality=actor.municipality, school=actor.school)


def _reply(text: str) -> list[Outcome]:
    return [Reply(message=Message(text=text, blocks=[Text(text=text)]))]


def _survey_id(text: str) -> int:
    number = parse_id(text.strip().lstrip("#"))
    if number is None:
        raise UserError("surveys.results.usage")
    return number


def _parts(value: str, count: int) -> list[str]:
    """A button value "12:34:..." split in `count` parts; the leading ids must be numbers."""
    parts = value.split(":", count - 1)
    if len(parts) != count or not all(is_id(part) for part in parts[:2 if count > 2 else count]):
        raise UserError("surveys.answer.invalid")
    return parts


def templates(bot: Bot) -> dict[str, Template]:
    return load_templates(bot.settings.content_dir / "surveys")


# --- creating ---------------------------------------------------------------------------------------

async def _create_and_open(bot: Bot, actor: Actor, draft: SurveyDraft) -> list[Outcome]:
    now = bot.clock.now()
    survey_id = await service.create_survey(bot.db, actor, draft, now)
    if draft.opens_at is None or draft.opens_at <= now:
        await delivery.open_survey(bot, survey_id, now)
    survey = await service.get_survey(bot.db, survey_id)
    message = created_message(survey, actor.lang, bot.settings.tz)
    calendar, tz = school_calendar(bot.settings), bot.settings.tz
    for when in (draft.opens_at, draft.closes_at):  # allowed, but never without the lead knowing
        note = holiday_note(calendar, when, tz, actor.lang, now) if when is not None else None
        if note:
            message.blocks.append(Context(text=f":warning: {note}"))
    if draft.repeat != Repeat.none and calendar is not None:
        message.blocks.append(Context(text=t(actor.lang, "surveys.created.holidays_skipped",
                                             calendar=esc(calendar.name))))
    return [Reply(message=message)]


async def poll_command(bot: Bot, actor: Actor, rest: str, request: CommandRequest) -> list[Outcome]:
    """`/syv poll "Fråga?" "Alt 1" "Alt 2"`: a one-question anonymous poll posted where it was asked."""
    require_lead(actor)
    if not rest.strip():
        raise UserError("surveys.poll.usage")
    if not request.channel:
        raise UserError("surveys.poll.no_channel")
    rest, closing = split_closing(rest)
    closes_at = None
    if closing is not None:  # `... stänger fredag 15`
        closes_at = parse_when(closing, bot.clock.now(), bot.settings.tz, default_time=POLL_CLOSING_TIME)
    question = parse_poll(rest)
    draft = SurveyDraft(kind="poll", title=clip(question.text, MAX_TITLE) or "–", lang=actor.lang,
                        questions=[question], audience=Audience(channels=[request.channel]),
                        closes_at=closes_at.astimezone(UTC) if closes_at else None)
    try:
        return await _create_and_open(bot, actor, draft)
    except service.DraftInvalid as exc:
        lines = [f":warning: {problem.render(actor.lang)}" for problem in exc.problems.values()]
        return _reply("\n".join(lines))


async def survey_command(bot: Bot, actor: Actor, rest: str, request: CommandRequest) -> list[Outcome]:
    require_lead(actor)
    link = await link_flows.link_command(bot, actor, rest)  # `/syv enkät länk <id>`: a web link for pupils
    if link is not None:
        return link
    if rest.strip().lower() in {"lista", "list"}:
        items = await service.recent_surveys(bot.db)
        return [Reply(message=survey_list_message(items, actor.lang, bot.settings.tz, count_threshold(bot.settings)))]
    return [OpenForm(form=create_form(actor.lang, templates(bot)))]


def _form_draft(bot: Bot, actor: Actor, values: dict[str, Any]) -> tuple[SurveyDraft | None, dict[str, str]]:
    """The create form's values as a draft, or the errors by field."""
    lang = actor.lang
    errors: dict[str, str] = {}
    template = None
    template_id = values.get("template")
    if template_id:
        template = templates(bot).get(template_id)
        if template is None:
            errors["template"] = t(lang, "surveys.invalid.unknown_template")
    questions: list[QuestionDraft] = []
    text = (values.get("questions") or "").strip()
    if text:
        try:
            questions = parse_questions(text)
        except UserError as exc:
            errors["questions"] = exc.render(lang)
    elif template is not None:
        questions = template.question_drafts(lang)
    title = (values.get("title") or "").strip()
    translations: dict[str, str] = {}
    if not title and template is not None:
        title = template.title[lang]
        translations = {k: v for k, v in template.title.items() if k != lang}
    try:
        anonymity = Anonymity(values.get("anonymity") or (template.anonymity if template else "anonymous"))
        repeat = Repeat(values.get("repeat") or "none")
    except ValueError:
        errors["anonymity"] = t(lang, "surveys.answer.invalid")
        return None, errors
    draft = SurveyDraft(
        kind="survey", title=title, title_translations=translations, lang=lang, questions=questions,
        audience=Audience(channels=list(values.get("audience_channels") or []),
                          users=list(values.get("audience_users") or []),
                          members_of=list(values.get("audience_members_of") or [])),
        anonymity=anonymity, opens_at=_moment(bot, values, "opens_at", errors, lang),
        closes_at=_moment(bot, values, "closes_at", errors, lang),
        show_results=values.get("show_results") == "yes", repeat=repeat, template=template.id if template else None)
    return draft, errors


def _moment(bot: Bot, values: dict[str, Any], name: str, errors: dict[str, str], lang: str) -> datetime | None:
    """A picked or typed time ("imorgon kl 8") in the bot's time zone, stored in UTC; an unclear one is an
    error next to its field, never silently "now"."""
    try:
        value = form_moment(values.get(name), bot.clock.now(), bot.settings.tz)
    except UnclearDate as exc:
        errors[name] = exc.render(lang)
        return None
    return value.astimezone(UTC) if value is not None else None


async def create_submitted(bot: Bot, actor: Actor, submission: FormSubmission) -> list[Outcome]:
    require_lead(actor)
    channel_errors: dict[str, str] = {}
    values = {**submission.values}
    for name in ("audience_channels", "audience_members_of"):  # one channel rule for every form
        values[name] = await resolve_channels(bot, values, name, channel_errors, actor.lang)
    draft, errors = _form_draft(bot, actor, values)
    errors.update(channel_errors)
    if draft is not None:
        for field, problem in draft_problems(draft, bot.clock.now()).items():
            errors.setdefault(field, problem.render(actor.lang))
    if errors or draft is None:
        if "questions" not in errors and not (submission.values.get("questions") or submission.values.get("template")):
            errors["questions"] = t(actor.lang, "surveys.invalid.no_questions")
        return [FormErrors(errors=errors)]
    try:
        return await _create_and_open(bot, actor, draft)
    except service.DraftInvalid as exc:  # time moved on between checking and storing
        return [FormErrors(errors={field: p.render(actor.lang) for field, p in exc.problems.items()})]


# --- answering --------------------------------------------------------------------------------------

async def _answer(bot: Bot, actor: Actor, value: str) -> tuple[Any, Any, Any]:
    survey_id, question_id, raw = _parts(value, 3)
    toggle = raw.startswith("t")
    saved = await service.record_answer(bot.db, int(survey_id), int(question_id), respondent_of(actor),
                                        raw.removeprefix("t"), bot.clock.now(), toggle=toggle)
    survey = await service.shown_survey(bot.db, int(survey_id))
    await delivery.live_update(bot, survey.id)
    question = next(q for q in survey.questions if q.id == int(question_id))
    return survey, question, saved


async def _confirmation(bot: Bot, actor: Actor, survey: Any, question: Any, saved: Any) -> Message:
    shown = None
    if survey.show_results:
        results = await service.results(bot.db, None, survey.id, bot.settings.min_group_size,
                                        bot.settings.min_group_size_pupils)
        # Respondents see what leads see: nothing for a small group, whatever the survey's mode.
        shown = next(r for r in results.questions if r.question.id == question.id)
    return confirmation(survey, question, saved, actor.lang, shown)


async def on_answer(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    survey, question, saved = await _answer(bot, actor, event.value)
    return [Reply(message=await _confirmation(bot, actor, survey, question, saved))]


async def on_step(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    """An answer in a DM: save it, then show the next question in the same message."""
    survey, question, saved = await _answer(bot, actor, event.value)
    mine = await service.answers_of(bot.db, survey.id, actor.user_id)
    index = next(i for i, q in enumerate(survey.questions) if q.id == question.id)
    step = index if event.value.split(":")[2].startswith("t") else index + 1
    return [UpdateOrigin(message=dm_message(survey, actor.lang, bot.settings.tz, step, mine, min_size=count_threshold(bot.settings))),
            Reply(message=await _confirmation(bot, actor, survey, question, saved))]


async def on_goto(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    survey_id, step = _parts(event.value, 2)
    survey = await service.get_survey(bot.db, int(survey_id))
    if survey.status != Status.open:
        raise UserError("surveys.answer.closed")
    mine = await service.answers_of(bot.db, survey.id, actor.user_id)
    return [UpdateOrigin(message=dm_message(survey, actor.lang, bot.settings.tz, int(step), mine,
                                                   min_size=count_threshold(bot.settings)))]


async def _open_answer_form(bot: Bot, actor: Actor, survey_id: int, only: int | None) -> list[Outcome]:
    survey = await service.get_survey(bot.db, survey_id)
    if survey.status == Status.scheduled:
        raise UserError("surveys.answer.not_open")
    if survey.status != Status.open:
        raise UserError("surveys.answer.closed")
    mine = await service.answers_of(bot.db, survey_id, actor.user_id)
    return [OpenForm(form=answer_form(survey, actor.lang, mine, only))]


async def on_write(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    survey_id, question_id = _parts(event.value, 2)
    return await _open_answer_form(bot, actor, int(survey_id), int(question_id))


async def on_form(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    return await _open_answer_form(bot, actor, _survey_id(event.value), None)


async def answers_submitted(bot: Bot, actor: Actor, submission: FormSubmission) -> list[Outcome]:
    head, _, only = submission.metadata.partition(":")
    survey = await service.get_survey(bot.db, _survey_id(head))
    raw: dict[int, str] = {}
    for question in survey.questions:
        if only and str(question.id) != only:
            continue
        value = submission.values.get(f"q{question.id}")
        text = ",".join(value) if isinstance(value, list) else (value or "")
        if not text and question.kind not in (QuestionKind.text, QuestionKind.multi):
            continue  # left blank: a scale, yes/no or single choice keeps its earlier answer, if any
        raw[question.id] = text
    try:
        await service.record_answers(bot.db, survey.id, respondent_of(actor), raw, bot.clock.now())
    except UserError as exc:
        field = next((f"q{qid}" for qid, value in raw.items() if exc.key == "errors.too_long" and
                      len(value.strip()) > 500), "_form")
        return [FormErrors(errors={field: exc.render(actor.lang)})]
    await delivery.live_update(bot, survey.id)
    return _reply(t(actor.lang, "surveys.thanks_form"))


# --- lead actions -----------------------------------------------------------------------------------

async def results_outcomes(bot: Bot, actor: Actor, survey_id: int) -> list[Outcome]:
    require_lead(actor)
    results = await service.results(bot.db, actor, survey_id, bot.settings.min_group_size,
                                    bot.settings.min_group_size_pupils)
    png = await render_chart(results, actor.lang)
    web = await web_answers(bot.db, survey_id)
    return [Reply(message=results_message(results, actor.lang, bot.settings.tz, web=web)),
            SendFile(filename=delivery.chart_filename(results.survey), content=png,
                     title=results.survey.title_in(actor.lang))]


async def results_command(bot: Bot, actor: Actor, rest: str, request: CommandRequest) -> list[Outcome]:
    require_lead(actor)
    if not rest.strip():
        items = await service.recent_surveys(bot.db)
        return [Reply(message=survey_list_message(items, actor.lang, bot.settings.tz, count_threshold(bot.settings)))]
    return await results_outcomes(bot, actor, _survey_id(rest))


async def on_results(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    require_lead(actor)
    return await results_outcomes(bot, actor, _survey_id(event.value))


async def on_nudge(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    require_lead(actor)
    now = bot.clock.now()
    count = await delivery.nudge(bot, actor, _survey_id(event.value), now)
    lines = [t(actor.lang, "surveys.nudge.queued", count=count)]
    holiday = holiday_note(school_calendar(bot.settings), now, bot.settings.tz, actor.lang, now)
    if holiday:  # sent as asked, but the lead should know many are on holiday
        lines.append(f":warning: {holiday}")
    return _reply("\n".join(lines))


async def on_close(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    """"Stäng nu" asks first: closing cannot be undone, and for an anonymous survey it destroys the key."""
    require_lead(actor)
    survey = await service.get_survey(bot.db, _survey_id(event.value))
    if survey.status == Status.closed:
        return _reply(t(actor.lang, "surveys.close.already"))
    key = "surveys.close.confirm_anonymous" if survey.anonymity == Anonymity.anonymous else "surveys.close.confirm"
    count = count_text(survey.respondent_count, actor.lang, count_threshold(bot.settings))
    text = t(actor.lang, key, id=survey.id, title=esc(survey.title_in(actor.lang)), count=count)
    return [Reply(message=Message(text=text, blocks=[Text(text=text), Actions(buttons=[
        Button(label=t(actor.lang, "surveys.close.yes"), action="survey:close_confirmed", value=str(survey.id),
               style="danger"),
        Button(label=t(actor.lang, "surveys.close.no"), action="survey:keep_open", value=str(survey.id))])]))]


async def on_keep_open(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    return _reply(t(actor.lang, "surveys.close.kept"))


async def on_close_confirmed(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    require_lead(actor)
    closed = await delivery.close_survey(bot, _survey_id(event.value), bot.clock.now(), by=actor)
    if closed is None:
        return _reply(t(actor.lang, "surveys.close.already"))
    count = count_text(closed.respondent_count, actor.lang, count_threshold(bot.settings))
    text = t(actor.lang, "surveys.close.done", id=closed.id, title=esc(closed.title_in(actor.lang)), count=count)
    if await erasure_pending(bot):
        text += "\n" + t(actor.lang, "surveys.close.erasure_pending")
    return _reply(text)


async def on_stop(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    require_lead(actor)
    survey = await service.stop_series(bot.db, actor, _survey_id(event.value), bot.clock.now())
    return _reply(t(actor.lang, "surveys.series.stopped", title=esc(survey.title_in(actor.lang))))


async def on_link(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    require_lead(actor)
    return await link_flows.on_link_click(bot, actor, event.value)


async def on_unlink(bot: Bot, actor: Actor, event: ActionEvent) -> list[Outcome]:
    require_lead(actor)
    return await link_flows.on_revoke_click(bot, actor, event.value)


# --- due items --------------------------------------------------------------------------------------

async def due_open(bot: Bot, payload: dict[str, Any], due_at: datetime) -> None:
    await delivery.open_survey(bot, int(payload["survey_id"]), bot.clock.now())


async def due_post(bot: Bot, payload: dict[str, Any], due_at: datetime) -> None:
    await delivery.post_in_channel(bot, int(payload["survey_id"]), str(payload["channel"]))


async def due_send(bot: Bot, payload: dict[str, Any], due_at: datetime) -> None:
    await delivery.send_dm(bot, int(payload["survey_id"]), str(payload["user"]))


async def due_nudge(bot: Bot, payload: dict[str, Any], due_at: datetime) -> None:
    await delivery.send_dm(bot, int(payload["survey_id"]), str(payload["user"]), reminder=True)


async def due_close(bot: Bot, payload: dict[str, Any], due_at: datetime) -> None:
    await delivery.close_survey(bot, int(payload["survey_id"]), bot.clock.now())


async def due_summary(bot: Bot, payload: dict[str, Any], due_at: datetime) -> None:
    await delivery.send_summary(bot, int(payload["survey_id"]))


async def due_dm_closed(bot: Bot, payload: dict[str, Any], due_at: datetime) -> None:
    await delivery.mark_dm_closed(bot, int(payload["message_id"]))


# --- App Home ---------------------------------------------------------------------------------------

async def home(bot: Bot, actor: Actor) -> list[Block]:
    from bot.surveys.api import open_surveys_for

    mine = await open_surveys_for(bot, actor)
    lead_view = await service.open_surveys(bot.db) if actor.is_lead else None
    return home_section(actor.lang, bot.settings.tz, mine, lead_view, count_threshold(bot.settings))
