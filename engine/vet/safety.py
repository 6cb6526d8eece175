"""Brand safety: which sensitive categories a creator's captions and hashtags touch, and
the posts that raised each one, so a marketer can read them rather than trust a number.

The word lists (safety_words.json, beside this module) are deliberately small and
whole-word: a flag is a prompt to look, labelled with the words that raised it. A
workspace extends them with its own {category: [words]}.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd

from engine.core.text import normalize_tag

WORDS_FILE = Path(__file__).with_name("safety_words.json")
_WORD = re.compile(r"[#@]?(\w+)", re.UNICODE)


@cache
def default_categories() -> dict[str, tuple[str, ...]]:
    raw = json.loads(WORDS_FILE.read_text(encoding="utf-8"))
    return {cat: tuple(words) for cat, words in raw.items()}


def categories(extra: Mapping[str, Sequence[str]] | None = None) -> dict[str, frozenset[str]]:
    """The default lists with a workspace's extra words merged in (new categories too)."""
    merged = {cat: set(words) for cat, words in default_categories().items()}
    for cat, words in (extra or {}).items():
        merged.setdefault(cat.strip().lower(), set()).update(words)
    return {cat: frozenset(normalize_tag(w) for w in words) for cat, words in merged.items()}


@dataclass(frozen=True)
class SafetyFlag:
    category: str
    posts: tuple[str, ...]
    words: tuple[str, ...]


@dataclass
class SafetyReport:
    posts: int
    flags: list[SafetyFlag] = field(default_factory=list)

    @property
    def safe(self) -> bool:
        return not self.flags

    @property
    def reason(self) -> str:
        if not self.flags:
            return f"no category flagged in {self.posts} posts"
        return "; ".join(
            f"{f.category}: {len(f.posts)} post(s) ({', '.join(f.words[:3])})" for f in self.flags
        )

    def to_json(self) -> dict[str, dict[str, list[str]]]:
        return {f.category: {"posts": list(f.posts), "words": list(f.words)} for f in self.flags}


def brand_safety(
    own: pd.DataFrame, extra: Mapping[str, Sequence[str]] | None = None
) -> SafetyReport:
    """One creator's posts; each category with the posts and words that raised it."""
    lists = categories(extra)
    hits: dict[str, tuple[set[str], set[str]]] = {}
    hashtags = own["hashtags"] if "hashtags" in own.columns else [None] * len(own)
    for post_id, caption, tags in zip(own["post_id"], own["caption"], hashtags, strict=True):
        words = _words(caption, tags)
        for cat, listed in lists.items():
            found = words & listed
            if found:
                posts, seen = hits.setdefault(cat, (set(), set()))
                posts.add(str(post_id))
                seen.update(found)
    flags = [
        SafetyFlag(cat, tuple(sorted(posts)), tuple(sorted(seen)))
        for cat, (posts, seen) in sorted(hits.items())
    ]
    return SafetyReport(len(own), flags)


def _words(caption: object, tags: object) -> set[str]:
    text = caption if isinstance(caption, str) else ""
    words = {normalize_tag(w) for w in _WORD.findall(text)}
    if tags is not None and not isinstance(tags, float | str):
        words |= {normalize_tag(str(t)) for t in tags}
    return words
