"""What every source hands back, whatever API or export it read: creators, posts (with
their song inline), and problems as data. A sync keeps going past a bad handle or a
throttled API, so a problem is a value the caller records and schedules around, never an
exception that would lose what was already fetched."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

ProblemKind = Literal[
    "rate_limited",  # wait until retry_at, then resume
    "token_invalid",  # the source stops until someone renews its token or key
    "handle_unavailable",  # this handle (or dataset) only; the source goes on
    "quota_exhausted",  # a counted budget is spent until retry_at
    "network",  # the call failed on the way after retries
]


@dataclass(frozen=True)
class Window:
    """How much of a creator's history one sync reads: the newest `newest` posts and every
    post of the last `days` days, what the lookalike model reads."""

    newest: int = 50
    days: int = 90


@dataclass(frozen=True)
class SongRecord:
    song_id: str
    title: str | None
    artist: str | None
    original: bool | None = None  # the creator's own sound (TikTok's musicOriginal)


@dataclass(frozen=True)
class CreatorRecord:
    platform: str  # "instagram" | "youtube" | "tiktok"
    handle: str  # lower case, no "@"
    name: str | None
    bio: str | None
    followers: int | None  # None when the platform hides it (YouTube hidden subscribers)
    following: int | None
    media_count: int | None
    fetched_at: datetime


@dataclass(frozen=True)
class PostRecord:
    platform: str
    post_id: str
    handle: str  # "" when the API does not say whose post it is (hashtag top media)
    caption: str
    hashtags: tuple[str, ...]
    likes: int | None
    comments: int | None
    views: int | None
    posted_at: datetime | None
    media_type: str | None  # IMAGE, VIDEO, CAROUSEL_ALBUM, ...
    product_type: str | None  # FEED, REELS, clips, ...
    permalink: str | None
    image_url: str | None
    coauthors: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    song: SongRecord | None = None
    duration_s: float | None = None
    shares: int | None = None


@dataclass(frozen=True)
class SyncProblem:
    kind: ProblemKind
    message: str  # one line, never a token
    retry_at: datetime | None = None
    handle: str | None = None


@dataclass
class CreatorFetch:
    """One handle's fetch: whatever arrived before a problem stays in `creator`/`posts`
    (a token that expires on page 3 still leaves pages 1-2 to store)."""

    handle: str
    creator: CreatorRecord | None = None
    posts: list[PostRecord] = field(default_factory=list)
    problem: SyncProblem | None = None
    calls: int = 0  # API calls (or quota units) this fetch spent

    @property
    def ok(self) -> bool:
        return self.problem is None
