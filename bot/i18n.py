"""User-facing strings from per-locale YAML files under `content/locales/<lang>/`.

Every capability keeps its own file (`core.yaml`, `questions.yaml`, ...); keys are dotted paths.
The content check verifies that both languages hold the same keys and placeholders.
"""

from __future__ import annotations

import string
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.settings import CONTENT_DIR, WEB_LANGUAGES

_catalog: dict[str, dict[str, str]] = {}
_locale_dir: Path = CONTENT_DIR / "locales"


def _flatten(prefix: str, node: Any, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out)
    else:
        out[prefix] = str(node)


def load_locale_files(locale_dir: Path) -> dict[str, dict[str, str]]:
    catalog: dict[str, dict[str, str]] = {}
    for lang in WEB_LANGUAGES:  # sv and en in full; the pupils' page languages only web.yaml
        flat: dict[str, str] = {}
        for path in sorted((locale_dir / lang).glob("*.yaml")):
            _flatten("", yaml.safe_load(path.read_text(encoding="utf-8")) or {}, flat)
        catalog[lang] = flat
    return catalog


def load(locale_dir: Path | None = None) -> None:
    global _locale_dir, _catalog
    if locale_dir is not None:
        _locale_dir = locale_dir
    _catalog = load_locale_files(_locale_dir)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def t(lang: str, key: str, **values: Any) -> str:
    """The string for `key` in `lang` (falls back to the other language, then to the key).

    A key written as `one:`/`other:` in the locale file is a plural: `count` (or `n`) picks the form."""
    if not _catalog:
        load()
    number = values.get("count", values.get("n"))
    if isinstance(number, int) and f"{key}.other" in _catalog.get(lang, {}):
        key = f"{key}.one" if number == 1 else f"{key}.other"
    template = _catalog.get(lang, {}).get(key)
    if template is None:  # Swedish first (the catalogue's first language), then English
        template = next((c[key] for c in _catalog.values() if key in c), key)
    return template.format(**values) if values else template


@lru_cache(maxsize=200_000)  # the question index asks for every word of the articles
def unaccented(word: str) -> str:
    """The word as typed on a keyboard without å, ä, ö (`vägledning` -> `vagledning`)."""
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


def words(key: str) -> set[str]:
    """All languages' comma-separated words for a command alias key, lower-cased, each also as typed
    without å, ä, ö (`/syv hjalp`, `/syv enkat`)."""
    if not _catalog:
        load()
    found: set[str] = set()
    for strings in _catalog.values():
        found.update(w.strip().lower() for w in strings.get(key, "").split(",") if w.strip())
    return found | {unaccented(w) for w in found}
