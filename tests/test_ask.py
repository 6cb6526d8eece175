"""Plain-language requests (issue 26): the parser on many phrasings (pure, with a small
vocabulary as the tag model would give), `engine ask` on the trained demo, the console,
and a DM to the in-process bot."""

from __future__ import annotations

import json
import time

import pytest

from engine.chat import Reading, to_hashtags, understand
from engine.core.filters import Filters
from tests.test_bot_listeners import _dm, _text, slack  # noqa: F401 - the in-process bot

VOCAB = frozenset(
    [
        "coffee",
        "espresso",
        "latte",
        "latteart",
        "fitness",
        "food",
        "wedding",
        "cats",
        "cat",
        "travel",
        "vegan",
        "baking",
        "yoga",
        "dogs",
        "bridal",
        "nice",
    ]
)

CASES = [
    ("who is similar to @ana.reception?", "/lookalike @ana.reception"),
    ("find me creators like ana.reception", "/lookalike @ana.reception"),
    ("https://www.instagram.com/ana.reception/ similar accounts", "/lookalike @ana.reception"),
    ("similar accounts to https://www.tiktok.com/@carla.tent", "/lookalike @carla.tent"),
    ("youtube.com/@bo.level similar channels", "/lookalike @bo.level"),
    ("micro influencers like @x", "/lookalike @x followers:10k-100k"),
    ("nano creators like @x", "/lookalike @x followers:1k-10k"),
    ("macro influencers like @x", "/lookalike @x followers:100k-1m"),
    ("mega influencers like @x", "/lookalike @x followers:1m+"),
    ("creators like @x with under 50k followers", "/lookalike @x followers:<50k"),
    ("accounts like @x between 10k and 100k", "/lookalike @x followers:10k-100k"),
    ("creators like @x with more than 1.5 million followers", "/lookalike @x followers:>1.5m"),
    ("creators like @x that post in French", "/lookalike @x lang:fr"),
    ("lookalikes of @x with engagement above 3%", "/lookalike @x er:>3"),
    ("similar to @x, give me 5", "/lookalike @x 5"),
    (
        "give me 5 micro influencers like @x that post in spanish with engagement over 2.5%",
        "/lookalike @x 5 followers:10k-100k er:>2.5 lang:es",
    ),
    ("creators who post about coffee but not espresso", "/topic #coffee #espresso:-1"),
    ("fitness influencers who post in Spanish", "/topic #fitness lang:es"),
    ("food bloggers under 10k followers", "/topic #food followers:<10k"),
    ("latte art creators", "/topic #latteart"),
    ("creators posting about expresso", "/topic #espresso"),  # one edit away
    ("bloggers about weddings", "/topic #wedding"),  # plural to the tag's singular
    ("hashtags for coffee", "/hashtags #coffee"),
    ("what hashtags go with #wedding?", "/hashtags #wedding"),
    ("tags related to cats", "/hashtags #cats"),
    ("10 hashtags for yoga", "/hashtags #yoga 10"),
    ("songs for @x", "/songs @x"),
    ("what song should @x use in the next reel?", "/songs @x"),
    ("what's trending?", "/trending"),
    ("trending songs this month", "/trending 30"),
    ("top 5 trending this week", "/trending 7 5"),
    ("trending songs among #food creators", "/trending #food"),
    ("is @x legit?", "/vet @x"),
    ("can I trust @x", "/vet @x"),
    ("lookalike @ana 5 er:>2", "/lookalike @ana 5 er:>2"),  # already a command line
]

UNCLEAR = [
    ("creators like him", ()),
    ("something nice", ()),
    ("songs", ("/trending",)),
    ("@x", ("/lookalike @x", "/songs @x", "/vet @x")),
    ("hashtags for qwertyuiop", ()),
    ("creators like coffee", ("/lookalike @coffee", "/topic #coffee")),
    ("", ()),
]


@pytest.mark.parametrize(("text", "line"), CASES, ids=[c[0][:40] for c in CASES])
def test_a_plain_request_reads_as_its_command(text, line):
    reading = understand(text, VOCAB)
    assert reading.clear, reading.question
    assert reading.line == line


@pytest.mark.parametrize(("text", "choices"), UNCLEAR, ids=[c[0][:30] or "empty" for c in UNCLEAR])
def test_an_unclear_request_is_a_question_never_a_guess(text, choices):
    reading = understand(text, VOCAB)
    assert not reading.clear and reading.line == ""
    assert reading.question and reading.question.endswith(("?", "."))
    assert reading.choices == choices


def test_words_become_hashtags_only_through_the_vocabulary():
    assert to_hashtags(["latte", "art"], VOCAB) == (["latteart"], [])
    assert to_hashtags(["latte", "art"], VOCAB - {"latteart"}) == (["latte"], ["art"])
    assert to_hashtags(["kittens", "doggs"], {"kitten", "dogs"}) == (["kitten", "dogs"], [])
    assert to_hashtags(["zzzz"], VOCAB) == ([], ["zzzz"])
    # no tag model yet: words are taken as spelled, so the command says what is missing
    assert to_hashtags(["coffee"], frozenset()) == (["coffee"], [])
    reading = understand("creators who post about coffee and gibberishword", VOCAB)
    assert reading.line == "/topic #coffee" and reading.ignored == ("gibberishword",)


def test_a_reading_runs_as_engine_arguments():
    reading = understand("give me 5 micro influencers like @x in french", VOCAB)
    assert reading.argv() == [
        "lookalike", "x", "-k", "5", "--followers", "10k-100k", "--lang", "fr",
    ]  # fmt: skip
    assert understand("top 5 trending this week", VOCAB).argv() == [
        "trending", "--days", "7", "-k", "5",
    ]  # fmt: skip
    assert understand("hashtags #wedding 5", VOCAB).argv() == ["hashtags", "#wedding", "-k", "5"]
    assert Reading("vet", handle="x").argv() == ["vet", "x"]
    with pytest.raises(ValueError):
        Reading(None, question="?").argv()


def test_slack_markup_is_read_as_typed():
    reading = understand("similar to <https://instagram.com/ana.reception|instagram.com/ana>")
    assert reading.line == "/lookalike @ana.reception"
    assert understand("songs for <@U123|bo.level>").line == "/songs @bo.level"
    typed = "creators like @x with &lt;50k followers and er &gt;2"  # Slack escapes < > &
    assert understand(typed).line == "/lookalike @x followers:<50k er:>2"
    assert understand("food creators >10k followers", VOCAB).line == "/topic #food followers:>10k"


def test_the_parser_answers_in_well_under_10_ms():
    vocab = frozenset(f"tag{i}" for i in range(20000)) | VOCAB
    texts = [c[0] for c in CASES] + [u[0] for u in UNCLEAR]
    started = time.perf_counter()
    for _ in range(5):
        for text in texts:
            understand(text, vocab)
    per = (time.perf_counter() - started) / (5 * len(texts))
    assert per < 0.005, f"{per * 1000:.2f} ms per request"


# ------------------------------------------------------- engine ask, console, Slack
def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    from engine.cli import main

    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.mark.slow
def test_engine_ask_prints_what_the_command_prints_plus_how_it_read(copy_db, capsys):
    asked = "who is similar to @ana.studio with under 50k followers? give me 5"
    rc, out, err = _cli(capsys, "ask", asked, "--json", "--db", copy_db)
    assert rc == 0, err
    got = json.loads(out)
    assert got["details"]["meta"]["command"] == "/lookalike @ana.studio 5 followers:<50k"
    rc, out, _ = _cli(
        capsys,
        "lookalike",
        "ana.studio",
        "-k",
        "5",
        "--followers",
        "<50k",
        "--json",
        "--db",
        copy_db,
    )
    same = json.loads(out)
    same["details"]["meta"]["command"] = got["details"]["meta"]["command"]
    assert got == same and got["results"]
    rc, out, err = _cli(capsys, "ask", "hashtags for coffee", "--db", copy_db)
    assert rc == 0 and out.startswith("Read as: /hashtags #coffee\n"), out + err
    assert "#espresso" in out  # the demo's coffee topic, from the tag model


@pytest.mark.slow
def test_engine_ask_vet_and_an_unclear_request(copy_db, capsys):
    rc, out, err = _cli(capsys, "ask", "is @ana.studio legit?", "--json", "--db", copy_db)
    assert rc == 0, err
    got = json.loads(out)
    assert got["details"]["meta"]["command"] == "/vet @ana.studio"
    assert got["results"][0]["id"] == "ana.studio"
    rc, out, err = _cli(capsys, "ask", "songs", "--json", "--db", copy_db)
    assert rc == 0 and err == ""
    got = json.loads(out)
    assert (
        got["results"] == []
        and "Songs are picked for one creator" in (got["details"]["meta"]["question"])
    )
    assert got["details"]["meta"]["choices"] == ["/trending"]
    rc, out, _ = _cli(capsys, "ask", "creators like him", "--db", copy_db)
    assert rc == 0 and out.startswith("Question: Which creator do you mean?")


@pytest.mark.slow
def test_the_console_reads_plain_words_and_asks_when_unclear(copy_db):
    from bot.console import handle
    from bot.router import Scout
    from engine.bootstrap import assemble

    parts = assemble(copy_db)
    try:
        scout, state = Scout(parts.recommender, parts.workspace_ops), {}
        out = handle(scout, "food bloggers under 10k followers", state)
        assert out.splitlines()[0] == "  (Read as: `/topic #food followers:<10k`)", out
        assert "Creators for #food" in out
        out = handle(scout, "creators who post about coffee and zqxwv", state)
        assert "Read as: `/topic #coffee` (left out “zqxwv”" in out.splitlines()[0], out
        out = handle(scout, "creators like him", state)  # a question, its emoji a character
        assert out.startswith("🤔 Which creator do you mean?") and ":thinking" not in out, out
        out = handle(scout, "@ana.studio", state)
        assert "What would you like to know about @ana.studio?" in out
        assert "  2. /songs @ana.studio" in out
        out = handle(scout, "1", state)  # the first reading: its answer, as typed
        assert "Creators like @ana.studio" in out and "Read as" not in out
        assert "I don't know `/nonsense`" in handle(scout, "/nonsense", state)
        assert "Songs for @ana.studio" in handle(scout, "songs @ana.studio", state)
    finally:
        parts.close()


def test_the_console_shows_scouts_emoji_codes_as_characters_or_not_at_all():
    """Slack draws `:thinking_face:`; a terminal would print the code. Every code in
    Scout's own messages (bot/, engine/) renders as a character, any other is dropped,
    and text with colons that is no emoji code (filters, times) is left as it is."""
    import re
    from pathlib import Path

    from bot.blocks import section, to_text
    from bot.router import question_reply

    root = Path(__file__).resolve().parents[1]
    sources = [*root.glob("bot/**/*.py"), *root.glob("engine/**/*.py")]
    used = {
        c for f in sources for c in re.findall(r"(?<![\w:]):[a-z][a-z_]+:(?!\w)", f.read_text())
    }
    assert {":thinking_face:", ":warning:", ":eyes:"} <= used, used
    for code in used:
        shown = to_text([section(f"{code} Scout says")])
        assert code not in shown and shown.endswith("Scout says") and shown[0] != ":", shown
    question = to_text(question_reply("Which creator do you mean?", ["/songs @a"]).blocks)
    assert question.splitlines()[0] == "🤔 Which creator do you mean?"
    assert to_text([section(":sparkles: New songs")]) == "New songs"
    kept = "`/lookalike @a er:>2` #cats:2 #dogs:-1 at 10:30:00"
    assert to_text([section(kept)]) == kept


@pytest.mark.slow
def test_a_dm_in_plain_words_is_answered_with_how_it_was_read(slack):  # noqa: F811
    """The in-process bot (tests/test_bot_listeners.py's harness, fake engine over a
    real store): a DM in words is answered by the command, a question gets buttons."""
    slack.event(_dm("DASK", "1700000600.000001", "who is similar to @ana? give me 3"), "EvAsk1")
    post = slack.fake.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "DASK")[0]
    blocks = (
        json.loads(post.params["blocks"])
        if isinstance(post.params["blocks"], str)
        else (post.params["blocks"])
    )
    assert blocks[0]["type"] == "context"
    assert "Read as: `/lookalike @ana 3`" in blocks[0]["elements"][0]["text"]
    assert ("lookalike", "ana", 3, Filters()) in slack.engine.calls
    slack.event(_dm("DASK2", "1700000600.000002", "songs"), "EvAsk2")
    post = slack.fake.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "DASK2")[0]
    text = _text(post.params)
    assert "Songs are picked for one creator" in text and '"value": "/trending"' in text
    assert slack.action("ask_choice_0", "/trending", "pick").status == 200
    assert "Rising Song" in slack.answer("pick")


@pytest.mark.slow
def test_the_benchmark_phrasings_read_on_the_trained_demo(trained_demo_db):
    """benchmarks/bench_ask.py's table, on the demo's own tag vocabulary: at least 100
    phrasings, the clear ones read as their command, every unclear one a question."""
    from benchmarks.bench_ask import SETS, demo_vocabulary, load_phrasings, measure

    vocab = demo_vocabulary(f"sqlite:///{trained_demo_db}")
    assert "coffee" in vocab and len(vocab) > 100
    rows = load_phrasings(SETS["tuned"])
    assert len(rows) >= 100
    result = measure(rows, vocab, repeats=3)
    assert result["understood_share"] >= 0.95, [r for r in result["rows"] if not r["ok"]]
    assert result["guesses_on_unclear"] == 0 and result["question_share"] == 1.0
    assert result["parse_ms_p95"] < 10
