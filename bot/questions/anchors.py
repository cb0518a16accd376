"""How close a question is to each article's nearest phrasing (its title, an example question, a
multi-word synonym): the ranker's anchor bonus and a feature of the confidence model.

Closeness is an IDF-weighted stem cosine plus a trigram Dice coefficient. Every phrasing of every
article is scored at once, from postings (a stem or a trigram -> the phrasings that hold it): a question
costs a few array additions per word, where a Python loop over the shortlisted articles' phrasings took
about 5 ms of the answering thread for 500 articles.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

Phrasing = tuple[dict[str, float], frozenset[str]]  # stem -> its IDF, and the trigrams of its words


class FlatPostings:
    """Key -> phrasings (and a value each, or 1) as slices of flat arrays: one dict of ints and a few
    arrays pickle and load far faster than thousands of small arrays (the lexical index is stored)."""

    def __init__(self, postings: dict[str, list[int]], values: dict[str, list[float]] | None = None) -> None:
        self.slot = {key: position for position, key in enumerate(postings)}
        lengths = [len(rows) for rows in postings.values()]
        self.offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]) if lengths \
            else np.zeros(1, dtype=np.int64)
        self.rows = np.array([r for rows in postings.values() for r in rows], dtype=np.int32)
        self.values = None if values is None else \
            np.array([v for key in postings for v in values[key]], dtype=np.float64)

    def add_to(self, totals: np.ndarray, keys: Iterable[str]) -> None:
        """Add each key's value (or 1) to its phrasings' totals (a phrasing is listed once per key)."""
        for key in keys:
            position = self.slot.get(key)
            if position is not None:
                start, end = self.offsets[position], self.offsets[position + 1]
                totals[self.rows[start:end]] += 1.0 if self.values is None else self.values[start:end]


class Anchors:
    """Every article's phrasings, scored against one question in a few array operations."""

    def __init__(self, articles: Sequence[Sequence[Phrasing]]) -> None:
        stems: dict[str, list[int]] = {}
        squares: dict[str, list[float]] = {}  # a stem's IDF squared, per phrasing that holds it
        grams: dict[str, list[int]] = {}
        masses: list[float] = []
        gram_counts: list[int] = []
        row = 0
        for phrasings in articles:
            for weights, trigrams in phrasings:
                for term, weight in weights.items():
                    stems.setdefault(term, []).append(row)
                    squares.setdefault(term, []).append(weight ** 2)
                for gram in trigrams:
                    grams.setdefault(gram, []).append(row)
                masses.append(sum(v * v for v in weights.values()))
                gram_counts.append(len(trigrams))
                row += 1
        self.stems = FlatPostings(stems, squares)
        self.grams = FlatPostings(grams)
        self.mass = np.array(masses, dtype=np.float64)
        self.gram_count = np.array(gram_counts, dtype=np.float64)
        counts = np.array([len(p) for p in articles], dtype=np.int64)
        self.count = len(articles)
        self.owned = np.flatnonzero(counts)  # articles with at least one phrasing
        self.starts = (np.cumsum(counts) - counts)[self.owned]

    def scores(self, stems: frozenset[str], grams: frozenset[str], idf: dict[str, float]) -> np.ndarray:
        """Per article, the closeness of its nearest phrasing to a question of these stems and trigrams
        (0 for an article without phrasings)."""
        out = np.zeros(self.count)
        if not len(self.mass):
            return out
        shared = np.zeros(len(self.mass))
        self.stems.add_to(shared, stems)
        query_mass = sum(idf.get(t, 1.0) ** 2 for t in stems)
        stem_part = np.zeros(len(self.mass))
        hit = shared > 0  # a shared stem: both sides have mass
        stem_part[hit] = shared[hit] / np.sqrt(query_mass * self.mass[hit])
        common = np.zeros(len(self.mass))
        gram_part = np.zeros(len(self.mass))
        if grams:
            self.grams.add_to(common, grams)
            some = self.gram_count > 0
            gram_part[some] = 2 * common[some] / (len(grams) + self.gram_count[some])
        closeness = 0.5 * stem_part + 0.5 * gram_part
        if len(self.owned):
            out[self.owned] = np.maximum.reduceat(closeness, self.starts)
        return out
