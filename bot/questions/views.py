"""How answers look: title, short answer, sources, "read more", feedback; or an honest "I don't know"."""

from __future__ import annotations

import re

from bot.i18n import t
from bot.knowledge import Article
from bot.ui import Actions, Button, Context, Divider, Header, Markdown, Message, Text, esc

_HEADING = re.compile(r"^#{1,6}\s*(.+)$", re.M)
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)\*(?![\w*])")
_BULLET = re.compile(r"^\s*[-*]\s+", re.M)


def markdown_to_mrkdwn(markdown: str) -> str:
    """The article body in Slack's mrkdwn: headings bold, **bold** -> *bold*, [t](u) -> <u|t>.
    Content is written by the project team, but it is still escaped so no `<!channel>` slips through."""
    text = esc(markdown)
    text = _ITALIC.sub(r"_\1_", text)
    text = _BOLD.sub(r"*\1*", text)
    text = _HEADING.sub(r"*\1*", text)
    text = _BULLET.sub("• ", text)
    return _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", text)


def sources_text(article: Article, lang: str) -> str:
    links = " · ".join(f"<{s.url}|{esc(s.title)}>" for s in article.sources)
    return f"{t(lang, 'questions.sources')}: {links}"


def answer_message(article: Article, lang: str, question_id: int | None, other_language: bool,
                   runner_up: Article | None = None) -> Message:
    """The answer card; feedback buttons only when it answers a logged question; the runner-up as
    "Did you mean ...?" when the question sat between two articles."""
    blocks: list = [
        Header(text=esc(article.title)),
        Markdown(text=esc(article.summary), fallback=markdown_to_mrkdwn(article.summary)),
    ]
    if other_language:
        blocks.append(Context(text=t(lang, "questions.other_language")))
    blocks += [
        Context(text=sources_text(article, lang)),
        Actions(buttons=[
            Button(label=t(lang, "questions.read_more"), action="q:more", value=f"{article.id}|{article.lang}"),
            *([Button(label="👍", action="q:fb", value=f"{question_id}|up"),
               Button(label="👎", action="q:fb", value=f"{question_id}|down")] if question_id is not None else []),
        ]),
    ]
    if runner_up is not None:
        blocks += [Text(text=t(lang, "questions.did_you_mean", title=esc(runner_up.title))),
                   Actions(buttons=[Button(label=esc(runner_up.title), action="q:show",
                                           value=f"{runner_up.id}|{runner_up.lang}")])]
    return Message(text=f"{article.title}: {article.summary}", blocks=blocks)


def unsure_message(lang: str, question_id: int, closest: list[Article], can_forward: bool, token: str = "") -> Message:
    buttons = [Button(label=esc(a.title), action="q:show", value=f"{a.id}|{a.lang}") for a in closest[:3]]
    if can_forward:
        buttons.append(Button(label=t(lang, "questions.ask_person"), action="q:ask", value=f"{question_id}|{token}",
                              style="primary"))
    blocks: list = [Text(text=t(lang, "questions.unsure"))]
    if closest:
        blocks.append(Context(text=t(lang, "questions.closest")))
    if buttons:
        blocks.append(Actions(buttons=buttons))
    return Message(text=t(lang, "questions.unsure"), blocks=blocks)


def support_message(lang: str, question_id: int, token: str, can_forward: bool) -> Message:
    """The kind answer to a question that tells of bullying, violence, abuse, self-harm or feeling unsafe."""
    text = t(lang, "questions.safeguarding.text")
    blocks: list = [Text(text=text), Context(text=t(lang, "questions.safeguarding.emergency"))]
    if can_forward:
        blocks.append(Actions(buttons=[Button(label=t(lang, "questions.ask_person"), action="q:ask",
                                              value=f"{question_id}|{token}", style="primary")]))
    return Message(text=text, blocks=blocks)


def article_document(article: Article, lang: str) -> Message:
    return Message(text=article.title, blocks=[
        Header(text=esc(article.title)),
        Markdown(text=esc(article.body), fallback=markdown_to_mrkdwn(article.body)),
        Divider(),
        Context(text=sources_text(article, lang)),
        Context(text=t(lang, "questions.updated", date=article.updated.isoformat())),
    ])


def consent_message(lang: str, value: str, channel: str) -> Message:
    """`value`: the question's id and the asker's token, carried on to the forward button."""
    return Message(text=t(lang, "questions.consent", channel=f"<#{channel}>"), blocks=[
        Text(text=t(lang, "questions.consent", channel=f"<#{channel}>")),
        Actions(buttons=[
            Button(label=t(lang, "questions.consent_yes"), action="q:forward", value=value, style="primary"),
            Button(label=t(lang, "questions.consent_no"), action="q:noforward", value=value),
        ]),
    ])


def forwarded_post(lang: str, user_id: str, question: str) -> Message:
    quoted = "\n".join(f"> {line}" for line in esc(question).splitlines())
    return Message(text=t(lang, "questions.forwarded_post", user=f"<@{user_id}>"), blocks=[
        Text(text=f"{t(lang, 'questions.forwarded_post', user=f'<@{user_id}>')}\n{quoted}"),
        Context(text=t(lang, "questions.forwarded_hint")),
    ])
