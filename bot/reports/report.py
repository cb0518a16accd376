"""The project team's report over a period: surveys, pulse trends, who answered, conference attendance
and the question answerer's statistics. The same figures go to Slack (compact) and to one HTML file
with the charts embedded as images, so it opens anywhere without an internet connection.

Every survey number passes the small-group suppression in bot.reports.summary. Question statistics
have no municipality (questions are logged without who asked), so a municipality filter applies to
survey answers and meetings only; the report says so.
"""

from __future__ import annotations

import asyncio
import base64
import html
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from sqlalchemy import and_, func, select

from bot import dates
from bot.db.engine import as_utc
from bot.disclosure import decide, includes_pupils, threshold
from bot.errors import UserError
from bot.formatting import number, percent
from bot.i18n import t
from bot.questions.tables import feedback, question_log, unanswered
from bot.reports import data
from bot.reports.audit import record, require_lead_logged
from bot.reports.data import MeetingInfo
from bot.reports.exports import role_name
from bot.reports.summary import (
    GroupSummary,
    QuestionSummary,
    SurveySummary,
    Trend,
    summarize_survey,
    survey_threshold,
    trends,
)
from bot.surveys import records
from bot.surveys.records import series_titles
from bot.ui import Context, Divider, Fields, Header, Message, Text, clip, esc
from bot.users import Actor

if TYPE_CHECKING:
    from bot.runtime import Bot

TOP_UNANSWERED = 10
MAX_CHARTS = 12


class Period(BaseModel):
    first_day: date
    last_day: date  # inclusive
    municipality: str | None = None

    def bounds(self, tz: Any) -> tuple[datetime, datetime]:
        since = datetime.combine(self.first_day, time(0), tzinfo=tz).astimezone(UTC)
        until = datetime.combine(self.last_day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
        return since, until


def school_year_start(today: date) -> date:
    """1 July: the Swedish school year's reporting start."""
    return date(today.year if today.month >= 7 else today.year - 1, 7, 1)


def parse_day(text: str, today: date) -> date:
    """Through the one date parser (bot/dates.py), looking back: "1/8" is the latest 1 August."""
    try:
        return dates.parse_day(text, today)
    except dates.UnclearDate:
        raise UserError("report.errors.date", text=text) from None


def parse_period(first: str | None, last: str | None, municipality: str | None, today: date) -> Period:
    last_day = parse_day(last, today) if last else today
    first_day = parse_day(first, today) if first else school_year_start(last_day)
    if first_day > last_day:
        raise UserError("report.errors.order")
    return Period(first_day=first_day, last_day=last_day, municipality=(municipality or "").strip() or None)


def parse_period_words(rest: str, today: date) -> Period:
    """`/syv rapport [FROM [TO]] [municipality]`: dates first, the rest is the municipality."""
    words = rest.split()
    days: list[str] = []
    while words and len(days) < 2 and words[0][:1].isdigit():
        days.append(words.pop(0))
    return parse_period(days[0] if days else None, days[1] if len(days) > 1 else None, " ".join(words), today)


class QuestionStats(BaseModel):
    asked: int = 0
    answered: int = 0
    declined: int = 0
    helpful: int = 0
    not_helpful: int = 0
    by_role: list[GroupSummary] = Field(default_factory=list)
    by_channel: dict[str, int] = Field(default_factory=dict)
    by_month: list[tuple[str, int, int]] = Field(default_factory=list)  # (YYYY-MM, answered, declined)
    top_unanswered: list[tuple[str, int]] = Field(default_factory=list)


class ReportData(BaseModel):
    period: Period
    generated_at: datetime
    min_group_size: int
    surveys: list[SurveySummary]
    trends: list[Trend]
    meetings: list[MeetingInfo]
    questions: QuestionStats


async def _question_stats(bot: Bot, since: datetime, until: datetime) -> QuestionStats:
    tz = bot.settings.tz
    window = and_(question_log.c.asked_at >= since, question_log.c.asked_at < until)
    async with bot.db.read() as conn:
        rows = (await conn.execute(select(question_log.c.asked_at, question_log.c.role, question_log.c.answered,
                                          question_log.c.channel_kind).where(window))).all()
        votes = (await conn.execute(select(feedback.c.helpful, func.count()).where(
            and_(feedback.c.created_at >= since, feedback.c.created_at < until)).group_by(feedback.c.helpful))).all()
        open_questions = (await conn.execute(select(unanswered.c.question).where(
            and_(unanswered.c.created_at >= since, unanswered.c.created_at < until)))).scalars().all()
    stats = QuestionStats(asked=len(rows), answered=sum(1 for r in rows if r.answered))
    stats.declined = stats.asked - stats.answered
    for helpful, n in votes:
        if helpful:
            stats.helpful += int(n)
        else:
            stats.not_helpful += int(n)
    roles = decide([{"role": r.role} for r in rows], threshold(bot.settings, includes_pupils(r.role for r in rows)),
                   dimensions=("role",))
    stats.by_role = [GroupSummary(dimension="role", name=str(g.value("role")), hidden=not g.shown,
                                  n=g.n if g.shown else None) for g in roles.breakdown("role")]
    stats.by_channel = dict(sorted(Counter(r.channel_kind for r in rows).items()))
    months: dict[str, list[int]] = {}
    for row in sorted(rows, key=lambda r: r.asked_at):
        key = f"{as_utc(row.asked_at).astimezone(tz):%Y-%m}"
        months.setdefault(key, [0, 0])[0 if row.answered else 1] += 1
    stats.by_month = [(key, a, d) for key, (a, d) in months.items()]
    texts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for question in open_questions:
        key = " ".join(question.casefold().split())
        texts[key] += 1
        shown.setdefault(key, question.strip())
    stats.top_unanswered = [(shown[key], n) for key, n in texts.most_common(TOP_UNANSWERED)]
    return stats


async def gather(bot: Bot, actor: Actor, period: Period, via: str) -> ReportData:
    """The report's figures (leads only; logged)."""
    await require_lead_logged(bot, actor, "report")
    tz = bot.settings.tz
    since, until = period.bounds(tz)
    min_size = bot.settings.min_group_size
    summaries: list[SurveySummary] = []
    async with bot.db.read() as conn:
        for survey in await records.list_surveys(conn, since, until):
            # All answers, filtered in the summary: a municipality's view is part of the whole decision.
            answers = await records.load_answers(conn, survey.id)
            k = survey_threshold(bot.settings, survey, answers)
            min_size = max(min_size, k)
            summaries.append(summarize_survey(survey, answers, k, actor.lang, period.municipality))
        meetings = await data.list_meetings(conn, since, until, period.municipality)
        titles = await series_titles(conn)
    found_trends = trends(summaries)
    for trend in found_trends:
        trend.title = titles.get(trend.series_id, trend.title)
    report = ReportData(period=period, generated_at=bot.clock.now(), min_group_size=min_size, surveys=summaries,
                        trends=found_trends, meetings=meetings,
                        questions=await _question_stats(bot, since, until))
    await record(bot, actor, "report.create", first_day=str(period.first_day), last_day=str(period.last_day),
                 municipality=period.municipality, via=via)
    return report


# --- figures shared by Slack and HTML -------------------------------------------------------------

def question_line(lang: str, q: QuestionSummary) -> str:
    """One question's headline figure, or the suppression notice."""
    if q.hidden:
        return t(lang, "report.too_few")
    if q.question.kind == "text":
        return t(lang, "report.text_answers", n=q.n)
    if q.mean is not None:
        return t(lang, "report.mean_line", n=q.n, mean=number(lang, q.mean), median=number(lang, q.median))
    if q.percent_yes is not None:
        return t(lang, "report.yes_line", n=q.n, percent=percent(lang, q.percent_yes))
    top = max(q.shares, key=lambda s: s.count) if q.shares else None
    return t(lang, "report.top_line", n=q.n, top=top.label if top else "",
             percent=percent(lang, top.percent if top else 0))


def survey_headline(lang: str, s: SurveySummary) -> str:
    survey = s.survey
    rate = t(lang, "report.rate", rate=percent(lang, survey.answer_rate), invited=survey.invited) \
        if survey.answer_rate is not None else ""
    shown = survey.respondent_count >= s.min_group_size
    if not shown:
        rate = ""  # a rate would give the count back
    line = t(lang, "report.survey_line", title=survey.title, anonymity=t(lang, f"report.anonymity.{survey.anonymity}"),
             n=survey.respondent_count if shown else t(lang, "report.too_few_short"), rate=rate)
    if survey.web_answers and shown:
        line += " · " + t(lang, "web.link.web_answers", total=survey.web_answers, without_code=survey.web_without_code)
    return line


def group_line(lang: str, groups: list[GroupSummary]) -> str:
    parts = []
    for g in groups:
        name = role_name(lang, g.name) if g.dimension == "role" else g.name
        parts.append(f"{name}: {t(lang, 'report.too_few_short') if g.hidden else g.n}")
    return ", ".join(parts)


def meeting_line(lang: str, m: MeetingInfo, tz: Any) -> str:
    return t(lang, "report.meeting_line", title=m.title, day=f"{m.start_at.astimezone(tz):%Y-%m-%d}",
             invited=m.invited, yes=m.yes, waitlist=m.waitlist, maybe=m.maybe, no=m.no)


def trend_value(lang: str, trend: Trend, value: float | None) -> str:
    if value is None:
        return ""
    return number(lang, value) if trend.kind in ("scale5", "scale10") else percent(lang, value)


def figures_message(report: ReportData, lang: str, tz: Any) -> Message:
    """The report's figures as one compact Slack message (the HTML file has the charts)."""
    period = report.period
    title = t(lang, "report.title.report", first=str(period.first_day), last=str(period.last_day))
    blocks: list[Any] = [Header(text=esc(clip(title, 150)))]
    if period.municipality:
        blocks.append(Context(text=t(lang, "report.filtered", municipality=esc(period.municipality))))
    q = report.questions
    blocks.append(Fields(items=[
        t(lang, "report.fig.surveys", n=len(report.surveys)),
        t(lang, "report.fig.meetings", n=len(report.meetings)),
        t(lang, "report.fig.questions", n=q.asked, answered=q.answered, declined=q.declined),
        t(lang, "report.fig.helpful", up=q.helpful, down=q.not_helpful),
    ]))
    if report.surveys:
        lines = []
        for s in report.surveys[:10]:
            lines.append(f"• {esc(survey_headline(lang, s))}")
            for item in s.questions[:5]:
                lines.append(f"   {item.question.number}. {esc(clip(item.question.text, 60))}: "
                             f"{esc(question_line(lang, item))}")
        blocks.append(Text(text=clip("\n".join(lines), 2900)))
    if report.trends:
        lines = [f"• {esc(clip(tr.question, 60))}: " + " → ".join(
            t(lang, "report.too_few_short") if p.hidden or p.value is None else trend_value(lang, tr, p.value)
            for p in tr.points) for tr in report.trends[:8]]
        blocks.append(Text(text=clip(t(lang, "report.h.trends") + "\n" + "\n".join(lines), 2900)))
    if report.meetings:
        lines = [f"• {esc(meeting_line(lang, m, tz))}" for m in report.meetings[:10]]
        blocks.append(Text(text=clip(t(lang, "report.h.meetings") + "\n" + "\n".join(lines), 2900)))
    if q.top_unanswered:
        lines = [f"• {esc(clip(text, 90))} ({n})" for text, n in q.top_unanswered[:5]]
        blocks.append(Text(text=clip(t(lang, "report.h.unanswered") + "\n" + "\n".join(lines), 2900)))
    blocks.append(Divider())
    blocks.append(Context(text=t(lang, "report.fig.footer", min=report.min_group_size)))
    return Message(text=title, blocks=blocks)


# --- charts: what each survey question's chart shows -----------------------------------------------

def question_panel(q: QuestionSummary, lang: str, min_group_size: int) -> Any:
    """The chart of one question from its summary: exactly the numbers the summary lets through (the
    one place where the report's charts meet the disclosure rules)."""
    from bot.charts import ChartBar, Panel

    question = q.question
    title = f"{question.number}. {question.text}"
    if q.hidden:
        return Panel(title=title, note=t(lang, "surveys.chart.group_note", min=min_group_size))
    if question.kind == "text" or not q.shares:
        return Panel(title=title, note=t(lang, "report.text_answers", n=q.n))
    labels = [share.label for share in q.shares]
    if question.is_scale and labels:
        if question.low_label:
            labels[0] = f"{labels[0]} – {question.low_label}"
        last = 4 if question.kind == "scale5" else 10  # the shares list every scale value, in order
        if question.high_label and last < len(labels):
            labels[last] = f"{labels[last]} – {question.high_label}"
    footnotes = []
    if q.mean is not None:
        footnotes.append(t(lang, "surveys.chart.mean", mean=number(lang, q.mean)))
    if question.kind == "multi":
        footnotes.append(t(lang, "surveys.chart.multi_note"))
    bars = [ChartBar(label=label, count=share.count, percent=share.percent)
            for label, share in zip(labels, q.shares, strict=True)]
    return Panel(title=title, bars=bars, footnotes=footnotes)


# --- HTML -----------------------------------------------------------------------------------------

STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2733;line-height:1.45;
background:#fff}
header,main,footer{max-width:60rem;margin:0 auto;padding:0 1rem}
h1{font-size:1.6em;margin:1em 0 .2em}h2{border-bottom:2px solid #2a6f97;padding-bottom:.2em;margin-top:2em}
h3{margin:1.5em 0 .3em}h4{margin:1em 0 .3em;font-size:1em}
table{border-collapse:collapse;margin:.5em 0 1em;width:100%}
th,td{border:1px solid #d0d7de;padding:.3em .5em;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:#eef3f7}td.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#52606d;font-size:.9em}.hidden{color:#7a4f00;font-style:italic}
figure{margin:1em 0}img{max-width:100%;height:auto;display:block}
figcaption{font-size:.85em;color:#52606d}
.question{border-top:1px solid #d0d7de;padding-top:.5em}
@media (max-width:40rem){
 table,thead,tbody,tr,th,td{display:block;width:100%}
 thead tr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
 tr{border:1px solid #d0d7de;border-radius:.4em;margin:0 0 .6em;padding:.2em 0}
 td{border:0;border-bottom:1px solid #eef3f7;padding:.25em .6em;display:flex;gap:.6em}td:last-child{border-bottom:0}
 td.num{text-align:left}
 td::before{content:attr(data-label);flex:0 0 42%;font-weight:600;font-size:.85em;color:#52606d}
}
@media print{
 @page{size:A4;margin:15mm 14mm}
 body{font-size:10pt;color:#000}header,main,footer{max-width:none;padding:0}
 h2{break-before:auto;break-after:avoid}h3,h4{break-after:avoid}
 figure,tr,.question{break-inside:avoid}img{max-height:120mm;width:auto;max-width:100%}
 a{color:#000;text-decoration:none}
}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _figure(png: bytes, alt: str, caption: str | None = None) -> str:
    src = f"data:image/png;base64,{base64.b64encode(png).decode('ascii')}"
    cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{_e(alt)}" src="{src}">{cap}</figure>'


def _heading_text(text: str) -> str:
    # Column names double as CSV headers ("fråga_nr"); people reading the report see "Fråga nr".
    return text.replace("_", " ").capitalize()


def _table(header: list[str], rows: list[list[tuple[object, str]]], caption: str | None = None) -> str:
    """A table whose cells carry their column name (`data-label`), so on a phone each row becomes a
    small card and the page never scrolls sideways. Cells are (value, css class)."""
    names = [_heading_text(h) for h in header]
    head = "".join(f'<th scope="col">{_e(n)}</th>' for n in names)
    body = "".join(
        "<tr>" + "".join(f'<td data-label="{_e(names[i])}"{f" class={chr(34)}{cls}{chr(34)}" if cls else ""}>'
                         f"{_e(value)}</td>" for i, (value, cls) in enumerate(row)) + "</tr>"
        for row in rows)
    cap = f"<caption class=\"muted\">{_e(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _num(value: object) -> tuple[object, str]:
    return value, "num"


def _txt(value: object) -> tuple[object, str]:
    return value, ""


def _hid(value: object) -> tuple[object, str]:
    return value, "hidden"


def _survey_section(report: ReportData, s: SurveySummary, lang: str, tz: Any, draw: bool) -> str:
    from bot.charts import panel_png

    too_few = t(lang, "report.too_few")
    survey = s.survey
    parts = [f'<section aria-labelledby="survey-{survey.id}"><h3 id="survey-{survey.id}">{_e(survey.title)}</h3>',
             f'<p class="muted">{_e(survey_headline(lang, s))} · '
             f"{_e(t(lang, 'report.col.opens'))} {survey.opens_at.astimezone(tz):%Y-%m-%d}</p>"]
    if s.respondents_by:
        parts.append(f"<p>{_e(t(lang, 'report.h.who_answered'))}: {_e(group_line(lang, s.respondents_by))}</p>")
    for q in s.questions:
        parts.append(f'<div class="question"><h4>{_e(q.question.number)}. {_e(q.question.text)}</h4>')
        if not q.hidden:
            parts.append(f"<p>{_e(question_line(lang, q))}</p>")
        panel = question_panel(q, lang, s.min_group_size)
        if draw and panel.bars:  # the heading above names the question: the chart need not
            parts.append(_figure(panel_png(panel.model_copy(update={"title": ""}), lang),
                                 t(lang, "report.chart_alt", number=q.question.number, question=q.question.text)))
        if q.hidden:
            parts.append(f'<p class="hidden">{_e(too_few)}</p>')
        elif q.shares:
            rows = [[_txt(label), _num(share.count), _num(percent(lang, share.percent))]
                    for label, share in zip([b.label for b in panel.bars], q.shares, strict=True)]
            parts.append(_table([t(lang, "report.col.answer"), t(lang, "report.col.answers"),
                                 t(lang, "report.col.share")], rows))
        if q.groups and not q.hidden:
            parts.append(f'<p class="muted">{_e(t(lang, "report.col.groups"))}: {_e(group_line(lang, q.groups))}</p>')
        parts.append("</div>")
    parts.append("</section>")
    return "\n".join(parts)


def _trend_section(trend: Trend, lang: str, tz: Any, index: int, draw: bool) -> str:
    from bot.charts import trend_png

    scale = trend.kind in ("scale5", "scale10")
    y_max = 100.0 if not scale else 5.0 if trend.kind == "scale5" else 10.0
    label = t(lang, "report.mean") if scale else t(lang, "report.percent_yes")
    parts = [f'<section aria-labelledby="trend-{index}"><h3 id="trend-{index}">{_e(trend.title)}: '
             f"{_e(trend.question)}</h3>"]
    if draw and any(p.value is not None for p in trend.points):
        png = trend_png("", [(p.opens_at, p.value) for p in trend.points], label, y_max, lang, as_percent=not scale)
        parts.append(_figure(png, t(lang, "report.trend_alt", title=trend.title, question=trend.question)))
    rows = [[_txt(f"{p.opens_at.astimezone(tz):%Y-%m-%d}"),
             _hid(t(lang, "report.too_few")) if p.hidden else _num(p.n),
             _num(trend_value(lang, trend, p.value))] for p in trend.points]
    parts.append(_table([t(lang, "report.col.opens"), t(lang, "report.col.answers"), label], rows))
    parts.append("</section>")
    return "\n".join(parts)


def render_html(report: ReportData, lang: str, tz: Any) -> str:
    """The whole report as one self-contained HTML page (charts inline; no external resources), with
    landmarks and a heading outline for screen readers, cards instead of wide tables on a phone and a
    print style sheet for A4."""
    from bot.charts import grouped_bars_png

    period = report.period
    title = t(lang, "report.title.report", first=str(period.first_day), last=str(period.last_day))
    out = [f'<!DOCTYPE html><html lang="{_e(lang)}"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>",
           f"<header><h1>{_e(title)}</h1>",
           f'<p class="muted">{_e(t(lang, "report.generated", at=f"{report.generated_at.astimezone(tz):%Y-%m-%d %H:%M}"))}'
           f" · {_e(t(lang, 'report.fig.footer', min=report.min_group_size))}</p>"]
    if period.municipality:
        out.append(f"<p><strong>{_e(t(lang, 'report.filtered', municipality=period.municipality))}</strong></p>")
    out.append("</header><main>")
    charts_left = MAX_CHARTS

    out.append(f'<section aria-labelledby="h-surveys"><h2 id="h-surveys">{_e(t(lang, "report.h.surveys"))}</h2>')
    if not report.surveys:
        out.append(f"<p>{_e(t(lang, 'report.none'))}</p>")
    for summary in report.surveys:
        draw = charts_left > 0
        charts_left -= 1 if draw else 0
        out.append(_survey_section(report, summary, lang, tz, draw))
    out.append("</section>")

    out.append(f'<section aria-labelledby="h-trends"><h2 id="h-trends">{_e(t(lang, "report.h.trends"))}</h2>')
    if not report.trends:
        out.append(f"<p>{_e(t(lang, 'report.no_trends'))}</p>")
    for index, trend in enumerate(report.trends):
        draw = charts_left > 0
        charts_left -= 1 if draw else 0
        out.append(_trend_section(trend, lang, tz, index, draw))
    out.append("</section>")

    out.append(f'<section aria-labelledby="h-meetings"><h2 id="h-meetings">{_e(t(lang, "report.h.meetings"))}</h2>')
    if not report.meetings:
        out.append(f"<p>{_e(t(lang, 'report.none'))}</p>")
    else:
        labels = [f"{m.start_at.astimezone(tz):%Y-%m-%d} {m.title}" for m in report.meetings]
        out.append(_figure(grouped_bars_png(t(lang, "report.h.meetings"), labels, [
            (t(lang, "report.col.yes"), [m.yes for m in report.meetings]),
            (t(lang, "report.col.waitlist"), [m.waitlist for m in report.meetings]),
            (t(lang, "report.col.maybe"), [m.maybe for m in report.meetings]),
            (t(lang, "report.col.no"), [m.no for m in report.meetings])]),
            t(lang, "report.meetings_alt")))
        rows = [[_txt(m.title), _txt(f"{m.start_at.astimezone(tz):%Y-%m-%d %H:%M}"), _txt(m.unit or ""),
                 _txt(t(lang, f"report.meeting_status.{m.status}")), _num(m.invited), _num(m.yes),
                 _num(m.waitlist), _num(m.maybe), _num(m.no)] for m in report.meetings]
        out.append(_table([t(lang, f"report.col.{c}") for c in ("meeting", "start", "unit", "status", "invited", "yes",
                                                                   "waitlist", "maybe", "no")], rows))
    out.append("</section>")

    q = report.questions
    out.append(f'<section aria-labelledby="h-questions"><h2 id="h-questions">{_e(t(lang, "report.h.questions"))}</h2>')
    if period.municipality:
        out.append(f'<p class="muted">{_e(t(lang, "report.questions_all"))}</p>')
    out.append(_table([t(lang, f"report.col.{c}") for c in ("asked", "answered", "declined", "helpful", "not_helpful")],
                      [[_num(q.asked), _num(q.answered), _num(q.declined), _num(q.helpful), _num(q.not_helpful)]]))
    if q.by_month:
        out.append(_figure(grouped_bars_png(t(lang, "report.h.per_month"), [m for m, _, _ in q.by_month], [
            (t(lang, "report.col.answered"), [a for _, a, _ in q.by_month]),
            (t(lang, "report.col.declined"), [d for _, _, d in q.by_month])]), t(lang, "report.h.per_month")))
    if q.by_role:
        out.append(f"<p>{_e(t(lang, 'report.h.by_role'))}: {_e(group_line(lang, q.by_role))}</p>")
    if q.by_channel:
        channels = ", ".join(f"{t(lang, f'report.channel.{k}')}: {n}" for k, n in q.by_channel.items())
        out.append(f"<p>{_e(t(lang, 'report.h.by_channel'))}: {_e(channels)}</p>")
    out.append(f'<h3 id="h-unanswered">{_e(t(lang, "report.h.unanswered"))}</h3>')
    if q.top_unanswered:
        out.append(_table([t(lang, "report.col.question"), t(lang, "report.col.times")],
                          [[_txt(text), _num(n)] for text, n in q.top_unanswered]))
    else:
        out.append(f"<p>{_e(t(lang, 'report.none'))}</p>")
    out.append("</section></main>")
    out.append(f'<footer><p class="muted">{_e(t(lang, "report.html_footer"))}</p></footer></body></html>')
    return "\n".join(out)


async def report_html(report: ReportData, lang: str, tz: Any) -> bytes:
    """Charts take a moment to draw: do it off the event loop."""
    return (await asyncio.to_thread(render_html, report, lang, tz)).encode("utf-8")


def report_filename(lang: str, period: Period) -> str:
    return f"{t(lang, 'report.file.report')}-{period.first_day}-{period.last_day}.html"
