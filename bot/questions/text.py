"""Text analysis for Swedish and English questions: words, stems, compound parts, typo fixes, language.

Swedish writes compounds as one word (`yrkesvägledning`, `gymnasievalet`), so words are split into
parts the knowledge base knows; typos (`vägleding`, `prau`) are corrected to a known word one edit away.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

import Stemmer
from wordfreq import zipf_frequency

from bot.i18n import unaccented

WORD = re.compile(r"[0-9a-zåäöéüæø]+")

SV_STOP = frozenset("""
alla allt andra annan att av bara de dem den denna deras dess det detta dig din dina ditt du där då efter
eftersom eller en er era ert ett finns fler från får för gör ha hade han har hen henne hennes hon honom hur här i
ibland igen in inför inom inte jag ju kan kanske man med mellan men mig min mina mitt mot mycket ni nu när någon
något några och om oss på sig sin sina sitt ska skulle som så sådan sådana till typ under upp ut utan vad var
vara varför vart vem vi vid vilka vilken vilket vill än är över också då bra gäller egentligen liksom väl nåt
nån nånting sen dom dem mej dej sej vet få ge går gå gjort göra gör hos ens enligt asså ba hej tack
snälla undrar fråga frågar hmm ok okej fast ändå alltså någon kolla kollar säga säger
va ja nåra sån såna mkt iaf
""".split())

EN_STOP = frozenset("""
a about above after again all also am an and any are as at be because been being but by can could did do does
doing for from had has have having he her here hers him his how i if in into is it its just me more most my no
nor not of on or other our out over own same she should so some such than that the their them then there these
they this those through to too under up very was we were what when where which while who whom why will with would
you your yours get got anyone someone something there's what's i'm thing things really kind need does
""".split())

_STEMMERS = {"sv": Stemmer.Stemmer("swedish"), "en": Stemmer.Stemmer("english")}
STOP = {"sv": SV_STOP, "en": EN_STOP}


_ABBREV_SUFFIX = re.compile(r"(\w):(?:s|are|arna|aren|ar|er|en|n|or|ns|ens|arnas)\b")


# Pupils and teachers name school years by nickname: "i nian", "åttorna", "sjuan" mean åk 9, 8, 7.
_YEAR_NICKNAMES = {"ettan": 1, "tvåan": 2, "trean": 3, "fyran": 4, "femman": 5, "sexan": 6, "sjuan": 7,
                   "åttan": 8, "nian": 9, "sexor": 6, "sexorna": 6, "sjuor": 7, "sjuorna": 7, "åttor": 8,
                   "åttorna": 8, "nior": 9, "niorna": 9}


# Spoken spellings that pupils type for a word the articles spell out ("va händer om man inte kommer in
# nånstans"); the others ("va", "ja" for jag, "nåt", "dom", "mej") are stop words either way.
_SPOKEN = {"nånstans": "någonstans", "nånsin": "någonsin", "nånannanstans": "någon annanstans"}


# Emoji as chat apps put them in a message's text (Slack: ":thinking_face:", ":+1:", ":wave::skin-tone-2:"):
# a letter between the colons (or a thumb's +1/-1), so "kl 10:30:00", "1:2:3" and "syv:n" stay.
_EMOJI_CODE = re.compile(r"(?<!\w):(?:[+-]1|[a-z0-9_+'-]*[a-z][a-z0-9_+'-]*):(?!\w)")


def without_emoji_codes(text: str) -> str:
    """The question without emoji codes. They are no words of it: left in, "vem är min syv
    :face_with_rolling_eyes:" was read as mostly off topic and declined."""
    return " ".join(_EMOJI_CODE.sub(" ", text).split()) if ":" in text else text


def normalize(text: str) -> str:
    """Lower case, one form per character, `syv:are`/`SAMSYV:s` -> `syv`/`samsyv`, hyphens as spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _ABBREV_SUFFIX.sub(r"\1", text)
    return text.replace("’", "'").replace("–", " ").replace("-", " ")


def words(text: str) -> list[str]:
    """The words of a text, with school-year nicknames spelled out (`nian` -> `åk`, `9`)."""
    out: list[str] = []
    for word in WORD.findall(normalize(text)):
        year = _YEAR_NICKNAMES.get(word)
        if year is None:
            out += _SPOKEN[word].split() if word in _SPOKEN else [word]
        else:
            out += ("åk", str(year))
    return out


# Past forms of Swedish verbs that Snowball's suffix rules leave apart from the present ("kommit in",
# "har sökt", "valde fel", "antogs"): the verbs people use about applying, choosing and studying. Each
# form reads as its infinitive before stemming, in the articles and in questions alike. Forms that are
# also common other words are left out ("låg" is low, "drog" a drug).
_SV_VERB_FORMS = {form: infinitive for infinitive, forms in {
    "komma": "kom kommit kommits",
    "söka": "sökte sökt sökts sökta",
    "välja": "valde valt valts",
    "läsa": "läste läst lästs",
    "anta": "antar antas antog antogs antagit antagits antagen antagna",
    "skriva": "skrev skrivit skrivits",
    "bli": "blir blev blivit",
    "ta": "tar tog togs tagit tagits",
    "veta": "visste vetat",
    "förstå": "förstod förstått",
    "gälla": "gällde gällt",
    "behöva": "behövde behövt",
    "lära": "lärde lärt",
    "säga": "sade sagt",
    "stå": "stod stått",
    "hålla": "höll hållit",
    "ge": "gav gett givit",
    "se": "såg sett",
    "tycka": "tyckte tyckt",
    "tänka": "tänkte tänkt",
}.items() for form in forms.split()}


# "gymnasiet" and "gymnasium" stem apart, and "gymnasie" (as pupils write it) to a third form.
_SV_NOUN_FORMS = {form: "gymnasium" for form in "gymnasie gymnasiet gymnasiets gymnasier gymnasierna gymnasiernas".split()}


@lru_cache(maxsize=200_000)
def stem(word: str, lang: str) -> str:
    if lang != "sv":
        return str(_STEMMERS[lang].stemWord(word))
    word = _SV_NOUN_FORMS.get(word) or _SV_VERB_FORMS.get(word, word)
    stemmed = str(_STEMMERS[lang].stemWord(word))
    # Snowball leaves the definite endings -an and -et ("skolan", "yrket", "meritvärdet", "ansökan"): fold
    # them, and a doubled final consonant ("programmet" -> "programm" -> "program").
    if len(stemmed) >= 5 and stemmed.endswith(("an", "et")):
        stemmed = stemmed[:-2]
    if len(stemmed) >= 4 and stemmed[-1] == stemmed[-2] and stemmed[-1] not in "aeiouyåäö":
        stemmed = stemmed[:-1]
    return stemmed


@lru_cache(maxsize=200_000)
def general_frequency(word: str, lang: str) -> float:
    """How common the word is in everyday Swedish or English (Zipf scale: 3 = once per million words)."""
    return float(zipf_frequency(word, lang))


REAL_WORD_ZIPF = 2.5  # at or above this, a word is a real word, not a typo to correct


_GRADE = re.compile(r"(?<![\w'’])[A-F](?![\w'’])")  # a grade letter written as one, in capitals
# Typed in lower case, a letter is a grade only where Swedish puts one: after "har", "fick", "minst" ...
# ("jag har f i matte", "fick e i svenska"), or "f" before "i" and a subject. A lone "e" elsewhere is
# spoken "är" ("vad e syv") and stays out.
_LOWER_GRADE = {"sv": re.compile(
    r"(?:(?<=\bhar )|(?<=\bfick )|(?<=\bfår )|(?<=\bminst )|(?<=\bett )|(?<=\bbetyget ))[a-f](?![\w'’])"
    r"|(?<![\w'’.])f(?=\s+i\s+\w)")}
_CAPITALS = re.compile(r"(?<![\w])[A-ZÅÄÖ]{2,}(?![a-zåäö])")


def abbreviations(text: str) -> Counter[str]:
    """Words written in capitals (`SKA:n`, `SEN`), lower-cased and counted: the abbreviations a text uses."""
    return Counter(w.lower() for w in _CAPITALS.findall(unicodedata.normalize("NFKC", text)))


@lru_cache(maxsize=65_536)
def content_words(text: str, lang: str, keep: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """The words that carry meaning; cached because building the index reads each field several times.

    `keep` holds stop words that the articles also use as abbreviations ("ska" is a verb, "SKA" the
    systematic quality work): as often as the text writes one in capitals ("SKA:n") it is kept."""
    stop = STOP[lang]
    spared = abbreviations(text) if keep else Counter()
    # Grades by position: a capital after "har" matches both patterns and must count once.
    at = {m.start(): m.group().lower() for m in _GRADE.finditer(text)}
    if lang in _LOWER_GRADE:
        at.update((m.start(), m.group()) for m in _LOWER_GRADE[lang].finditer(text.lower()))
    grades = Counter(at.values())
    out = []
    for w in words(text):
        if w in stop:
            if w not in keep or spared[w] <= 0:
                continue
            spared[w] -= 1
        if len(w) > 1 or w.isdigit():
            out.append(w)
        elif grades[w] > 0:  # a grade: "F i matte", "minst E"
            grades[w] -= 1
            out.append(w)
    return tuple(out)


def abbreviation_stop_words(synonyms: Iterable[str], lang: str) -> frozenset[str]:
    """Stop words that some article's synonyms write as an abbreviation in capitals (SKA, SEN)."""
    found: set[str] = set()
    for synonym in synonyms:
        found.update(abbreviations(synonym))
    return frozenset(found & STOP[lang])


_SV_HINT = re.compile(r"[åäö]")


def unaccented_stop_words(lang: str) -> frozenset[str]:
    """The language's function words as typed without å, ä, ö ("nar", "ar", "pa"), where the plain
    form is not itself a function word."""
    stop = STOP.get(lang, frozenset())
    return frozenset(unaccented(w) for w in stop) - stop


# For telling the languages apart: only plain forms that are no English function word either.
SV_STOP_UNACCENTED = unaccented_stop_words("sv") - EN_STOP


def detect_language(text: str, default: str = "sv") -> str:
    """Swedish or English for short text, from letters and function words; ties go to `default`."""
    tokens = words(text)
    sv = sum(t in SV_STOP or t in SV_STOP_UNACCENTED for t in tokens) + 1.5 * len(_SV_HINT.findall(text.lower()))
    en = sum(t in EN_STOP for t in tokens)
    if sv == en:
        return default
    return "sv" if sv > en else "en"


def deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance <= 1 (insert, delete, substitute or swap two neighbours)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    if la > lb:
        a, b = b, a
    return any(a == b[:i] + b[i + 1:] for i in range(len(b)))


MIN_COMPOUND = 7  # shorter words are not split
MAX_COMPOUND = 60  # longer "words" are noise (a held-down key, a pasted link); the longest article word has 29 letters
SPLIT_CACHE = 50_000


class Lexicon:
    """The words of one language's articles: for compound splitting and typo correction."""

    LINKS = ("", "s", "e", "a", "o", "u")  # Swedish linking letters: yrke-s-vägledning, gymnasi-e-val

    def __init__(self, vocabulary: Iterable[str], frequency: dict[str, int], lang: str = "sv") -> None:
        self.lang = lang
        self.words = {w for w in vocabulary if len(w) >= 3}
        self.frequency = frequency
        self._deletes: dict[str, list[str]] = {}
        self._splits: dict[str, list[str]] = {}
        for word in self.words:
            if len(word) >= 4:
                for d in deletes(word):
                    self._deletes.setdefault(d, []).append(word)

    def known(self, word: str) -> bool:
        return word in self.words

    def correct(self, word: str) -> str | None:
        """The most frequent known word one edit away, or None. Real everyday words (`lunch`) are
        left alone even when a knowledge-base word (`launch`) is one edit away."""
        if len(word) < 4 or word in self.words or general_frequency(word, self.lang) >= REAL_WORD_ZIPF:
            return None
        candidates = set(self._deletes.get(word, []))
        for d in deletes(word):
            if d in self.words:
                candidates.add(d)
            candidates.update(self._deletes.get(d, []))
        candidates = {c for c in candidates if within_one_edit(word, c)}
        if not candidates:
            return None
        return max(candidates, key=lambda c: (self.frequency.get(c, 0), -abs(len(c) - len(word)), c))

    def split(self, word: str) -> list[str]:
        """Known parts of a compound (`yrkesvägledning` -> [`yrke`, `vägledning`]); [] when none."""
        if not MIN_COMPOUND <= len(word) <= MAX_COMPOUND:
            return []
        cached = self._splits.get(word)
        if cached is None:
            if len(self._splits) >= SPLIT_CACHE:  # bounded: the words people type are endless
                self._splits.clear()
            cached = self._splits[word] = self._split(word, 0, {})
        return cached

    def _split(self, word: str, depth: int, memo: dict[tuple[str, int], list[str]]) -> list[str]:
        best: list[str] = []
        best_score = 0
        for i in range(3, len(word) - 2):
            head, tail = word[:i], word[i:]
            tail_parts = [tail] if tail in self.words and (len(tail) >= 4 or depth == 0) else \
                self._tail_split(tail, depth + 1, memo)
            if not tail_parts:
                continue
            for link in self.LINKS:
                if link and not head.endswith(link):
                    continue
                base = head[: len(head) - len(link)] if link else head
                if len(base) >= 4 and base in self.words:
                    score = min(len(base), min(len(p) for p in tail_parts))
                    if score > best_score:
                        best, best_score = [base, *tail_parts], score
        return best

    def _tail_split(self, tail: str, depth: int, memo: dict[tuple[str, int], list[str]]) -> list[str]:
        """A compound's tail split at most two levels down, each tail once: without the memo a long
        word of one letter ("aaaa…") took cubic time (96 s for 1,000 letters)."""
        if len(tail) < MIN_COMPOUND or depth > 2:
            return []
        key = (tail, depth)
        if key not in memo:
            memo[key] = self._split(tail, depth, memo)
        return memo[key]


@lru_cache(maxsize=100_000)
def char_ngrams(word: str, sizes: tuple[int, ...] = (3, 4)) -> tuple[str, ...]:
    """The word's character n-grams (space-padded). Cached: building the index asks for the same words
    hundreds of thousands of times."""
    padded = f" {word} "
    return tuple(padded[i:i + n] for n in sizes for i in range(len(padded) - n + 1))

