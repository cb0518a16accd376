"""Editorial checks on articles that load fine: is the fact-check recent, and is every cited law sourced?

Both are warnings, not errors: an old review or a missing law link does not break the bot, but the content
team should see it before the article misleads someone (content/README.md describes the rules).
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

from bot.knowledge.loader import Problem
from bot.knowledge.models import Article

REVIEW_MAX_AGE_DAYS = 365

# A citation of a Swedish law or regulation: "29 kap. 9 §", "3–7 §§", "SFS 2010:800", "SKOLFS 2022:13",
# "AFS 2023:2", and the English forms "chapter 29, section 9" / "ch. 29, s. 9".
LAW_CITATION = re.compile(
    r"§|\b\d+\s*kap\.|\bSFS\s*\d|\bSKOLFS\b|\bAFS\s*\d|\bchapter\s+\d+\s*,?\s*sections?\s+\d|\bch\.\s*\d+\s*,?\s*ss?\.\s*\d",
    re.IGNORECASE,
)
# Where the law texts and the authorities' own explanations of them are published.
LAW_SOURCE_HOSTS = ("riksdagen.se", "skolverket.se", "av.se")


def _host_matches(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == allowed or host.endswith("." + allowed) for allowed in LAW_SOURCE_HOSTS)


def first_law_citation(article: Article) -> str | None:
    """The first law or regulation reference in the summary or body, as written, or None."""
    match = LAW_CITATION.search(article.summary + "\n" + article.body)
    return match.group(0) if match else None


def review_problems(article: Article, today: dt.date, lines: dict[str, int]) -> list[Problem]:
    problems: list[Problem] = []
    if article.reviewed is None:
        problems.append(Problem(article.path, lines.get("updated", 1), "warning",
                                "no 'reviewed' date: fact-check the article against its sources and add one"))
    elif article.reviewed > today:
        problems.append(Problem(article.path, lines.get("reviewed", 1), "warning",
                                f"'reviewed' is {article.reviewed}, after today ({today})"))
    elif (today - article.reviewed).days > REVIEW_MAX_AGE_DAYS:
        problems.append(Problem(article.path, lines.get("reviewed", 1), "warning",
                                f"last reviewed {article.reviewed}, more than 12 months ago: check it against "
                                "its sources again"))
    citation = first_law_citation(article)
    if citation is not None and not any(_host_matches(source.url) for source in article.sources):
        problems.append(Problem(article.path, lines.get("sources", 1), "warning",
                                f"cites a law or regulation ('{citation}') but no source is on "
                                f"{', '.join(LAW_SOURCE_HOSTS)}"))
    return problems
