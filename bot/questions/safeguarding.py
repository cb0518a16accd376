"""Recognising a question in which someone (often a pupil) tells of bullying, violence, abuse, self-harm,
feeling unsafe, feeling low or alone, or not coping with school, so the bot answers kindly and points to
people who can help instead of offering careers articles, and the words are never shown in reports or exports.

Patterns over lower-cased text with the informal spellings pupils use ("mobbad", "mobbar", "slår mig",
"vill inte leva", "känner mig otrygg", "bullied"), each also as typed without å, ä, ö ("min pappa slar
mig", "jag vill do") unless that plain form is an everyday word ("vald" is chosen, not violence). It errs on the side of answering with help: a
question about, say, working against bullying as a teacher also gets the kind answer, which still
offers "Fråga en vägledare".
"""

from __future__ import annotations

import re

from bot.i18n import unaccented

_PATTERNS = [
    # Swedish
    r"\bmobb\w*", r"\bkränk\w*", r"\butfrys\w*", r"\butsatt\b", r"\bfryser ut\b",
    r"\b(?:slår|slog|sparkar|sparkade|knuffar|hotar|hotade|tafsar|tafsade|förföljer)\s+(?:mig|oss)\b",
    r"\bhotad\b", r"\bvåld\w*", r"\bmisshandl\w*", r"\bövergrepp\w*", r"\bvåldt\w*", r"\bsexuella?\s+trakasser\w*",
    r"\btrakasser\w*", r"\bvill\s+(?:jag\s+)?inte\s+leva\b", r"\bvill\s+(?:jag\s+)?(?:bara\s+)?dö\b", r"\bta\s+livet\s+av\s+mig\b",
    r"\bskada\s+mig\s+själv\b", r"\bskadar\s+mig\s+själv\b", r"\bskär\s+mig\b", r"\bsjälvskad\w*",
    r"\bsjälvmord\w*", r"\botrygg\w*", r"\binte\s+trygg\b", r"\brädd\s+(?:hemma|i\s+skolan|för\s+att\s+gå)\b",
    r"\bingen\s+vill\s+vara\s+med\s+mig\b",
    # distress and loneliness, and not coping with school: the same people help
    r"(?<!som\s)\bmår\s+(?:så\s+|väldigt\s+|jätte\s*|skit\s*)?(?:dåligt|skit|piss)\b", r"\bdeprimerad\b",
    r"\bhatar\s+mig\s+själv\b", r"\bhatar\s+skolan\b", r"\bkänner\s+mig\s+(?:så\s+|väldigt\s+)?ensam\b",
    r"\bjag\s+är\s+så\s+ensam\b", r"\b(?:har|finns)\s+inga\s+(?:kompisar|vänner)\b", r"\bingen\s+gillar\s+mig\b",
    r"\bingen\s+bryr\s+sig\s+om\s+mig\b", r"\borkar\s+inte\s+(?:leva|mer|gå\s+till\s+skolan|med\s+skolan)\b",
    r"\bvill\s+inte\s+gå\s+(?:till|i)\s+skolan\b", r"\bvågar\s+inte\s+gå\s+(?:till|i)\s+skolan\b",
    # English
    r"\bbull(?:y|ied|ies|ying)\b", r"\b(?:hits|hit|beats|beat|kicks|threatens|touches)\s+me\b", r"\babus\w*",
    r"\bviolen\w*", r"\bharass\w*", r"\bhurt\s+myself\b", r"\bself[-\s]?harm\w*", r"\bkill\s+myself\b",
    r"\bsuicid\w*", r"\bwant\s+to\s+die\b", r"\b(?:don'?t|do\s+not)\s+want\s+to\s+live\b", r"\bunsafe\b",
    r"\bnot\s+safe\b", r"\bscared\s+(?:at\s+home|at\s+school|to\s+go)\b",
    r"\bdepressed\b", r"\bhate\s+(?:myself|school)\b", r"\b(?:feel|am|i'?m)\s+(?:so\s+|really\s+)?lonely\b",
    r"\b(?:have|got)\s+no\s+friends\b", r"\bnobody\s+(?:likes|cares\s+about)\s+me\b",
    r"\b(?:don'?t|do\s+not)\s+want\s+to\s+go\s+to\s+school\b", r"\bcan'?t\s+cope\b",
]
# Patterns whose plain form means something else: "våld" (violence) typed as "vald" (chosen, elected).
_NOT_WITHOUT_ACCENTS = {r"\bvåld\w*"}
_PLAIN = [unaccented(p) for p in _PATTERNS if p not in _NOT_WITHOUT_ACCENTS and unaccented(p) != p]
_HARM = re.compile("|".join(_PATTERNS + _PLAIN))


def mentions_harm(text: str) -> bool:
    return _HARM.search(" ".join(text.casefold().split())) is not None
