"""The lead's side of pupil links, in the front-end neutral UI model: the "Webblänk för elever" button,
`/syv enkät länk <id> [max N] [koder N]` (with the QR code, the A4 poster and the sheet of pupil codes)
and revoking. Slack and the console render these replies like any other."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import UserError
from bot.i18n import t, words
from bot.ids import parse_id
from bot.surveys import service
from bot.surveys.links import create_link, link_url, revoke_links
from bot.surveys.models import Status
from bot.surveys.qr import codes_sheet_html, poster_html, qr_png, qr_svg
from bot.ui import Actions, Block, Button, Context, Message, Outcome, Reply, SendFile, Text, esc, local_time
from bot.users import Actor, require_lead

if TYPE_CHECKING:
    from bot.runtime import Bot

LINK_ACTION = "survey:link"  # on the lead's survey controls (bot/surveys/views.py)
REVOKE_ACTION = "survey:unlink"


def _number(text: str) -> int:
    number = parse_id(text.strip().lstrip("#"))
    if number is None:
        raise UserError("web.link.usage")
    return number


def _reply(text: str, *more: Block) -> list[Outcome]:
    return [Reply(message=Message(text=text, blocks=[Text(text=text), *more]))]


async def link_outcomes(bot: Bot, actor: Actor, survey_id: int, max_answers: int | None = None,
                        code_count: int = 0) -> list[Outcome]:
    """Create a pupil link and show its URL (once: only its hash is stored) with a button to revoke it,
    then its QR code (PNG, SVG), an A4 poster and, with codes, the sheet of one-time pupil codes."""
    require_lead(actor)
    lang = actor.lang
    created = await create_link(bot.db, actor, survey_id, bot.clock.now(), max_answers, code_count)
    survey = await service.get_survey(bot.db, survey_id)
    url = link_url(bot.settings.public_url, created.token)
    heading = t(lang, "web.link.created", id=survey.id, title=esc(survey.title_in(lang)))
    blocks: list[Block] = [Text(text=heading), Text(text=esc(url)), Context(text=t(lang, "web.link.share_hint"))]
    if max_answers is not None:
        blocks.append(Context(text=t(lang, "web.link.limits", max=max_answers)))
    if created.codes:
        blocks.append(Context(text=t(lang, "web.link.codes", count=len(created.codes))))
    blocks.append(Context(text=t(lang, "web.link.qr")))
    if survey.status == Status.scheduled:
        blocks.append(Context(text=t(lang, "web.link.scheduled",
                                     when=local_time(survey.opens_at, bot.settings.tz, lang))))
    blocks.append(Context(text=t(lang, "web.link.revoke_hint", id=survey.id)))
    blocks.append(Actions(buttons=[Button(label=t(lang, "web.button.revoke"), action=REVOKE_ACTION,
                                          value=f"{survey.id}:{created.link_id}", style="danger")]))
    # The poster speaks the survey's language (the pupils'), the lead's files are named in the lead's.
    poster_lang = survey.lang if survey.lang in ("sv", "en") else lang
    title = survey.title_in(poster_lang)
    name = f"enkat-{survey.id}-lank-{created.link_id}"
    outcomes: list[Outcome] = [
        Reply(message=Message(text=f"{heading} {esc(url)}", blocks=blocks)),
        SendFile(filename=f"{name}-qr.png", content=qr_png(url), title=f"QR {survey.title_in(lang)}"),
        SendFile(filename=f"{name}-qr.svg", content=qr_svg(url), title=f"QR {survey.title_in(lang)} (SVG)"),
        SendFile(filename=f"{name}-affisch.html", content=poster_html(title, url, poster_lang, survey.anonymity.value),
                 title=t(lang, "web.poster.title", title=survey.title_in(lang)))]
    if created.codes:
        outcomes.append(SendFile(filename=f"{name}-elevkoder.html",
                                 content=codes_sheet_html(title, url, created.codes, poster_lang),
                                 title=t(lang, "web.codes.title", title=survey.title_in(lang))))
    return outcomes


def _limits(words_after: list[str]) -> tuple[int | None, int]:
    """`max 30` and/or `koder 28` after the survey's number."""
    max_answers: int | None = None
    codes = 0
    pairs = iter(words_after)
    for word in pairs:
        number = next(pairs, "")
        if not number.isdigit():
            raise UserError("web.link.usage")
        if word.lower() in words("web.words.max"):
            max_answers = int(number)
        elif word.lower() in words("web.words.codes"):
            codes = int(number)
        else:
            raise UserError("web.link.usage")
    return max_answers, codes


async def revoke_outcomes(bot: Bot, actor: Actor, survey_id: int, link_id: int | None = None) -> list[Outcome]:
    require_lead(actor)
    count = await revoke_links(bot.db, actor, survey_id, bot.clock.now(), link_id)
    if count == 0:
        return _reply(t(actor.lang, "web.link.none_active", id=survey_id))
    return _reply(t(actor.lang, "web.link.revoked", id=survey_id, count=count))


async def on_link_click(bot: Bot, actor: Actor, value: str) -> list[Outcome]:
    """The "Webblänk för elever" button: its value is the survey id."""
    return await link_outcomes(bot, actor, _number(value))


async def on_revoke_click(bot: Bot, actor: Actor, value: str) -> list[Outcome]:
    """The "Återkalla länken" button: "<survey id>:<link id>"."""
    survey_id, _, link_id = value.partition(":")
    return await revoke_outcomes(bot, actor, _number(survey_id), _number(link_id) if link_id else None)


async def link_command(bot: Bot, actor: Actor, rest: str) -> list[Outcome] | None:
    """`/syv enkät länk 12` and `/syv enkät länk återkalla 12`; None when `rest` is something else."""
    parts = rest.strip().split()
    if not parts or parts[0].lower() not in words("web.words.link"):
        return None
    require_lead(actor)
    if len(parts) == 3 and parts[1].lower() in words("web.words.revoke"):
        return await revoke_outcomes(bot, actor, _number(parts[2]))
    if len(parts) < 2:
        raise UserError("web.link.usage")
    max_answers, codes = _limits(parts[2:])
    return await link_outcomes(bot, actor, _number(parts[1]), max_answers, codes)
