"""Keyed hashes that make "one answer per person" work without storing who answered what.

Each survey gets a random 256-bit key. While the survey is open, HMAC(key, "survey|respondent")
identifies a respondent's answer rows (so a new tap replaces the old answer) and tells nudges who has
answered. At close the key row is deleted and the hashes are removed, so afterwards nobody, not even
whoever holds the database, can tell who answered what: without the key a user id cannot be turned
into a hash, and the hashes themselves are gone.

Deleting a row in SQLite normally leaves its bytes in free space inside the file. For the key and
the hashes to be really gone, every connection runs with `PRAGMA secure_delete=ON` (deleted content
is overwritten with zeros, set up in `bot.db.engine`) and every close checkpoints and truncates the write-ahead log
(`bot.surveys.delivery`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_key() -> str:
    return secrets.token_hex(32)


def respondent_hash(key: str, survey_id: int, respondent_key: str) -> str:
    """HMAC-SHA256 of (survey, respondent) under the survey's key, as 64 hex characters."""
    message = f"{survey_id}|{respondent_key}".encode()
    return hmac.new(bytes.fromhex(key), message, hashlib.sha256).hexdigest()


