"""The semantic side of ranking: article texts as e5 vectors, stored so start-up never embeds them.

Embedding every title, summary, synonym, example question and body passage takes about three minutes of CPU, one
question about 20 ms. So article vectors are computed once per text and kept in a vector store (a
`.npz` file per embedder under `VECTOR_DIR`, keyed by a SHA-256 of each text): a content change embeds
only the texts that are new, and a restart embeds nothing. The vectors of the content as released ship
with it (`content/vectors/`, written by `samsyv content vectors`, like a lock file): a fresh checkout
answers with the reranker from its first question, and the local store only holds what is newer.
Every vector is kept at half precision (float16, a cosine error near 1e-4), so a shipped vector and one
computed here are the same numbers.

An article's similarity to a question is the mean of its three closest texts (title, summary,
synonyms, example questions, in both languages: e5 is multilingual); the ranker adds it, standardised
over the articles, to the lexical score. A second, lighter score is the mean of the two closest passages
of the article's body (a paragraph under its heading): a question may ask about a fact that only the
body states, in words no title or example question uses.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import NamedTuple

import numpy as np

from bot.knowledge import Article
from bot.questions import cores, question_queue
from bot.questions.embedding import Embedder, load_embedder
from bot.questions.question_queue import QUEUE_WAIT

log = logging.getLogger(__name__)

CLOSEST = 3  # an article's similarity is the mean of its this many closest texts
CLOSEST_PASSAGES = 2  # and its passage score the mean of its this many closest body passages
SHORTEST_PASSAGE = 30  # characters: shorter body lines (a lone link, a table row) say too little
BATCH = 8  # texts per embedding call of a build: a question waits for at most one batch (about 0.2 s)
SAVE_EVERY = 80  # batches: a long first build saves its progress as it goes
EMBED_HEAD_WORDS = 16  # a question's words given to the embedder: its opening ...
EMBED_TAIL_WORDS = 32  # ... and its end, where a long text usually asks


SEED_DIR = "vectors"  # under the content directory: the shipped vectors of the released content


def embeddable(question: str) -> str:
    """At most the first and last words of a question, for the embedder: its cost grows with the
    tokens (45 tokens 0.11 s, 505 tokens 2 s on one core) and it embeds one text at a time, so one
    pasted page would hold up everyone's questions. Real questions are shorter (the evaluation's
    longest has 43 words); the lexical engine still reads every word."""
    words = question.split()
    if len(words) <= EMBED_HEAD_WORDS + EMBED_TAIL_WORDS:
        return question
    return " ".join(words[:EMBED_HEAD_WORDS] + words[-EMBED_TAIL_WORDS:])


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stored_precision(vectors: np.ndarray) -> np.ndarray:
    """Vectors as the store keeps them: rounded to float16, computed with as float32."""
    return np.asarray(vectors, dtype=np.float32).astype(np.float16).astype(np.float32)


def store_path(directory: Path, embedder_name: str, label: str = "articles") -> Path:
    return directory / f"{label}-{embedder_name}.npz"


def read_vectors(path: Path) -> dict[str, np.ndarray]:
    """One store file's vectors by text key; empty (with one warning) when it cannot be read."""
    if not path.exists():
        return {}
    try:
        with np.load(path) as data:
            matrix = stored_precision(data["vectors"])
            keys = data["keys"].astype("U64")  # ASCII hex, stored as bytes
            return dict(zip((str(k) for k in keys), matrix, strict=True))
    except (OSError, ValueError, KeyError) as exc:
        log.warning("vector store %s unreadable, rebuilding it: %s", path, exc)
        return {}


def write_vectors(path: Path, vectors: dict[str, np.ndarray]) -> None:
    """Write atomically: readers see the old file or the new one, never half of one."""
    keys = np.array(list(vectors), dtype="S64")
    matrix = np.vstack(list(vectors.values())).astype(np.float16) if vectors else np.zeros((0, 1), dtype=np.float16)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            np.savez(out, keys=keys, vectors=matrix)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class VectorStore:
    """Vectors by text hash, in memory and in one file per embedder; safe to share between threads.

    `seed` is a read-only directory of shipped vectors (the content's own); what this store computes
    itself is written to `directory` only."""

    def __init__(self, directory: Path | None, embedder: Embedder, label: str = "articles",
                 seed: Path | None = None) -> None:
        self.embedder = embedder
        self.path = store_path(directory, embedder.name, label) if directory is not None else None
        self._lock = threading.Lock()
        self.seed_path = store_path(seed, embedder.name, label) if seed is not None else None
        self._seed_mtime = self._mtime()
        self._seeded = read_vectors(self.seed_path) if self.seed_path is not None else {}
        self._vectors: dict[str, np.ndarray] = dict(self._seeded)
        if self.path is not None:
            self._vectors.update(read_vectors(self.path))

    def _mtime(self) -> float | None:
        try:
            return self.seed_path.stat().st_mtime if self.seed_path is not None else None
        except OSError:
            return None

    def refresh_seed(self) -> None:
        """Take in the shipped vectors again when a deploy replaced the file (a content reload)."""
        mtime = self._mtime()
        if mtime == self._seed_mtime or self.seed_path is None:
            return
        seeded = read_vectors(self.seed_path)
        with self._lock:
            self._seed_mtime, self._seeded = mtime, seeded
            self._vectors.update(seeded)

    def __len__(self) -> int:
        return len(self._vectors)

    def missing(self, texts: Sequence[str]) -> list[str]:
        return list(dict.fromkeys(t for t in texts if text_key(t) not in self._vectors))

    def lookup(self, texts: Sequence[str]) -> np.ndarray | None:
        """The stored vectors of `texts` in order, or None when any is missing."""
        try:
            rows = [self._vectors[text_key(t)] for t in texts]
        except KeyError:
            return None
        return np.vstack(rows) if rows else np.zeros((0, 1), dtype=np.float32)

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of `texts`, embedding (and storing) those not stored yet. Slow when many are new."""
        todo = self.missing(texts)
        for start in range(0, len(todo), BATCH):
            batch = todo[start:start + BATCH]
            embedded = stored_precision(self.embedder.embed(batch))
            with self._lock:
                self._vectors.update((text_key(t), v) for t, v in zip(batch, embedded, strict=True))
            if self.path is not None and start + BATCH < len(todo) and (start // BATCH) % SAVE_EVERY == SAVE_EVERY - 1:
                self.save()  # progress survives an interrupted first build
        if todo:
            self.save()
        found = self.lookup(texts)
        assert found is not None
        return found

    def put(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Store vectors computed elsewhere (the benchmark gives synthetic texts their source's vectors)."""
        with self._lock:
            self._vectors.update((text_key(t), v) for t, v in zip(texts, stored_precision(vectors), strict=True))

    def save(self) -> None:
        """Write what this store holds beyond the shipped seed to its own file."""
        if self.path is None:
            return
        with self._lock:
            own = {k: v for k, v in self._vectors.items() if k not in self._seeded}
        write_vectors(self.path, own)

    def export(self, path: Path, texts: Sequence[str]) -> int:
        """Write exactly the vectors of `texts` (embedding those missing) to `path`: the shipped seed."""
        vectors = self.vectors(texts)
        keys = list(dict.fromkeys(text_key(t) for t in texts))
        by_key = dict(zip((text_key(t) for t in texts), vectors, strict=True))
        write_vectors(path, {k: by_key[k] for k in keys})
        return len(keys)


def article_texts(article: Article, other: Article | None) -> list[str]:
    """What an article says it is about, in its language and (when there is one) the other."""
    texts: list[str] = []
    for version in (article, other):
        if version is not None:
            texts += [version.title, version.summary, *version.synonyms, *version.questions]
    return list(dict.fromkeys(t.strip() for t in texts if t.strip()))


def article_passages(article: Article, other: Article | None) -> list[str]:
    """The body passages of an article, in its language and (when there is one) the other."""
    return list(dict.fromkeys(body_passages(article) + (body_passages(other) if other is not None else [])))


_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_MARKUP = re.compile(r"[*_`|]")
_SPACES = re.compile(r"\s+")


def body_passages(article: Article) -> list[str]:
    """The article's body as passages: each paragraph or list under its heading, without Markdown marks."""
    passages: list[str] = []
    heading = ""
    for block in _PARAGRAPH_BREAK.split(article.body):
        block = block.strip()
        if block.startswith("#") and "\n" not in block:
            heading = block.lstrip("#").strip()
            continue
        text = _SPACES.sub(" ", _MARKUP.sub("", block)).strip()
        if len(text) >= SHORTEST_PASSAGE:
            passages.append(f"{heading}: {text}" if heading else text)
    return passages


class ClosestTexts:
    """Each article's rows in the shared matrix; its score is the mean cosine of its `closest` closest."""

    def __init__(self, groups: list[list[str]], rows: dict[str, int], pad: int, closest: int) -> None:
        # slots[i, j] is the row of article i's j-th text, or `pad` (a -inf row) past its last one.
        width = max([len(g) for g in groups] + [1])
        self.slots = np.full((len(groups), width), pad, dtype=np.int32)
        for position, group in enumerate(groups):
            self.slots[position, :len(group)] = [rows[text] for text in group]
        self.k = min(closest, width)
        self.closest = np.minimum(closest, np.maximum(1, [len(g) for g in groups]))
        self.empty = np.array([not g for g in groups])

    def score(self, padded_cosines: np.ndarray) -> np.ndarray:
        sims = padded_cosines[self.slots]
        best = -np.partition(-sims, self.k - 1, axis=1)[:, :self.k]
        best = np.sort(best, axis=1)[:, ::-1]
        ranks = np.arange(self.k)[None, :] < self.closest[:, None]
        out = np.where(ranks, np.where(np.isfinite(best), best, 0.0), 0.0).sum(axis=1) / self.closest
        out[self.empty] = 0.0
        return out


class SemanticIndex:
    """One language's articles (same order as the lexical index) as rows of a text-vector matrix that
    every language shares: an article's texts are in both languages, so both indexes point at the same
    vectors instead of holding a copy each.

    The matrix is kept as columns, one per text (dimensions x texts, C order): a question times it
    streams the matrix row by row, which OpenBLAS does about twice as fast as the dot product of every
    text's row with the question (27,000 texts: 1.7 ms against 3.4 ms on one core). The product is
    memory-bound, so this halves the cost of the largest step of answering after the embedding."""

    def __init__(self, groups: list[list[str]], columns: np.ndarray, rows: dict[str, int],
                 passages: list[list[str]] | None = None) -> None:
        self.columns = columns
        self.texts_count = columns.shape[1]
        self.count = len(groups)
        self.texts = ClosestTexts(groups, rows, self.texts_count, CLOSEST)
        self.passages = ClosestTexts(passages, rows, self.texts_count, CLOSEST_PASSAGES) if passages else None

    def similarity(self, question: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Per article, the mean cosine of its CLOSEST closest texts, and of its closest body passages."""
        cosines = np.empty(self.texts_count + 1, dtype=np.float32)
        np.matmul(question.astype(np.float32, copy=False), self.columns, out=cosines[:-1])
        cosines[-1] = -np.inf  # the padding row of articles with fewer texts
        return self.texts.score(cosines), self.passages.score(cosines) if self.passages is not None else None


def distinct_texts(groupings: Iterable[list[list[str]]]) -> list[str]:
    """Every text of these groupings (a language's article groups, texts or passages), once, in order:
    the rows of the shared matrix."""
    return list(dict.fromkeys(t for groups in groupings for group in groups for t in group))


def semantic_indexes(store: VectorStore, groups: dict[str, list[list[str]]], embed_missing: bool,
                     passages: dict[str, list[list[str]]] | None = None) -> dict[str, SemanticIndex] | None:
    """Per language, its texts and body passages grouped by article, over one matrix of every distinct
    text; None when vectors are missing and `embed_missing` is false."""
    passages = passages or {}
    texts = distinct_texts([*groups.values(), *passages.values()])
    vectors = store.vectors(texts) if embed_missing else store.lookup(texts)
    if vectors is None:
        return None
    matrix = vectors.astype(np.float32, copy=False).reshape(len(texts), -1) if texts \
        else np.zeros((0, 1), dtype=np.float32)
    columns = np.ascontiguousarray(matrix.T)
    rows = {text: row for row, text in enumerate(texts)}
    return {lang: SemanticIndex(lang_groups, columns, rows, passages.get(lang)) for lang, lang_groups in groups.items()}


Embed = Callable[[list[str], int], np.ndarray]  # texts and the cores the call may use -> vectors


class Reranker:
    """Semantic scores per language for the ranker: index vectors plus a way to embed the question."""

    def __init__(self, indexes: dict[str, SemanticIndex], embed: Embed, wait: float = QUEUE_WAIT) -> None:
        self.indexes = indexes
        self.embed = embed
        self.wait = wait  # seconds from asking within which the embedder must reach a question
        cores.meter()  # its first reading now, so the first question's window starts here

    def scores(self, lang: str, question: str) -> SemanticScores | None:
        return self.scores_of(lang, self.question_vector(question, 1))

    def scores_of(self, lang: str, vector: np.ndarray) -> SemanticScores | None:
        """Scores for a question already embedded (see `embed_soon`)."""
        index = self.indexes.get(lang)
        if index is None or not index.count or not index.texts_count:
            return None
        raw, passages = index.similarity(vector)
        return SemanticScores(standardise(raw), raw, standardise(passages) if passages is not None else None)

    def question_vector(self, question: str, cores_to_use: int) -> np.ndarray:
        """The question's vector (of its opening and end only, when it is very long: see `embeddable`)."""
        return self.embed([embeddable(question)], cores_to_use)[0]

    def embed_question(self, question: str) -> np.ndarray:
        """One question, on a second core when other work left one idle (see `bot.questions.cores`)."""
        return self.question_vector(question, cores.question_cores())

    def embed_soon(self, question: str, asked_at: float | None = None) -> Future[np.ndarray] | None:
        """Embed in the background: the C engine releases the GIL, so on a second core the question is
        embedded while the lexical index scores it (wall time max(embedding, lexical), not their sum).
        None when the questions queued ahead would keep the embedder from reaching this one within
        `wait` seconds of `asked_at` (monotonic; default now): it is answered lexically at once."""
        embedding = question_queue.questions.submit(lambda: self.embed_question(question), self._deadline(asked_at))
        if embedding is None:
            question_queue.questions.busy.count(self.wait)
        return embedding

    def in_time(self, embedding: Future[np.ndarray], asked_at: float | None = None) -> np.ndarray | None:
        """The question's vector, or None when the embedder has not started on it within `wait` seconds
        of `asked_at` (it is behind a burst of questions): the caller then answers lexically. The wait
        counts from when the question was asked, since in a burst it also queues for a thread."""
        vector = question_queue.questions.result(embedding, self._deadline(asked_at))
        if vector is None:
            question_queue.questions.busy.count(self.wait)
        return vector

    async def in_time_soon(self, embedding: Future[np.ndarray], asked_at: float | None = None) -> np.ndarray | None:
        """`in_time` for the event loop: the wait holds no thread."""
        vector = await question_queue.questions.result_soon(embedding, self._deadline(asked_at))
        if vector is None:
            question_queue.questions.busy.count(self.wait)
        return vector

    def _deadline(self, asked_at: float | None) -> float:
        return (time.monotonic() if asked_at is None else asked_at) + self.wait


class SemanticScores(NamedTuple):
    """Per article: standardised over the articles (for ranking) and the raw cosine (for confidence)."""

    standardised: np.ndarray
    raw: np.ndarray
    passages: np.ndarray | None = None  # the body passages' similarity, standardised like the first


def standardise(scores: np.ndarray) -> np.ndarray:
    """Zero mean, unit spread over the articles, so one weight fits any question and corpus size."""
    spread = float(scores.std())
    return (scores - scores.mean()) / spread if spread > 1e-9 else np.zeros_like(scores)


_stores: dict[tuple[str, Path, Path | None], VectorStore] = {}
_stores_lock = threading.Lock()


def vector_store(backend: str, directory: Path, content_dir: Path | None = None) -> VectorStore | None:
    """The process-wide store for this backend and directory (loading a file once), seeded with the
    vectors shipped in `content_dir`, or None when the backend is off or cannot run here (logged once
    by `load_embedder`). Blocking: call it in a thread."""
    embedder = load_embedder(backend)
    if embedder is None:
        return None
    seed = content_dir / SEED_DIR if content_dir is not None else None
    with _stores_lock:
        key = (embedder.name, directory.resolve(), seed.resolve() if seed is not None else None)
        if key not in _stores:
            _stores[key] = VectorStore(directory, embedder, seed=seed)
        store = _stores[key]
    store.refresh_seed()
    return store
