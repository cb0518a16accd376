"""The pupil pages over aiohttp: GET and POST /s/{token}.

Served next to the Slack endpoints in HTTP mode, on PORT beside the socket in Socket Mode, and alone
by `python -m bot.web`. Answers go through the same survey core as Slack taps, with a `Respondent`
whose key is a hash of the browser's random cookie, so the core's anonymity rules apply unchanged.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.errors import UserError
from bot.i18n import t
from bot.settings import WEB_LANGUAGES
from bot.surveys import delivery, service
from bot.surveys.links import LinkInfo, claim_answer, link_for_token, release_answer
from bot.surveys.models import MAX_TEXT_ANSWER, Respondent, Status, Survey
from bot.ui import local_time
from bot.web import pages
from bot.web.answers import ParsedAnswers, parse_answers, stored_as_kept
from bot.web.ratelimit import SharedRateLimiter
from bot.web.security import (
    CHANGE_COOKIE_NAME,
    COOKIE_NAME,
    MAX_BODY_BYTES,
    MAX_FORM_FIELDS,
    BodyTooLarge,
    clear_change_cookie,
    client_ip,
    csrf_ok,
    csrf_token,
    new_respondent_id,
    page_language,
    parse_proxies,
    read_body,
    respondent_key,
    set_change_cookie,
    set_respondent_cookie,
    valid_respondent_id,
)

if TYPE_CHECKING:
    from bot.runtime import Bot

log = logging.getLogger(__name__)

ROUTE = "/s/{token}"
FEED_ROUTE = "/cal/{token}.ics"
THANKS_ROUTE = "/s/{token}/tack"
PAGE_LIMIT_PER_MINUTE = 240  # per link and address; a class behind one school IP opens the page ~30 times
POST_LIMIT_PER_MINUTE = 60
RESPONDENT_ROLE = "pupil"  # the link is shared with pupils on the class's learning platform


def _first(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


def survey_languages(survey: Survey) -> list[str]:
    """The survey's own language first, then every pupils' page language it is fully translated into."""
    found = [survey.lang]
    for lang in WEB_LANGUAGES:
        if lang != survey.lang and all(lang in q.translations for q in survey.questions):
            found.append(lang)
    return found


class PupilPages:
    """The handlers, bound to one Bot; rate limits are shared by every instance through the database."""

    def __init__(self, bot: Bot, page_limit: int = PAGE_LIMIT_PER_MINUTE,
                 post_limit: int = POST_LIMIT_PER_MINUTE) -> None:
        self.bot = bot
        now = lambda: bot.clock.now().timestamp()  # noqa: E731  (the bot's clock: windows a test can hold still)
        self.page_limiter = SharedRateLimiter(bot.db, "page", page_limit, now=now)
        self.post_limiter = SharedRateLimiter(bot.db, "post", post_limit, now=now)
        self.proxies = parse_proxies(bot.settings.trusted_proxies)

    async def allowed(self, limiter: SharedRateLimiter, request: web.Request) -> bool:
        return await limiter.allow(request.match_info["token"], client_ip(request, self.proxies))

    # --- helpers ----------------------------------------------------------------------------------

    @property
    def secure_cookie(self) -> bool:
        return self.bot.settings.public_url.startswith("https://")

    @staticmethod
    def html(body: str, status: int = 200) -> web.Response:
        response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
        response.headers.update(pages.SECURITY_HEADERS)
        return response

    @staticmethod
    def bare_lang(request: web.Request) -> str:
        """Before the survey is known (not found, rate limited): ?lang= if we speak it, else Swedish."""
        asked = request.query.get("lang")
        return asked if asked in WEB_LANGUAGES else "sv"

    @staticmethod
    def path(request: web.Request) -> str:
        return f"/s/{request.match_info['token']}"

    def languages(self, request: web.Request, survey: Survey, path: str | None = None,
                  **query: str) -> pages.Languages:
        return [(code, pages.with_query(path or self.path(request), lang=code, **query))
                for code in survey_languages(survey)]

    def again_url(self, request: web.Request, lang: str) -> str:
        return pages.with_query(self.path(request), lang=lang)

    def message(self, request: web.Request, lang: str, key: str, status: int, again: bool = False,
                **values: Any) -> web.Response:
        again_url = self.again_url(request, lang) if again else None
        return self.html(pages.message_page(lang, key, again_url, **values), status)

    def not_found(self, lang: str) -> web.Response:
        """The same page for unknown and revoked tokens: nothing tells whether a survey exists."""
        return self.html(pages.message_page(lang, "not_found"), 404)

    def too_many(self, lang: str) -> web.Response:
        response = self.html(pages.message_page(lang, "rate_limited"), 429)
        response.headers["Retry-After"] = "60"
        return response

    async def survey_of(self, request: web.Request) -> tuple[LinkInfo, Survey] | None:
        link = await link_for_token(self.bot.db, request.match_info["token"])
        if link is None:
            return None
        try:
            return link, await service.get_survey(self.bot.db, link.survey_id)
        except UserError:
            return None

    def refusal(self, request: web.Request, survey: Survey, lang: str) -> web.Response | None:
        """A polite page when the survey does not take answers right now, else None."""
        if survey.status == Status.scheduled:
            return self.message(request, lang, "not_open", 403,
                                when=local_time(survey.opens_at, self.bot.settings.tz, lang))
        closes_at = survey.closes_at
        if survey.status != Status.open or (closes_at is not None and closes_at <= self.bot.clock.now()):
            return self.message(request, lang, "closed", 410)
        return None

    def form_page(self, request: web.Request, link: LinkInfo, survey: Survey, lang: str, cookie: str,
                  status: int = 200, changing: bool = False, parsed: ParsedAnswers | None = None,
                  current: dict[int, str] | None = None, form_error: str | None = None,
                  code_error: str | None = None) -> web.Response:
        """The form: empty for a new pupil; prefilled only with what was just sent (`parsed`, when it
        needs fixing) or, when this pupil chose to change their answers, with their own (`current`)."""
        errors = {qid: t(lang, key, limit=MAX_TEXT_ANSWER) for qid, key in parsed.errors.items()} if parsed else {}
        kept = parsed.kept if parsed else stored_as_kept(survey, current or {})
        query = {"change": "1"} if changing else {}
        body = pages.survey_page(survey, lang, self.bot.settings.tz, self.path(request),
                                 csrf_token(cookie, survey.id), self.languages(request, survey, **query),
                                 changing=changing, needs_code=link.needs_code, kept=kept, errors=errors,
                                 form_error=form_error, code_error=code_error)
        return self.html(body, status)

    # --- GET ---------------------------------------------------------------------------------------

    async def show(self, request: web.Request) -> web.Response:
        if not await self.allowed(self.page_limiter, request):
            return self.too_many(self.bare_lang(request))
        found = await self.survey_of(request)
        if found is None:
            return self.not_found(self.bare_lang(request))
        link, survey = found
        lang = page_language(request.query.get("lang"), survey_languages(survey))
        refused = self.refusal(request, survey, lang)
        if refused is not None:
            return refused
        previous = request.cookies.get(CHANGE_COOKIE_NAME)
        if request.query.get("change") == "1" and valid_respondent_id(previous):
            assert previous is not None
            mine = await service.answers_of(self.bot.db, survey.id, respondent_key(previous, survey.id))
            return self.form_page(request, link, survey, lang, previous, changing=True, current=mine)
        if link.full:
            return self.message(request, lang, "full", 403)
        cookie = request.cookies.get(COOKIE_NAME)
        fresh = not valid_respondent_id(cookie)
        if fresh:
            cookie = new_respondent_id()
        assert cookie is not None
        response = self.form_page(request, link, survey, lang, cookie)  # never another pupil's answers
        if fresh:
            set_respondent_cookie(response, cookie, self.secure_cookie)
        if previous is not None:  # a new form closes the last pupil's change window on this device
            clear_change_cookie(response)
        return response

    async def thanks(self, request: web.Request) -> web.Response:
        if not await self.allowed(self.page_limiter, request):
            return self.too_many(self.bare_lang(request))
        found = await self.survey_of(request)
        if found is None:
            return self.not_found(self.bare_lang(request))
        _link, survey = found
        lang = page_language(request.query.get("lang"), survey_languages(survey))
        answered = int(request.query["n"]) if request.query.get("n", "").isdigit() else 0
        answered = min(answered, len(survey.questions))
        can_change = valid_respondent_id(request.cookies.get(CHANGE_COOKIE_NAME)) and survey.is_open
        change_url = pages.with_query(self.path(request), lang=lang, change="1") if can_change else None
        new_url = pages.with_query(self.path(request), lang=lang, new="1")
        results = await self.shown_results(survey, lang) if survey.show_results else None
        body = pages.thanks_page(survey, lang, self.bot.settings.tz, answered, new_url, change_url, results,
                                 self.languages(request, survey, f"{self.path(request)}/tack", n=str(answered)))
        return self.html(body)

    async def shown_results(self, survey: Survey, lang: str) -> str:
        """The results a respondent may see: the one place the pupils' page meets the disclosure rules
        (bot.disclosure through the results, with the pupils' threshold: these are pupils' answers)."""
        settings = self.bot.settings
        results = await service.results(self.bot.db, None, survey.id, settings.min_group_size,
                                        settings.min_group_size_pupils)
        return pages.results_html(results, lang, results.min_group_size)

    # --- calendar feeds ----------------------------------------------------------------------------

    async def calendar_feed(self, request: web.Request) -> web.Response:
        """A person's meetings as a subscribed calendar (Outlook, Google poll it); 404 for unknown tokens."""
        from bot.conferences import ics
        from bot.conferences.feeds import feed_owner, meetings_for

        if not await self.allowed(self.page_limiter, request):
            return web.Response(status=429, headers={"Retry-After": "60"})
        owner = await feed_owner(self.bot.db, request.match_info["token"])
        if owner is None:
            return web.Response(status=404, text="Not found", headers={"X-Robots-Tag": "noindex, nofollow"})
        actor = await self.bot.actor(owner)
        now = self.bot.clock.now()
        meetings = await meetings_for(self.bot.db, owner, now)
        body = ics.calendar(meetings, self.bot.settings.tz, actor.lang, now,
                            name=t(actor.lang, "conf.feed.name"), feed=True)
        return web.Response(body=body, content_type="text/calendar", charset="utf-8", headers={
            "Cache-Control": "private, max-age=300", "X-Robots-Tag": "noindex, nofollow",
            "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"})

    # --- POST --------------------------------------------------------------------------------------

    async def submit(self, request: web.Request) -> web.Response:
        lang = self.bare_lang(request)
        if not await self.allowed(self.post_limiter, request):
            return self.too_many(lang)
        found = await self.survey_of(request)
        if found is None:
            return self.not_found(lang)
        link, survey = found
        languages = survey_languages(survey)
        lang = page_language(lang, languages)
        if request.content_type != "application/x-www-form-urlencoded":
            return self.message(request, lang, "bad_request", 400, again=True)
        try:
            body = await read_body(request, MAX_BODY_BYTES)
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
        except BodyTooLarge:
            return self.message(request, lang, "too_large", 413, again=True)
        except ValueError:  # not UTF-8, or too many fields
            return self.message(request, lang, "bad_request", 400, again=True)
        lang = page_language(_first(form, "lang"), languages)
        changing = _first(form, "change") == "1"
        cookie = request.cookies.get(CHANGE_COOKIE_NAME if changing else COOKIE_NAME)
        if not csrf_ok(cookie, survey.id, _first(form, "csrf")):
            return self.message(request, lang, "expired", 403, again=True)
        assert cookie is not None
        refused = self.refusal(request, survey, lang)
        if refused is not None:
            return refused
        parsed = parse_answers(survey, form)
        if parsed.errors or parsed.empty:
            form_error = t(lang, "web.page.error_empty") if not parsed.errors else None
            return self.form_page(request, link, survey, lang, cookie, 400, changing=changing, parsed=parsed,
                                  form_error=form_error)
        now = self.bot.clock.now()
        if not changing:
            refused_why = await claim_answer(self.bot.db, link, _first(form, "code"), now)
            if refused_why == "full":
                return self.message(request, lang, "full", 403)
            if refused_why == "code":
                return self.form_page(request, link, survey, lang, cookie, 400, parsed=parsed,
                                      code_error=t(lang, "web.page.error_code"))
        respondent = Respondent(key=respondent_key(cookie, survey.id), role=RESPONDENT_ROLE)
        try:
            await service.record_answers(self.bot.db, survey.id, respondent, parsed.raw, now)
        except UserError as exc:
            if not changing:
                await release_answer(self.bot.db, link)
            if exc.key == "surveys.answer.closed":
                return self.message(request, lang, "closed", 410)
            if exc.key == "surveys.answer.not_open":
                return self.message(request, lang, "not_open", 403,
                                    when=local_time(survey.opens_at, self.bot.settings.tz, lang))
            return self.form_page(request, link, survey, lang, cookie, 400, changing=changing, parsed=parsed,
                                  form_error=t(lang, "web.page.error_invalid"))
        try:
            await delivery.live_update(self.bot, survey.id)  # the count in the Slack channel message
        except Exception:
            log.exception("live update after a web answer failed for survey %s", survey.id)
        answered = sum(1 for value in parsed.raw.values() if value.strip())
        # Post–redirect–get: reloading the thank-you page never sends the answers again. The next pupil
        # on this device gets a fresh id; this pupil keeps theirs briefly, to change the answers.
        response = web.Response(status=303, headers={
            **pages.SECURITY_HEADERS, "Location": pages.with_query(f"{self.path(request)}/tack", lang=lang,
                                                                  n=str(answered))})
        set_respondent_cookie(response, new_respondent_id(), self.secure_cookie)
        set_change_cookie(response, cookie, self.secure_cookie)
        return response


_TOKEN_IN_PATH = re.compile(r"^/(s|cal)/[^/?]+")


class PrivateAccessLogger(AbstractAccessLogger):
    """Access log lines without what must not end up in log files: the link token (anyone holding it
    can answer) and the pupils' IP addresses. Use as `web.AppRunner(app, access_log_class=...)`."""

    def log(self, request: Any, response: Any, time: float) -> None:
        path = _TOKEN_IN_PATH.sub(lambda m: f"/{m.group(1)}/<token>", request.path)
        self.logger.info('"%s %s" %s %.3fs', request.method, path, response.status, time)


def add_routes(app: web.Application, bot: Bot, **limits: int) -> PupilPages:
    """GET and POST /s/{token}, the thank-you page and the calendar feeds /cal/{token}.ics on an existing
    aiohttp application (the Slack one, or our own)."""
    handlers = PupilPages(bot, **limits)
    app.router.add_get(ROUTE, handlers.show)
    app.router.add_post(ROUTE, handlers.submit)
    app.router.add_get(THANKS_ROUTE, handlers.thanks)
    app.router.add_get(FEED_ROUTE, handlers.calendar_feed)
    return handlers


def healthz_handler(bot: Bot) -> Any:
    """GET /healthz: database reachability and due-item lag (bot/health.py)."""
    from bot.health import health

    async def healthz(_request: web.Request) -> web.Response:
        report, status = await health(bot)
        return web.json_response(report, status=status)

    return healthz


def pupil_app(bot: Bot, **limits: int) -> web.Application:
    """Only the pupil pages and GET /healthz (Socket Mode and `python -m bot.web`)."""
    app = web.Application()
    add_routes(app, bot, **limits)
    app.router.add_get("/healthz", healthz_handler(bot))
    return app


async def serve_pupil_pages(bot: Bot, port: int) -> web.AppRunner | None:
    """The pupil pages (and GET /healthz) on PORT beside Socket Mode or the console; a busy port is
    logged, not fatal, because the rest of the bot works without them."""
    runner = web.AppRunner(pupil_app(bot), access_log_class=PrivateAccessLogger)
    await runner.setup()
    try:
        await web.TCPSite(runner, "0.0.0.0", port).start()
    except OSError as exc:
        log.error("pupil survey pages not served: port %s: %s", port, exc)
        await runner.cleanup()
        return None
    return runner
