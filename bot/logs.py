"""Logging set-up that keeps personal data and secrets out of every log line, at every level.

- Libraries that log what passes through them are held at WARNING whatever LOG_LEVEL says, and a
  handler filter drops their lower records even if a library lowers its own level (SQLAlchemy's
  engine logger prints every statement with its parameters already at INFO, `echo=True` sets it;
  slack_sdk prints request and response bodies at DEBUG: user ids, message texts, link tokens).
- Slack tokens, configured secrets and pupils' link tokens in /s/<token> paths are redacted.
- Our own log lines name ids of surveys and due-item kinds, never user ids, message bodies or keys.
"""

from __future__ import annotations

import logging
import re
import sys

_TOKEN = re.compile(r"\bx(?:ox[abposr]|app)-[A-Za-z0-9-]+")
_LINK = re.compile(r"/s/[A-Za-z0-9_-]{8,}")
QUIET_LIBRARIES = ("sqlalchemy", "aiosqlite", "asyncpg", "slack_sdk", "slack_bolt", "aiohttp.client",
                   "aiohttp.server", "aiohttp.web", "urllib3", "websockets", "alembic")


class QuietLibraries(logging.Filter):
    """Drops records below WARNING from libraries that log statements, parameters or message bodies."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not record.name.startswith(QUIET_LIBRARIES)


class RedactSecrets(logging.Filter):
    """Replaces Slack tokens and configured secrets in the rendered message."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if len(s) >= 6]

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return _LINK.sub("/s/<token>", _TOKEN.sub("xox*-***", text))

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time, so a swapped-out stream is never written to."""

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def setup_logging(level: str, secrets: list[str]) -> None:
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(QuietLibraries())
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
