"""Instagram through the Graph API's Business Discovery: one professional account (the
app's own, `SCOUT_IG_USER_ID`) reads other professional accounts' profiles and media by
username. Media come newest first in cursor pages; paging stops once the newest 50 posts
and every post of the last 90 days are in, the window the lookalike model reads, so a
prolific creator costs a few calls and not hundreds.

Throttling is waited out on the injected clock (the usage headers say how long), a
revoked token stops the source and keeps what arrived, and an unavailable handle is a
problem for that handle only."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.core.text import normalize_tag
from engine.ingest.sources.clock import Clock, SystemClock
from engine.ingest.sources.config import SourceSettings
from engine.ingest.sources.graph_limits import (
    HANDLE_CODES,
    NEAR_LIMIT_PCT,
    THROTTLE_CODES,
    TOKEN_CODES,
    HashtagBudget,
    read_usage,
)
from engine.ingest.sources.records import (
    CreatorFetch,
    CreatorRecord,
    PostRecord,
    SyncProblem,
    Window,
)
from engine.ingest.sources.transport import NetworkFailure, get_json
from engine.ingest.sources.values import handle_of, hashtags_of, mentions_in, to_count, to_time

PROFILE_FIELDS = "username,name,biography,followers_count,follows_count,media_count"
MEDIA_FIELDS = (
    "id,caption,like_count,comments_count,timestamp,media_type,media_product_type,"
    "permalink,media_url,thumbnail_url"
)
HASHTAG_MEDIA_FIELDS = "id,caption,like_count,comments_count,timestamp,media_type,permalink"


@dataclass
class HashtagFetch:
    """A hashtag's top media. The API does not say whose they are, so new creators come
    from the @mentions in those captions (the discovery step checks each one)."""

    tag: str
    posts: list[PostRecord] = field(default_factory=list)
    candidates: tuple[str, ...] = ()
    problem: SyncProblem | None = None


class GraphSource:
    name = "instagram_graph"
    platform = "instagram"

    def __init__(
        self,
        settings: SourceSettings,
        *,
        clock: Clock | None = None,
        hashtags: HashtagBudget | None = None,
        window: Window = Window(),
        max_wait_s: float = 3600.0,
        max_throttled: int = 5,
    ) -> None:
        if not settings.ig_user_id or not settings.ig_access_token:
            raise ValueError("Instagram source needs SCOUT_IG_USER_ID and SCOUT_IG_ACCESS_TOKEN")
        self.settings = settings
        self.clock = clock or SystemClock()
        self.hashtags = hashtags or HashtagBudget()
        self.window = window
        self.max_wait_s = max_wait_s  # a longer wait is returned as rate_limited instead
        self.max_throttled = max_throttled
        self.calls = 0
        self.waited_s = 0.0
        self.stopped: SyncProblem | None = None  # set by an invalid token: no more calls
        self.resume_at: datetime | None = None

    # ------------------------------------------------------------------ creators
    def fetch_creator(self, handle: str) -> CreatorFetch:
        fetch = CreatorFetch(handle_of(handle))
        if not fetch.handle:
            fetch.problem = SyncProblem("handle_unavailable", "empty handle", handle=handle)
            return fetch
        cutoff = self.clock.now() - timedelta(days=self.window.days)
        cursor: str | None = None
        calls_before = self.calls
        while True:
            body = self._call(self.settings.ig_user_id, {"fields": self._fields(fetch, cursor)})
            if isinstance(body, SyncProblem):
                fetch.problem = _for_handle(body, fetch.handle)
                break
            found = body.get("business_discovery")
            if not isinstance(found, dict):
                fetch.problem = SyncProblem(
                    "handle_unavailable", "no business_discovery in the answer", handle=fetch.handle
                )
                break
            if fetch.creator is None:
                fetch.creator = self._creator(found, fetch.handle)
            page = found.get("media") or {}
            data = [m for m in page.get("data") or [] if isinstance(m, dict)]
            fetch.posts += [_post(m, fetch.handle) for m in data]
            cursor = ((page.get("paging") or {}).get("cursors") or {}).get("after")
            if not data or not cursor or self._window_full(fetch.posts, cutoff):
                break
        fetch.posts = self._in_window(fetch.posts, cutoff)
        fetch.calls = self.calls - calls_before
        return fetch

    def _fields(self, fetch: CreatorFetch, cursor: str | None) -> str:
        media = f"media.after({cursor})" if cursor else "media"
        profile = "" if fetch.creator else PROFILE_FIELDS + ","
        return f"business_discovery.username({fetch.handle}){{{profile}{media}{{{MEDIA_FIELDS}}}}}"

    def _creator(self, found: dict[str, Any], handle: str) -> CreatorRecord:
        return CreatorRecord(
            platform=self.platform,
            handle=handle_of(found.get("username")) or handle,
            name=found.get("name") or None,
            bio=found.get("biography") or None,
            followers=to_count(found.get("followers_count")),
            following=to_count(found.get("follows_count")),
            media_count=to_count(found.get("media_count")),
            fetched_at=self.clock.now(),
        )

    def _window_full(self, posts: list[PostRecord], cutoff: datetime) -> bool:
        if len(posts) < self.window.newest:
            return False
        oldest = posts[-1].posted_at
        return oldest is None or oldest < cutoff

    def _in_window(self, posts: list[PostRecord], cutoff: datetime) -> list[PostRecord]:
        return [
            p
            for i, p in enumerate(posts)
            if i < self.window.newest or (p.posted_at is not None and p.posted_at >= cutoff)
        ]

    # ------------------------------------------------------------------ hashtags
    def search_hashtag(self, tag: str) -> HashtagFetch:
        """Top media of one hashtag, within the 30-unique-hashtags-a-week budget."""
        result = HashtagFetch(normalize_tag(tag))
        now = self.clock.now()
        if not result.tag:
            result.problem = SyncProblem("handle_unavailable", f"not a hashtag: {tag!r}")
        elif not self.hashtags.allows(result.tag, now):
            result.problem = SyncProblem(
                "quota_exhausted",
                f"hashtag search: {self.hashtags.limit} hashtags already searched this week",
                retry_at=self.hashtags.frees_at(now),
            )
        else:
            self._hashtag_media(result)
        return result

    def _hashtag_media(self, result: HashtagFetch) -> None:
        user = self.settings.ig_user_id
        found = self._call("ig_hashtag_search", {"user_id": user, "q": result.tag})
        if isinstance(found, SyncProblem):
            result.problem = found
            return
        self.hashtags.record(result.tag, self.clock.now())
        ids = [d.get("id") for d in found.get("data") or [] if isinstance(d, dict)]
        if not ids or not ids[0]:
            result.problem = SyncProblem("handle_unavailable", f"no hashtag #{result.tag}")
            return
        media = self._call(f"{ids[0]}/top_media", {"user_id": user, "fields": HASHTAG_MEDIA_FIELDS})
        if isinstance(media, SyncProblem):
            result.problem = media
            return
        result.posts = [_post(m, "") for m in media.get("data") or [] if isinstance(m, dict)]
        result.candidates = tuple(dict.fromkeys(h for p in result.posts for h in p.mentions))

    # ------------------------------------------------------------------ one call
    def _call(self, path: str, params: dict[str, str]) -> dict[str, Any] | SyncProblem:
        throttled = 0
        while True:
            if self.stopped:
                return self.stopped
            problem = self._wait_if_paused()
            if problem:
                return problem
            query = urllib.parse.urlencode(
                {**params, "access_token": self.settings.ig_access_token}
            )
            url = f"{self.settings.ig_graph_url}/{path}?{query}"
            try:
                response = get_json(url, timeout_s=self.settings.timeout_s, clock=self.clock)
            except NetworkFailure as err:
                return SyncProblem("network", str(err))
            self.calls += 1
            usage = read_usage(response.headers)
            error = response.body.get("error") if isinstance(response.body, dict) else None
            if isinstance(error, dict):
                code = _int(error.get("code"))
                message = f"Graph API error {code}: {str(error.get('message') or '')[:200]}"
                if code in THROTTLE_CODES:
                    throttled += 1
                    self._pause(usage.regain_minutes, throttled)
                    if throttled <= self.max_throttled:
                        continue
                return self._problem(code, message)
            if usage.percent >= NEAR_LIMIT_PCT:
                self._pause(usage.regain_minutes, 1)
            return response.body if isinstance(response.body, dict) else {}

    def _problem(self, code: int, message: str) -> SyncProblem:
        if code in TOKEN_CODES:
            self.stopped = SyncProblem("token_invalid", f"{message} (renew SCOUT_IG_ACCESS_TOKEN)")
            return self.stopped
        if code in HANDLE_CODES:
            return SyncProblem("handle_unavailable", message)
        if code in THROTTLE_CODES:
            return SyncProblem("rate_limited", message, retry_at=self.resume_at)
        return SyncProblem("network", message)

    def _pause(self, regain_minutes: float, attempt: int) -> None:
        """Until the header's estimate, or an exponential back-off from one minute."""
        seconds = regain_minutes * 60 if regain_minutes > 0 else 60.0 * 2 ** (attempt - 1)
        until = self.clock.now() + timedelta(seconds=seconds)
        self.resume_at = max(until, self.resume_at) if self.resume_at else until

    def _wait_if_paused(self) -> SyncProblem | None:
        if self.resume_at is None:
            return None
        left = (self.resume_at - self.clock.now()).total_seconds()
        if left > self.max_wait_s:
            return SyncProblem(
                "rate_limited",
                f"Graph API throttled for {left / 60:.0f} min",
                retry_at=self.resume_at,
            )
        if left > 0:
            self.clock.sleep(left)
            self.waited_s += left
        self.resume_at = None
        return None


def _for_handle(problem: SyncProblem, handle: str) -> SyncProblem:
    return SyncProblem(problem.kind, problem.message, problem.retry_at, handle)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _post(media: dict[str, Any], handle: str) -> PostRecord:
    caption = str(media.get("caption") or "")
    video = str(media.get("media_type") or "").upper() == "VIDEO"
    image = media.get("thumbnail_url") if video else media.get("media_url")
    return PostRecord(
        platform="instagram",
        post_id=str(media.get("id") or ""),
        handle=handle,
        caption=caption,
        hashtags=hashtags_of(caption),
        likes=to_count(media.get("like_count")),
        comments=to_count(media.get("comments_count")),
        views=None,
        posted_at=to_time(media.get("timestamp")),
        media_type=media.get("media_type") or None,
        product_type=media.get("media_product_type") or None,
        permalink=media.get("permalink") or None,
        image_url=image or media.get("media_url") or None,
        mentions=mentions_in(caption),
    )
