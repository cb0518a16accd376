"""How meetings look: invitations, lists, reminders, notices, the attendee list and the forms.

Everything here is pure (no database, no Slack): callers load the state and pass it in, so the
coalesced message updates re-render from fresh data every time.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.conferences.models import Answer, Attendee, Conference, Counts, Kind, MaterialLink
from bot.conferences.templates import SeriesTemplate
from bot.i18n import t
from bot.ui import (
    Actions,
    Block,
    Button,
    Context,
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

SAFE_URL = re.compile(r"^https?://[^\s<>|]+$")


# --- small pieces ---------------------------------------------------------------------------------

def when(conf: Conference, lang: str, tz: ZoneInfo) -> str:
    return span(conf.start_at, conf.end_at, lang, tz)


def span(start: datetime, end: datetime, lang: str, tz: ZoneInfo) -> str:
    """'mån 30 mar 2026 09:00–11:30', or both dates when it runs over midnight."""
    if start.astimezone(tz).date() == end.astimezone(tz).date():
        return f"{local_time(start, tz, lang)}–{end.astimezone(tz):%H:%M}"
    return f"{local_time(start, tz, lang)} – {local_time(end, tz, lang)}"


def where(location: str | None, lang: str) -> str:
    if not location:
        return t(lang, "conf.view.place_tbd")
    if SAFE_URL.match(location):
        return f"<{location}>"
    return esc(location)


def material_lines(material: list[MaterialLink]) -> list[str]:
    return [f"• <{m.url}|{esc(m.label)}>" if SAFE_URL.match(m.url) else f"• {esc(m.label)}" for m in material]


def kind_label(lang: str, kind: Kind) -> str:
    return t(lang, f"conf.kind.{kind.value}")


def answer_label(lang: str, answer: Answer | None, position: int | None = None) -> str:
    if answer is None:
        return t(lang, "conf.answer.none")
    if answer == Answer.waitlist:
        return t(lang, "conf.answer.waitlist", position=position or "?")
    return t(lang, f"conf.answer.{answer.value}")


def counts_line(lang: str, counts: Counts, capacity: int | None) -> str:
    yes = t(lang, "conf.view.yes_of", n=counts.yes, capacity=capacity) if capacity else str(counts.yes)
    line = t(lang, "conf.view.counts", yes=yes, maybe=counts.maybe, no=counts.no)
    if counts.waitlist:
        line += t(lang, "conf.view.waitlist_count", n=counts.waitlist)
    return line


def rsvp_buttons(lang: str, conference_id: int) -> list[Button]:
    value = str(conference_id)
    return [Button(label=t(lang, "conf.button.yes"), action="conf:yes", value=value, style="primary"),
            Button(label=t(lang, "conf.button.no"), action="conf:no", value=value),
            Button(label=t(lang, "conf.button.maybe"), action="conf:maybe", value=value)]


def calendar_button(lang: str, conf: Conference) -> Button:
    label = "conf.button.calendar_cancel" if conf.cancelled else "conf.button.calendar"
    return Button(label=t(lang, label), action="conf:ics", value=str(conf.id))


def lead_buttons(lang: str, conf: Conference) -> list[Button]:
    value = str(conf.id)
    buttons = [Button(label=t(lang, "conf.button.attendees"), action="conf:attendees", value=value)]
    if conf.cancelled:
        return buttons
    if conf.announced_at is None:
        buttons.append(Button(label=t(lang, "conf.button.announce"), action="conf:announce", value=value,
                              style="primary"))
    buttons += [Button(label=t(lang, "conf.button.edit"), action="conf:edit", value=value),
                Button(label=t(lang, "conf.button.cancel"), action="conf:cancel", value=value, style="danger")]
    return buttons


def details(conf: Conference, lang: str, tz: ZoneInfo) -> str:
    head = kind_label(lang, conf.kind) + (f" · {esc(conf.unit)}" if conf.unit else "")
    return "\n".join([f"_{head}_", t(lang, "conf.view.when", when=when(conf, lang, tz)),
                      t(lang, "conf.view.where", where=where(conf.location, lang))])


# --- messages -------------------------------------------------------------------------------------

def invitation(conf: Conference, lang: str, tz: ZoneInfo, counts: Counts | None = None,
               answer: Answer | None = None, position: int | None = None, personal: bool = False) -> Message:
    """The invitation as posted: counts on a channel post, the person's own answer in their DM."""
    text = t(lang, "conf.view.invite_text", title=esc(conf.title), when=when(conf, lang, tz))
    if conf.cancelled:
        blocks: list[Block] = [Header(text=t(lang, "conf.view.cancelled_title", title=esc(conf.title))),
                               Text(text=details(conf, lang, tz)),
                               Context(text=t(lang, "conf.view.cancelled_text") + (
                                   " " + t(lang, "conf.view.reason", reason=esc(conf.cancel_reason))
                                   if conf.cancel_reason else "")),
                               Actions(buttons=[calendar_button(lang, conf)])]
        return Message(text=t(lang, "conf.view.cancelled_title", title=esc(conf.title)), blocks=blocks)
    blocks = [Header(text=f"📅 {esc(conf.title)}"), Text(text=details(conf, lang, tz))]
    if conf.description:
        blocks.append(Text(text=esc(clip(conf.description, 2500))))
    if conf.material:
        blocks.append(Text(text="\n".join([t(lang, "conf.view.material"), *material_lines(conf.material)])))
    status: list[str] = []
    if personal:
        status.append(t(lang, "conf.view.your_answer", answer=answer_label(lang, answer, position))
                      if answer else t(lang, "conf.view.no_answer"))
    elif counts is not None:
        status.append(counts_line(lang, counts, conf.capacity))
    if conf.capacity and counts is not None and counts.yes >= conf.capacity:
        status.append(t(lang, "conf.view.full"))
    elif conf.capacity:
        status.append(t(lang, "conf.view.seats", capacity=conf.capacity))
    blocks.append(Context(text=" · ".join(status)))
    blocks.append(Actions(buttons=[*rsvp_buttons(lang, conf.id), calendar_button(lang, conf)]))
    return Message(text=text, blocks=blocks)


def meeting_item(conf: Conference, lang: str, tz: ZoneInfo, answer: Answer | None, position: int | None,
                 lead: bool = False, counts: Counts | None = None) -> list[Block]:
    """One meeting in a list (App Home, `/syv konferenser`): the answer, and the lead's controls."""
    lines = [f"*{esc(conf.title)}*", f"{when(conf, lang, tz)} · {where(conf.location, lang)}",
             t(lang, "conf.view.your_answer", answer=answer_label(lang, answer, position))]
    if lead and counts is not None:
        lines.append(counts_line(lang, counts, conf.capacity))
        if conf.announced_at is None:
            lines.append(t(lang, "conf.view.not_announced"))
    buttons = [*rsvp_buttons(lang, conf.id), calendar_button(lang, conf)]
    if lead:
        buttons += lead_buttons(lang, conf)
    return [Text(text="\n".join(lines)), Actions(buttons=buttons)]


def reminder(conf: Conference, lang: str, tz: ZoneInfo, hours: float) -> Message:
    soon = t(lang, "conf.reminder.soon_one" if hours == 1 else "conf.reminder.soon_many",
             hours=f"{hours:g}", title=esc(conf.title))
    blocks: list[Block] = [Header(text=t(lang, "conf.reminder.title", title=esc(conf.title))),
                           Text(text=soon + "\n" + details(conf, lang, tz))]
    if conf.material:
        blocks.append(Text(text="\n".join([t(lang, "conf.view.material"), *material_lines(conf.material)])))
    blocks.append(Context(text=t(lang, "conf.reminder.hint")))
    blocks.append(Actions(buttons=[Button(label=t(lang, "conf.button.no"), action="conf:no", value=str(conf.id)),
                                   calendar_button(lang, conf)]))
    return Message(text=t(lang, "conf.reminder.text", title=esc(conf.title), when=when(conf, lang, tz)),
                   blocks=blocks)


def changed(conf: Conference, lang: str, tz: ZoneInfo, old_title: str, old_start: datetime, old_end: datetime,
            old_location: str | None, fields: list[str]) -> Message:
    lines = [t(lang, "conf.notify.changed_intro")]
    if "title" in fields:
        lines.append(t(lang, "conf.notify.changed_name", old=esc(old_title), new=esc(conf.title)))
    if "start_at" in fields or "end_at" in fields:
        lines.append(t(lang, "conf.notify.changed_time", old=span(old_start, old_end, lang, tz),
                       new=when(conf, lang, tz)))
    if "location" in fields:
        lines.append(t(lang, "conf.notify.changed_place", old=where(old_location, lang),
                       new=where(conf.location, lang)))
    blocks: list[Block] = [Header(text=t(lang, "conf.notify.changed_title", title=esc(conf.title))),
                           Text(text="\n".join(lines)), Context(text=t(lang, "conf.notify.changed_hint")),
                           Actions(buttons=[*rsvp_buttons(lang, conf.id), calendar_button(lang, conf)])]
    return Message(text=t(lang, "conf.notify.changed_text", title=esc(conf.title)), blocks=blocks)


def cancelled_notice(conf: Conference, lang: str, tz: ZoneInfo) -> Message:
    body = t(lang, "conf.notify.cancelled_body", title=esc(conf.title), when=when(conf, lang, tz))
    if conf.cancel_reason:
        body += "\n" + t(lang, "conf.view.reason", reason=esc(conf.cancel_reason))
    return Message(text=t(lang, "conf.notify.cancelled_text", title=esc(conf.title)), blocks=[
        Text(text=body), Context(text=t(lang, "conf.notify.cancelled_hint")),
        Actions(buttons=[calendar_button(lang, conf)])])


def promoted_notice(conf: Conference, lang: str, tz: ZoneInfo) -> Message:
    body = t(lang, "conf.notify.promoted_body", title=esc(conf.title), when=when(conf, lang, tz))
    return Message(text=t(lang, "conf.notify.promoted_text", title=esc(conf.title)), blocks=[
        Text(text=body), Actions(buttons=[Button(label=t(lang, "conf.button.no"), action="conf:no",
                                                 value=str(conf.id)), calendar_button(lang, conf)])])


def rsvp_reply(conf: Conference, lang: str, tz: ZoneInfo, answer: Answer, position: int | None) -> Message:
    text = t(lang, f"conf.rsvp.{answer.value}", title=esc(conf.title), when=when(conf, lang, tz),
             position=position or "?")
    blocks: list[Block] = [Text(text=text)]
    if answer in (Answer.yes, Answer.maybe):
        blocks.append(Actions(buttons=[calendar_button(lang, conf)]))
    return Message(text=text, blocks=blocks)


def attendee_document(conf: Conference, lang: str, tz: ZoneInfo, people: list[Attendee], invited: int) -> Message:
    groups: dict[Answer, list[Attendee]] = {a: [p for p in people if p.answer == a] for a in Answer}
    capacity = t(lang, "conf.attendees.of", capacity=conf.capacity) if conf.capacity else ""
    blocks: list[Block] = [Header(text=esc(conf.title)), Context(text=when(conf, lang, tz))]
    for answer in (Answer.yes, Answer.waitlist, Answer.maybe, Answer.no):
        members = groups[answer]
        if answer == Answer.waitlist:
            names = "\n".join(f"{p.waitlist_position}. <@{p.user_id}>" for p in members)
        else:  # eight to a line, so long lists split between mentions, never inside one
            names = "\n".join(", ".join(f"<@{p.user_id}>" for p in members[i:i + 8])
                              for i in range(0, len(members), 8))
        head = t(lang, f"conf.attendees.{answer.value}", n=len(members),
                 capacity=capacity if answer == Answer.yes else "")
        blocks.append(Text(text=f"{head}\n{names or t(lang, 'conf.attendees.nobody')}"))
    answered = {p.user_id for p in people}
    blocks.append(Context(text=t(lang, "conf.attendees.invited", invited=invited,
                                 unanswered=max(0, invited - len(answered)))))
    blocks.append(Actions(buttons=[Button(label=t(lang, "conf.button.csv"), action="conf:csv",
                                          value=str(conf.id))]))
    return Message(text=t(lang, "conf.attendees.title"), blocks=blocks)


# --- forms ----------------------------------------------------------------------------------------

TITLE_MAX, UNIT_MAX, LOCATION_MAX, TEXT_MAX, SURVEY_MAX, REASON_MAX = 150, 100, 500, 2000, 64, 500


def material_text(material: list[MaterialLink]) -> str:
    return "\n".join(f"{m.label} | {m.url}" if m.label != m.url else m.url for m in material)


def meeting_fields(lang: str, conf: Conference | None = None) -> list[FormField]:
    kinds = [Option(value=k.value, label=kind_label(lang, k)) for k in Kind]
    editing = conf is not None
    return [
        FormField(name="title", label=t(lang, "conf.form.title"), max_length=TITLE_MAX,
                  placeholder=t(lang, "conf.form.title_placeholder"), initial=conf.title if conf else None),
        FormField(name="kind", label=t(lang, "conf.form.kind"), kind="select", options=kinds,
                  initial=conf.kind.value if conf else Kind.process.value),
        FormField(name="unit", label=t(lang, "conf.form.unit"), optional=True, max_length=UNIT_MAX,
                  hint=t(lang, "conf.form.unit_hint"), initial=conf.unit if conf else None),
        FormField(name="start", label=t(lang, "conf.form.start"), kind="datetime",
                  initial=conf.start_at if conf else None),
        FormField(name="end", label=t(lang, "conf.form.end"), kind="datetime", initial=conf.end_at if conf else None),
        FormField(name="location", label=t(lang, "conf.form.location"), optional=True, max_length=LOCATION_MAX,
                  initial=conf.location if conf else None),
        FormField(name="capacity", label=t(lang, "conf.form.capacity"), kind="number", optional=True,
                  hint=t(lang, "conf.form.capacity_hint"),
                  initial=str(conf.capacity) if conf and conf.capacity else None),
        FormField(name="description", label=t(lang, "conf.form.description"), kind="multiline", optional=True,
                  max_length=TEXT_MAX, initial=conf.description if conf else None),
        FormField(name="material", label=t(lang, "conf.form.material"), kind="multiline", optional=True,
                  max_length=TEXT_MAX, hint=t(lang, "conf.form.material_hint"),
                  initial=material_text(conf.material) if conf and conf.material else None),
        FormField(name="channels", label=t(lang, "conf.form.channels_more" if editing else "conf.form.channels"),
                  kind="channels", optional=True),
        FormField(name="people", label=t(lang, "conf.form.people_more" if editing else "conf.form.people"),
                  kind="users", optional=True),
        FormField(name="survey", label=t(lang, "conf.form.survey"), optional=True, max_length=SURVEY_MAX,
                  hint=t(lang, "conf.form.survey_hint"), initial=conf.survey_id if conf else None),
        FormField(name="allow_overlap", label=t(lang, "conf.form.overlap"), kind="checkboxes", optional=True,
                  options=[Option(value="yes", label=t(lang, "conf.form.overlap_ok"))]),
    ]


def create_form(lang: str) -> Form:
    return Form(callback="conf:create", title=t(lang, "conf.form.create_title"),
                submit=t(lang, "conf.form.create_submit"), close=t(lang, "conf.form.close"),
                fields=meeting_fields(lang))


def edit_form(conf: Conference, lang: str) -> Form:
    return Form(callback="conf:edit", title=t(lang, "conf.form.edit_title"), submit=t(lang, "conf.form.save"),
                close=t(lang, "conf.form.close"), fields=meeting_fields(lang, conf), metadata=str(conf.id),
                intro=t(lang, "conf.form.edit_intro"))


def series_form(lang: str, templates: list[SeriesTemplate]) -> Form:
    options = [Option(value=tpl.id, label=clip(tpl.name.get(lang), 75)) for tpl in templates]
    note = templates[0].note.get(lang) if templates and templates[0].note else None
    return Form(callback="conf:series", title=t(lang, "conf.form.series_title"),
                submit=t(lang, "conf.form.create_submit"), close=t(lang, "conf.form.close"), intro=note, fields=[
        FormField(name="template", label=t(lang, "conf.form.template"), kind="select", options=options,
                  initial=options[0].value if options else None),
        FormField(name="unit", label=t(lang, "conf.form.series_unit"), max_length=UNIT_MAX),
        FormField(name="start", label=t(lang, "conf.form.first_start"), kind="datetime",
                  hint=t(lang, "conf.form.first_start_hint")),
        FormField(name="location", label=t(lang, "conf.form.location"), optional=True, max_length=LOCATION_MAX),
        FormField(name="capacity", label=t(lang, "conf.form.capacity"), kind="number", optional=True,
                  hint=t(lang, "conf.form.capacity_hint")),
        FormField(name="channels", label=t(lang, "conf.form.channels"), kind="channels", optional=True),
        FormField(name="people", label=t(lang, "conf.form.people"), kind="users", optional=True),
        FormField(name="announce", label=t(lang, "conf.form.announce"), kind="checkboxes", optional=True,
                  options=[Option(value="yes", label=t(lang, "conf.form.announce_now"))]),
    ])


def cancel_form(conf: Conference, lang: str, tz: ZoneInfo) -> Form:
    return Form(callback="conf:cancel", title=t(lang, "conf.form.cancel_title"),
                submit=t(lang, "conf.form.cancel_submit"), close=t(lang, "conf.form.close"), metadata=str(conf.id),
                intro=t(lang, "conf.form.cancel_intro", title=esc(conf.title), when=when(conf, lang, tz)),
                fields=[FormField(name="reason", label=t(lang, "conf.form.reason"), kind="multiline",
                                  optional=True, max_length=REASON_MAX)])
