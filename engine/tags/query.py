"""The topic query language marketers type: hashtags with optional weights.

`#apple #iphone:-1 #macbook:-0.05` means "the apple topic, minus the iPhone sense, a
little less MacBook". A term is `#tag`, `tag`, `#tag:w` or `tag:w`; terms are separated
by spaces or commas. Parsing is pure (no model): which tags are known is the model's
business, so that a typo is reported with close known tags there."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from engine.core.errors import BadQuery
from engine.core.text import normalize_tag

MAX_TERMS = 50
MAX_ABS_WEIGHT = 100.0
_SPLIT = re.compile(r"[\s,]+")
EXAMPLE = "`#bmw #audi #mercedes` or `#apple #iphone:-1 #macbook:-0.05`"


@dataclass(frozen=True)
class TopicQuery:
    """Normalised tags with their weights, each tag once (repeats add up), order kept."""

    terms: list[tuple[str, float]]

    @property
    def tags(self) -> list[str]:
        return [t for t, _ in self.terms]

    def __str__(self) -> str:
        return " ".join(f"#{t}" if w == 1.0 else f"#{t}:{w:g}" for t, w in self.terms)


def _weight(raw: str, token: str) -> float:
    try:
        w = float(raw)
    except ValueError:
        raise BadQuery(
            f"`{token}`: the weight after ':' must be a number, like `#iphone:-1` or `#tag:0.5`."
        ) from None
    if not math.isfinite(w) or abs(w) > MAX_ABS_WEIGHT:
        raise BadQuery(f"`{token}`: weights must be finite numbers between -100 and 100.")
    return w


def parse_topic(text: str) -> TopicQuery:
    """Parse a topic query; BadQuery (a user-facing sentence) on malformed input."""
    tokens = [t for t in _SPLIT.split(text or "") if t]
    if not tokens:
        raise BadQuery(f"Describe the topic with hashtags, e.g. {EXAMPLE}.")
    if len(tokens) > MAX_TERMS:
        raise BadQuery(
            f"A topic can have at most {MAX_TERMS} hashtags; this one has {len(tokens)}."
        )
    weights: dict[str, float] = {}
    for token in tokens:
        name, sep, raw_weight = token.partition(":")
        if sep and ":" in raw_weight:
            raise BadQuery(f"`{token}`: one ':' per hashtag, like `#iphone:-1`.")
        if name.isdigit():
            raise BadQuery(
                f"`{token}` is a number, not a hashtag; to ask for {token} results put the "
                f"count last, like `#wedding {token}`."
            )
        tag = normalize_tag(name)
        if not tag:
            raise BadQuery(
                f"`{token}` is not a hashtag; use letters, digits or '_' like {EXAMPLE}."
            )
        if any(not (c.isalnum() or c == "_") for c in name.lstrip("#")):
            raise BadQuery(
                f"`{token}`: a hashtag holds letters, digits and '_' only (did you mean `#{tag}`?)."
            )
        weight = _weight(raw_weight, token) if sep else 1.0
        weights[tag] = weights.get(tag, 0.0) + weight
    if all(w == 0 for w in weights.values()):
        raise BadQuery(
            "Every weight is zero, so the topic is empty; give at least one tag a weight."
        )
    return TopicQuery([(t, w) for t, w in weights.items()])


def split_count(text: str) -> tuple[str, int | None]:
    """`#wedding 5` -> ("#wedding", 5): a bare whole number at the end is how many
    results, never a hashtag (`#2024` still is one). None when there is no count."""
    words = (text or "").split()
    if len(words) > 1 and words[-1].isdigit():
        return " ".join(words[:-1]), int(words[-1])
    return (text or "").strip(), None
