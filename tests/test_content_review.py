"""`samsyv content check`: review dates, law citations without an authority's source, the summary line."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.knowledge.check import check_content
from bot.settings import CONTENT_DIR

TODAY = dt.date(2026, 12, 1)


def article(article_id: str, lang: str = "sv", reviewed: str | None = "2026-11-30",
            body: str = "En artikel om vägledning som är tillräckligt lång för att klara kontrollen av brödtexten.",
            url: str = "https://www.skolverket.se/regler-och-ansvar") -> str:
    questions = "\n".join(f'  - "fråga nummer {n} om {article_id}"' for n in range(8))
    return (f"---\nid: {article_id}\nlang: {lang}\ntitle: \"Artikel {article_id}\"\n"
            f"summary: \"En sammanfattning som svarar på frågan direkt.\"\naudience: staff\n"
            f"questions:\n{questions}\nsources:\n  - title: \"En källa\"\n    url: \"{url}\"\n"
            f"updated: 2026-11-22\n" + (f"reviewed: {reviewed}\n" if reviewed else "") +
            f"---\n\n{body}\n")


def content_with(tmp_path: Path, files: dict[str, str]) -> Path:
    content = tmp_path / "content"
    for folder in ("locales", "surveys", "meetings"):
        shutil.copytree(CONTENT_DIR / folder, content / folder)
    for name, text in files.items():
        path = content / "kb" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return content


def warnings(content: Path, today: dt.date = TODAY) -> list[str]:
    problems, _ = check_content(content, today=today)
    return [str(p) for p in problems if p.level == "warning"]


def test_a_missing_review_date_is_a_warning_on_the_updated_line(tmp_path: Path) -> None:
    content = content_with(tmp_path, {"sv/a.md": article("a", reviewed=None), "en/a.md": article("a", "en")})
    [warning] = warnings(content)
    assert warning.startswith("kb/sv/a.md:") and "no 'reviewed' date" in warning
    line = int(warning.split(":")[1])
    assert (content / "kb/sv/a.md").read_text(encoding="utf-8").splitlines()[line - 1].startswith("updated:")


def test_a_review_older_than_twelve_months_warns_and_a_recent_one_does_not(tmp_path: Path) -> None:
    year_ago = (TODAY - dt.timedelta(days=365)).isoformat()
    too_old = (TODAY - dt.timedelta(days=366)).isoformat()
    content = content_with(tmp_path, {"sv/a.md": article("a", reviewed=year_ago),
                                      "en/a.md": article("a", "en", reviewed=too_old)})
    [warning] = warnings(content)
    assert warning.startswith("kb/en/a.md:") and f"last reviewed {too_old}" in warning
    assert "more than 12 months ago" in warning


def test_a_review_date_in_the_future_is_a_warning(tmp_path: Path) -> None:
    content = content_with(tmp_path, {"sv/a.md": article("a", reviewed="2027-01-10"), "en/a.md": article("a", "en")})
    [warning] = warnings(content)
    assert "'reviewed' is 2027-01-10, after today (2026-12-01)" in warning


@pytest.mark.parametrize("citation", ["enligt skollagen 2 kap. 29 §", "skollagen (SFS 2010:800)",
                                      "Skolverkets föreskrifter SKOLFS 2011:144", "AFS 2023:2 om minderåriga",
                                      "Education Act, chapter 29, section 9", "the Act (ch. 4, ss. 3–7)"])
def test_a_law_citation_needs_a_source_from_riksdagen_skolverket_or_av(tmp_path: Path, citation: str) -> None:
    body = f"Det här står i lagen: {citation}. Mer text så att brödtexten blir tillräckligt lång för kontrollen."
    content = content_with(tmp_path, {"sv/a.md": article("a", body=body, url="https://www.grkom.se/samsyv"),
                                      "en/a.md": article("a", "en", body=body, url="https://www.av.se/arbetsmiljoarbete")})
    [warning] = warnings(content)
    assert warning.startswith("kb/sv/a.md:") and "cites a law or regulation" in warning
    assert "riksdagen.se, skolverket.se, av.se" in warning


def test_a_look_alike_host_does_not_count_as_an_authority(tmp_path: Path) -> None:
    body = "Skollagen 29 kap. 9 § reglerar aktivitetsansvaret, och mer text så att brödtexten räcker till."
    content = content_with(tmp_path, {
        "sv/a.md": article("a", body=body, url="https://notskolverket.se/kaa"),
        "en/a.md": article("a", "en", body=body, url="https://www.riksdagen.se/sv/dokument-och-lagar/skollag")})
    assert [w.split(":")[0] for w in warnings(content)] == ["kb/sv/a.md"]


def test_the_summary_line_counts_articles_topics_languages_and_warnings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    content = content_with(tmp_path, {"sv/a.md": article("a", reviewed="2020-01-01"), "en/a.md": article("a", "en"),
                                      "sv/b.md": article("b", reviewed=None)})
    monkeypatch.setenv("CONTENT_DIR", str(content))
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    assert main(["content", "check"]) == 0  # warnings alone do not fail the check
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "3 articles, 2 topics, 2 languages (1 en, 2 sv); 0 errors, 3 warnings"
    assert sum("warning" in line for line in lines[:-1]) == 3  # old review, no review, no en version of b



def test_the_shipped_knowledge_base_has_review_dates_and_sources_for_its_laws() -> None:
    problems, summary = check_content(CONTENT_DIR, today=TODAY)
    review = [str(p) for p in problems if re.search(r"no 'reviewed'|after today|cites a law", p.message)]
    assert review == [] and " 0 errors" in summary
