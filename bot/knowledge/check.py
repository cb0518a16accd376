"""`samsyv content check`: everything the project team edits, validated, each problem with file and line."""

from __future__ import annotations

import importlib
from collections import Counter
from pathlib import Path

from bot.i18n import load_locale_files, placeholders
from bot.knowledge.loader import Problem, load_knowledge_base

# Capabilities that keep templates in content/ expose `check_templates(dir) -> list[str | Problem]`.
TEMPLATE_CHECKS = {"surveys": "bot.surveys.templates", "meetings": "bot.conferences.templates"}


def check_locales(locale_dir: Path) -> list[Problem]:
    problems: list[Problem] = []
    catalog = load_locale_files(locale_dir)
    sv, en = catalog.get("sv", {}), catalog.get("en", {})
    for key in sorted(set(sv) - set(en)):
        problems.append(Problem(str(locale_dir / "en"), 1, "error", f"key '{key}' is missing in English"))
    for key in sorted(set(en) - set(sv)):
        problems.append(Problem(str(locale_dir / "sv"), 1, "error", f"key '{key}' is missing in Swedish"))
    for key in sorted(set(sv) & set(en)):
        if placeholders(sv[key]) != placeholders(en[key]):
            problems.append(Problem(str(locale_dir), 1, "error",
                                    f"key '{key}' has placeholders {sorted(placeholders(sv[key]))} in Swedish "
                                    f"but {sorted(placeholders(en[key]))} in English"))
    return problems


def check_templates(content_dir: Path) -> list[Problem]:
    problems: list[Problem] = []
    for folder, module_name in TEMPLATE_CHECKS.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        check = getattr(module, "check_templates", None)
        if check is None:
            continue
        for problem in check(content_dir / folder):
            problems.append(problem if isinstance(problem, Problem)
                            else Problem(str(content_dir / folder), 1, "error", str(problem)))
    return problems


def check_content(content_dir: Path) -> tuple[list[Problem], str]:
    kb = load_knowledge_base(content_dir / "kb")
    problems = kb.problems + check_locales(content_dir / "locales") + check_templates(content_dir)
    per_lang = Counter(a.lang for a in kb.articles)
    summary = (f"{len(kb.articles)} articles ({per_lang['sv']} sv, {per_lang['en']} en, {len(kb.ids())} topics), "
               f"{sum(p.level == 'error' for p in problems)} errors, {sum(p.level == 'warning' for p in problems)} warnings")
    return problems, summary
