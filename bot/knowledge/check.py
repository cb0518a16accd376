"""`samsyv content check`: everything the project team edits, validated, each problem with file and line."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from bot.conferences.templates import check_templates as check_meetings
from bot.i18n import load_locale_files, placeholders
from bot.knowledge.loader import Problem, load_knowledge_base
from bot.knowledge.review import review_problems
from bot.schoolyear import check_templates as check_calendars
from bot.settings import WEB_LANGUAGES
from bot.surveys.templates import check_templates as check_surveys


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
    web_keys = {key for key in sv if key.startswith("web.page.") or key.startswith("web.mode.")}
    for lang in WEB_LANGUAGES:
        if lang in ("sv", "en"):
            continue
        own = catalog.get(lang, {})
        for key in sorted(web_keys - set(own)):
            problems.append(Problem(str(locale_dir / lang / "web.yaml"), 1, "error", f"key '{key}' is missing"))
        for key in sorted(web_keys & set(own)):
            if placeholders(sv[key]) != placeholders(own[key]):
                problems.append(Problem(str(locale_dir / lang / "web.yaml"), 1, "error",
                                        f"key '{key}' has placeholders {sorted(placeholders(own[key]))}, "
                                        f"Swedish has {sorted(placeholders(sv[key]))}"))
    return problems


def check_templates(content_dir: Path) -> list[Problem]:
    """The survey and meeting templates and the school calendars, checked by the modules that read them."""
    problems: list[Problem] = []
    for folder, check in (("surveys", check_surveys), ("meetings", check_meetings), ("calendar", check_calendars)):
        for problem in check(content_dir / folder):
            problems.append(problem if isinstance(problem, Problem)
                            else Problem(str(content_dir / folder), 1, "error", str(problem)))
    return problems


def check_content(content_dir: Path, today: dt.date | None = None) -> tuple[list[Problem], str]:
    """All problems, and one summary line: articles, topics, languages, errors, warnings."""
    today = today or dt.date.today()
    kb = load_knowledge_base(content_dir / "kb")
    problems = list(kb.problems)
    for article in kb.articles:
        problems.extend(review_problems(article, today, kb.field_lines.get(article.path, {})))
    problems += check_locales(content_dir / "locales") + check_templates(content_dir)
    per_lang = Counter(a.lang for a in kb.articles)
    languages = ", ".join(f"{count} {lang}" for lang, count in sorted(per_lang.items()))
    summary = (f"{len(kb.articles)} articles, {len(kb.ids())} topics, {len(per_lang)} languages ({languages}); "
               f"{sum(p.level == 'error' for p in problems)} errors, {sum(p.level == 'warning' for p in problems)} warnings")
    return problems, summary
