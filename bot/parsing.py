"""Command text to typed requests. Slack hands us free text after the slash command; a
typo must come back as a sentence saying what was expected, so every parser raises
BadQuery with an example rather than guessing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.service import (
    FILTER_KEYS,
    BadQuery,
    Filters,
    check_k,
    parse_filters,
    parse_handle,
)
from engine.service import parse_count as parse_count  # the one count parser, for bot.router

# Slack turns "@name" into "<@U123|name>" when it matches a workspace member.
_SLACK_MENTION = re.compile(r"^<@[A-Z0-9]+(?:\|([^>]+))?>$")


@dataclass(frozen=True)
class LookalikeRequest:
    handle: str
    k: int = 10
    filters: Filters = field(default_factory=Filters)


@dataclass(frozen=True)
class TopicRequest:
    query: str
    k: int = 10
    filters: Filters = field(default_factory=Filters)


@dataclass(frozen=True)
class SongsRequest:
    handle: str
    k: int = 10


@dataclass(frozen=True)
class TrendingRequest:
    days: int = 7
    k: int = 10
    topic: str | None = None


@dataclass(frozen=True)
class DigestRequest:
    action: str  # on | off | status
    local_time: str = "09:00"
    timezone: str | None = None


def clean_handle(token: str) -> str:
    m = _SLACK_MENTION.match(token)
    if m:
        if not m.group(1):
            raise BadQuery("That is a Slack member, not a creator handle; type the handle as text.")
        token = m.group(1)
    handle = parse_handle(token)
    if not handle:
        raise BadQuery("Give a creator handle, e.g. `@some_creator`.")
    return handle


def _split_options(text: str, known: set[str]) -> tuple[list[str], dict[str, str]]:
    """Words and `key:value` options; only known keys count as options (so `#tag:-1`
    in a topic stays a word)."""
    words, options = [], {}
    for token in text.split():
        key, sep, value = token.partition(":")
        if sep and key.lower() in known:
            options[key.lower()] = value
        elif not sep and token.lower() == "safe" and "safe" in known:  # a flag, no value
            options["safe"] = "yes"
        else:
            words.append(token)
    return words, options


def _k(word: str, what: str) -> int:
    try:
        k = int(word)
    except ValueError:
        raise BadQuery(f"I did not understand `{word}` in {what}.") from None
    return check_k(k)


def parse_lookalike(text: str) -> LookalikeRequest:
    words, options = _split_options(text, set(FILTER_KEYS))
    if not words:
        raise BadQuery("Whom should I find lookalikes for? Try `/lookalike @some_creator 10`.")
    if len(words) > 2:
        raise BadQuery(
            f"I did not understand `{' '.join(words[2:])}`. "
            "Try `/lookalike @handle 10 followers:10k-100k er:>2 lang:en`."
        )
    k = _k(words[1], "/lookalike") if len(words) == 2 else 10
    return LookalikeRequest(clean_handle(words[0]), k, parse_filters(options))


def parse_topic(text: str) -> TopicRequest:
    """Hashtags with optional weights, then optionally a count (`/topic #food 3` or
    `k:3`) and filters."""
    words, options = _split_options(text, {*FILTER_KEYS, "k"})
    k = _k(options.pop("k"), "/topic") if "k" in options else 10
    if words and words[-1].isdigit():
        k = _k(words.pop(), "/topic")
    if not words:
        raise BadQuery("Give one or more hashtags, e.g. `/topic #apple #iphone:-1`.")
    return TopicRequest(" ".join(words), k, parse_filters(options))


def parse_count_only(text: str, command: str, default: int) -> int:
    """`/topics` or `/topics 5`: an optional count and nothing else."""
    words = text.split()
    if not words:
        return default
    if len(words) == 1 and words[0].isdigit():
        return _k(words[0], command)
    raise BadQuery(f"I did not understand `{text.strip()}`. Try `{command}` or `{command} 5`.")


def parse_tags(text: str) -> TopicRequest:
    """Hashtags, then optionally how many (`/hashtags #wedding 5`): a count is never
    read as a hashtag."""
    words = text.split()
    k = _k(words.pop(), "/hashtags") if len(words) > 1 and words[-1].isdigit() else 20
    if not words:
        raise BadQuery("Give one or more hashtags, e.g. `/hashtags #cats`.")
    return TopicRequest(" ".join(words), k)


def parse_songs(text: str) -> SongsRequest:
    words = text.split()
    if not words:
        raise BadQuery("Whose next reel? Try `/songs @some_creator`.")
    if len(words) > 2:
        raise BadQuery("Try `/songs @handle` or `/songs @handle 5`.")
    k = _k(words[1], "/songs") if len(words) == 2 else 10
    return SongsRequest(clean_handle(words[0]), k)


def parse_trending(text: str) -> TrendingRequest:
    """`/trending [days] [count] [#topic]`: the first number is the window in days (`7` or
    `7d`), a second one how many songs (or `k:5`)."""
    words, options = _split_options(text, {"k"})
    k = _k(options["k"], "/trending") if "k" in options else None
    days, topic = None, None
    for word in words:
        low = word.lower()
        if re.fullmatch(r"\d+d", low) or (low.isdigit() and days is None):
            if days is not None:
                raise BadQuery(f"Two windows in `{text.strip()}`; give one, like `/trending 7`.")
            days = int(low.rstrip("d"))
        elif low.isdigit() and k is None:
            k = _k(low, "/trending")
        elif low.startswith("#") and len(low) > 1:
            topic = low.lstrip("#")
        else:
            raise BadQuery(
                f"I did not understand `{word}`. Try `/trending 7` (days), "
                "`/trending 14 5` (14 days, 5 songs) or `/trending 30 #food`."
            )
    return TrendingRequest(7 if days is None else days, 10 if k is None else k, topic)


def parse_digest(text: str) -> DigestRequest:
    words = text.split()
    action = words[0].lower() if words else "status"
    if action in ("off", "status"):
        if len(words) > 1:
            raise BadQuery(f"`/digest {action}` takes nothing after it.")
        return DigestRequest(action)
    if action != "on":
        raise BadQuery("Try `/digest on 09:00 Europe/Paris`, `/digest off` or `/digest status`.")
    local_time, tz = "09:00", None
    for word in words[1:]:
        if re.fullmatch(r"\d{1,2}:\d{2}", word):
            hh, mm = (int(x) for x in word.split(":"))
            if hh > 23 or mm > 59:
                raise BadQuery(f"`{word}` is not a time of day; use 24-hour HH:MM like 09:00.")
            local_time = f"{hh:02d}:{mm:02d}"
        else:
            tz = parse_timezone(word)
    return DigestRequest("on", local_time, tz)


# Abbreviations people type, to a zone that follows its daylight-saving rules.
TZ_ABBREVIATIONS = {
    "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles", "pt": "America/Los_Angeles",
    "mst": "America/Denver", "mdt": "America/Denver", "mt": "America/Denver",
    "cst": "America/Chicago", "cdt": "America/Chicago", "ct": "America/Chicago",
    "est": "America/New_York", "edt": "America/New_York", "et": "America/New_York",
    "akst": "America/Anchorage", "hst": "Pacific/Honolulu", "brt": "America/Sao_Paulo",
    "gmt": "Europe/London", "bst": "Europe/London", "wet": "Europe/Lisbon",
    "cet": "Europe/Paris", "cest": "Europe/Paris", "eet": "Europe/Athens",
    "eest": "Europe/Athens", "msk": "Europe/Moscow", "ist": "Asia/Kolkata",
    "pkt": "Asia/Karachi", "wib": "Asia/Jakarta", "sgt": "Asia/Singapore",
    "hkt": "Asia/Hong_Kong", "cst8": "Asia/Shanghai", "jst": "Asia/Tokyo", "kst": "Asia/Seoul",
    "aest": "Australia/Sydney", "aedt": "Australia/Sydney", "acst": "Australia/Adelaide",
    "awst": "Australia/Perth", "nzst": "Pacific/Auckland", "nzdt": "Pacific/Auckland",
    "utc": "UTC", "z": "UTC",
}  # fmt: skip


def parse_timezone(word: str) -> str:
    """An IANA zone in any case (`europe/paris`), or a common abbreviation (`PST`)."""
    from zoneinfo import available_timezones

    key = word.strip().lower()
    if key in TZ_ABBREVIATIONS:
        return TZ_ABBREVIATIONS[key]
    by_lower = {z.lower(): z for z in available_timezones()}
    if key in by_lower:
        return by_lower[key]
    raise BadQuery(
        f"`{word}` is not a time zone I know; use an Area/City name like `Europe/Paris`, "
        "`America/New_York`, or an abbreviation like `PST`, `CET` or `UTC`."
    )
