"""The topic query language: weights, normalisation, and clear messages for bad input."""

from __future__ import annotations

import pytest

from engine.core.errors import BadQuery
from engine.tags.query import parse_topic


def test_tags_with_and_without_hash_and_weights():
    q = parse_topic("#apple #iphone:-1 macbook:-0.05, #Café:0.5")
    assert q.terms == [("apple", 1.0), ("iphone", -1.0), ("macbook", -0.05), ("cafe", 0.5)]
    assert q.tags == ["apple", "iphone", "macbook", "cafe"]


def test_repeated_tags_add_up_and_text_round_trips():
    q = parse_topic("#BMW bmw:0.5 #audi")
    assert q.terms == [("bmw", 1.5), ("audi", 1.0)]
    assert parse_topic(str(q)).terms == q.terms


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "Describe the topic"),
        ("   ,  ", "Describe the topic"),
        ("#iphone:abc", "must be a number"),
        ("#iphone:1:2", "one ':'"),
        ("#:1", "is not a hashtag"),
        ("#", "is not a hashtag"),
        ("#foo-bar", "did you mean `#foobar`"),
        ("#a:inf", "finite"),
        ("#a:1e9", "between -100 and 100"),
        ("#a:0 #b:0", "Every weight is zero"),
        (" ".join(f"#t{i}" for i in range(51)), "at most 50"),
    ],
)
def test_malformed_queries_get_a_clear_message(text, fragment):
    with pytest.raises(BadQuery) as err:
        parse_topic(text)
    assert fragment in str(err.value)
