"""Reading what leads type: the one-line poll and the question lines of the survey form.

Slack and phones turn straight quotes into curly ones ("Fråga?" becomes “Fråga?”), so every kind
of quote is read as a plain double quote before splitting.
"""

from __future__ import annotations

import re
import shlex

from bot.errors import UserError
from bot.surveys.models import QuestionDraft, QuestionKind

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "″": '"', "‟": '"'})


def split_quoted(text: str) -> list[str]:
    """`"Fråga?" "Alt 1" Alt2` -> ["Fråga?", "Alt 1", "Alt2"]; unbalanced quotes are a UserError."""
    normalized = text.translate(_QUOTES)
    lexer = shlex.shlex(normalized, posix=True)
    lexer.whitespace_split = True
    lexer.quotes = '"'
    lexer.escape = ""
    lexer.commenters = ""
    try:
        return [part.strip() for part in lexer]
    except ValueError:
        raise UserError("surveys.poll.unbalanced") from None


_CLOSING = re.compile(r"\s(?:stänger|stängs|stanger|stangs|closes|closing)\s+(?P<when>[^\"]+)$", re.IGNORECASE)


def split_closing(text: str) -> tuple[str, str | None]:
    """`"Fråga?" "A" "B" stänger fredag 15` -> the poll text and "fredag 15" (only after the last quote)."""
    normalized = text.translate(_QUOTES)
    match = _CLOSING.search(normalized)
    if match is None or normalized.count('"') % 2 or match.start() < normalized.rfind('"'):
        return text, None
    return normalized[:match.start()].rstrip(), match.group("when").strip()


def parse_poll(text: str) -> QuestionDraft:
    """The question and its options. Without options the poll is a yes/no question."""
    parts = split_quoted(text)
    if not parts:
        raise UserError("surveys.poll.usage")
    question, options = parts[0], parts[1:]
    if not options:
        return QuestionDraft(kind=QuestionKind.yesno, text=question)
    return QuestionDraft(kind=QuestionKind.single, text=question, options=options)


_KIND_WORDS = {
    "skala": QuestionKind.scale5, "scale": QuestionKind.scale5, "1-5": QuestionKind.scale5,
    "0-10": QuestionKind.scale10, "skala10": QuestionKind.scale10, "scale10": QuestionKind.scale10,
    "ja/nej": QuestionKind.yesno, "yes/no": QuestionKind.yesno, "janej": QuestionKind.yesno,
    "text": QuestionKind.text, "fritext": QuestionKind.text, "free text": QuestionKind.text,
    "flera": QuestionKind.multi, "multi": QuestionKind.multi, "flerval": QuestionKind.multi,
    "several": QuestionKind.multi,
}
_LABEL_SPLIT = re.compile(r"\s+[-–—]\s+")


def parse_question_line(line: str, line_no: int) -> QuestionDraft:
    """`Fråga? | skala: Inte alls - Mycket` and friends (see surveys.form.questions_hint)."""
    if "|" not in line:
        raise UserError("surveys.parse.no_type", line=line_no)
    text, spec = (part.strip() for part in line.split("|", 1))
    head, _, rest = spec.partition(":")
    word = head.strip().lower()
    kind = _KIND_WORDS.get(word)
    if kind is None:
        # "A; B; C" without a type word is a single choice.
        return QuestionDraft(kind=QuestionKind.single, text=text, options=_options(spec))
    if kind.is_scale:
        low = high = None
        if rest.strip():
            labels = _LABEL_SPLIT.split(rest.strip(), maxsplit=1)
            if len(labels) != 2:
                raise UserError("surveys.parse.labels", line=line_no)
            low, high = labels[0].strip(), labels[1].strip()
        return QuestionDraft(kind=kind, text=text, low_label=low, high_label=high)
    if kind == QuestionKind.multi:
        return QuestionDraft(kind=kind, text=text, options=_options(rest))
    return QuestionDraft(kind=kind, text=text)


def _options(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]


def parse_questions(text: str) -> list[QuestionDraft]:
    """One question per non-empty line."""
    lines = [line.strip() for line in text.splitlines()]
    return [parse_question_line(line, number) for number, line in enumerate(lines, 1) if line]
