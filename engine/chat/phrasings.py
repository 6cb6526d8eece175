"""The table of phrasings, English first: which words say which command, and how people
spell the slots (a handle, a count, follower ranges, engagement, language, a window).

To teach Scout a new phrasing, add a row: PHRASINGS is tried in order and the first
command whose pattern matches is the reading (so "trending songs" is /trending, not
/songs); `needs` names the slot without which the command is a question, not a guess.
Slot patterns work on lower-cased text and each match is cut out of it before the
words left over are read as hashtags."""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.core.filters import LANGUAGES


@dataclass(frozen=True)
class Phrasing:
    command: str
    pattern: re.Pattern[str]
    needs: str | None  # "handle", "tags" or None
    keeps: bool = False  # its words may also be the topic ("wedding photographers")


def _p(text: str) -> re.Pattern[str]:
    return re.compile(text, re.IGNORECASE)


PEOPLE = (
    r"(?:creators?|influencers?|bloggers?|accounts?|people|youtubers?|tiktokers?|"
    r"instagrammers?|vloggers?|streamers?|pages|profiles|channels?|users?|folks)"
)

PHRASINGS: list[Phrasing] = [
    Phrasing(
        "vet",
        _p(
            r"\b(?:legit|legitimate|trustworthy|trust(?:ed)?|fake|genuine|authentic|scam\w*|"
            r"vet|bought followers|bots?|fraud\w*|credible|reliable|real followers|"
            r"followers (?:are |look )?(?:real|fake))\b"
        ),
        "handle",
    ),
    Phrasing(
        "trending",
        _p(
            r"\btrend(?:ing|s|y)?\b|\bwhat'?s hot\b|\bviral\b|\bblowing up\b|"
            r"\b(?:popular|hot|rising|hottest|top) (?:songs?|sounds?|music|audios?|tracks?)\b"
        ),
        None,
    ),
    Phrasing("songs", _p(r"\b(?:songs?|music|audios?|sounds?|tracks?|tunes?)\b"), "handle"),
    Phrasing("hashtags", _p(r"\b(?:hash ?tags?|tags?)\b"), "tags"),
    Phrasing(
        "lookalike",
        _p(
            r"\b(?:similar|like|alike|lookalikes?|look[- ]alikes?|resembl\w*|comparable|"
            r"same (?:vibe|style|audience|niche|kind)|such as|competitors?|alternatives?|"
            r"others? like|instead of|replacements? for)\b"
        ),
        "handle",
    ),
    Phrasing(
        "topic",
        _p(rf"\b{PEOPLE}\b|\b(?:who|that) (?:posts?|talks?|makes?|shares?)\b|\bposts? about\b"),
        "tags",
    ),
    Phrasing(
        "topic",
        _p(
            r"\b(?:photographers?|artists?|chefs?|bakers?|gamers?|musicians?|singers?|designers?|"
            r"athletes?|trainers?|moms?|dads?|travell?ers?|foodies|developers?|makers?)\b"
        ),
        "tags",
        keeps=True,
    ),
]

# ------------------------------------------------------------------ slots
# A profile link: instagram.com/NAME, tiktok.com/@NAME, youtube.com/@NAME (or /c/, /user/)
PROFILE_URL = _p(
    r"(?:https?://)?(?:www\.|m\.|vm\.)?(instagram\.com|tiktok\.com|youtube\.com)/"
    r"(?:@|c/|user/)?([a-z0-9_][a-z0-9_.\-]*)/?[^\s]*"
)
NOT_PROFILES = {"p", "reel", "reels", "tv", "stories", "explore", "watch", "shorts", "channel"}
HANDLE = _p(r"(?<![\w.])@([a-z0-9_](?:[a-z0-9_.]*[a-z0-9_])?)")
# "like ana.reception", "songs for ana.reception", "is ana.reception legit": a bare word
# where a handle goes (handle-shaped: it has a dot, underscore or digit, or no tag
# matches it)
BARE_HANDLE = _p(
    r"\b(?:like|similar to|resembling|lookalikes? (?:of|for|to)|songs? for|music for|"
    r"audios? for|sounds? for|vet|is|are|trust|about)\s+([a-z0-9_](?:[a-z0-9_.]*[a-z0-9_])?)"
    r"(?=$|[\s?!,.;:])"
)
PRONOUNS = {
    "him", "her", "them", "this", "that", "it", "these", "those", "this one", "that one",
    "they", "he", "she", "his", "hers", "theirs", "one", "someone", "somebody", "the",
    "a", "an", "my", "our", "your", "me", "us", "you", "what", "which", "who",
}  # fmt: skip

NUM = r"\d+(?:[.,]\d+)?\s?(?:k|m|mil|million|thousand)?"
FOLLOWERS = r"(?:followers?|subs|subscribers?|fans|audience)"
TIERS = {
    "nano": "1k-10k",
    "micro": "10k-100k",
    "macro": "100k-1m",
    "mega": "1m+",
    "celebrity": "1m+",
}
TIER = _p(r"\b(nano|micro|macro|mega|celebrity)(?:[- ]?(?:influencers?|creators?|bloggers?))?\b")
BETWEEN = _p(rf"\b(?:between|from)\s+({NUM})\s*(?:and|to|-)\s*({NUM})\s*{FOLLOWERS}?")
SPAN = _p(rf"\b({NUM})\s*(?:-|to)\s*({NUM})\s*{FOLLOWERS}")
UNDER = _p(
    rf"(?:\b(?:under|below|less than|fewer than|at most|up to|max(?:imum)?|no more than|"
    rf"smaller than)|<=?)\s*({NUM})(?!\s*%)\s*({FOLLOWERS})?"
)
OVER = _p(
    rf"(?:\b(?:over|above|more than|at least|min(?:imum)?|bigger than|greater than|"
    rf"no less than)|>=?)\s*({NUM})(?!\s*%)\s*({FOLLOWERS})?"
)
PLUS = _p(rf"\b({NUM})\s*\+\s*({FOLLOWERS})?")
ENGAGEMENT = [
    _p(
        r"\b(?:engagement(?: rate)?|er)\s*(?:of\s+|is\s+)?(?:above|over|more than|at least|"
        r"greater than|higher than|>=?|of|from)?\s*(\d+(?:\.\d+)?)\s*(?:%|percent)?\s*\+?"
    ),
    _p(
        r"\b(?:above|over|more than|at least|greater than|>=?)?\s*(\d+(?:\.\d+)?)\s*"
        r"(?:%|percent)\+?\s*(?:engagement(?: rate)?|er)\b"
    ),
]
_NAMES = "|".join(sorted((n for n in LANGUAGES if len(n) > 2), key=len, reverse=True))
LANGUAGE = [
    _p(rf"\b(?:in|speaks?|speaking|writes? in|posting in|posts? in)\s+({_NAMES})\b"),
    _p(rf"\b({_NAMES})[- ](?:speaking|language)\b"),
    _p(rf"\b({_NAMES})\s+(?=(?:\w+\s+)?{PEOPLE}\b)"),
]
COUNT = [
    _p(
        r"\b(?:give me|show me|find me|get me|show|list|top|first|best|just|only|k:)\s*(\d{1,3})\b(?![.,]?\d|\s*(?:k|m)\b|\s*%)"
    ),
    _p(
        rf"\b(\d{{1,3}})\s+(?!(?:k|m|mil|million|thousand)\b)(?=(?:more\s+|other\s+|similar\s+|nano\s+|micro\s+|macro\s+|mega\s+|"
        rf"\w+\s+)?(?:{PEOPLE}|songs?|tracks?|sounds?|hash ?tags?|tags?|results?|lookalikes?|"
        rf"options|ideas|suggestions)\b)"
    ),
]
WINDOWS = [
    (_p(r"\b(?:today|last 24 hours|past 24 hours)\b"), 1),
    (_p(r"\b(?:this|past|last)\s+(?:two|2)\s+weeks\b|\bfortnight\b"), 14),
    (_p(r"\b(?:this|past|last)\s+week\b|\bweekly\b"), 7),
    (_p(r"\b(?:this|past|last)\s+month\b|\bmonthly\b"), 30),
    (_p(r"\b(?:this|past|last)\s+quarter\b"), 90),
]
DAYS = _p(r"\b(?:last|past|in the last|over the last)?\s*(\d{1,3})\s*(?:days?|d)\b")
NEGATION = _p(r"\b(?:but not|and not|not|without|except|excluding|minus|other than|but no|no)\b")
# Words that carry the request's shape, not its topic: never read as hashtags.
STOPWORDS = set(
    """a an the me my our us you your i we he she it they them him her his this that
    these those some any all who whom whose which what whats what's where when how why
    is are was were be been being am do does did can could would should will shall may
    might must please pls plz find show give get list search look looking for need want
    wanted recommend suggest tell see help with of in on at to from by into about around
    and or but so than then also just only very really more most less few many much
    creator creators influencer influencers blogger bloggers account accounts people
    youtuber youtubers tiktoker tiktokers instagrammer instagrammers vlogger vloggers
    streamer streamers page pages profile profiles channel channels user users folks
    post posts posting posted talk talks talking make makes making share shares sharing
    content videos video photos pictures pics reels reel stuff things thing topic topics
    related relating similar go goes going use using used next new good best top great
    hashtag hashtags tag tags hash which ones one other others kind kinds type types
    lots lot niche space world scene area field someone anyone everyone something
    anything like likes followers follower subscribers fans audience engagement rate
    er percent language lang speaking speak speaks write writes written there here
    ok okay hi hey hello thanks thank yes no not nice cool awesome now right currently
    lately recently""".split()  # noqa: SIM905 - a paragraph of words reads and edits best
)
