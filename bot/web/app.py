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
from bot.surveys import delivery, service
from bot.surveys.links import survey_for_token
from bot.surveys.models import MAX_TEXT_ANSWER, Respondent, Status, Survey
from bot.ui import local_time
from bot.web import pages
from bot.web.answers import ParsedAnswers, parse_answers, stored_as_kept
from bot.web.ratelimit import SharedRateLimiter
from bot.web.security import (
    COOKIE_NAME,
    MAX_BODY_BYTES,
    MAX_FORM_FIELDS,
    BodyTooLarge,
    client_ip,
    csrf_ok,
    csrf_token,
    new_respondent_id,
    parse_proxies,
    preferred_language,
    read_body,
    respondent_key,
    set_respondent_cookie,
    valid_respondent_id,
)

if TYPE_CHECKING:
    from bot.runtime import Bot

log = logging.getLogger(__name__)

ROUTE = "/s/{token}"
PAGE_LIMIT_PER_MINUTE = 240  # per link and address; a class behind one school IP opens the page ~30 times
POST_LIMIT_PER_MINUTE = 60
RESPONDENT_ROLE = "pupil"  # the link is shared with pupils on the class's learning platform


def _first(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


class PupilPages:
    """The handlers, bound to one Bot; rate limits are shared by every instance through the database."""

    def __init__(self, bot: Bot, page_limit: int = PAGE_LIMIT_PER_MINUTE,
                 post_limit: int = POST_LIMIT_PER_MINUTE) -> None:
        self.bot = bot
        self.page_limiter = SharedRateLimiter(bot.db, "page", page_limit)
        self.post_limiter = SharedRateLimiter(bot.db, "post", post_limit)
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
    def lang_of(request: web.Request, posted: str | None = None) -> str:
        return preferred_language(posted or request.query.get("lang"), request.headers.get("Accept-Language"))

    @staticmethod
    def path(request: web.Request) -> str:
        return f"/s/{request.match_info['token']}"

    def switch_url(self, request: web.Request, lang: str) -> str:
        return pages.with_query(self.path(request), lang=t(lang, "web.page.other_lang"))

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

    async def survey_of(self, request: web.Request) -> Survey | None:
        survey_id = await survey_for_token(self.bot.db, request.match_info["token"])
        if survey_id is None:
            return None
        try:
            return await service.get_survey(self.bot.db, survey_id)
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

    def form_page(self, request: web.Request, survey: Survey, lang: str, cookie: str, status: int = 200,
                  answered: bool = False, parsed: ParsedAnswers | None = None, current: dict[int, str] | None = None,
                  form_error: str | None = None) -> web.Response:
        """The form, prefilled with what was just sent (`parsed`) or with the stored answers (`current`)."""
        errors = {qid: t(lang, key, limit=MAX_TEXT_ANSWER) for qid, key in parsed.errors.items()} if parsed else {}
        kept = parsed.kept if parsed else stored_as_kept(survey, current or {})
        body = pages.survey_page(survey, lang, self.bot.settings.tz, self.path(request),
                                 csrf_token(cookie, survey.id), self.switch_url(request, lang), answered=answered,
                                 kept=kept, errors=errors, form_error=form_error)
        return self.html(body, status)

    # --- GET ---------------------------------------------------------------------------------------

    async def show(self, request: web.Request) -> web.Response:
        lang = self.lang_of(request)
        if not await self.allowed(self.page_limiter, request):
            return self.too_many(lang)
        survey = await self.survey_of(request)
        if survey is None:
            return self.not_found(lang)
        refused = self.refusal(request, survey, lang)
        if refused is not None:
            return refused
        cookie = request.cookies.get(COOKIE_NAME)
        fresh = not valid_respondent_id(cookie)
        if fresh:
            if request.query.get("n") != "1":
                return self.html(pages.bounce_page(lang, pages.with_query(self.path(request), lang=lang, n="1")))
            cookie = new_respondent_id()
        assert cookie is not None
        mine = {} if fresh else await service.answers_of(self.bot.db, survey.id, respondent_key(cookie))
        response = self.form_page(request, survey, lang, cookie, answered=bool(mine), current=mine)
        if fresh:
            set_respondent_cookie(response, cookie, self.secure_cookie)
        return response

    # --- POST --------------------------------------------------------------------------------------

    async def submit(self, request: web.Request) -> web.Response:
        lang = self.lang_of(request)
        if not await self.allowed(self.post_limiter, request):
            return self.too_many(lang)
        survey = await self.survey_of(request)
        if survey is None:
            return self.not_found(lang)
        if request.content_type != "application/x-www-form-urlencoded":
            return self.message(request, lang, "bad_request", 400, again=True)
        try:
            body = await read_body(request, MAX_BODY_BYTES)
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
        except BodyTooLarge:
            return self.message(request, lang, "too_large", 413, again=True)
        except ValueError:  # not UTF-8, or too many fields
            return self.message(request, lang, "bad_request", 400, again=True)
        lang = self.lang_of(request, _first(form, "lang"))
        cookie = request.cookies.get(COOKIE_NAME)
        if not csrf_ok(cookie, survey.id, _first(form, "csrf")):
            return self.message(request, lang, "expired", 403, again=True)
        assert cookie is not None
        refused = self.refusal(request, survey, lang)
        if refused is not None:
            return refused
        parsed = parse_answers(survey, form)
        if parsed.errors or parsed.empty:
            form_error = t(lang, "web.page.error_empty") if not parsed.errors else None
            return self.form_page(request, survey, lang, cookie, 400, parsed=parsed, form_error=form_error)
        respondent = Respondent(key=respondent_key(cookie), role=RESPONDENT_ROLE)
        try:
            await service.record_answers(self.bot.db, survey.id, respondent, parsed.raw, self.bot.clock.now())
        except UserError as exc:
            if exc.key == "surveys.answer.closed":
                return self.message(request, lang, "closed", 410)
            if exc.key == "surveys.answer.not_open":
                return self.message(request, lang, "not_open", 403,
                                    when=local_time(survey.opens_at, self.bot.settings.tz, lang))
            return self.form_page(request, survey, lang, cookie, 400, parsed=parsed,
                                  form_error=t(lang, "web.page.error_invalid"))
        try:
            await delivery.live_update(self.bot, survey.id)  # the count in the Slack channel message
        except Exception:
            log.exception("live update after a web answer failed for survey %s", survey.id)
        answered = sum(1 for value in parsed.raw.values() if value.strip())
        return self.html(pages.thanks_page(survey, lang, self.bot.settings.tz, self.again_url(request, lang),
                                           answered))


_TOKEN_IN_PATH = re.compile(r"^/s/[^/?]+")


class PrivateAccessLogger(AbstractAccessLogger):
    """Access log lines without what must not end up in log files: the link token (anyone holding it
    can answer) and the pupils' IP addresses. Use as `web.AppRunner(app, access_log_class=...)`."""

    def log(self, request: Any, response: Any, time: float) -> None:
        path = _TOKEN_IN_PATH.sub("/s/<token>", request.path)
        self.logger.info('"%s %s" %s %.3fs', request.method, path, response.status, time)


def add_routes(app: web.Application, bot: Bot, **limits: int) -> PupilPages:
    """GET and POST /s/{token} on an existing aiohttp application (the Slack one, or our own)."""
    handlers = PupilPages(bot, **limits)
    app.router.add_get(ROUTE, handlers.show)
    app.router.add_post(ROUTE, handlers.submit)
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
