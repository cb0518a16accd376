"""What surveys look like: channel and DM messages, confirmations, results, forms, App Home.

Every user-supplied string (titles, questions, options, free-text answers) goes through `esc()`.
Persistent messages never show what an anonymous respondent chose; only ephemeral replies do.
"""

from __future__ import annotations

from typing import Any

from bot import formatting
from bot.i18n import t
from bot.surveys.links import WebAnswers
from bot.surveys.models import (
    MAX_QUESTIONS,
    MAX_TEXT_ANSWER,
    MAX_TITLE,
    Anonymity,
    AnswerSaved,
    OpenSurvey,
    Question,
    QuestionKind,
    Status,
    Survey,
)
from bot.surveys.results import GroupResult, QuestionResult, SurveyResults, TrendPoint
from bot.surveys.templates import Template
from bot.ui import (
    Actions,
    Block,
    Button,
    Context,
    Divider,
    Form,
    FormField,
    Header,
    Message,
    Option,
    Text,
    clip,
    esc,
    local_time,
)

MAX_TEXTS_SHOWN = 20


# --- small pieces -----------------------------------------------------------------------------------

def number(value: float, lang: str) -> str:
    """Through bot.formatting, the one number formatter ('3,4' in Swedish, '3.4' in English)."""
    return formatting.number(lang, value)


def percent(value: float, lang: str) -> str:
    return formatting.percent(lang, value)


def anonymity_note(survey: Survey, lang: str) -> str:
    return t(lang, f"surveys.anonymity.{survey.anonymity.value}.note")


def count_text(count: int, lang: str, min_size: int) -> str:
    """'12 svar', or 'färre än 7 svar': below the threshold not even the number of answers is shown."""
    return t(lang, "surveys.count", count=count) if count >= min_size else t(lang, "surveys.count_few", min=min_size)


def status_line(survey: Survey, lang: str, tz: Any, min_size: int = 1) -> str:
    count = count_text(survey.respondent_count, lang, min_size)
    if survey.status == Status.closed:
        return t(lang, "surveys.status.closed", count=count)
    if survey.status == Status.scheduled:
        return t(lang, "surveys.status.scheduled", when=local_time(survey.opens_at, tz, lang))
    if survey.closes_at is not None:
        return t(lang, "surveys.status.open_until", count=count, when=local_time(survey.closes_at, tz, lang))
    return t(lang, "surveys.status.open", count=count)


def value_label(question: Question, value: str, lang: str) -> str:
    """A stored value as the respondent saw it (escaped)."""
    own = question.localized(lang)
    if question.kind == QuestionKind.yesno:
        return t(lang, f"surveys.{value}")
    if question.kind.has_options:
        labels = [own.options[int(i)] for i in value.split(",") if i.isdigit() and int(i) < len(own.options)]
        return esc(", ".join(labels))
    if question.kind.is_scale:
        return value
    return esc(clip(value, 200))


def _scale_hint(question: Question, lang: str) -> str:
    own = question.localized(lang)
    values = question.kind.scale_values()
    if not (own.low_label or own.high_label):
        return ""
    return t(lang, "surveys.scale_hint", low=values[0], high=values[-1], low_label=esc(own.low_label or ""),
             high_label=esc(own.high_label or ""))


def question_text(question: Question, lang: str, number_: int | None = None, total: int | None = None) -> str:
    own = question.localized(lang)
    prefix = f"{number_}. " if number_ is not None and total and total > 1 else ""
    lines = [f"*{prefix}{esc(own.text)}*"]
    hint = _scale_hint(question, lang) if question.kind.is_scale else ""
    if hint:
        lines.append(hint)
    elif question.kind == QuestionKind.multi:
        lines.append(t(lang, "surveys.multi_hint"))
    return "\n".join(lines)


def answer_buttons(survey: Survey, question: Question, lang: str, action: str = "survey:answer",
                   chosen: str | None = None) -> list[Button]:
    """One tap per possible answer; `chosen` highlights the current answer (never for anonymous)."""
    own = question.localized(lang)
    base = f"{survey.id}:{question.id}:"
    picked = set((chosen or "").split(",")) if survey.anonymity != Anonymity.anonymous else set()
    if question.kind == QuestionKind.text:
        return [Button(label=t(lang, "surveys.write_answer"), action="survey:write", value=f"{survey.id}:{question.id}")]
    if question.kind.is_scale:
        pairs = [(str(v), str(v)) for v in question.kind.scale_values()]
    elif question.kind == QuestionKind.yesno:
        pairs = [("yes", t(lang, "surveys.yes")), ("no", t(lang, "surveys.no"))]
    else:
        prefix = "t" if question.kind == QuestionKind.multi else ""
        pairs = [(f"{prefix}{i}", esc(option)) for i, option in enumerate(own.options)]
    return [Button(label=label, action=action, value=base + raw,
                   style="primary" if raw.removeprefix("t") in picked else None) for raw, label in pairs]


def controls(survey: Survey, lang: str) -> list[Button]:
    """The lead's buttons for one survey; the core checks the role again on every click."""
    buttons = [Button(label=t(lang, "surveys.button.results"), action="survey:results", value=str(survey.id))]
    if survey.status == Status.open:
        buttons.append(Button(label=t(lang, "surveys.button.nudge"), action="survey:nudge", value=str(survey.id)))
    if survey.status != Status.closed:
        # Pupils under Slack's age limit answer in a browser (bot/surveys/link_flows.py).
        buttons.append(Button(label=t(lang, "web.button.link"), action="survey:link", value=str(survey.id)))
        buttons.append(Button(label=t(lang, "surveys.button.close"), action="survey:close", value=str(survey.id),
                              style="danger"))
    if survey.series_id is not None and survey.status != Status.closed:
        buttons.append(Button(label=t(lang, "surveys.button.stop_series"), action="survey:stop",
                              value=str(survey.id)))
    return buttons


# --- survey messages --------------------------------------------------------------------------------

def channel_message(survey: Survey, lang: str, tz: Any, min_size: int = 1) -> Message:
    """The survey as posted in a channel: every question with its buttons, the live count, and the
    anonymity mode. Closed: the same without buttons."""
    title = survey.title_in(lang)
    blocks: list[Block] = [Header(text=esc(clip(title, 150)))]
    total = len(survey.questions)
    for index, question in enumerate(survey.questions, 1):
        blocks.append(Text(text=question_text(question, lang, index, total)))
        if survey.status == Status.open:
            blocks.append(Actions(buttons=answer_buttons(survey, question, lang)))
    if survey.status == Status.open and total > 1:
        blocks.append(Actions(buttons=[Button(label=t(lang, "surveys.answer_in_form"), action="survey:form",
                                              value=str(survey.id))]))
    blocks.append(Context(text=f"{anonymity_note(survey, lang)}\n{status_line(survey, lang, tz, min_size)}"))
    return Message(text=t(lang, "surveys.fallback", title=esc(title)), blocks=blocks)


def dm_message(survey: Survey, lang: str, tz: Any, step: int, mine: dict[int, str],
               reminder: bool = False, min_size: int = 1) -> Message:
    """A survey in a DM, one question at a time; `step` past the last question shows the thank-you."""
    title = survey.title_in(lang)
    blocks: list[Block] = [Header(text=esc(clip(title, 150)))]
    if reminder:
        blocks.append(Text(text=t(lang, "surveys.nudge.text")))
    total = len(survey.questions)
    if survey.status != Status.open:
        blocks.append(Text(text=t(lang, "surveys.dm_closed")))
    elif step < total:
        question = survey.questions[step]
        if total > 1:
            blocks.append(Context(text=t(lang, "surveys.progress", number=step + 1, total=total)))
        blocks.append(Text(text=question_text(question, lang)))
        blocks.append(Actions(buttons=answer_buttons(survey, question, lang, "survey:step", mine.get(question.id))))
        nav: list[Button] = []
        if question.kind in (QuestionKind.multi, QuestionKind.text) or question.id in mine:
            nav.append(Button(label=t(lang, "surveys.next") if step + 1 < total else t(lang, "surveys.done"),
                              action="survey:goto", value=f"{survey.id}:{step + 1}"))
        if total > 1:
            nav.append(Button(label=t(lang, "surveys.answer_in_form"), action="survey:form", value=str(survey.id)))
        if nav:
            blocks.append(Actions(buttons=nav))
    else:
        answered = sum(1 for q in survey.questions if q.id in mine)
        blocks.append(Text(text=t(lang, "surveys.thanks_all", answered=answered, total=total)))
        blocks.append(Actions(buttons=[Button(label=t(lang, "surveys.change"), action="survey:goto",
                                              value=f"{survey.id}:0")]))
    blocks.append(Context(text=f"{anonymity_note(survey, lang)}\n{status_line(survey, lang, tz, min_size)}"))
    return Message(text=t(lang, "surveys.fallback", title=esc(title)), blocks=blocks)


def confirmation(survey: Survey, question: Question, saved: AnswerSaved, lang: str,
                 results: QuestionResult | None) -> Message:
    """The ephemeral 'thank you' after a tap (the only place an anonymous choice is echoed)."""
    if saved.value is None:
        text = t(lang, "surveys.withdrawn")
    else:
        text = t(lang, "surveys.thanks" if saved.first_answer else "surveys.changed",
                 answer=value_label(question, saved.value, lang))
    blocks: list[Block] = [Text(text=text)]
    if results is not None:
        blocks.append(Divider())
        blocks.append(Text(text=question_result_text(results, lang, with_groups=False)))
    return Message(text=text, blocks=blocks)


# --- results ----------------------------------------------------------------------------------------

def _bar(percent_value: float) -> str:
    return "█" * round(percent_value / 10) or "▏"


def _group_line(question: Question, group: GroupResult, lang: str) -> str:
    name = t(lang, f"roles.{group.name}")
    if group.hidden:
        return f"{name}: {t(lang, 'surveys.results.too_few')}"
    if group.mean is not None:
        detail = t(lang, "surveys.results.mean_short", mean=number(group.mean, lang))
    elif group.percent_yes is not None:
        detail = t(lang, "surveys.results.yes_share", percent=percent(group.percent_yes, lang))
    elif group.top_value is not None:
        detail = t(lang, "surveys.results.most_common", answer=value_label(question, group.top_value, lang))
    else:
        detail = ""
    return f"{name}: {detail} (n = {group.n})"


def _trend_line(points: list[TrendPoint], lang: str, tz: Any) -> str:
    parts = []
    for point in points:
        day = point.opens_at.astimezone(tz)
        label = f"{day.day} {t(lang, f'time.month.{day.month}')}"
        if point.hidden:
            parts.append(f"{label}: –")
        elif point.mean is not None:
            parts.append(f"{label}: {number(point.mean, lang)}")
        elif point.percent_yes is not None:
            parts.append(f"{label}: {percent(point.percent_yes, lang)}")
    return t(lang, "surveys.results.trend", points=" · ".join(parts))


def question_result_text(result: QuestionResult, lang: str, with_groups: bool = True, tz: Any = None,
                         total: int = 1) -> str:
    question = result.question
    own = question.localized(lang)
    prefix = f"{question.position + 1}. " if total > 1 else ""
    if result.hidden:  # not even the count of a small group
        return f"*{prefix}{esc(own.text)}*\n{t(lang, 'surveys.results.too_few')}"
    lines = [f"*{prefix}{esc(own.text)}*  _(n = {result.n})_"]
    if question.kind == QuestionKind.text:
        for text in result.texts[:MAX_TEXTS_SHOWN]:
            lines.append(f"> {esc(clip(text, 300))}")
        if len(result.texts) > MAX_TEXTS_SHOWN:
            lines.append(t(lang, "surveys.results.more_texts", count=len(result.texts) - MAX_TEXTS_SHOWN))
        if not result.texts:
            lines.append(t(lang, "surveys.results.no_answers"))
        return "\n".join(lines)
    for bar in result.bars:
        label = value_label(question, bar.value, lang)
        if question.kind.is_scale:
            ends = {question.kind.scale_values()[0]: own.low_label, question.kind.scale_values()[-1]: own.high_label}
            end = ends.get(int(bar.value))
            label = f"{bar.value} {esc(end)}" if end else bar.value
        lines.append(f"{label}: {_bar(bar.percent)} {bar.count} ({percent(bar.percent, lang)})")
    if result.mean is not None and result.median is not None:
        lines.append(t(lang, "surveys.results.mean_median", mean=number(result.mean, lang),
                       median=number(result.median, lang)))
    if with_groups and result.groups:
        lines.append(t(lang, "surveys.results.by_role") + " " +
                     " · ".join(_group_line(question, g, lang) for g in result.groups))
    if with_groups and len(result.trend) > 1 and tz is not None:
        lines.append(_trend_line(result.trend, lang, tz))
    return "\n".join(lines)


def results_message(results: SurveyResults, lang: str, tz: Any, with_controls: bool = True,
                    web: WebAnswers | None = None) -> Message:
    """The results; `web` says how many answers came through pupils' links and how many without a code."""
    survey = results.survey
    title = survey.title_in(lang)
    header = t(lang, "surveys.results.title", title=esc(clip(title, 100)))
    blocks: list[Block] = [
        Header(text=clip(header, 150)),
        Context(text=t(lang, "surveys.results.meta", id=survey.id,
                       mode=t(lang, f"surveys.anonymity.{survey.anonymity.value}.name"),
                       status=status_line(survey, lang, tz, results.min_group_size))),
    ]
    if web is not None and web.total:
        blocks.append(Context(text=t(lang, "web.link.web_answers", total=web.total, without_code=web.without_code)))
    total = len(results.questions)
    for result in results.questions:
        blocks.append(Text(text=question_result_text(result, lang, tz=tz, total=total)))
    if with_controls and survey.status != Status.closed:
        blocks.append(Actions(buttons=controls(survey, lang)))
    return Message(text=header, blocks=blocks)


# --- lead replies -----------------------------------------------------------------------------------

def created_message(survey: Survey, lang: str, tz: Any) -> Message:
    key = "surveys.created.open" if survey.status == Status.open else "surveys.created.scheduled"
    text = t(lang, key, id=survey.id, title=esc(survey.title_in(lang)), when=local_time(survey.opens_at, tz, lang))
    blocks: list[Block] = [Text(text=text)]
    if survey.closes_at is not None:
        blocks.append(Context(text=t(lang, "surveys.created.closes", when=local_time(survey.closes_at, tz, lang))))
    else:
        blocks.append(Context(text=t(lang, "surveys.created.no_close", id=survey.id)))
    blocks.append(Actions(buttons=controls(survey, lang)))
    return Message(text=text, blocks=blocks)


def survey_list_message(items: list[Survey], lang: str, tz: Any, min_size: int = 1) -> Message:
    blocks: list[Block] = [Header(text=t(lang, "surveys.list.title"))]
    if not items:
        blocks.append(Text(text=t(lang, "surveys.list.empty")))
    for survey in items:
        blocks.append(Text(text=f"*#{survey.id} {esc(survey.title_in(lang))}*\n{status_line(survey, lang, tz, min_size)}"))
        blocks.append(Actions(buttons=controls(survey, lang)))
    blocks.append(Context(text=t(lang, "surveys.list.hint")))
    return Message(text=t(lang, "surveys.list.title"), blocks=blocks)


# --- forms ------------------------------------------------------------------------------------------

def create_form(lang: str, templates: dict[str, Template]) -> Form:
    template_options = [Option(value=tid, label=esc(tpl.title[lang])) for tid, tpl in templates.items()]
    modes = [Option(value=mode.value, label=t(lang, f"surveys.anonymity.{mode.value}.choice")) for mode in Anonymity]
    return Form(callback="survey:create", title=t(lang, "surveys.form.title"), submit=t(lang, "surveys.form.submit"),
                close=t(lang, "common.cancel"), intro=t(lang, "surveys.form.intro"), fields=[
        FormField(name="title", label=t(lang, "surveys.form.name"), optional=True, max_length=MAX_TITLE,
                  hint=t(lang, "surveys.form.name_hint")),
        FormField(name="template", label=t(lang, "surveys.form.template"), kind="select", optional=True,
                  options=template_options),
        FormField(name="questions", label=t(lang, "surveys.form.questions", max=MAX_QUESTIONS), kind="multiline",
                  optional=True, hint=t(lang, "surveys.form.questions_hint"), max_length=3000),
        FormField(name="audience_channels", label=t(lang, "surveys.form.channels"), kind="channels", optional=True),
        FormField(name="audience_users", label=t(lang, "surveys.form.users"), kind="users", optional=True),
        FormField(name="audience_members_of", label=t(lang, "surveys.form.members_of"), kind="channels",
                  optional=True, hint=t(lang, "surveys.form.members_of_hint")),
        FormField(name="anonymity", label=t(lang, "surveys.form.anonymity"), kind="radio", options=modes,
                  initial=Anonymity.anonymous.value),
        FormField(name="opens_at", label=t(lang, "surveys.form.opens_at"), kind="datetime", optional=True,
                  hint=t(lang, "surveys.form.opens_at_hint")),
        FormField(name="closes_at", label=t(lang, "surveys.form.closes_at"), kind="datetime", optional=True,
                  hint=t(lang, "surveys.form.closes_at_hint")),
        FormField(name="repeat", label=t(lang, "surveys.form.repeat"), kind="radio", initial="none", options=[
            Option(value=value, label=t(lang, f"surveys.repeat.{value}")) for value in ("none", "weekly", "monthly")]),
        FormField(name="show_results", label=t(lang, "surveys.form.show_results"), kind="radio", initial="no",
                  options=[Option(value="yes", label=t(lang, "surveys.yes")),
                           Option(value="no", label=t(lang, "surveys.no"))]),
    ])


def answer_form(survey: Survey, lang: str, mine: dict[int, str], only: int | None = None) -> Form:
    """All questions in one modal (or just one free-text question), prefilled with the person's answers."""
    fields: list[FormField] = []
    for question in survey.questions:
        if only is not None and question.id != only:
            continue
        own = question.localized(lang)
        name = f"q{question.id}"
        current = mine.get(question.id)
        label = clip(esc(own.text), 2000)
        hint = None
        if question.kind == QuestionKind.text:
            fields.append(FormField(name=name, label=label, kind="multiline", optional=True,
                                    max_length=MAX_TEXT_ANSWER, initial=current,
                                    hint=t(lang, "surveys.text_hint", limit=MAX_TEXT_ANSWER)))
            continue
        if question.kind.is_scale:
            options = [Option(value=str(v), label=str(v)) for v in question.kind.scale_values()]
            if own.low_label or own.high_label:
                hint = t(lang, "surveys.scale_hint", low=options[0].value, high=options[-1].value,
                         low_label=esc(own.low_label or ""), high_label=esc(own.high_label or ""))
        elif question.kind == QuestionKind.yesno:
            options = [Option(value="yes", label=t(lang, "surveys.yes")), Option(value="no", label=t(lang, "surveys.no"))]
        else:
            options = [Option(value=str(i), label=esc(clip(o, 75))) for i, o in enumerate(own.options)]
        if question.kind == QuestionKind.multi:
            fields.append(FormField(name=name, label=label, kind="checkboxes", optional=True, options=options,
                                    initial=current.split(",") if current else None))
        else:
            fields.append(FormField(name=name, label=label, kind="select" if len(options) > 10 else "radio",
                                    optional=True, options=options, initial=current, hint=hint))
    metadata = f"{survey.id}:{only}" if only is not None else str(survey.id)
    return Form(callback="survey:answers", title=clip(t(lang, "surveys.form.answer_title"), 24),
                submit=t(lang, "surveys.form.send"), close=t(lang, "common.cancel"),
                intro=f"*{esc(survey.title_in(lang))}*\n{anonymity_note(survey, lang)}", fields=fields,
                metadata=metadata)


# --- App Home ---------------------------------------------------------------------------------------

def home_section(lang: str, tz: Any, mine: list[OpenSurvey], lead_view: list[Survey] | None,
                 min_size: int = 1) -> list[Block]:
    blocks: list[Block] = [Header(text=t(lang, "surveys.home.title"))]
    if not mine:
        blocks.append(Text(text=t(lang, "surveys.home.none")))
    for item in mine:
        state = t(lang, "surveys.home.answered" if item.answered else "surveys.home.not_answered")
        when = t(lang, "surveys.home.closes", when=local_time(item.closes_at, tz, lang)) if item.closes_at else ""
        blocks.append(Text(text=f"*{esc(item.title)}*\n{state}{' · ' + when if when else ''}",
                           accessory=Button(label=t(lang, "surveys.home.change" if item.answered else
                                                    "surveys.home.answer"),
                                            action="survey:form", value=str(item.id), style="primary")))
    if lead_view is not None:
        blocks.append(Context(text=t(lang, "surveys.home.lead")))
        for survey in lead_view:
            blocks.append(Text(text=f"*#{survey.id} {esc(survey.title_in(lang))}*\n{status_line(survey, lang, tz, min_size)}",
                               accessory=Button(label=t(lang, "surveys.button.results"), action="survey:results",
                                                value=str(survey.id))))
    blocks.append(Divider())
    return blocks


def open_surveys_text(items: list[OpenSurvey], lang: str) -> str:
    if not items:
        return t(lang, "surveys.home.none")
    lines = [t(lang, "surveys.open_list.title")]
    for item in items:
        state = t(lang, "surveys.home.answered" if item.answered else "surveys.home.not_answered")
        lines.append(f"• *{esc(item.title)}* ({state})")
    return "\n".join(lines)
