"""The pupil pages as plain HTML: no JavaScript, no external resources, one inline style sheet.

Built for a phone in a 13-year-old's hand: large tap targets, one column, native radio buttons and
check boxes inside fieldsets with legends (screen readers read the question with every choice), and
errors next to the question they belong to. Every string that a person typed (titles, questions,
options, answers) goes through `h()`; every other text comes from content/locales/*/web.yaml.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from bot.formatting import percent
from bot.i18n import t
from bot.settings import RTL_LANGUAGES
from bot.surveys.models import MAX_TEXT_ANSWER, Question, QuestionKind, Survey
from bot.surveys.results import SurveyResults
from bot.ui import local_time
from bot.web.security import CHANGE_WINDOW_MINUTES as CHANGE_MINUTES

Languages = list[tuple[str, str]]  # (language code, URL of this page in it)

CSS = """
*{box-sizing:border-box}
html{font-size:112.5%;-webkit-text-size-adjust:100%}
body{margin:0;background:#f4f6f8;color:#1a1a1a;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5}
main{max-width:40rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;line-height:1.25;margin:.5rem 0 1rem}
.card{background:#fff;border:1px solid #d0d7de;border-radius:.75rem;padding:1rem;margin:0 0 1rem}
.card>p:first-child,.card>h2:first-child{margin-top:0}.card>p:last-child{margin-bottom:0}
.mode{border-inline-start:.4rem solid #2f6f4f}
.mode strong{display:block}
fieldset{border:1px solid #d0d7de;border-radius:.75rem;background:#fff;padding:1rem;margin:0 0 1rem;min-width:0}
legend{font-weight:700;font-size:1.1rem;padding:0 .25rem;float:left;width:100%;margin-bottom:.5rem}
legend+*{clear:both}
.hint{color:#4a4a4a;margin:.25rem 0 .75rem;font-size:.95rem}
.choices{display:flex;flex-wrap:wrap;gap:.5rem}
.choices.list{flex-direction:column}
.choice{display:flex;align-items:center;gap:.6rem;min-height:3rem;min-width:3rem;padding:.6rem .9rem;border:2px solid #8c959f;border-radius:.6rem;background:#fff;cursor:pointer}
.choice input{width:1.4rem;height:1.4rem;margin:0;accent-color:#2f6f4f;flex:none}
.choice:has(input:checked){border-color:#2f6f4f;background:#e8f3ec}
.choice:focus-within{outline:3px solid #1f5fbf;outline-offset:2px}
textarea{width:100%;min-height:7rem;font:inherit;padding:.75rem;border:2px solid #8c959f;border-radius:.6rem}
textarea:focus{outline:3px solid #1f5fbf;outline-offset:2px}
.error{color:#a40e26;font-weight:700;margin:.25rem 0 .5rem}
fieldset.invalid,.card.invalid{border:2px solid #a40e26}
.alert{background:#fff0f0;border:2px solid #a40e26;border-radius:.75rem;padding:1rem;margin:0 0 1rem}
button{display:block;width:100%;min-height:3.2rem;font:inherit;font-weight:700;font-size:1.1rem;color:#fff;background:#2f6f4f;border:0;border-radius:.75rem;padding:.8rem 1rem;cursor:pointer}
button:focus{outline:3px solid #1f5fbf;outline-offset:3px}
a{color:#1f5fbf}
.button-link{display:block;text-align:center;min-height:3.2rem;padding:.8rem 1rem;border:2px solid #2f6f4f;border-radius:.75rem;color:#2f6f4f;font-weight:700;text-decoration:none}
.lang ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;justify-content:flex-end;gap:.25rem}
.lang a{display:inline-block;padding:.5rem;min-height:2.75rem}
.lang [aria-current]{font-weight:700;color:inherit;text-decoration:none}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.choices.scale{display:grid;gap:.3rem}.choices.s5{grid-template-columns:repeat(5,minmax(0,1fr))}
.choices.s11{grid-template-columns:repeat(11,minmax(0,1fr));gap:.15rem}
.choices.scale .choice{flex-direction:column;justify-content:center;gap:.2rem;min-width:0;padding:.45rem 0;text-align:center}
.choices.s11 .choice input{width:1.1rem;height:1.1rem}.choices.s11 .choice{font-size:.85rem}
.ends{display:flex;justify-content:space-between;gap:1rem;font-size:.9rem;color:#4a4a4a;margin:.3rem 0 0}
input[type=text]{width:100%;font:inherit;padding:.6rem;border:2px solid #8c959f;border-radius:.6rem;letter-spacing:.1em;text-transform:uppercase}
input[type=text]:focus{outline:3px solid #1f5fbf;outline-offset:2px}
.result{margin:0 0 .6rem}.result span{display:block}.result progress{width:100%;height:1rem}
footer{color:#4a4a4a;font-size:.85rem;max-width:40rem;margin:.5rem auto 2rem;padding:0 1rem}
.lang{max-width:40rem;margin:0 auto;padding:.5rem 1rem 0}
@media (prefers-color-scheme:dark){body{background:#111;color:#eee}.card,fieldset,.choice{background:#1c1c1c;border-color:#555}
.choice:has(input:checked){background:#1e3a2b}.hint,footer{color:#bbb}a{color:#8ab4f8}textarea{background:#1c1c1c;color:#eee}
.alert{background:#3a1c1c}.button-link{color:#8fd1ad;border-color:#8fd1ad}.ends{color:#bbb}
input[type=text]{background:#1c1c1c;color:#eee}}
""".strip()

# The Content-Security-Policy allows exactly this style sheet and nothing else (no scripts at all).
CSS_HASH = "sha256-" + base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
SECURITY_HEADERS = {
    "Content-Security-Policy": f"default-src 'none'; style-src '{CSS_HASH}'; img-src 'none'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",  # the token in the URL never leaves in a Referer header
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
}


def h(text: object) -> str:
    """HTML-escape anything shown on a page, quotes included (safe in attributes too)."""
    return html.escape(str(text), quote=True)


def language_nav(lang: str, languages: Languages | None) -> str:
    """Links to this page in the survey's other languages, each named in its own language."""
    if not languages or len(languages) < 2:
        return ""
    items = []
    for code, url in languages:
        name = h(t(code, "web.page.language_name"))
        direction = "rtl" if code in RTL_LANGUAGES else "ltr"
        if code == lang:
            items.append(f'<li><a href="{h(url)}" aria-current="page" lang="{h(code)}" dir="{direction}">{name}</a></li>')
        else:
            items.append(f'<li><a href="{h(url)}" lang="{h(code)}" hreflang="{h(code)}" dir="{direction}">{name}</a></li>')
    return f'<nav class="lang" aria-label="{h(t(lang, "web.page.languages"))}"><ul>{"".join(items)}</ul></nav>'


def page(lang: str, title: str, body: str, languages: Languages | None = None) -> str:
    """A whole document in `lang` (right to left for Arabic and Dari) with the language links on top."""
    direction = "rtl" if lang in RTL_LANGUAGES else "ltr"
    return (
        f'<!doctype html>\n<html lang="{h(lang)}" dir="{direction}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex, nofollow">'
        f"<title>{h(title)}</title><style>{CSS}</style></head>"
        f"<body>{language_nav(lang, languages)}<main>{body}</main>"
        f'<footer><p>{h(t(lang, "web.page.cookie_note"))}</p></footer></body></html>\n'
    )


def message_page(lang: str, key: str, again_url: str | None = None, **values: Any) -> str:
    """A short page with a heading and a sentence: closed, not found, try again, ..."""
    title = t(lang, f"web.page.{key}.title")
    body = f'<h1>{h(title)}</h1><div class="card"><p>{h(t(lang, f"web.page.{key}.text", **values))}</p></div>'
    if again_url is not None:
        body += f'<p><a class="button-link" href="{h(again_url)}">{h(t(lang, "web.page.again"))}</a></p>'
    return page(lang, title, body)


def with_query(path: str, **params: str) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    return f"{path}?{query}" if query else path


# --- the survey form --------------------------------------------------------------------------------

def mode_box(survey: Survey, lang: str) -> str:
    mode = survey.anonymity.value
    return (f'<div class="card mode"><strong>{h(t(lang, f"web.mode.{mode}.title"))}</strong>'
            f' {h(t(lang, f"web.mode.{mode}.text"))}</div>')


def _choice(name: str, kind: str, value: str, label: str, checked: bool, extra: str = "") -> str:
    mark = " checked" if checked else ""
    return (f'<label class="choice"><input type="{kind}" name="{h(name)}" value="{h(value)}"{mark}{extra}>'
            f"<span>{label}</span></label>")


def _choices(question: Question, lang: str) -> tuple[str, list[tuple[str, str]], str]:
    """(input type, [(value, escaped label)], layout class) for a question that is not free text.

    A scale's choices are its numbers on one row (a grid, so 1-5 and 0-10 fit a 360 px phone); the
    end labels are read with the end numbers by screen readers and shown under the row."""
    own = question.localized(lang)
    if question.kind.is_scale:
        values = question.kind.scale_values()
        ends = {values[0]: own.low_label, values[-1]: own.high_label}
        pairs = [(str(v), f'{v}<span class="sr"> – {h(ends[v])}</span>' if ends.get(v) else str(v)) for v in values]
        return "radio", pairs, f"scale s{len(values)}"
    if question.kind == QuestionKind.yesno:
        return "radio", [("yes", h(t(lang, "web.page.yes"))), ("no", h(t(lang, "web.page.no")))], ""
    kind = "checkbox" if question.kind == QuestionKind.multi else "radio"
    return kind, [(str(i), h(option)) for i, option in enumerate(own.options)], "list"


def question_html(question: Question, number: int, total: int, lang: str, kept: str | list[str] | None,
                  error: str | None) -> str:
    own = question.localized(lang)
    name = f"q{question.id}"
    prefix = f"{number}. " if total > 1 else ""
    error_id = f"{name}-error"
    error_html = f'<p class="error" id="{error_id}">{h(error)}</p>' if error else ""
    described = f' aria-describedby="{error_id}"' if error else ""
    invalid = ' class="invalid"' if error else ""
    if question.kind == QuestionKind.text:
        hint_id = f"{name}-hint"
        text = kept if isinstance(kept, str) else ""
        return (f'<div class="card{" invalid" if error else ""}"><label for="{name}"><strong>{prefix}{h(own.text)}'
                f'</strong></label><p class="hint" id="{hint_id}">{h(t(lang, "web.page.text_limit", limit=MAX_TEXT_ANSWER))}'
                f'</p>{error_html}<textarea id="{name}" name="{name}" maxlength="{MAX_TEXT_ANSWER}" rows="4" '
                f'aria-describedby="{hint_id}{" " + error_id if error else ""}">{h(text)}</textarea></div>')
    kind, pairs, layout = _choices(question, lang)
    chosen = set(kept) if isinstance(kept, list) else {kept} if kept else set()
    hint = ""
    ends = ""
    if question.kind == QuestionKind.multi:
        hint = t(lang, "web.page.multi_hint")
    elif question.kind.is_scale and (own.low_label or own.high_label):
        values = question.kind.scale_values()
        hint = t(lang, "web.page.scale_hint", low=values[0], high=values[-1], low_label=own.low_label or "",
                 high_label=own.high_label or "")
        ends = (f'<p class="ends" aria-hidden="true"><span>{values[0]} = {h(own.low_label or "")}</span>'
                f'<span>{values[-1]} = {h(own.high_label or "")}</span></p>')
    hint_html = f'<p class="hint">{h(hint)}</p>' if hint else ""
    choices = "".join(_choice(name, kind, value, label, value in chosen) for value, label in pairs)
    return (f"<fieldset{invalid}{described}><legend>{prefix}{h(own.text)}</legend>{hint_html}{error_html}"
            f'<div class="choices {layout}">{choices}</div>{ends}</fieldset>')


def survey_page(survey: Survey, lang: str, tz: Any, action: str, csrf: str, languages: Languages | None,
                changing: bool = False, needs_code: bool = False, kept: dict[int, str | list[str]] | None = None,
                errors: dict[int, str] | None = None, form_error: str | None = None,
                code_error: str | None = None) -> str:
    """The whole survey on one page; `kept` and `errors` re-show what was sent when something was wrong,
    or what this pupil just sent when they chose to change it (`changing`)."""
    kept = kept or {}
    errors = errors or {}
    title = survey.title_in(lang)
    parts = [f"<h1>{h(title)}</h1>", mode_box(survey, lang)]
    notes = [t(lang, "web.page.optional_note")]
    if survey.closes_at is not None:
        notes.append(t(lang, "web.page.closes", when=local_time(survey.closes_at, tz, lang)))
    if changing:
        notes.append(t(lang, "web.page.changing"))
    parts.append('<div class="card">' + "".join(f"<p>{h(n)}</p>" for n in notes) + "</div>")
    wrong = ", ".join(str(n) for n, q in enumerate(survey.questions, 1) if q.id in errors)
    problems = ([form_error] if form_error else []) + ([t(lang, "web.page.errors_below", numbers=wrong)] if errors else [])
    if code_error:
        problems.append(code_error)
    if problems:
        parts.append('<div class="alert" role="alert">' + "".join(f"<p>{h(p)}</p>" for p in problems) + "</div>")
    total = len(survey.questions)
    code = ""
    if needs_code and not changing:
        invalid = " invalid" if code_error else ""
        code = (f'<div class="card{invalid}"><label for="code"><strong>{h(t(lang, "web.page.code_label"))}</strong>'
                f'</label><p class="hint" id="code-hint">{h(t(lang, "web.page.code_hint"))}</p>'
                f'<input type="text" id="code" name="code" autocomplete="off" autocapitalize="characters" '
                f'spellcheck="false" maxlength="16" required aria-describedby="code-hint"></div>')
    fields = "".join(question_html(q, n, total, lang, kept.get(q.id), errors.get(q.id))
                     for n, q in enumerate(survey.questions, 1))
    change = '<input type="hidden" name="change" value="1">' if changing else ""
    parts.append(f'<form method="post" action="{h(action)}" accept-charset="utf-8">'
                 f'<input type="hidden" name="csrf" value="{h(csrf)}">'
                 f'<input type="hidden" name="lang" value="{h(lang)}">{change}{code}{fields}'
                 f'<button type="submit">{h(t(lang, "web.page.send"))}</button></form>')
    return page(lang, title, "".join(parts), languages)


def results_html(results: SurveyResults, lang: str, min_size: int) -> str:
    """What everyone has answered so far, for a survey whose lead chose to show it to respondents:
    only questions with at least `min_size` answers, never free text."""
    parts = [f'<section class="card" aria-labelledby="results-h"><h2 id="results-h">'
             f'{h(t(lang, "web.page.results.title"))}</h2>']
    for index, result in enumerate(results.questions, 1):
        question = result.question
        own = question.localized(lang)
        if question.kind == QuestionKind.text:
            continue
        parts.append(f"<h3>{index}. {h(own.text)}</h3>")
        if result.hidden or result.n < min_size or not result.bars:
            parts.append(f'<p>{h(t(lang, "web.page.results.too_few"))}</p>')
            continue
        parts.append(f'<p class="hint">{h(t(lang, "web.page.results.answers", n=result.n))}</p>')
        for bar in result.bars:
            if question.kind == QuestionKind.yesno:
                label = t(lang, f"web.page.{bar.value}")
            elif question.kind.has_options:
                label = own.options[int(bar.value)] if int(bar.value) < len(own.options) else bar.value
            else:
                label = bar.value
            shown = percent(lang, bar.percent)
            parts.append(f'<div class="result"><span>{h(label)}: {h(shown)}</span>'
                         f'<progress max="100" value="{round(bar.percent)}" aria-label="{h(label)}">{h(shown)}'
                         f"</progress></div>")
    parts.append("</section>")
    return "".join(parts)


def thanks_page(survey: Survey, lang: str, tz: Any, answered: int, new_url: str, change_url: str | None,
                results: str | None, languages: Languages | None) -> str:
    """After sending (post–redirect–get): "Tack!", then for the next pupil on this device a clean start;
    changing the answers just sent is a separate, explicit choice while the change window lasts."""
    title = t(lang, "web.page.thanks.title")
    lines: Iterable[str] = [t(lang, "web.page.thanks.text", answered=answered, total=len(survey.questions))]
    if survey.closes_at is not None:
        lines = [*lines, t(lang, "web.page.closes", when=local_time(survey.closes_at, tz, lang))]
    body = (f"<h1>{h(title)}</h1><p>{h(survey.title_in(lang))}</p><div class=\"card\">"
            + "".join(f"<p>{h(line)}</p>" for line in lines) + "</div>"
            + f'<p><a class="button-link" href="{h(new_url)}">{h(t(lang, "web.page.new_pupil"))}</a></p>')
    if results:
        body += results
    if change_url is not None:
        body += (f'<div class="card"><p>{h(t(lang, "web.page.change_hint", minutes=CHANGE_MINUTES))}</p>'
                 f'<p><a href="{h(change_url)}">{h(t(lang, "web.page.change"))}</a></p></div>')
    return page(lang, title, body, languages)
