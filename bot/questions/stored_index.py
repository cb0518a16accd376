"""The stored lexical index: a start reads the index built last time instead of tokenising every article again.

The lexical index is pure computation over the content and this code, so it is stored under a key of
both: the bytes of every file the index reads (the articles and the out-of-scope examples), the source of
the modules that build it, and the versions of Python and of the libraries whose objects or output it
holds. A changed article, another release of the code or an upgraded library gives another key and a
fresh build; a file that does not load is built again. For 500 articles a start reads it in about
a quarter of a second instead of building for about three.

The file is a pickle. It is read only from the bot's own data directory, which only the bot writes:
whoever can write there can change the content the bot answers from anyway.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import platform
import tempfile
from importlib import metadata
from pathlib import Path

from bot.knowledge import KnowledgeBase, load_knowledge_base
from bot.questions.engine import Calibration, Calibrations, Engine, LanguageIndex, load_decline_examples

log = logging.getLogger(__name__)

FORMAT = 1  # bump when what is stored changes shape without a change to the modules below
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
BUILD_SOURCES = ("questions/engine.py", "questions/anchors.py", "questions/text.py", "knowledge/*.py")
LIBRARIES = ("numpy", "pydantic", "PyStemmer", "wordfreq")
KEEP = 3  # stored indexes kept (another content version, or another instance's, is not deleted at once)
PREFIX = "lexical-"


def _code_key() -> bytes:
    digest = hashlib.sha256(f"{FORMAT} {platform.python_version()}".encode())
    for name in LIBRARIES:
        digest.update(f" {name}={metadata.version(name)}".encode())
    for pattern in BUILD_SOURCES:
        for path in sorted(PACKAGE_ROOT.glob(pattern)):
            digest.update(path.read_bytes())
    return digest.digest()


def index_key(content_dir: Path) -> str:
    """Changes whenever the built index could: the content it reads, the code that builds it, its libraries."""
    digest = hashlib.sha256(_code_key())
    files = sorted((content_dir / "kb").glob("*/*.md")) + [content_dir / "out_of_scope.yaml"]
    for path in files:
        if path.exists():
            digest.update(str(path.relative_to(content_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def _path(directory: Path, key: str) -> Path:
    return directory / f"{PREFIX}{key}.pickle"


def load(directory: Path, key: str) -> tuple[KnowledgeBase, dict[str, LanguageIndex]] | None:
    path = _path(directory, key)
    if not path.exists():
        return None
    try:
        with path.open("rb") as file:
            stored_key, kb, indexes = pickle.load(file)
    except Exception as error:  # a truncated or foreign file: build again, never fail the start
        log.warning("the stored lexical index %s does not load (%s); building it again", path.name, error)
        return None
    if stored_key != key or not isinstance(kb, KnowledgeBase) or set(indexes) != {"sv", "en"}:
        log.warning("the stored lexical index %s is not this content's; building it again", path.name)
        return None
    return kb, indexes


def save(directory: Path, key: str, kb: KnowledgeBase, indexes: dict[str, LanguageIndex]) -> None:
    """Written whole under a temporary name, then renamed: another instance never reads half a file."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=directory, prefix=".tmp-", delete=False) as file:
            pickle.dump((key, kb, indexes), file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(file.name, _path(directory, key))
    except OSError as error:  # a read-only data directory: the bot still starts, it just builds next time too
        log.warning("could not store the lexical index in %s: %s", directory, error)
        return
    stored = sorted(directory.glob(f"{PREFIX}*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in stored[KEEP:]:
        old.unlink(missing_ok=True)


def stored_engine(content_dir: Path, directory: Path,
                  calibration: Calibration | Calibrations | None = None) -> tuple[Engine, bool]:
    """The engine for `content_dir`, read from `directory` when stored there (True), else built and stored."""
    key = index_key(content_dir)
    stored = load(directory, key)
    if stored is not None:
        kb, indexes = stored
        return Engine(kb, calibration, indexes=indexes), True
    kb = load_knowledge_base(content_dir / "kb")
    engine = Engine(kb, calibration, load_decline_examples(content_dir))
    save(directory, key, kb, engine.indexes)
    return engine, False
