"""What keeps the pupil pages safe without accounts: the browser's random respondent id, the CSRF
token bound to it, a rate limit per link and address shared by all instances (bot/web/ratelimit.py)
and a cap on the request body.

The respondent id lives in an HttpOnly, SameSite=Lax cookie (Lax so that the first visit from a
learning platform already carries it: no bounce page; every POST still needs the CSRF token). The core
never sees it: it gets `respondent_key(cookie, survey_id)`, a one-way hash per survey, so even a
confidential survey stores no value that would let someone act as that browser, and two surveys'
pseudonyms cannot be matched. After each answer the browser gets a fresh id (the next pupil on a shared
device starts empty); the id just used stays, for CHANGE_WINDOW only, in a second cookie that lets the
same pupil choose to change their answers. Anonymous surveys store not even that (the core's keyed hash,
deleted at close, is all that links a browser to its answers while the survey is open).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import string

from aiohttp import web

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

COOKIE_NAME = "samsyv_respondent"
COOKIE_PATH = "/s/"
COOKIE_MAX_AGE = 24 * 3600  # only while a pupil answers: a fresh id follows every answer anyway
CHANGE_COOKIE_NAME = "samsyv_change"
CHANGE_WINDOW_MINUTES = 10  # "Ändra mina svar" works this long after sending, on the same device
COOKIE_BYTES = 24
_COOKIE_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-_")

MAX_BODY_BYTES = 128 * 1024  # 10 free-text answers of 500 characters, percent-encoded, fit easily
MAX_FORM_FIELDS = 200


class BodyTooLarge(Exception):
    pass


def new_respondent_id() -> str:
    return secrets.token_urlsafe(COOKIE_BYTES)


def valid_respondent_id(value: str | None) -> bool:
    return value is not None and len(value) == 32 and set(value) <= _COOKIE_CHARACTERS


def respondent_key(cookie: str, survey_id: int) -> str:
    """The opaque key the survey core sees for this browser in this survey (never the cookie itself)."""
    return "web:" + hashlib.sha256(f"samsyv-web-respondent|{survey_id}|{cookie}".encode()).hexdigest()[:40]


def csrf_token(cookie: str, survey_id: int) -> str:
    """Bound to the browser's secret cookie: a page on another site cannot know or compute it."""
    return hmac.new(cookie.encode(), f"csrf|{survey_id}".encode(), hashlib.sha256).hexdigest()


def csrf_ok(cookie: str | None, survey_id: int, sent: str | None) -> bool:
    if not valid_respondent_id(cookie) or not sent:
        return False
    assert cookie is not None
    return hmac.compare_digest(csrf_token(cookie, survey_id), sent)


def set_respondent_cookie(response: web.StreamResponse, cookie: str, secure: bool) -> None:
    response.set_cookie(COOKIE_NAME, cookie, max_age=COOKIE_MAX_AGE, path=COOKIE_PATH, httponly=True,
                        samesite="Lax", secure=secure)


def set_change_cookie(response: web.StreamResponse, cookie: str, secure: bool) -> None:
    """The id an answer was just sent with, kept briefly so that pupil may change it."""
    response.set_cookie(CHANGE_COOKIE_NAME, cookie, max_age=CHANGE_WINDOW_MINUTES * 60, path=COOKIE_PATH,
                        httponly=True, samesite="Strict", secure=secure)


def clear_change_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(CHANGE_COOKIE_NAME, path=COOKIE_PATH)


async def read_body(request: web.Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refused as soon as it grows past `limit` (whatever Content-Length claims)."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge()
    body = bytearray()
    async for chunk in request.content.iter_chunked(16 * 1024):
        body.extend(chunk)
        if len(body) > limit:
            raise BodyTooLarge()
    return bytes(body)


def parse_proxies(value: str) -> tuple[IPNetwork, ...]:
    """TRUSTED_PROXIES: comma-separated addresses or networks (10.0.0.5, 10.1.0.0/16); empty: none."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip())


def _trusted(address: str, proxies: tuple[IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_ip(request: web.Request, proxies: tuple[IPNetwork, ...] = ()) -> str:
    """The caller's address. X-Forwarded-For is believed only when the peer is one of TRUSTED_PROXIES
    (the load balancer or reverse proxy in front of the bot), and then only up to the first hop that is
    not itself a trusted proxy, so a client cannot put a made-up address in front."""
    peer = request.remote or "unknown"
    if not proxies or not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer


def page_language(asked: str | None, available: list[str]) -> str:
    """The survey's own language (the first of `available`) unless the pupil chose another it has."""
    return asked if asked in available else available[0]
