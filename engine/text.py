"""Text normalisation shared by import, training and queries: one definition of what a
hashtag is, so that `#Café`, `cafe` and `#CAFE` are the same tag everywhere."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# A hashtag in a caption: '#' then letters, digits, underscores (any script).
_CAPTION_TAG = re.compile(r"#([^\W]+)", re.UNICODE)
# Separators allowed in the `hashtags` import column: spaces, commas, pipes.
_TAG_SPLIT = re.compile(r"[\s,|]+")
MAX_TAG_LENGTH = 100


def strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


@lru_cache(maxsize=200_000)
def normalize_tag(tag: str) -> str:
    """Lowercase, diacritics stripped, no leading '#'. Returns '' for nothing usable."""
    tag = tag.strip().lstrip("#").strip()
    tag = strip_diacritics(tag).casefold()
    tag = "".join(c for c in tag if c.isalnum() or c == "_")
    return tag[:MAX_TAG_LENGTH]


def split_tag_field(field: str | None) -> list[str]:
    """Tags from an import column: separated by spaces, commas or '|', '#' optional."""
    if not field:
        return []
    return [t for t in (normalize_tag(p) for p in _TAG_SPLIT.split(field)) if t]


def caption_tags(caption: str | None) -> list[str]:
    """Hashtags written inside a caption."""
    if not caption:
        return []
    return [t for t in (normalize_tag(m) for m in _CAPTION_TAG.findall(caption)) if t]


def post_tags(caption: str | None, field: str | None) -> list[str]:
    """All of a post's tags, column first then caption, each once, order kept."""
    seen: dict[str, None] = {}
    for tag in split_tag_field(field) + caption_tags(caption):
        seen.setdefault(tag, None)
    return list(seen)
