"""`make eval`: answer quality and latency over the shared dev set and our own question sets.

top-1 counts an in-scope question as right only when the bot answered it with the expected article;
top-3 when the expected article is the answer or one of the alternatives; out-of-scope declined is the
share of questions with topic null that the bot declined. Latency is per question, in process.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from bot.questions.engine import Engine, build_engine
from bot.questions.qa_sets import HELDOUT_SETS, SHARED_DEV, TUNING_SETS, UNSEEN_SETS, read_set
from bot.settings import CONTENT_DIR


def evaluate(engine: Engine, path: Path) -> dict[str, float]:
    rows = read_set(path)
    in_scope = [r for r in rows if r["topic"] is not None]
    oos = [r for r in rows if r["topic"] is None]
    top1 = top3 = declined = 0
    latencies = []
    for row in rows:
        start = time.perf_counter()
        answer = engine.answer(str(row["q"]))
        latencies.append((time.perf_counter() - start) * 1000)
        shown = ([answer.article_id] if answer.article_id else []) + answer.alternatives
        if row["topic"] is None:
            declined += not answer.answered
        else:
            top1 += answer.answered and answer.article_id == row["topic"]
            top3 += row["topic"] in shown[:3]
    latencies.sort()
    return {"questions": len(rows), "in_scope": len(in_scope), "oos": len(oos),
            "top1": top1 / max(1, len(in_scope)), "top3": top3 / max(1, len(in_scope)),
            "declined": declined / max(1, len(oos)), "p50_ms": statistics.median(latencies),
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]}


def main() -> None:
    start = time.perf_counter()
    engine = build_engine(CONTENT_DIR)
    build_ms = (time.perf_counter() - start) * 1000
    print(f"index: {len(engine.kb.articles)} articles built in {build_ms:.0f} ms; "
          f"threshold {engine.calibration.threshold:.2f}")
    print(f"{'set':<28}{'n':>5}{'in':>5}{'oos':>5}{'top-1':>8}{'top-3':>8}{'declined':>10}{'p50 ms':>9}{'p99 ms':>9}")
    sets = [("shared dev (never tuned)", SHARED_DEV)]
    sets += [(f"own {p.stem} (never tuned)", p) for p in UNSEEN_SETS]
    sets += [(f"own {p.stem} (threshold)", p) for p in HELDOUT_SETS]
    sets += [(f"own {p.stem} (fitted)", p) for p in TUNING_SETS]
    for name, path in sets:
        if not path.exists():
            print(f"{name:<28} missing: {path}")
            continue
        r = evaluate(engine, path)
        print(f"{name:<28}{r['questions']:>5}{r['in_scope']:>5}{r['oos']:>5}{r['top1']:>8.1%}{r['top3']:>8.1%}"
              f"{r['declined']:>10.1%}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}")


if __name__ == "__main__":
    main()
