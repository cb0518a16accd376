"""The vectors shipped with the content (`content/vectors/`), kept in step with it like a lock file.

`samsyv content vectors` writes exactly the current content's article vectors there (embedding only
what changed); `samsyv content check` warns when the shipped file lacks some, since a fresh checkout
would then embed them at its first start (and answer lexically until done)."""

from __future__ import annotations

from pathlib import Path

from bot.questions.embedding import load_embedder
from bot.questions.engine import build_engine
from bot.questions.semantic import SEED_DIR, read_vectors, store_path, text_key, vector_store


def seed_path(content_dir: Path, embedder_name: str) -> Path:
    return store_path(content_dir / SEED_DIR, embedder_name)


def write_seed(content_dir: Path, backend: str, vector_dir: Path) -> tuple[Path, int] | None:
    """Embed what is missing and write the shipped file; None when the backend cannot run here."""
    store = vector_store(backend, vector_dir, content_dir)
    if store is None:
        return None
    path = seed_path(content_dir, store.embedder.name)
    return path, store.export(path, build_engine(content_dir).semantic_texts())


def seed_missing(content_dir: Path, backend: str) -> tuple[int, int] | None:
    """How many of the content's texts the shipped file lacks, of how many; None without the backend."""
    embedder = load_embedder(backend)
    if embedder is None:
        return None
    texts = build_engine(content_dir).semantic_texts()
    shipped = read_vectors(seed_path(content_dir, embedder.name))
    return sum(text_key(t) not in shipped for t in texts), len(texts)
