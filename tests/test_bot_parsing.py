"""Command text parsing and the console renderer (pure functions)."""

from __future__ import annotations

import pytest

from bot import blocks as bk
from bot.parsing import (
    parse_count,
    parse_digest,
    parse_lookalike,
    parse_songs,
    parse_topic,
    parse_trending,
)
from engine.core.errors import BadQuery
from engine.core.recommendation import Answer, Recommendation


def test_counts():
    assert [parse_count(x) for x in ("500", "10k", "1.5m", "2,000")] == [
        500,
        10_000,
        1_500_000,
        2000,
    ]
    with pytest.raises(BadQuery):
        parse_count("lots")


def test_lookalike_with_every_option():
    req = parse_lookalike("@Chef.Ana 5 followers:10k-100k er:>2 lang:EN")
    assert (req.handle, req.k) == ("Chef.Ana", 5)
    f = req.filters
    assert (f.followers_min, f.followers_max, f.min_er, f.language) == (10_000, 100_000, 2.0, "en")
    assert parse_lookalike("<@U123|ana>").handle == "ana"  # Slack-escaped mention
    assert parse_lookalike("ana followers:<1m").filters.followers_max == 1_000_000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Whom should I find lookalikes for"),
        ("@a 500", "between 1 and 100"),
        ("@a 5 extra words", "did not understand"),
        ("@a followers:abc", "is not a range"),
        ("@a er:<3", "minimum engagement rate in percent, like `er:>2`"),
        ("@a er:nan", "`er:nan` is not a range"),
        ("@a followers:100k-10k", "did you mean `followers:10k-100k`"),
        ("@a followers:1e400", "`followers:1e400` is not a range"),
        ("@a followers:99999999999999999999999k", "is not a range"),
        ("@a lang:klingon", "not a language I know"),
        ("@a 99999999999999999999999", "between 1 and 100"),
    ],
)
def test_lookalike_mistakes_say_what_to_type(text, message):
    with pytest.raises(BadQuery, match=message):
        parse_lookalike(text)


def test_topic_takes_the_same_filters_as_lookalike():
    """One parser for both commands: the same tokens give the same Filters."""
    tokens = "followers:10k+ er:2% lang:english"
    topic = parse_topic(f"#food {tokens}").filters
    assert topic == parse_lookalike(f"@a {tokens}").filters
    assert (topic.followers_min, topic.followers_max, topic.min_er, topic.language) == (
        10_000,
        None,
        2.0,
        "en",
    )
    with pytest.raises(BadQuery, match="`followers:lots` is not a range"):
        parse_topic("#food followers:lots")
    with pytest.raises(BadQuery, match="between 1 and 100"):
        parse_topic("#food k:99999999999999999999999")


def test_topic_keeps_weighted_tags_as_query():
    req = parse_topic("#apple #iphone:-1 #macbook:-0.05 followers:>10k k:5")
    assert req.query == "#apple #iphone:-1 #macbook:-0.05"
    assert (req.k, req.filters.followers_min) == (5, 10_000)


def test_songs_trending_digest():
    assert parse_songs("@bob 3") == parse_songs("bob 3")
    t = parse_trending("30d 5 #food")
    assert (t.days, t.k, t.topic) == (30, 5, "food")
    assert parse_trending("").days == 7
    d = parse_digest("on 7:05 Europe/Paris")
    assert (d.action, d.local_time, d.timezone) == ("on", "07:05", "Europe/Paris")
    assert parse_digest("").action == "status"
    with pytest.raises(BadQuery, match="not a time zone"):
        parse_digest("on 09:00 Mars/Olympus")
    with pytest.raises(BadQuery, match="not a time of day"):
        parse_digest("on 25:00")
    with pytest.raises(BadQuery):
        parse_trending("yesterday")


def test_console_text_matches_the_blocks():
    answer = Answer(
        [Recommendation("bob", "bob", 91.0, "shares #food", {"followers": 48_000, "er": 3.14})],
        ["1 handle skipped"],
        {"model_version": 3},
    )
    reply = bk.influencers("Creators like @ana", answer, "lookalike", "@ana")
    text = bk.to_text(reply.blocks)
    assert "1. @bob  48k followers · ER 3.1% · match 91" in text
    assert "[More like #1] [👍] [👎]" in text
    assert "ℹ 1 handle skipped | model v3" in text
    assert len(reply.blocks) <= 50 and all(b["type"] for b in reply.blocks)
