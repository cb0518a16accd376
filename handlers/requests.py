"""The gate in front of Bolt for HTTP mode: is this a signed Slack request of a shape Bolt can read?

Bolt parses the body before it verifies the signature, and a broken body (bad JSON in `payload`, a JSON
list, a view submission without `type`) makes it raise, which aiohttp turns into a 500 with a
traceback. So the signature is checked here first (401), then the shape of what Bolt and our listeners
read (400), and only a request that passes both reaches Bolt. Each refusal is one log line.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

log = logging.getLogger(__name__)

MAX_AGE_SECONDS = 5 * 60  # Slack's own advice against replayed requests
INTERACTION_TYPES = {"block_actions", "view_submission", "view_closed", "shortcut", "message_action",
                     "block_suggestion"}


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str


def _is_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _user_id(payload: Mapping[str, Any]) -> bool:
    user = payload.get("user")
    return isinstance(user, dict) and _is_str(user.get("id"))


def interaction_problem(payload: Any) -> str | None:
    """Why an interactivity payload cannot be handled, or None."""
    if not isinstance(payload, dict):
        return "payload is not a JSON object"
    kind = payload.get("type")
    if not _is_str(kind):
        return "payload has no type"
    if kind not in INTERACTION_TYPES:
        return f"payload type {str(kind)[:40]!r} is not one the bot handles"
    if not _user_id(payload):
        return "payload has no user id"
    if kind == "block_actions":
        actions = payload.get("actions")
        if not isinstance(actions, list) or not actions:
            return "block_actions without actions"
        for action in actions:
            if not isinstance(action, dict) or not _is_str(action.get("action_id")):
                return "an action without action_id"
            if "value" in action and not isinstance(action["value"], str):
                return "an action value that is not text"
        for part in ("channel", "container", "message", "view"):
            if part in payload and payload[part] is not None and not isinstance(payload[part], dict):
                return f"{part} is not an object"
    if kind in {"view_submission", "view_closed"}:
        view = payload.get("view")
        if not isinstance(view, dict) or not _is_str(view.get("callback_id")):
            return "view without callback_id"
        state = view.get("state", {"values": {}})
        values = state.get("values") if isinstance(state, dict) else None
        if not isinstance(values, dict) or not all(
                isinstance(block, dict) and all(isinstance(v, dict) for v in block.values())
                for block in values.values()):
            return "view state values are not objects"
        if "private_metadata" in view and not isinstance(view["private_metadata"], str):
            return "view private_metadata is not text"
    return None


def event_problem(body: Any) -> str | None:
    """Why an Events API body cannot be handled, or None."""
    if not isinstance(body, dict):
        return "body is not a JSON object"
    kind = body.get("type")
    if not _is_str(kind):
        return "body has no type"
    if kind == "url_verification":
        return None if _is_str(body.get("challenge")) else "url_verification without challenge"
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not _is_str(event.get("type")):
            return "event without type"
        for name in ("user", "channel", "text", "ts", "thread_ts"):
            if name in event and event[name] is not None and not isinstance(event[name], str):
                return f"event {name} is not text"
    return None


def form_problem(fields: dict[str, list[str]]) -> str | None:
    """Why a form-encoded body (a slash command or an interaction) cannot be handled, or None."""
    if any(len(values) > 1 for values in fields.values()):
        return "a form field is repeated"
    if "payload" in fields:
        try:
            payload = json.loads(fields["payload"][0])
        except ValueError:
            return "payload is not JSON"
        return interaction_problem(payload)
    if "ssl_check" in fields:
        return None
    if not _is_str((fields.get("command") or [""])[0]) or not _is_str((fields.get("user_id") or [""])[0]):
        return "neither a slash command nor an interaction"
    return None


def signed(body: bytes, timestamp: str, signature: str, secret: str, now: float) -> bool:
    """Slack's v0 signature over the raw bytes (slack_sdk's verifier decodes the body first, so a body
    that is not UTF-8 would raise there instead of being judged)."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"v0={digest}", signature)


def check(body: bytes, headers: Mapping[str, str], secret: str, now: float | None = None) -> Refusal | None:
    """None when Bolt may have the request; otherwise the status and one-line reason to log."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not timestamp or not signature:
        return Refusal(401, "missing signature headers")
    if not secret or not signed(body, timestamp, signature, secret, time.time() if now is None else now):
        return Refusal(401, "bad or stale signature")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal(400, "body is not UTF-8")
    content_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            problem = event_problem(json.loads(text))
        except ValueError:
            problem = "body is not JSON"
    elif content_type == "application/x-www-form-urlencoded":
        problem = form_problem(parse_qs(text, keep_blank_values=True))
    else:
        problem = f"content type {content_type[:60]!r}"
    return Refusal(400, problem) if problem else None


def refuse(refusal: Refusal, remote: str | None) -> None:
    log.warning("refused Slack request from %s: %s (%s)", remote or "?", refusal.reason, refusal.status)
