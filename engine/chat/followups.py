"""Replies in a thread that act on the answer above them (issue 26): "more like the
second one", "only the ones under 10k", "why #3?", "songs for her", "export this",
"vet #1". A pure function of the reply's words and what was answered (`Said`), so the
phrasings are one table that is easy to extend and to test without Slack or a store.

It reads only what it is sure of: words that name no result, a rank past the answer's
end, or a filter on an answer that takes none give None, and the bot then treats the
reply as any other message (never a guess presented as an answer)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

ORDINALS = {
    "first": 1, "1st": 1, "one": 1, "top": 1,
    "second": 2, "2nd": 2, "two": 2,
    "third": 3, "3rd": 3, "three": 3,
    "fourth": 4, "4th": 4, "four": 4,
    "fifth": 5, "5th": 5, "five": 5,
    "sixth": 6, "6th": 6, "six": 6,
    "seventh": 7, "7th": 7, "seven": 7,
    "eighth": 8, "8th": 8, "eight": 8,
    "ninth": 9, "9th": 9, "nine": 9,
    "tenth": 10, "10th": 10, "ten": 10,
}  # fmt: skip
PRONOUNS = ("her", "him", "them", "they", "she", "he", "this one", "that one", "this creator")
CREATOR_LISTS = ("lookalike", "topic")  # answers whose results are creators and take filters
ONE_CREATOR = ("songs", "vet", "map")  # answers about a single creator, named in their text

# "#2", "2", "number 2", "the second one", "the 2nd", "the last one"
_RANK = r"(?:the\s+)?(?:#\s*|no\.?\s*|number\s+)?(?P<rank>\d{1,2}|" + "|".join(ORDINALS) + r"|last)"
_ONE = r"(?:\s+(?:one|creator|account|result))?"
_COUNT = r"(?P<{}>\d+(?:[.,]\d+)?\s*[km]?)"


@dataclass(frozen=True)
class Said:
    """What the thread's last answer was: its command (`lookalike`), the text it was
    asked (`@ana 5 followers:10k-100k`) and its results' ids and reasons, in order."""

    command: str
    text: str
    result_ids: tuple[str, ...] = ()
    result_whys: tuple[str, ...] = ()


@dataclass(frozen=True)
class FollowUp:
    """What the reply asks. `action`: 'run' (answer `line`, a command line such as
    `/lookalike @bob`), 'why' (result `rank`'s reason, `why`), 'export' (the answer's
    creators as CSV: `line` is the answer's own command). `read_as` says in words how
    the reply was read, shown with the answer."""

    action: str
    line: str
    read_as: str
    rank: int | None = None
    why: str | None = None


def _rank(word: str, said: Said) -> int | None:
    word = word.lower()
    n = len(said.result_ids) if word == "last" else ORDINALS.get(word)
    if n is None and word.isdigit():
        n = int(word)
    return n if n and 1 <= n <= len(said.result_ids) else None


def _subject(m: re.Match, said: Said) -> str | None:
    """The creator a reply means: result N when it names a rank; for "her"/"him", the
    one creator the answer was about (`/songs @x`), else its first result."""
    if m.groupdict().get("rank"):
        n = _rank(m.group("rank"), said)
        return said.result_ids[n - 1] if n else None
    if said.command in ONE_CREATOR and said.text.split():
        return said.text.split()[0].lstrip("@")
    return said.result_ids[0] if said.result_ids else None


def _count(text: str) -> str:
    """'10k', '10,000', '1.5m' as the filter syntax writes them."""
    t = text.replace(" ", "").lower()
    if "," in t and t.replace(",", "").isdigit():
        t = t.replace(",", "")
    return t.replace(",", ".")


def _with_filter(said: Said, key: str, value: str) -> str:
    """The answer's own command line with `key:` replaced by `key:value`."""
    kept = [w for w in said.text.split() if not w.lower().startswith(key + ":")]
    return f"/{said.command} " + " ".join([*kept, f"{key}:{value}"])


def _more_like(m: re.Match, said: Said) -> FollowUp | None:
    who = _subject(m, said)
    if who is None:
        return None
    return FollowUp("run", f"/lookalike @{who}", f"creators like @{who}")


def _why(m: re.Match, said: Said) -> FollowUp | None:
    n = _rank(m.group("rank"), said)
    if n is None:
        return None
    why = said.result_whys[n - 1] if n <= len(said.result_whys) else ""
    return FollowUp(
        "why", f"/{said.command} {said.text}", f"why result {n} (@{said.result_ids[n - 1]})",
        rank=n, why=why,
    )  # fmt: skip


def _followers(bound: str) -> Callable[[re.Match, Said], FollowUp | None]:
    def build(m: re.Match, said: Said) -> FollowUp | None:
        if said.command not in CREATOR_LISTS:
            return None
        if bound == "between":
            value = f"{_count(m.group('lo'))}-{_count(m.group('hi'))}"
        else:
            value = ("<" if bound == "under" else ">") + _count(m.group("n"))
        line = _with_filter(said, "followers", value)
        return FollowUp("run", line, f"the same answer with followers:{value}")

    return build


def _for_creator(command: str) -> Callable[[re.Match, Said], FollowUp | None]:
    def build(m: re.Match, said: Said) -> FollowUp | None:
        who = _subject(m, said)
        if who is None:
            return None
        return FollowUp("run", f"/{command} @{who}", f"{command} for @{who}")

    return build


def _export(m: re.Match, said: Said) -> FollowUp | None:
    if said.command not in CREATOR_LISTS or not said.result_ids:
        return None
    return FollowUp("export", f"/{said.command} {said.text}", "this answer's creators as CSV")


_WHO = r"(?:" + _RANK + _ONE + r"|(?P<pronoun>" + "|".join(PRONOUNS) + r"))"
_UNDER = r"(?:under|below|less than|fewer than|smaller than|<)"
_OVER = r"(?:over|above|more than|bigger than|at least|>)"
_ONLY = r"^(?:(?:only|just|show(?: me)?|keep)\s+)?(?:the\s+)?(?:ones?\s+|creators?\s+|those\s+)?"
_ONLY += r"(?:(?:with|that have|who have)\s+)?"
_FOLLOWERS = r"(?:\s+followers?)?"

# The phrasing table: (pattern, builder), first match wins. Extend here.
TABLE: list[tuple[re.Pattern[str], Callable[[re.Match, Said], FollowUp | None]]] = [
    (re.compile(r"^why\s+(?:is\s+|was\s+|did\s+)?(?:you\s+pick\s+)?" + _RANK + _ONE), _why),
    (
        re.compile(
            r"^(?:(?:show|find|give)\s+(?:me\s+)?)?(?:more|others?|similar(?:\s+ones)?|"
            r"creators?|lookalikes?)\s+(?:like|to|of)\s+" + _WHO + r"\s*$"
        ),
        _more_like,
    ),
    (
        re.compile(
            _ONLY
            + r"between\s+"
            + _COUNT.format("lo")
            + r"\s+and\s+"
            + _COUNT.format("hi")
            + _FOLLOWERS
            + r"\s*$"
        ),
        _followers("between"),
    ),  # fmt: skip
    (
        re.compile(_ONLY + _UNDER + r"\s*" + _COUNT.format("n") + _FOLLOWERS + r"\s*$"),
        _followers("under"),
    ),  # fmt: skip
    (
        re.compile(_ONLY + _OVER + r"\s*" + _COUNT.format("n") + _FOLLOWERS + r"\s*$"),
        _followers("over"),
    ),  # fmt: skip
    (
        re.compile(r"^(?:what\s+)?songs?\s+(?:for|would suit|suit)\s+" + _WHO + r"\s*$"),
        _for_creator("songs"),
    ),  # fmt: skip
    (re.compile(r"^(?:vet|check|is)\s+" + _WHO + r"(?:\s+legit)?\s*$"), _for_creator("vet")),
    (
        re.compile(r"^(?:export|download|csv)(?:\s+(?:this|these|them|it|that|as csv|all))?\s*$"),
        _export,
    ),  # fmt: skip
]


def read_follow_up(text: str, said: Said) -> FollowUp | None:
    """The follow-up `text` asks of the answer `said`, or None when it asks none."""
    clean = re.sub(r"<@[A-Z0-9]+(?:\|[^>]*)?>", " ", text or "")  # a mention of the bot
    clean = " ".join(clean.lower().replace("?", " ").replace("!", " ").split()).strip(" .")
    for pattern, build in TABLE:
        m = pattern.search(clean)
        if m:
            return build(m, said)
    return None
