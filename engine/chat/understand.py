"""`understand(text, vocabulary)`: a request in plain words to the command it means.

The reading goes in three steps: the slots people spell in many ways (a profile link,
@handles, follower tiers and ranges, engagement, language, a window, a count) are cut
out of the text; the table of phrasings (engine/chat/phrasings.py) names the command;
the words left over become hashtags through the tag model's vocabulary. Whatever is
missing or could mean two things becomes a question with the likely readings, so the
answer is never a guess presented as an answer. Pure: no model, no store, no I/O."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

from engine.chat import phrasings as ph
from engine.chat.reading import COMMANDS, Reading
from engine.chat.words import lookup, to_hashtags
from engine.core.filters import LANGUAGES

_SLACK_LINK = re.compile(r"<((?:https?://|www\.)[^|>]+)(?:\|[^>]*)?>")
_SLACK_USER = re.compile(r"<@[A-Z0-9]+\|([^>]+)>")
_SLACK_BARE_USER = re.compile(r"<@[A-Z0-9]+>")
_SYNTAX_TOKEN = re.compile(
    r"@[\w.]+|#\w+(?::-?\d+(?:\.\d+)?)?|\d+d?|(?:followers|er|lang|growth|quality|sponsored|k)"
    r":\S+|safe",
    re.IGNORECASE,
)
_PUNCT = re.compile(r"[?!,;:()\"“”]+|(?<!\w)'|'(?!\w)|\.(?=\s|$)")
_HANDLE_CUES = {
    "like", "to", "resembling", "of", "for", "should", "would", "could", "can", "will",
    "vet", "is", "are", "trust", "check", "than",
}  # fmt: skip
_NEED_HANDLE = tuple(p.command for p in ph.PHRASINGS if p.needs == "handle")
_PRONOUNS = {"him", "her", "them", "this", "that", "it", "these", "those", "they", "he", "she"}
EXAMPLES = (
    "“creators like @some_creator with under 50k followers”, “hashtags for coffee”, "
    "“songs for @some_creator”, “what's trending this week?”, “is @some_creator legit?”"
)


@dataclass
class _Slots:
    handle: str | None = None
    platform: str | None = None
    filters: dict[str, str] = field(default_factory=dict)
    k: int | None = None
    days: int | None = None
    tags: list[str] = field(default_factory=list)  # typed as #tags
    pronoun: bool = False


def _clean(text: str) -> str:
    """Slack's markup (`<https://…|label>`, `<@U1|ana>`) and typographic quotes undone."""
    text = (text or "").replace("’", "'").replace("‘", "'")
    text = _SLACK_LINK.sub(r"\1", text)
    text = _SLACK_USER.sub(r"@\1", text)
    text = _SLACK_BARE_USER.sub(" ", text)
    # what a person typed as < > & arrives escaped (the markup above uses real brackets)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


def _direct(text: str) -> Reading | None:
    """`lookalike @ana 5 er:>2` (with or without the slash) is already a command line."""
    word, _, rest = text.partition(" ")
    name = word.lstrip("/").lower()
    if name not in COMMANDS:
        return None
    tokens = rest.split()
    if not tokens and name != "trending":
        return None
    if all(_SYNTAX_TOKEN.fullmatch(t) for t in tokens):
        return Reading(name, direct=True, raw_args=" ".join(tokens))
    return None


def _cut(pattern: re.Pattern[str], s: str) -> tuple[re.Match[str] | None, str]:
    m = pattern.search(s)
    if m is None:
        return None, s
    return m, s[: m.start()] + " " + s[m.end() :]


def _compact(num: str) -> str:
    """'50 k' -> '50k', '50,000' -> '50000', '1.5 million' -> '1.5m' (parse_count's forms)."""
    n = num.lower().replace(" ", "")
    n = re.sub(r"million|mil$", "m", n).replace("thousand", "k")
    n = re.sub(r",(?=\d{3}(?!\d))", "", n).replace(",", ".")
    return n


def _is_audience(num: str, word: str | None) -> bool:
    """A bare number is a follower count only with a k/m or 'followers', or >= 1000."""
    n = _compact(num)
    return bool(word) or n[-1:] in ("k", "m") or (n.replace(".", "").isdigit() and float(n) >= 1000)


def _take_people(s: str, slots: _Slots) -> str:
    """The profile link and the @handles (the first one is the creator asked about)."""
    m, s2 = _cut(ph.PROFILE_URL, s)
    if m and m.group(2).lower() not in ph.NOT_PROFILES:
        slots.handle = m.group(2).strip(".").lower()
        slots.platform = m.group(1).split(".")[0].lower()
        s = s2
    elif m:
        s = s2  # a post's link names no creator
    for hm in ph.HANDLE.finditer(s):
        if slots.handle is None:
            slots.handle = hm.group(1).lower()
    s = ph.HANDLE.sub(" ", s)
    for tag in re.findall(r"(?<![\w&])#(\w+)", s):
        if tag.lower() not in slots.tags:
            slots.tags.append(tag.lower())
    return re.sub(r"(?<![\w&])#\w+", " ", s)


def _take_followers(s: str, slots: _Slots) -> str:
    for pattern in (ph.BETWEEN, ph.SPAN):
        m, s2 = _cut(pattern, s)
        if m and (_is_audience(m.group(1), None) or _is_audience(m.group(2), None)):
            lo, hi = _compact(m.group(1)), _compact(m.group(2))
            if lo[-1:] not in ("k", "m") and hi[-1:] in ("k", "m"):
                lo += hi[-1]  # "between 10 and 100k": both in thousands
            slots.filters["followers"] = f"{lo}-{hi}"
            return s2
    for pattern, spell in ((ph.UNDER, "<{}"), (ph.OVER, ">{}"), (ph.PLUS, "{}+")):
        m = pattern.search(s)
        if m and _is_audience(m.group(1), m.group(2)):
            slots.filters["followers"] = spell.format(_compact(m.group(1)))
            return s[: m.start()] + " " + s[m.end() :]
    m, s2 = _cut(ph.TIER, s)
    if m:
        slots.filters["followers"] = ph.TIERS[m.group(1).lower()]
        return s2
    return s


def _take_filters(s: str, slots: _Slots) -> str:
    for pattern in ph.ENGAGEMENT:
        m, s2 = _cut(pattern, s)
        if m:
            slots.filters["er"] = f">{m.group(1)}"
            s = s2
            break
    for pattern in ph.COUNT:  # before the tiers, which take "nano influencers" away
        m, s2 = _cut(pattern, s)
        if m:
            slots.k, s = int(m.group(1)), s2
            break
    s = _take_followers(s, slots)
    for pattern in ph.LANGUAGE:
        m, s2 = _cut(pattern, s)
        if m:
            slots.filters["lang"] = LANGUAGES[m.group(1).lower()]
            s = s2
            break
    for pattern, days in ph.WINDOWS:
        m, s2 = _cut(pattern, s)
        if m:
            slots.days, s = days, s2
            break
    else:
        m, s2 = _cut(ph.DAYS, s)
        if m:
            slots.days, s = int(m.group(1)), s2
    return s


def _tokens(s: str) -> list[str]:
    return [t for t in _PUNCT.sub(" ", s).split() if t]


def _bare_handle(s: str, slots: _Slots, vocabulary: Collection[str]) -> str | None:
    """A handle written without '@' where one goes ("like ana.reception"). Returns a
    word that is also a known tag (so it could mean either) instead of taking it."""
    tokens = _tokens(s)
    for i, tok in enumerate(tokens[:-1]):
        if tok not in _HANDLE_CUES:
            continue
        word = tokens[i + 1].strip(".")
        if word in _PRONOUNS:
            slots.pronoun = True
            return None
        if not word or word in ph.STOPWORDS or word in LANGUAGES or word[0].isdigit():
            continue
        if not re.fullmatch(r"[a-z0-9_](?:[a-z0-9_.]*[a-z0-9_])?", word):
            continue
        if (
            re.search(r"[._\d]", word)
            or not vocabulary
            or lookup(word, vocabulary, fuzzy=False) is None
        ):
            slots.handle = word
            return None
        return word
    return None


def _content(s: str) -> tuple[list[str], list[str]]:
    """The words that may be the topic: (wanted, not wanted) after 'but not' and the like."""
    for phrasing in ph.PHRASINGS:
        if not phrasing.keeps:
            s = phrasing.pattern.sub(" ", s)
    m = ph.NEGATION.search(s)
    pos, neg = (s[: m.start()], s[m.end() :]) if m else (s, "")

    def words(part: str) -> list[str]:
        return [t for t in _tokens(part) if t not in ph.STOPWORDS and not t.isdigit()]

    return words(pos), words(neg)


def _query(pos: list[str], neg: list[str], slots: _Slots, vocabulary: Collection[str]):
    """(the weighted query, its tags, the words no tag matched)."""
    tags, unknown = to_hashtags(pos, vocabulary)
    tags = [*slots.tags, *(t for t in tags if t not in slots.tags)]
    minus, unknown_neg = to_hashtags(neg, vocabulary)
    minus = [t for t in minus if t not in tags]
    query = " ".join([*(f"#{t}" for t in tags), *(f"#{t}:-1" for t in minus)])
    return query, tags, [*unknown, *unknown_neg]


def understand(text: str, vocabulary: Collection[str] = frozenset()) -> Reading:
    """The reading of one request; see the module's docstring."""
    clean = _clean(text)
    if not clean:
        return Reading(None, question=f"What should I look for? For example {EXAMPLES}.")
    direct = _direct(clean)
    if direct is not None:
        return direct
    slots = _Slots()
    s = _take_people(" " + clean.lower() + " ", slots)
    intent = next((p for p in ph.PHRASINGS if p.pattern.search(s)), None)
    rest = _take_filters(s, slots)
    either = None
    if slots.handle is None and (intent is None or intent.command in ("trending", *_NEED_HANDLE)):
        either = _bare_handle(rest, slots, vocabulary)
    if slots.handle:
        rest = re.sub(rf"(?<![\w.]){re.escape(slots.handle)}(?![\w.])", " ", rest)
    pos, neg = _content(rest)
    query, tags, unknown = _query(pos, neg, slots, vocabulary)
    return _decide(intent, slots, query, tags, unknown, either)


def _decide(intent, slots: _Slots, query: str, tags: list[str], unknown: list[str], either):
    order = ("followers", "er", "lang", "growth", "quality", "sponsored", "safe")
    filters = tuple(sorted(slots.filters.items(), key=lambda kv: order.index(kv[0])))
    command = intent.command if intent else None
    base = {"k": slots.k, "ignored": tuple(unknown)}
    if command in ("lookalike", "songs", "vet") and slots.handle:
        kept = filters if command == "lookalike" else ()
        return Reading(command, handle=slots.handle, filters=kept, **base)
    if command in ("lookalike", "songs", "vet"):
        return _missing_handle(command, slots, query, tags, either, filters)
    if command == "trending" and slots.pronoun:
        return Reading(
            None,
            question="Which creator do you mean? “songs for @some_creator” picks songs for one "
            "creator; “what's trending?” is for everyone.",
            choices=("/trending",),
        )
    if command == "trending":
        topic = tags[0] if tags else None
        return Reading("trending", days=slots.days, topic=topic, **base)
    if command in ("topic", "hashtags") and query and tags:
        kept = filters if command == "topic" else ()
        return Reading(command, query=query, filters=kept, **base)
    if command in ("topic", "hashtags") and slots.handle:
        return Reading(
            None,
            question=f"Do you want creators like @{slots.handle}, or hashtags for a topic?",
            choices=(f"/lookalike @{slots.handle}", f"/hashtags #{slots.handle}"),
        )
    if command in ("topic", "hashtags"):
        words = ", ".join(f"“{w}”" for w in unknown)
        found = f"No hashtag in the data matches {words}. " if words else ""
        return Reading(
            None,
            question=f"{found}Which topic? Give hashtags or words, e.g. “{command} for coffee”.",
        )
    return _no_command(slots, query, tags, filters)


def _missing_handle(command: str, slots: _Slots, query: str, tags, either, filters) -> Reading:
    if either:
        return Reading(
            None,
            question=f"Do you mean the creator @{either}, or creators who post about #{either}?",
            choices=(f"/{command} @{either}", f"/topic #{either}"),
        )
    whom = "Which creator do you mean" if slots.pronoun else "Which creator"
    if command == "songs":
        choices = ("/trending", *((f"/trending #{tags[0]}",) if tags else ()))
        return Reading(
            None,
            question=f"{whom}? Songs are picked for one creator (“songs for @some_creator”), "
            "or do you want what's trending?",
            choices=choices,
        )
    if command == "vet":
        return Reading(None, question=f"{whom}? Try “is @some_creator legit?”.")
    choices = (f"/topic {query}",) if query else ()
    return Reading(
        None,
        question=f"{whom}? Give the creator's handle, e.g. “creators like @some_creator”"
        + (", or do you want creators for the topic?" if query else "."),
        choices=choices,
    )


def _no_command(slots: _Slots, query: str, tags: list[str], filters) -> Reading:
    if slots.handle:
        h = slots.handle
        return Reading(
            None,
            question=f"What would you like to know about @{h}?",
            choices=(f"/lookalike @{h}", f"/songs @{h}", f"/vet @{h}"),
        )
    if tags:
        topic = Reading("topic", query=query, filters=filters).line
        return Reading(
            None,
            question=f"Do you want hashtags or creators for {query}?",
            choices=(f"/hashtags {' '.join('#' + t for t in tags)}", topic),
        )
    return Reading(None, question=f"I'm not sure what you're after. Try {EXAMPLES}.")
