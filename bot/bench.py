"""`make bench`: speed and memory of the question engine on a synthetic 500-article corpus.

The corpus repeats the real articles with shuffled, re-mixed text and new ids, so the index has the
size and vocabulary spread of a grown knowledge base. Figures are printed, never asserted.
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

from bot.knowledge import KnowledgeBase, load_knowledge_base
from bot.questions.engine import Engine, build_engine, load_decline_examples
from bot.questions.qa_sets import HELDOUT_SETS, read_sets
from bot.settings import CONTENT_DIR

TARGET_ARTICLES = 500


def synthetic_corpus(size: int = TARGET_ARTICLES, seed: int = 7) -> KnowledgeBase:
    """`size` articles in Swedish/English pairs that share an id, like the real knowledge base."""
    real = load_knowledge_base(CONTENT_DIR / "kb").articles
    rng = random.Random(seed)
    articles = list(real)
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
            articles.append(base.model_copy(update={
                "id": f"{base.id}-v{n}", "title": f"{base.title} ({n})", "body": " ".join(words),
                "questions": questions,
                "synonyms": rng.sample(base.synonyms, k=max(1, len(base.synonyms) // 2))}))
    return KnowledgeBase(articles=articles[:size])


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


def main() -> None:
    kb = synthetic_corpus()
    with tempfile.TemporaryDirectory() as tmp:
        content = write_corpus(kb, Path(tmp))
        start = time.perf_counter()
        build_engine(content)
        startup_s = time.perf_counter() - start
    questions = [str(r["q"]) for r in read_sets(HELDOUT_SETS)]
    start = time.perf_counter()
    engine = Engine(kb, decline_examples=load_decline_examples(CONTENT_DIR))
    build_s = time.perf_counter() - start
    tracemalloc.start()  # a second, traced build: tracing slows it down, so it is not timed
    Engine(kb, decline_examples=load_decline_examples(CONTENT_DIR))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    for q in questions[:20]:
        engine.answer(q)  # warm caches, as a running bot would be
    latencies = []
    for _ in range(5):
        for q in questions:
            t0 = time.perf_counter()
            engine.answer(q)
            latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"corpus: {len(kb.articles)} articles ({len(engine.indexes['sv'].articles)} sv, "
          f"{len(engine.indexes['en'].articles)} en); CPUs: {os.cpu_count()}")
    print(f"start-up: {len(kb.articles)} articles read from disk and indexed in {startup_s * 1000:.0f} ms")
    print(f"index build (in memory): {build_s * 1000:.0f} ms; peak Python allocations while building: {peak / 1e6:.1f} MB; "
          f"process max RSS: {rss_mb:.0f} MB")
    print(f"answer latency over {len(latencies)} questions: p50 {statistics.median(latencies):.2f} ms, "
          f"p95 {latencies[int(len(latencies) * 0.95)]:.2f} ms, p99 {latencies[int(len(latencies) * 0.99)]:.2f} ms, "
          f"max {latencies[-1]:.2f} ms")


if __name__ == "__main__":
    main()
