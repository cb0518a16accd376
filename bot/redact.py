"""Masking personal data in free text before the project team stores or sees it (unanswered questions,
survey free-text answers, counsellors' proposals): names, Slack mentions, personnummer, phone numbers and
e-mail addresses.

Phone numbers are found by Google's libphonenumber (`phonenumbers`, Swedish numbering plan first);
personnummer, e-mail addresses and names by small patterns written for how pupils and staff write in
Swedish. Names are the hard part and no list of names ships with a well-kept package: a name is taken
to be the capitalised words after "jag heter", "heter", "mitt namn är", "my name is", "I'm", ... and any
run of two or more capitalised words inside a sentence ("Anna Svensson", "Ali Hassan Omar"). Pupils often
write in lower case: after the clearest cues ("jag heter anna svensson") the next word is a name too, and
the one after it when it is no everyday word (surnames are rarer than "och", "går" or "undrar"). That
misses a lone first name in the middle of a sentence; docs/privacy.md says so.
"""

from __future__ import annotations

import re

import phonenumbers
from wordfreq import zipf_frequency

NAME = "[namn]"
PERSONNUMMER = "[personnummer]"
PHONE = "[telefon]"
EMAIL = "[e-post]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SLACK_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")  # <@U123|anna> as Slack writes a mention
# 19/20YYMMDD-XXXX, YYMMDD-XXXX, YYMMDD+XXXX or the same without a separator (10 or 12 digits).
_PERSONNUMMER = re.compile(r"(?<!\d)(?:19|20)?\d{2}(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01]|[6-8]\d|9[01])[-+ ]?\d{4}(?!\d)")
_WORD = r"[A-ZÅÄÖÉÜ][a-zåäöéüß]+(?:-[A-ZÅÄÖÉÜ][a-zåäöéüß]+)?"
_CUE = re.compile(rf"(?i:\b(?:jag\s+heter|heter|mitt\s+namn\s+(?:är|ar)|namnet\s+(?:är|ar)|kallas|my\s+name\s+is|"
                  rf"i\s+am|i'm|called)\s+)((?:{_WORD})(?:\s+{_WORD}){{0,2}})")
# In lower case only after cues that can introduce nothing but a name ("i am" can be "i am tired").
_LOWER_WORD = r"[a-zåäöéü]+(?:-[a-zåäöéü]+)?"
_LOWER_CUE = re.compile(rf"(?i:\b(?:jag\s+heter|mitt\s+namn\s+(?:är|ar)|namnet\s+(?:är|ar)|my\s+name\s+is)\s+)"
                        rf"(?P<first>{_LOWER_WORD})(?:\s+(?P<second>{_LOWER_WORD}))?")
EVERYDAY_ZIPF = 5.0  # "och", "går", "undrar" and "from" are at or above it; "svensson", "hassan" below
_CAPITALISED_RUN = re.compile(rf"(?<![\w\[])({_WORD}(?:\s+{_WORD})+)")
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+|\n)\s*$")
_KEEP_CAPITALISED = {"Jag", "Hej", "Vi", "Det", "Hur", "Vad", "Var", "När", "Varför", "Kan", "Får", "Ska", "Är",
                     "Min", "Mitt", "Mina", "Han", "Hon", "Hen", "De", "Och", "Men", "I", "My", "The", "What",
                     "How", "Can", "Is", "Where", "Why", "When"}


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(digits[-10:]):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _personnummer(match: re.Match[str]) -> str:
    """With a separator it reads as a personnummer anyway; ten or twelve bare digits only when the check
    digit fits (otherwise it is more likely a phone number, masked next)."""
    found = match.group(0)
    return PERSONNUMMER if not found.isdigit() or _luhn_ok(found) else found


def _phones(text: str) -> str:
    spans = [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(text, "SE", leniency=phonenumbers.Leniency.POSSIBLE)]
    for start, end in reversed(spans):
        text = text[:start] + PHONE + text[end:]
    return text


def _lower_case_name(match: re.Match[str]) -> str:
    cue = match.group(0)[: match.start("first") - match.start(0)]
    second = match.group("second")
    if second is None:
        return cue + NAME
    if max(zipf_frequency(second, "sv"), zipf_frequency(second, "en")) < EVERYDAY_ZIPF:
        return cue + NAME  # "anna svensson"
    return cue + NAME + match.group(0)[match.end("first") - match.start(0):]  # "anna och ..."


def _names(text: str) -> str:
    text = _CUE.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + NAME, text)
    text = _LOWER_CUE.sub(_lower_case_name, text)

    def run(match: re.Match[str]) -> str:
        words = match.group(1).split()
        at_start = bool(_SENTENCE_START.search(text[: match.start(1)]))
        if at_start and words[0] in _KEEP_CAPITALISED:
            rest = match.group(1)[len(words[0]):]
            return words[0] + (rest if len(words) < 3 else re.sub(rf"{_WORD}(?:\s+{_WORD})+", NAME, rest, count=1))
        return NAME

    return _CAPITALISED_RUN.sub(run, text)


def mask_personal_data(text: str) -> str:
    """The text with e-mail addresses, personnummer, phone numbers and names replaced by placeholders."""
    text = _SLACK_MENTION.sub(NAME, text)
    text = _EMAIL.sub(EMAIL, text)
    text = _PERSONNUMMER.sub(_personnummer, text)
    text = _phones(text)
    return _names(text)
