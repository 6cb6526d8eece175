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
    if text.isascii():  # most captions: nothing to strip, and 5x faster (lookalike fit)
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


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


# Caption words: letters of any script (apostrophes inside words kept), after URLs,
# @mentions, hashtags and numbers are removed, so a caption's topical words remain.
_URL = re.compile(r"(https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"@[\w.]+", re.UNICODE)
_HASHTAG = re.compile(r"#[^\W]+", re.UNICODE)
_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_]))*", re.UNICODE)

_STOP_TEXT = (
    # en
    "a an and are as at be but by for from has have he her his i in is it its me my new no not "
    "of on or our out so that the their them they this to too up us was we were what when with "
    "you your just all more very really today day time get got one like im it's about after "
    # es
    "el la los las un una y o de del en con por para que es mi mis tu su sus al lo le se hoy muy "
    "mas pero como este esta nuevo mejor dia tiempo fin semana amigos feliz "
    # fr
    "le les des du et ou en au aux avec pour que qui est mon ma mes ton ta sur dans pas plus tres "
    "jour temps nouveau meilleur amis heureux aujourd'hui week-end "
    # de
    "der die das den dem ein eine und oder mit fur ist mein meine im am zu von auf nicht sehr "
    "heute neuer beste freunden wochenende zeit tag glucklich "
    # it
    "il lo gli della di da con per che e mio mia un una sono molto oggi nuovo migliore amici fine "
    "settimana tempo giorno felice "
    # pt
    "o os as um uma e de do da em com para que meu minha muito hoje novo melhor amigos fim semana "
    "tempo dia feliz "
    # ru
    "и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по мой "
    "сегодня новый лучший с друзьями выходные время день очень счастлив"
)
# Normalised like captions, so that e.g. Russian "новый" (й decomposes) still matches.
STOP_WORDS = frozenset(strip_diacritics(w).casefold() for w in _STOP_TEXT.split())


def caption_words(caption: str | None) -> list[str]:
    """Topical words of a caption: normalised like tags (lowercase, no diacritics),
    without stop words (en, es, fr, de, it, pt, ru), URLs, @mentions, #tags, numbers,
    and one-letter words. A missing caption (None, or NaN from a frame) has none."""
    if not isinstance(caption, str) or not caption:
        return []
    text = _HASHTAG.sub(" ", _MENTION.sub(" ", _URL.sub(" ", caption)))
    text = strip_diacritics(text).casefold()
    return [w for w in _WORD.findall(text) if len(w) > 1 and w not in STOP_WORDS]


_PROFILE_URL = re.compile(
    r"^(?:https?://)?(?:www\.|m\.)?(?:instagram\.com|tiktok\.com|youtube\.com|x\.com|"
    r"twitter\.com)/@?([^/?#\s]+)",
    re.IGNORECASE,
)


def parse_handle(text: str) -> str:
    """A handle as people paste it: `@Handle`, a profile URL (Instagram, TikTok, ...),
    or with trailing punctuation from a sentence (`@chef.ana,`), to the bare handle."""
    text = text.strip().strip("<>\"'`()[]")
    m = _PROFILE_URL.match(text)
    if m:
        text = m.group(1)
    return text.lstrip("@").rstrip(".,;:!?").strip()
