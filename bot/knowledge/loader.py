"""Load articles from disk into memory, collecting problems with file and line instead of failing.

The question answerer indexes what this returns; nothing reads the disk while answering.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.knowledge.models import Article

# libyaml when installed (about five times faster on a large knowledge base), else pure Python.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.S)


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    level: str  # "error" or "warning"
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.level}: {self.message}"


@dataclass
class KnowledgeBase:
    articles: list[Article] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # article path -> front-matter key -> line in the file, so later checks can point at the field
    field_lines: dict[str, dict[str, int]] = field(default_factory=dict)

    def get(self, article_id: str, lang: str) -> Article | None:
        return next((a for a in self.articles if a.id == article_id and a.lang == lang), None)

    def ids(self) -> set[str]:
        return {a.id for a in self.articles}


def _field_lines(front: str) -> dict[str, int]:
    """Line numbers (in the file) of top-level front-matter keys, for precise error messages."""
    lines: dict[str, int] = {}
    for number, line in enumerate(front.splitlines(), start=2):
        match = re.match(r"^([A-Za-z_][\w-]*)\s*:", line)
        if match:
            lines.setdefault(match.group(1), number)
    return lines


def parse_article(path: Path, root: Path) -> tuple[Article | None, list[Problem], dict[str, int]]:
    shown = str(path.relative_to(root.parent) if root.parent in path.parents else path)
    text = path.read_text(encoding="utf-8")
    match = FRONT_MATTER.match(text)
    if not match:
        return None, [Problem(shown, 1, "error", "no YAML front matter (the file must start with ---)")], {}
    front, body = match.groups()
    try:
        meta: Any = yaml.load(front, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        return None, [Problem(shown, line, "error", f"front matter is not valid YAML: {getattr(exc, 'problem', exc)}")], {}
    if not isinstance(meta, dict):
        return None, [Problem(shown, 2, "error", "front matter must be a mapping of fields")], {}
    lines = _field_lines(front)
    try:
        article = Article(**meta, body=body.strip(), path=shown)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "?"
            where = ".".join(str(p) for p in error["loc"])
            message = f"field '{where}' is missing" if error["type"] == "missing" else f"field '{where}': {error['msg']}"
            problems.append(Problem(shown, lines.get(name, 1), "error", message))
        return None, problems, lines
    problems = []
    if path.parent.name != article.lang:
        problems.append(Problem(shown, lines.get("lang", 1), "error",
                                f"lang is '{article.lang}' but the file is in the '{path.parent.name}' folder"))
    return article, problems, lines


def load_knowledge_base(kb_dir: Path) -> KnowledgeBase:
    kb = KnowledgeBase()
    seen: dict[tuple[str, str], str] = {}
    field_lines = kb.field_lines
    for path in sorted(kb_dir.glob("*/*.md")):
        article, problems, lines = parse_article(path, kb_dir)
        kb.problems.extend(problems)
        if article is None:
            continue
        if article.key in seen:
            kb.problems.append(Problem(article.path, 2, "error",
                                       f"duplicate id '{article.id}' ({article.lang}), also in {seen[article.key]}"))
            continue
        seen[article.key] = article.path
        field_lines[article.path] = lines
        kb.articles.append(article)
    ids = kb.ids()
    for article in kb.articles:
        for related in article.related:
            if related not in ids:
                kb.problems.append(Problem(article.path, field_lines[article.path].get("related", 1), "error",
                                           f"related id '{related}' does not exist"))
        other = "en" if article.lang == "sv" else "sv"
        if (article.id, other) not in seen:
            kb.problems.append(Problem(article.path, 1, "warning",
                                       f"no {other} version of '{article.id}' (answers will fall back to {article.lang})"))
    return kb


def content_fingerprint(kb_dir: Path) -> tuple[int, float]:
    """Cheap change detection for hot reload: number of files and the newest modification time."""
    files = list(kb_dir.glob("*/*.md"))
    return len(files), max((f.stat().st_mtime for f in files), default=0.0)
