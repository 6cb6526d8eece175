"""Words to hashtags through the data's own vocabulary, not a hand-written list: a word
is the hashtag it spells, or its plural or singular, or two words run together (`latte
art` -> `#latteart`), or a spelling one edit away (`expresso` -> `#espresso`), each only
when the tag model knows that tag. A word nothing matches is reported, not invented."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_WORD = re.compile(r"[^\w]+")
MIN_FUZZY = 4  # shorter words are one edit away from too many tags to guess


def _norm(word: str) -> str:
    return _WORD.sub("", word.lower().lstrip("#"))


def number_forms(word: str) -> list[str]:
    """The plural and singular spellings English uses most (and a verb's -ing dropped),
    in the order tried."""
    out = []
    if word.endswith("ies") and len(word) > 4:
        out.append(word[:-3] + "y")
    if word.endswith("es") and len(word) > 3:
        out.append(word[:-2])
    if word.endswith("s") and len(word) > 2:
        out.append(word[:-1])
    if word.endswith("y") and len(word) > 2:
        out.append(word[:-1] + "ies")
    out += [word + "s", word + "es"]
    if word.endswith("ing") and len(word) > 5:  # "gardening" -> #garden, "baking" stays
        out += [word[:-3], word[:-3] + "e"]
    return out


def edits1(word: str) -> Iterable[str]:
    """Every spelling one deletion, transposition, substitution or insertion away,
    substitutions and transpositions (same length) first."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    for a, b in splits:
        if len(b) > 1:
            yield a + b[1] + b[0] + b[2:]
    for a, b in splits:
        if b:
            for c in _ALPHABET:
                if c != b[0]:
                    yield a + c + b[1:]
    for a, b in splits:
        if b:
            yield a + b[1:]
    for a, b in splits:
        for c in _ALPHABET:
            yield a + c + b


def lookup(word: str, vocabulary: Collection[str], *, fuzzy: bool = True) -> str | None:
    """The known tag a word means, or None."""
    w = _norm(word)
    if not w:
        return None
    if w in vocabulary:
        return w
    for form in number_forms(w):
        if form in vocabulary:
            return form
    if fuzzy and len(w) >= MIN_FUZZY:
        for candidate in edits1(w):
            if candidate in vocabulary:
                return candidate
    return None


def to_hashtags(words: list[str], vocabulary: Collection[str]) -> tuple[list[str], list[str]]:
    """(known tags in order, each once; the words that matched none). Two neighbours
    run together win over each alone (`latte art` is `#latteart` when that tag exists).
    With an empty vocabulary (no tag model yet) every word is taken as it is spelled,
    so the command can say the model is missing instead of the parser guessing."""
    tags: list[str] = []
    unknown: list[str] = []
    i = 0
    while i < len(words):
        if not vocabulary:
            tag = _norm(words[i]) or None
            step = 1
        else:
            tag, step = None, 1
            if i + 1 < len(words):
                tag = lookup(words[i] + words[i + 1], vocabulary, fuzzy=False)
                step = 2 if tag else 1
            if tag is None:
                tag = lookup(words[i], vocabulary)
        if tag is None:
            unknown.append(words[i])
        elif tag not in tags:
            tags.append(tag)
        i += step
    return tags, unknown
