"""The stored lexical index: a start reads it instead of building, and never answers from a stale one."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.clock import FakeClock
from bot.questions.engine import POSTING_TABLES, Engine
from bot.questions.stored_index import PREFIX, index_key, stored_engine
from bot.settings import CONTENT_DIR
from tests.conftest import make_settings
from tests.test_semantic import started_bot

IDS = ("prao", "study-visits", "gymnasievalet", "eligibility-merit", "quality-work")
QUESTIONS = ["vad är prao?", "hur söker man till gymnasiet", "kan man följa med en gymnasieelev en dag?",
             "vilka betyg behövs för natur", "what is SKA?", "vad blir det till lunch idag?"]


def some_content(root: Path) -> Path:
    for lang in ("sv", "en"):
        (root / "kb" / lang).mkdir(parents=True)
        for article_id in IDS:
            shutil.copy(CONTENT_DIR / "kb" / lang / f"{article_id}.md", root / "kb" / lang)
    shutil.copy(CONTENT_DIR / "out_of_scope.yaml", root)
    return root


def ranking(engine: Engine, question: str) -> list[tuple[str, float]]:
    answer = engine.answer(question)
    return [(answer.article_id or "", answer.score)] + [(c.article.id, c.score) for c in answer.candidates]


def stored_files(directory: Path) -> list[Path]:
    return sorted(directory.glob(f"{PREFIX}*.pickle"))


def test_a_start_reads_the_stored_index_and_answers_exactly_as_the_built_one(tmp_path: Path) -> None:
    content, store = some_content(tmp_path / "content"), tmp_path / "index"
    built, was_stored = stored_engine(content, store)
    assert not was_stored and len(stored_files(store)) == 1
    read, was_stored = stored_engine(content, store)
    assert was_stored
    for question in QUESTIONS:
        assert ranking(read, question) == ranking(built, question)
    for lang in ("sv", "en"):
        for name in POSTING_TABLES:
            before, after = getattr(built.indexes[lang], name), getattr(read.indexes[lang], name)
            assert list(before) == list(after)
            for term, (docs, weights) in before.items():
                assert np.array_equal(docs, after[term][0]) and np.array_equal(weights, after[term][1])


def test_a_changed_article_gets_a_fresh_index_and_the_old_one_is_not_used(tmp_path: Path) -> None:
    content, store = some_content(tmp_path / "content"), tmp_path / "index"
    stored_engine(content, store)
    old_key = index_key(content)
    path = content / "kb" / "sv" / "quality-work.md"
    text = path.read_text(encoding="utf-8")
    first = text.split("questions:\n", 1)[1].split("\n", 1)[0]  # the article's first example question
    path.write_text(text.replace(first, '  - "hur funkar flumkvalitetsmätaren"', 1), encoding="utf-8")
    assert index_key(content) != old_key
    engine, was_stored = stored_engine(content, store)
    assert not was_stored
    (article,) = [a for a in engine.indexes["sv"].articles if a.id == "quality-work"]
    assert "hur funkar flumkvalitetsmätaren" in article.questions
    assert len(stored_files(store)) == 2  # the other version's stays for a while (another instance may use it)
    _, was_stored = stored_engine(content, store)
    assert was_stored


def test_a_broken_stored_index_is_built_again_and_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    content, store = some_content(tmp_path / "content"), tmp_path / "index"
    built, _ = stored_engine(content, store)
    (path,) = stored_files(store)
    path.write_bytes(path.read_bytes()[:1000])  # a disk that filled up, a copy cut short
    with caplog.at_level(logging.WARNING, logger="bot.questions.stored_index"):
        engine, was_stored = stored_engine(content, store)
    assert not was_stored and "does not load" in caplog.text
    assert ranking(engine, QUESTIONS[0]) == ranking(built, QUESTIONS[0])
    _, was_stored = stored_engine(content, store)
    assert was_stored


def test_a_read_only_data_directory_still_starts(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    content = some_content(tmp_path / "content")
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="bot.questions.stored_index"):
        engine, was_stored = stored_engine(content, blocked / "index")
    assert not was_stored and "could not store" in caplog.text
    assert engine.answer("vad är prao?").article_id == "prao"


async def test_the_bot_stores_its_index_and_the_next_start_reads_it(
        db_path: Path, tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    content, store = some_content(tmp_path / "content"), tmp_path / "index"
    settings = make_settings(db_path, content_dir=content, index_dir=store, semantic_reranker="off")
    with caplog.at_level(logging.DEBUG, logger="bot.questions.service"):
        for _ in range(2):
            bot = await started_bot(settings, clock, tmp_path)
            await bot.stop()
    assert caplog.text.count("lexical index built and stored") == 1
    assert caplog.text.count("lexical index read from its store") == 1
    assert len(stored_files(store)) == 1
