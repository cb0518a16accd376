"""The question answerer's search engine: lexical, in memory, fit for Swedish and English.

Four signals rank the articles of the question's language: BM25 over stems (with compound parts and
typo corrections), character n-gram cosine (robust to spelling and compounds), a naive Bayes posterior
over the articles' titles, synonyms and example questions (which words tell one topic from its
neighbours), and the best match among an article's own example questions, title and synonyms.

A logistic model over the winner's score, its lead over the runner-up, how much of the question the
knowledge base covers and how strongly its words lean towards `out_of_scope.yaml` turns that into a
calibrated confidence; below the threshold the bot says it does not know. Weights and threshold live
in `calibration.json`, fitted by `python -m bot.questions.calibrate` on tuning questions and set on
held-out ones. Answering never touches the disk.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import yaml

from bot.i18n import unaccented
from bot.knowledge import Article, KnowledgeBase, load_knowledge_base
from bot.questions.anchors import Anchors
from bot.questions.semantic import (
    Embed,
    Reranker,
    SemanticScores,
    VectorStore,
    article_passages,
    article_texts,
    distinct_texts,
    semantic_indexes,
)
from bot.questions.text import (
    Lexicon,
    abbreviation_stop_words,
    char_ngrams,
    content_words,
    detect_language,
    general_frequency,
    stem,
    unaccented_stop_words,
    without_emoji_codes,
)

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
OUT_OF_SCOPE_ID = "out-of-scope"
PUPIL_AUDIENCES = ("pupils", "both")

FIELD_WEIGHTS = {"title": 3.0, "synonyms": 3.0, "tags": 2.0, "questions": 2.0, "summary": 1.5, "body": 1.0}
NGRAM_FIELDS = ("title", "synonyms", "tags", "questions", "summary")
PROSE_FIELDS = ("title", "summary", "body")
PART_WEIGHT = 0.6
FIX_WEIGHT = 0.9
PLAIN_WORD_MIN_COUNT = 5  # a stop word typed without å, ä, ö ("pa", "val") is a word if the articles' prose uses it this often
K1, B = 1.2, 0.75
RERANK = 10
BAYES_SMOOTHING = 0.1  # add-alpha smoothing of each article's word counts in the naive Bayes ranker
SCOPE_SMOOTHING = 0.5  # add-alpha smoothing of the in-scope / out-of-scope word counts


@dataclass
class Calibration:
    """Ranking weights and the confidence model; loaded from calibration.json when present."""

    w_bm25: float = 1.0
    w_ngram: float = 1.0
    w_anchor: float = 1.5
    w_bayes: float = 1.0
    w_semantic: float = 0.0  # weight of the standardised e5 similarity; only the fused model uses it
    w_passage: float = 0.0  # the body passages' standardised similarity, relative to w_semantic
    bm25_half: float = 8.0
    coef: list[float] = field(default_factory=lambda: [6.0, 4.0, 1.0, 3.0, -6.0, 1.0, -1.0])
    bias: float = -5.0
    threshold: float = 0.5
    close_margin: float = 0.0  # top two closer than this: answer the pair, offer the runner-up
    w_pupil: float = 0.75  # lift for articles written for pupils when a pupil asks
    semantic_features: bool = False  # the confidence model also weighs e5 similarities (fused only)

    def confidence(self, features: list[float]) -> float:
        z = self.bias + sum(c * f for c, f in zip(self.coef, features, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


LEXICAL, FUSED = "lexical", "fused"


@dataclass
class Calibrations:
    """One calibration for the lexical engine alone and one for lexical + semantic: fusing changes the
    scale of every score, so each needs its own weights, confidence model and threshold."""

    lexical: Calibration = field(default_factory=Calibration)
    fused: Calibration = field(default_factory=lambda: Calibration(w_semantic=1.5))

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibrations:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(lexical=Calibration(**data[LEXICAL]), fused=Calibration(**data[FUSED]))

    def as_json(self) -> dict[str, Any]:
        return {LEXICAL: asdict(self.lexical), FUSED: asdict(self.fused)}


@dataclass
class Candidate:
    article: Article
    score: float
    anchor: float = 0.0  # closeness to the article's nearest example question, a confidence feature
    similarity: float = 0.0  # raw e5 cosine to the article's closest texts (0 without the reranker)
    lift: float = 0.0  # the part of `score` that only orders (a pupil's lift for pupils' articles)

    @property
    def evidence(self) -> float:
        """The score without the lift: what the confidence model was fitted on, since a pupil's lift
        says nothing about how well the question matches."""
        return self.score - self.lift


class Reading(NamedTuple):
    """A question as the lexical index reads it: its language, terms and signals (see `Engine.read`)."""

    lang: str
    query: QueryTerms
    signals: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    pupil: bool


class Search(NamedTuple):
    """One question's ranked candidates, and the calibration and mode they were ranked with."""

    lang: str
    candidates: list[Candidate]
    query: QueryTerms
    calibration: Calibration
    mode: str


@dataclass
class Answer:
    answered: bool
    article_id: str | None
    lang: str
    score: float
    alternatives: list[str]
    question_lang: str
    article: Article | None = None
    candidates: list[Candidate] = field(default_factory=list)
    runner_up: Article | None = None  # shown as "Did you mean ...?" when it came close to the answer
    mode: str = LEXICAL  # how it was ranked: FUSED, or LEXICAL (no reranker, or it was behind a burst)

    @property
    def other_language(self) -> bool:
        """The answer is in the other language because this one has no version of the article."""
        return self.article is not None and self.article.lang != self.question_lang

    def as_json(self) -> dict[str, Any]:
        return {"answered": self.answered, "article_id": self.article_id, "lang": self.lang,
                "score": round(self.score, 4), "alternatives": self.alternatives}


@dataclass
class QueryTerms:
    terms: dict[str, float]
    ngrams: Counter[str]
    coverage: float
    domain: float = 0.0  # how typical of this knowledge base the question's most telling word is
    off_topic: float = 0.0  # mean log-odds per word of the out-of-scope examples over the articles


def specificity(word: str, lang: str) -> float:
    """Everyday words ("redan", "become") weigh less than rarer ones ("prao", "behörighet"): the
    general-language frequency acts as a background corpus that 78 articles cannot provide."""
    return min(1.0, max(0.5, (8.0 - general_frequency(word, lang)) / 4.0))


def phrasings(article: Article) -> tuple[str, ...]:
    """How people name and ask about an article: its title, synonyms and example questions."""
    return (article.title, *article.synonyms, *article.questions)


class Postings:
    """Per-document term weights as one sparse matrix (document, term, value triples grouped by term), so
    an index is built with a few array operations instead of a Python loop over every posting."""

    def __init__(self, documents: list[dict[str, float]]) -> None:
        ids: dict[str, int] = {}
        terms: list[int] = []
        values: list[float] = []
        for document in documents:
            terms += [ids.setdefault(term, len(ids)) for term in document]
            values += document.values()
        docs = np.repeat(np.arange(len(documents), dtype=np.int32), [len(d) for d in documents])
        order = np.argsort(np.array(terms, dtype=np.int64), kind="stable")  # by term, documents ascending
        self.vocabulary = list(ids)
        self.terms = np.array(terms, dtype=np.int64)[order]
        self.docs = docs[order]
        self.values = np.array(values, dtype=np.float64)[order]
        self.df = np.bincount(self.terms, minlength=len(ids)).astype(np.float64)

    def split(self, weights: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Term -> (documents, weights), each a view into one array."""
        return unpack_postings((self.vocabulary, self.docs, weights, self.df.astype(np.int64)))


Packed = tuple[list[str], np.ndarray, np.ndarray, np.ndarray]
POSTING_TABLES = ("bm25", "ngrams", "bayes")


def pack_postings(table: dict[str, tuple[np.ndarray, np.ndarray]]) -> Packed:
    """Term -> (documents, weights) as the terms, all documents, all weights and each term's count."""
    values = list(table.values())
    if not values:
        return [], np.zeros(0, np.int32), np.zeros(0), np.zeros(0, np.int64)
    return (list(table), np.concatenate([d for d, _ in values]), np.concatenate([w for _, w in values]),
            np.array([len(d) for d, _ in values], dtype=np.int64))


def unpack_postings(packed: Packed) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    terms, docs, weights, counts = packed
    ends = np.cumsum(counts).tolist()
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    start = 0
    for term, end in zip(terms, ends, strict=True):
        out[term] = (docs[start:end], weights[start:end])
        start = end
    return out


class LanguageIndex:
    """Everything needed to rank one language's articles, built once."""

    def __init__(self, lang: str, articles: list[Article], decline_examples: list[str] | None = None) -> None:
        self.lang = lang
        self.articles = list(articles)
        self._analyzed: dict[str, dict[str, float]] = {}
        if decline_examples:
            # Everyday school questions that are not about guidance compete as a "decline" pseudo-article.
            self.articles.append(Article.model_construct(
                id=OUT_OF_SCOPE_ID, lang=lang, title="", summary="", audience="staff", tags=[], synonyms=[],
                questions=decline_examples, sources=[], related=[], body="", path=""))
        self.decline_index = len(self.articles) - 1 if decline_examples else None
        self.for_pupils = np.array([a.audience in PUPIL_AUDIENCES and a.id != OUT_OF_SCOPE_ID
                                    for a in self.articles], dtype=np.float64)
        self.keep = abbreviation_stop_words((s for a in articles for s in (a.title, *a.synonyms)), lang)
        surface: Counter[str] = Counter()
        prose: Counter[str] = Counter()  # the articles' own writing, not the phrasings people type
        texts = [self._fields(a) for a in articles]
        for fields in texts:
            for name, text in fields.items():
                found = content_words(text, lang, self.keep)
                surface.update(found)
                if name in PROSE_FIELDS:
                    prose.update(found)
        self.lexicon = Lexicon(surface.keys(), dict(surface), lang)
        # Questions typed without å, ä, ö (an English keyboard, a phone): "overlamning" is the articles'
        # "överlämning", and "pa", "ocksa", "nat" are the stop words "på", "också", "nåt". Only forms
        # that are not themselves words of the articles are read this way ("val" stays "val").
        # A plain form in another inflection ("foralders" for the articles' "förälder") is found by its
        # stem. A plain stop word stays a word only where the articles use it often ("val" is a choice;
        # "for", "pa" and "ar" turn up once or twice, in names and quotes; example questions typed
        # without å, ä, ö do not count, or they would make "ar" a word).
        self.accented: dict[str, str] = {}
        self.accented_stems: dict[str, str] = {}
        stems = {stem(word, lang) for word in surface}
        for word, _ in surface.most_common():
            plain = unaccented(word)
            if plain != word and plain not in surface:
                self.accented.setdefault(plain, word)
                for key in (stem(plain, lang), unaccented(stem(word, lang))):
                    if key not in stems:
                        self.accented_stems.setdefault(key, word)
        self.unaccented_stop = unaccented_stop_words(lang) - {
            w for w, count in prose.items() if count >= PLAIN_WORD_MIN_COUNT}
        self.total_words = max(1, sum(surface.values()))
        self._build_bm25(texts)
        self._build_ngrams(texts)
        self._build_anchors()
        self._build_bayes()
        self._build_scope_odds(articles, decline_examples or [])
        self._analyzed.clear()  # only the build reads it

    def __getstate__(self) -> dict[str, Any]:
        """For the stored index: each term -> postings table as flat arrays, since unpickling thousands of
        small arrays takes longer than building them."""
        state = dict(self.__dict__)
        for name in POSTING_TABLES:
            state[name] = pack_postings(state[name])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name in POSTING_TABLES:
            state[name] = unpack_postings(state[name])
        self.__dict__.update(state)

    @staticmethod
    def _fields(article: Article) -> dict[str, str]:
        return {"title": article.title, "synonyms": " \n ".join(article.synonyms), "tags": " ".join(article.tags),
                "questions": " \n ".join(article.questions), "summary": article.summary, "body": article.body}

    def analyze(self, text: str) -> dict[str, float]:
        """Index-side terms: stems plus (lighter) stems of compound parts. Memoised: the index reads
        titles, synonyms and example questions for several signals; do not mutate the result."""
        cached = self._analyzed.get(text)
        if cached is not None:
            return cached
        terms: defaultdict[str, float] = defaultdict(float)
        for word in content_words(text, self.lang, self.keep):
            terms[stem(word, self.lang)] += 1.0
            for part in self.lexicon.split(word):
                terms[stem(part, self.lang)] += PART_WEIGHT
        self._analyzed[text] = terms
        return terms

    def _build_bm25(self, texts: list[dict[str, str]]) -> None:
        doc_terms: list[dict[str, float]] = []
        for fields in texts:
            weighted: defaultdict[str, float] = defaultdict(float)
            for name, text in fields.items():
                for term, tf in self.analyze(text).items():
                    weighted[term] += tf * FIELD_WEIGHTS[name]
            doc_terms.append(weighted)
        lengths = np.array([sum(t.values()) for t in doc_terms], dtype=np.float64)
        avg = float(lengths.mean()) if len(lengths) else 1.0
        n = len(doc_terms)
        matrix = Postings(doc_terms)
        idf = np.log(1 + (n - matrix.df + 0.5) / (matrix.df + 0.5))
        norm = K1 * (1 - B + B * lengths / avg) if n else lengths
        weighted_tf = matrix.values
        self.bm25 = matrix.split(idf[matrix.terms] * weighted_tf * (K1 + 1) / (weighted_tf + norm[matrix.docs]))
        self.idf = dict(zip(matrix.vocabulary, idf.tolist(), strict=True))

    def _build_ngrams(self, texts: list[dict[str, str]]) -> None:
        doc_grams: list[dict[str, float]] = []
        for fields in texts:
            # Each distinct word once, weighted by its count in each field: an article repeats its words
            # across title, synonyms and example questions.
            weights: defaultdict[str, float] = defaultdict(float)
            for name in NGRAM_FIELDS:
                for word, count in Counter(content_words(fields[name], self.lang, self.keep)).items():
                    weights[word] += FIELD_WEIGHTS[name] * count
            grams: defaultdict[str, float] = defaultdict(float)
            for word, weight in weights.items():
                for gram in char_ngrams(word):
                    grams[gram] += weight
            doc_grams.append(grams)
        n = max(1, len(doc_grams))
        matrix = Postings(doc_grams)
        idf = np.log((n + 1) / (matrix.df + 0.5))
        self.gram_idf = dict(zip(matrix.vocabulary, idf.tolist(), strict=True))
        vector = (1 + np.log(matrix.values)) * idf[matrix.terms]
        norms = np.sqrt(np.bincount(matrix.docs, weights=vector * vector, minlength=len(doc_grams)))
        norms[norms == 0] = 1.0
        self.ngrams = matrix.split(vector / norms[matrix.docs])

    def _build_anchors(self) -> None:
        """Each article's title, example questions and multi-word synonyms, as stem and trigram sets."""
        self.anchors = Anchors([[self._anchor(t) for t in (article.title, *article.questions,
                                                            *(s for s in article.synonyms if " " in s))]
                                for article in self.articles])

    def _build_bayes(self) -> None:
        """Multinomial naive Bayes over the words people use for each topic (title, synonyms, example
        questions), stored sparsely: a word's postings hold log((count + a) / a) per article that uses it,
        so an absent word costs nothing and the posterior is one pass over the question's terms."""
        counts: list[defaultdict[str, float]] = []
        for article in self.articles:
            terms: defaultdict[str, float] = defaultdict(float)
            for text in phrasings(article):
                for term, tf in self.analyze(text).items():
                    terms[term] += tf
            counts.append(terms)
        vocabulary = len(set().union(*counts)) if counts else 0
        alpha = BAYES_SMOOTHING
        self.bayes_log_total = np.log(np.array([sum(c.values()) + alpha * vocabulary for c in counts]))
        postings: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        for index, terms in enumerate(counts):
            for term, count in terms.items():
                docs, weights = postings[term]
                docs.append(index)
                weights.append(math.log((count + alpha) / alpha))
        self.bayes = {t: (np.array(d, dtype=np.int32), np.array(w)) for t, (d, w) in postings.items()}

    def bayes_posterior(self, query: QueryTerms) -> np.ndarray:
        """P(article | question words) under a uniform prior; zeros when no word is known."""
        log_likelihood = np.zeros(len(self.articles))
        mass = 0.0
        for term, weight in query.terms.items():
            if term in self.bayes:
                docs, weights = self.bayes[term]
                log_likelihood[docs] += weight * weights
                mass += weight
        if not mass:
            return log_likelihood
        log_likelihood -= mass * self.bayes_log_total
        posterior = np.exp(log_likelihood - log_likelihood.max())
        return posterior / posterior.sum()

    def _build_scope_odds(self, articles: list[Article], decline_examples: list[str]) -> None:
        """Per stem, log P(stem | out-of-scope example) - log P(stem | article title, synonym or example
        question): "lunch" and "lösenord" come out positive, "prao" and "behörighet" negative."""
        inside: Counter[str] = Counter()
        outside: Counter[str] = Counter()
        for article in articles:
            for text in phrasings(article):
                inside.update(set(self.analyze(text)))
        for text in decline_examples:
            outside.update(set(self.analyze(text)))
        vocabulary = set(inside) | set(outside)
        alpha = SCOPE_SMOOTHING
        in_total = sum(inside.values()) + alpha * len(vocabulary)
        out_total = sum(outside.values()) + alpha * len(vocabulary)
        self.scope_odds = {t: math.log((outside[t] + alpha) / out_total) - math.log((inside[t] + alpha) / in_total)
                           for t in vocabulary} if decline_examples else {}

    def _anchor(self, text: str) -> tuple[dict[str, float], frozenset[str]]:
        stems = {t: self.idf.get(t, 1.0) for t in self.analyze(text)}
        grams = frozenset(chain.from_iterable(char_ngrams(w, (3,)) for w in content_words(text, self.lang, self.keep)))
        return stems, grams

    def domain_weight(self, word: str) -> float:
        """Zipf frequency in these articles minus Zipf frequency in everyday language: "prao" and
        "gymnasievalet" score high, "redan" near zero, words the articles never use zero."""
        count = self.lexicon.frequency.get(word, 0)
        if not count:
            return 0.0
        return max(0.0, math.log10(count / self.total_words * 1e9) - general_frequency(word, self.lang))

    def restore_accents(self, word: str) -> str:
        """A word typed without å, ä, ö as the articles write it, if they do (`overlamningen`)."""
        if word in self.accented:
            return self.accented[word]
        if not word.isascii():
            return word
        stemmed = stem(word, self.lang)
        if stemmed in self.bm25:
            return word
        # Snowball may stop one suffix short on the plain form ("foralders" -> "foralder", not "forald").
        return self.accented_stems.get(stemmed) or self.accented_stems.get(stem(stemmed, self.lang), word)

    def query_terms(self, text: str) -> QueryTerms:
        terms: dict[str, float] = {}
        grams: Counter[str] = Counter()
        words = [self.restore_accents(w) for w in content_words(text, self.lang, self.keep)
                 if w not in self.unaccented_stop]
        covered = 0
        domain = 0.0
        odds: list[float] = []
        for word in words:
            hit = False
            # A kept stop word was written in capitals: it is the abbreviation (SKA), not the everyday verb.
            weight = 1.0 if word in self.keep else specificity(word, self.lang)
            stemmed = stem(word, self.lang)
            if stemmed in self.scope_odds:
                odds.append(self.scope_odds[stemmed])
            if stemmed in self.bm25:
                terms[stemmed] = max(terms.get(stemmed, 0.0), weight)
                hit = True
            else:
                fixed = self.lexicon.correct(word)
                if fixed is not None:
                    fixed_stem = stem(fixed, self.lang)
                    if fixed_stem in self.bm25:
                        terms[fixed_stem] = max(terms.get(fixed_stem, 0.0), FIX_WEIGHT * weight)
                        hit = True
                    word = fixed
            for part in self.lexicon.split(word):
                part_stem = stem(part, self.lang)
                if part_stem in self.bm25:
                    terms[part_stem] = max(terms.get(part_stem, 0.0), PART_WEIGHT * specificity(part, self.lang))
                    hit = True
            covered += hit
            domain = max(domain, self.domain_weight(word),
                         *(self.domain_weight(part) for part in self.lexicon.split(word)))
            grams.update(char_ngrams(word))
        off_topic = sum(odds) / len(words) if odds else 0.0
        return QueryTerms(terms, grams, covered / len(words) if words else 0.0, domain, off_topic)

    def signals(self, query: QueryTerms) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The weight-free lexical signals per article: raw BM25, n-gram cosine, naive Bayes posterior."""
        n = len(self.articles)
        bm25 = np.zeros(n)
        for term, weight in query.terms.items():
            docs, weights = self.bm25[term]
            bm25[docs] += weight * weights
        ngram = np.zeros(n)
        qvec = {g: (1 + math.log(c)) * self.gram_idf[g] for g, c in query.ngrams.items() if g in self.gram_idf}
        qnorm = math.sqrt(sum(v * v for v in qvec.values())) or 1.0
        for gram, value in qvec.items():
            docs, weights = self.ngrams[gram]
            ngram[docs] += (value / qnorm) * weights
        return bm25, ngram, self.bayes_posterior(query)

    def first_stage(self, signals: tuple[np.ndarray, np.ndarray, np.ndarray], calibration: Calibration,
                    semantic: SemanticScores | None = None, pupil: bool = False) -> np.ndarray:
        """Lexical scores, plus (when given) the weighted standardised semantic similarity, and for a
        pupil a lift for articles written for pupils."""
        bm25, ngram, bayes = signals
        first = calibration.w_bm25 * bm25 / (bm25 + calibration.bm25_half) + calibration.w_ngram * ngram \
            + calibration.w_bayes * bayes
        if semantic is not None:
            first = first + calibration.w_semantic * semantic.standardised
            if semantic.passages is not None and calibration.w_passage:
                first = first + calibration.w_semantic * calibration.w_passage * semantic.passages
        if pupil:
            first = first + calibration.w_pupil * self.for_pupils
        return first

    def shortlist(self, first: np.ndarray) -> list[int]:
        """The best few by the first stage, and always the out-of-scope examples."""
        top = [int(i) for i in np.argsort(-first)[:RERANK]]
        if self.decline_index is not None and self.decline_index not in top:
            top.append(self.decline_index)
        return top

    def anchor_scores(self, query: QueryTerms) -> np.ndarray:
        """Per article, how close the question is to its nearest example question, title or synonym."""
        trigrams = frozenset(g for g in query.ngrams if len(g) == 3)
        return self.anchors.scores(frozenset(query.terms), trigrams, self.idf)

    def rank(self, query: QueryTerms, calibration: Calibration, semantic: SemanticScores | None = None,
             pupil: bool = False, signals: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> list[Candidate]:
        """The first stage over every article, then the closest-example-question bonus for the best few."""
        if not self.articles:
            return []
        first = self.first_stage(signals or self.signals(query), calibration, semantic, pupil)
        anchors = self.anchor_scores(query)
        out = []
        for index in self.shortlist(first):
            anchor = float(anchors[index])
            lift = calibration.w_pupil * float(self.for_pupils[index]) if pupil else 0.0
            out.append(Candidate(self.articles[index], float(first[index] + calibration.w_anchor * anchor), anchor,
                                 float(semantic.raw[index]) if semantic is not None else 0.0, lift))
        out.sort(key=lambda c: -c.score)
        return out


class Engine:
    def __init__(self, kb: KnowledgeBase, calibration: Calibration | Calibrations | None = None,
                 decline_examples: dict[str, list[str]] | None = None,
                 indexes: dict[str, LanguageIndex] | None = None) -> None:
        """Builds the index of each language from `kb`, or takes `indexes` built from it before (stored_index)."""
        self.kb = kb
        if isinstance(calibration, Calibration):
            calibration = Calibrations(lexical=calibration, fused=calibration)
        self.calibrations = calibration or Calibrations.load()
        self.reranker: Reranker | None = None  # attached once article vectors are ready
        decline_examples = decline_examples or {}
        self.ids_by_lang = {lang: {a.id for a in kb.articles if a.lang == lang} for lang in ("sv", "en")}
        # An article missing in one language stands in with its other-language version, so a question
        # still finds it (and the answer says it is in the other language).
        self.indexes = indexes or {lang: LanguageIndex(lang, [a for a in kb.articles if a.lang == lang or (
            a.id not in self.ids_by_lang[lang])], decline_examples.get(lang)) for lang in ("sv", "en")}
        for lang in ("sv", "en"):  # load the word-frequency lists now, not on the first question
            general_frequency("skola", lang)

    @property
    def mode(self) -> str:
        return FUSED if self.reranker is not None else LEXICAL

    @property
    def calibration(self) -> Calibration:
        """The calibration for how this engine ranks now: lexical alone, or fused with the reranker."""
        return self.calibrations.fused if self.reranker is not None else self.calibrations.lexical

    def _article_groups(self, lang: str, texts_of: Callable[[Article, Article | None], list[str]]) -> list[list[str]]:
        """Per article of the lexical index (same order), `texts_of` the article and its other-language
        version; the out-of-scope examples for the decline pseudo-article, so its score stays comparable."""
        groups = []
        for article in self.indexes[lang].articles:
            if article.id == OUT_OF_SCOPE_ID:
                groups.append(list(dict.fromkeys(article.questions)))
            else:
                groups.append(texts_of(article, self.kb.get(article.id, "en" if article.lang == "sv" else "sv")))
        return groups

    def semantic_groups(self, lang: str) -> list[list[str]]:
        """The texts the reranker compares a question with, per article, in both languages."""
        return self._article_groups(lang, article_texts)

    def passage_groups(self, lang: str) -> list[list[str]]:
        """The body passages the reranker compares a question with, per article, in both languages."""
        return self._article_groups(lang, article_passages)

    def all_semantic_groups(self) -> dict[str, list[list[str]]]:
        """`semantic_groups` for every language."""
        return {lang: self.semantic_groups(lang) for lang in self.indexes}

    def all_passage_groups(self) -> dict[str, list[list[str]]]:
        """`passage_groups` for every language."""
        return {lang: self.passage_groups(lang) for lang in self.indexes}

    def semantic_texts(self) -> list[str]:
        """Every text and passage the reranker compares questions with, in every language, once."""
        return distinct_texts([*self.all_semantic_groups().values(), *self.all_passage_groups().values()])

    def features(self, candidates: list[Candidate], query: QueryTerms, calibration: Calibration) -> list[float]:
        """Inputs of the confidence model: the best real article's score, its lead over the next one,
        its example-question match, how much of the question the knowledge base covers, how much
        closer the question is to the out-of-scope examples, how typical of the knowledge base its
        most telling word is, and how much its words lean towards the out-of-scope examples. The
        fused model also weighs the e5 similarity of the best article and of the out-of-scope
        examples: a question of only everyday words ("jag vet inte vad jag vill bli") has no
        lexical evidence at all."""
        # Read by evidence, not by the order shown: a pupil's lift may put a pupils' article first, and
        # how surely the question belongs to the knowledge base does not depend on who asks. (Read in
        # the lifted order, a lifted article with less evidence had a negative lead and was declined.)
        real = sorted((c for c in candidates if c.article.id != OUT_OF_SCOPE_ID), key=lambda c: -c.evidence)
        decline_candidate = next((c for c in candidates if c.article.id == OUT_OF_SCOPE_ID), None)
        decline = decline_candidate.evidence if decline_candidate is not None else 0.0
        top = real[0].evidence if real else 0.0
        second = real[1].evidence if len(real) > 1 else 0.0
        anchor = real[0].anchor if real else 0.0
        out = [top, top - second, anchor, query.coverage, decline - top, query.domain / 5, query.off_topic / 5]
        if calibration.semantic_features:
            similarity = real[0].similarity if real else 0.0
            decline_similarity = decline_candidate.similarity if decline_candidate is not None else 0.0
            out += [similarity, decline_similarity - similarity]
        return out

    def search(self, question: str, lang_hint: str | None = None,
               pupil: bool = False) -> tuple[str, list[Candidate], QueryTerms]:
        found = self._ranked(question, lang_hint, pupil)
        return found.lang, found.candidates, found.query

    def _ranked(self, question: str, lang_hint: str | None, pupil: bool, asked_at: float | None = None) -> Search:
        question = without_emoji_codes(question)
        reranker = self.reranker  # read once: a background build may attach one meanwhile
        embedding = reranker.embed_soon(question, asked_at) if reranker is not None else None
        reading = self.read(question, lang_hint, pupil)  # on this thread while the question is embedded
        vector = reranker.in_time(embedding, asked_at) if reranker is not None and embedding is not None else None
        return self._search(reading, reranker, vector)

    def read(self, question: str, lang_hint: str | None, pupil: bool) -> Reading:
        """What the lexical index makes of a question, before any embedding is needed."""
        lang = detect_language(question, default=lang_hint or "sv")
        index = self.indexes[lang]
        query = index.query_terms(question)
        return Reading(lang, query, index.signals(query) if index.articles else None, pupil)

    def _search(self, reading: Reading, reranker: Reranker | None, vector: np.ndarray | None) -> Search:
        """The candidates ranked with the question's vector, or lexically without one (no reranker, or
        it could not reach this question in time)."""
        lang, query, signals, pupil = reading
        index = self.indexes[lang]
        if reranker is None or vector is None:
            calibration = self.calibrations.lexical
            return Search(lang, index.rank(query, calibration, None, pupil, signals), query, calibration, LEXICAL)
        calibration = self.calibrations.fused
        semantic = reranker.scores_of(lang, vector)
        return Search(lang, index.rank(query, calibration, semantic, pupil, signals), query, calibration, FUSED)

    def answer(self, question: str, lang_hint: str | None = None, pupil: bool = False,
               asked_at: float | None = None) -> Answer:
        """The best article when the confidence clears the threshold. When the top two are close,
        the confidence is that of the pair (their lead over the third), since the question clearly
        belongs to the knowledge base even if it sits between two articles: the bot then answers with
        the best and offers the runner-up ("Did you mean ...?") instead of declining.

        `asked_at` (monotonic seconds) is when the question came in: one the reranker has not embedded
        within its wait of that moment is answered lexically (see `Reranker.in_time`). Blocking: the
        bot's event loop uses `answer_soon`."""
        return self.decide(self._ranked(question, lang_hint, pupil, asked_at))

    async def answer_soon(self, question: str, lang_hint: str | None = None, pupil: bool = False,
                          asked_at: float | None = None) -> Answer:
        """`answer` for the event loop: the index's work runs in threads, and the wait for the embedder
        holds none. A burst of questions then queues for the embedder at once, where those it cannot
        reach in time are seen and answered lexically, instead of queueing for threads held by the
        questions ahead that wait for their embedding."""
        question = without_emoji_codes(question)
        reranker = self.reranker
        embedding = reranker.embed_soon(question, asked_at) if reranker is not None else None
        if reranker is None or embedding is None:
            return await asyncio.to_thread(self.answer_lexically, question, lang_hint, pupil)
        reading = await asyncio.to_thread(self.read, question, lang_hint, pupil)
        vector = await reranker.in_time_soon(embedding, asked_at)
        return await asyncio.to_thread(lambda: self.decide(self._search(reading, reranker, vector)))

    def answer_lexically(self, question: str, lang_hint: str | None = None, pupil: bool = False) -> Answer:
        """The lexical engine's answer alone, as without a reranker."""
        return self.decide(self._search(self.read(without_emoji_codes(question), lang_hint, pupil), None, None))

    def decide(self, search: Search) -> Answer:
        """Answer, or decline, from the ranked candidates (see `answer`)."""
        lang, all_candidates, query, calibration, mode = search
        features = self.features(all_candidates, query, calibration) if all_candidates else []
        confidence = calibration.confidence(features) if features else 0.0
        candidates = [c for c in all_candidates if c.article.id != OUT_OF_SCOPE_ID]
        ids: list[str] = []
        for c in candidates:
            if c.article.id not in ids:
                ids.append(c.article.id)
        others = sorted(candidates[1:], key=lambda c: -c.evidence)  # as `features` reads the lead
        close = bool(others) and candidates[0].evidence - others[0].evidence < calibration.close_margin
        if close:
            third = others[1].evidence if len(others) > 1 else 0.0
            pair = [*features[:1], candidates[0].evidence - third, *features[2:]]
            confidence = max(confidence, calibration.confidence(pair))
        answered = bool(candidates) and confidence >= calibration.threshold
        best = candidates[0].article if candidates else None
        return Answer(answered=answered, article_id=best.id if answered and best else None,
                      lang=best.lang if answered and best else lang, score=confidence,
                      alternatives=ids[1:4] if answered else ids[:3], question_lang=lang,
                      article=best if answered else None, candidates=candidates,
                      runner_up=others[0].article if answered and close else None, mode=mode)


def load_decline_examples(content_dir: Path) -> dict[str, list[str]]:
    path = content_dir / "out_of_scope.yaml"
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {lang: [str(q) for q in data.get(lang) or []] for lang in ("sv", "en")}


def build_engine(content_dir: Path, calibration: Calibration | Calibrations | None = None) -> Engine:
    return Engine(load_knowledge_base(content_dir / "kb"), calibration, load_decline_examples(content_dir))


def build_reranker(engine: Engine, store: VectorStore, embed_missing: bool = True,
                   embed: Embed | None = None) -> Reranker | None:
    """The semantic reranker for this engine's articles from `store`: embeds the texts it lacks (slow:
    run it in a thread), or with `embed_missing` false returns None unless every vector is stored.
    `embed` embeds questions (default: the store's embedder, uncached)."""
    indexes = semantic_indexes(store, engine.all_semantic_groups(), embed_missing, engine.all_passage_groups())
    if indexes is None:
        return None
    return Reranker(indexes, embed or store.embedder.embed)
