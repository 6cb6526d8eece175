"""YouTube through the Data API v3: a channel by handle (`forHandle`) or id, its uploads
playlist page by page (`pageToken`), then `videos.list` in batches of 50 for title,
description, tags, statistics and publishedAt. The same window as Instagram (newest 50
and the last 90 days), so a channel costs 3-4 quota units a sync and 10,000 units keep
about 2,500 channels fresh a day. Every call is charged to the quota meter first; error
objects (quotaExceeded, keyInvalid, a channel that is gone) come back as problems."""

from __future__ import annotations

import re
import urllib.parse
from datetime import timedelta
from typing import Any

from engine.ingest.sources.clock import Clock, SystemClock
from engine.ingest.sources.config import SourceSettings
from engine.ingest.sources.records import (
    CreatorFetch,
    CreatorRecord,
    PostRecord,
    SyncProblem,
    Window,
)
from engine.ingest.sources.transport import NetworkFailure, get_json
from engine.ingest.sources.values import handle_of, hashtags_of, mentions_in, to_count, to_time
from engine.ingest.sources.youtube_quota import QuotaMeter

_CHANNEL_ID = re.compile(r"^UC[A-Za-z0-9_-]{22}$")
_DURATION = re.compile(r"^P(?:(\d+)D)?T?(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$")
_QUOTA = {"quotaExceeded", "dailyLimitExceeded"}
_KEY = {"keyInvalid", "keyExpired", "accessNotConfigured", "forbidden", "ipRefererBlocked"}
_RATE = {"rateLimitExceeded", "userRateLimitExceeded"}


class YouTubeSource:
    name = "youtube"
    platform = "youtube"

    def __init__(
        self,
        settings: SourceSettings,
        *,
        clock: Clock | None = None,
        quota: QuotaMeter | None = None,
        window: Window = Window(),
        max_rate_retries: int = 3,
    ) -> None:
        if not settings.yt_api_key:
            raise ValueError("YouTube source needs SCOUT_YT_API_KEY")
        self.settings = settings
        self.clock = clock or SystemClock()
        self.quota = quota or QuotaMeter(limit=settings.yt_quota)
        self.window = window
        self.max_rate_retries = max_rate_retries
        self.calls = 0
        self.stopped: SyncProblem | None = None

    def fetch_creator(self, handle: str) -> CreatorFetch:
        """`handle` is `@name`, `name`, a channel URL or a `UC…` channel id."""
        raw = str(handle).strip()
        key = raw if _CHANNEL_ID.match(raw) else handle_of(raw)
        fetch = CreatorFetch(key)
        before = self.quota.used
        try:
            self._fetch(fetch, {"id": key} if _CHANNEL_ID.match(key) else {"forHandle": "@" + key})
        except _Stop as stop:
            p = stop.problem
            fetch.problem = SyncProblem(p.kind, p.message, p.retry_at, fetch.handle)
        fetch.calls = self.quota.used - before
        return fetch

    def search_channels(self, query: str, max_results: int = 25) -> list[str] | SyncProblem:
        """Channel ids for a topic (search.list, 100 units: discovery only, sparingly)."""
        params = {"part": "snippet", "type": "channel", "q": query, "maxResults": str(max_results)}
        try:
            body = self._call("search", params)
        except _Stop as stop:
            return stop.problem
        return [
            i["id"]["channelId"] for i in body.get("items", []) if i.get("id", {}).get("channelId")
        ]

    def _fetch(self, fetch: CreatorFetch, which: dict[str, str]) -> None:
        body = self._call("channels", {"part": "snippet,statistics,contentDetails", **which})
        items = body.get("items") or []
        if not items:
            raise _Stop(SyncProblem("handle_unavailable", f"no YouTube channel {fetch.handle}"))
        channel = items[0]
        fetch.creator = self._creator(channel, fetch.handle)
        fetch.handle = fetch.creator.handle
        uploads = ((channel.get("contentDetails") or {}).get("relatedPlaylists") or {}).get(
            "uploads"
        )
        if not uploads:
            return
        for ids in self._upload_pages(uploads):
            fetch.posts += self._videos(ids, fetch.handle)

    def _upload_pages(self, playlist: str):
        """Video ids of the uploads playlist, a page at a time, until the window is full."""
        cutoff = self.clock.now() - timedelta(days=self.window.days)
        seen, token = 0, None
        while True:
            params = {"part": "contentDetails", "playlistId": playlist, "maxResults": "50"}
            if token:
                params["pageToken"] = token
            body = self._call("playlistItems", params)
            ids, oldest = [], None
            for item in body.get("items") or []:
                details = item.get("contentDetails") or {}
                oldest = to_time(details.get("videoPublishedAt"))
                recent = oldest is None or oldest >= cutoff
                if details.get("videoId") and (seen < self.window.newest or recent):
                    ids.append(details["videoId"])
                    seen += 1
            if ids:
                yield ids
            token = body.get("nextPageToken")
            if not token or (seen >= self.window.newest and (oldest is None or oldest < cutoff)):
                return

    def _videos(self, ids: list[str], handle: str) -> list[PostRecord]:
        body = self._call(
            "videos", {"part": "snippet,statistics,contentDetails", "id": ",".join(ids)}
        )
        return [_video(v, handle) for v in body.get("items") or [] if isinstance(v, dict)]

    def _creator(self, channel: dict[str, Any], asked: str) -> CreatorRecord:
        snippet, stats = channel.get("snippet") or {}, channel.get("statistics") or {}
        hidden = bool(stats.get("hiddenSubscriberCount"))
        return CreatorRecord(
            platform=self.platform,
            handle=handle_of(snippet.get("customUrl")) or asked,
            name=snippet.get("title") or None,
            bio=snippet.get("description") or None,
            followers=None if hidden else to_count(stats.get("subscriberCount")),
            following=None,
            media_count=to_count(stats.get("videoCount")),
            fetched_at=self.clock.now(),
        )

    def _call(self, method: str, params: dict[str, str]) -> dict[str, Any]:
        """One charged call; a problem raises _Stop, caught at the public methods."""
        for attempt in range(self.max_rate_retries + 1):
            if self.stopped:
                raise _Stop(self.stopped)
            now = self.clock.now()
            if not self.quota.spend(method, now):
                raise _Stop(self._quota_problem("SCOUT_YT_QUOTA reached"))
            query = urllib.parse.urlencode({**params, "key": self.settings.yt_api_key})
            url = f"{self.settings.yt_api_url}/{method}?{query}"
            try:
                response = get_json(url, timeout_s=self.settings.timeout_s, clock=self.clock)
            except NetworkFailure as err:
                raise _Stop(SyncProblem("network", str(err))) from None
            self.calls += 1
            body = response.body if isinstance(response.body, dict) else {}
            error = body.get("error")
            if not isinstance(error, dict) and response.status < 400:
                return body
            reason, message = _reason(error, response.status)
            if reason in _RATE and attempt < self.max_rate_retries:
                self.clock.sleep(30.0 * 2**attempt)
                continue
            raise _Stop(self._problem(reason, message, response.status))
        raise AssertionError("unreachable")

    def _problem(self, reason: str, message: str, status: int) -> SyncProblem:
        if reason in _QUOTA:
            self.quota.exhaust(self.clock.now())
            return self._quota_problem(message)
        if reason in _KEY or status == 401:
            self.stopped = SyncProblem("token_invalid", f"{message} (check SCOUT_YT_API_KEY)")
            return self.stopped
        if reason in _RATE:
            return SyncProblem("rate_limited", message, self.clock.now() + timedelta(minutes=5))
        if status == 404:
            return SyncProblem("handle_unavailable", message)
        return SyncProblem("network", message)

    def _quota_problem(self, message: str) -> SyncProblem:
        return SyncProblem(
            "quota_exhausted", f"YouTube quota: {message}", self.quota.resets_at(self.clock.now())
        )


class _Stop(Exception):
    def __init__(self, problem: SyncProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _reason(error: Any, status: int) -> tuple[str, str]:
    if not isinstance(error, dict):
        return "", f"YouTube API HTTP {status}"
    errors = [e for e in error.get("errors") or [] if isinstance(e, dict)]
    reason = str(errors[0].get("reason") or "") if errors else ""
    details = [d for d in error.get("details") or [] if isinstance(d, dict)]
    if any(d.get("reason") == "API_KEY_INVALID" for d in details):
        reason = "keyInvalid"  # today's shape: 400 badRequest with this detail
    text = str(error.get("message") or "")[:200]
    return reason, f"YouTube API {error.get('code', status)} {reason}: {text}".strip()


def _video(video: dict[str, Any], handle: str) -> PostRecord:
    snippet, stats = video.get("snippet") or {}, video.get("statistics") or {}
    title, description = str(snippet.get("title") or ""), str(snippet.get("description") or "")
    caption = f"{title}\n\n{description}".strip()
    thumbs = snippet.get("thumbnails") or {}
    thumb = next((thumbs[k].get("url") for k in ("high", "medium", "default") if k in thumbs), None)
    return PostRecord(
        platform="youtube",
        post_id=str(video.get("id") or ""),
        handle=handle,
        caption=caption,
        hashtags=hashtags_of(caption, snippet.get("tags") or ()),
        likes=to_count(stats.get("likeCount")),
        comments=to_count(stats.get("commentCount")),
        views=to_count(stats.get("viewCount")),
        posted_at=to_time(snippet.get("publishedAt")),
        media_type="VIDEO",
        product_type=None,
        permalink=f"https://www.youtube.com/watch?v={video.get('id')}",
        image_url=thumb,
        mentions=mentions_in(caption),
        duration_s=_duration((video.get("contentDetails") or {}).get("duration")),
    )


def _duration(value: Any) -> float | None:
    """ISO 8601 durations as the API writes them: PT1M31S, PT2H, P1DT3M."""
    m = _DURATION.match(str(value or ""))
    if not m or not any(m.groups()):
        return None
    d, h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    return d * 86400 + h * 3600 + mi * 60 + s
