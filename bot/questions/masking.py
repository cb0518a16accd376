"""Masks personal data in free text before the project team reads it: Slack mentions and links,
e-mail addresses, phone numbers, Swedish personal identity numbers and capitalised words that look
like names. Deliberately over-eager: a proposal is edited by hand into content anyway."""

from __future__ import annotations

import re

_RULES = [
    (re.compile(r"<[@#!][^>]*>"), "[person]"),
    (re.compile(r"\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b"), "[e-post]"),
    (re.compile(r"\b(19|20)?\d{6}[-+]?\d{4}\b"), "[personnummer]"),
    (re.compile(r"(\+46|\b0)[\d\s-]{6,14}\d\b"), "[telefon]"),
]
# A capitalised word after the first one of a sentence: a name more often than not in these texts.
_NAME = re.compile(r"(?<=[a-zåäö,] )[A-ZÅÄÖ][a-zåäöéü]+(?: [A-ZÅÄÖ][a-zåäöéü]+)*")


def mask(text: str) -> str:
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return _NAME.sub("[namn]", text)
