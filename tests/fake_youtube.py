"""A local fake of the YouTube Data API v3 on loopback: channels.list (forHandle / id),
playlistItems.list of the uploads playlist with pageToken paging, videos.list, search.list,
each charged its documented quota units against the fake's own daily quota, and the
documented error objects (`quotaExceeded` 403, an invalid key 400, `playlistNotFound` 404)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.ingest.sources.clock import ManualClock
from tests.fake_graph import Call, LoopbackJSON

API_KEY = "AIza-fake-youtube-key"
COSTS = {"channels": 1, "playlistItems": 1, "videos": 1, "search": 100}


@dataclass
class Channel:
    channel_id: str
    handle: str  # without "@"
    videos: list[tuple[str, datetime]]  # newest first
    subscribers: int = 5000
    hidden: bool = False
    uploads_gone: bool = False  # its uploads playlist answers 404
    title: str = ""
    tags: list[str] = field(default_factory=lambda: ["cooking", "Street Food"])


def yt_error(code: int, reason: str, message: str, **extra) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [
                {
                    "message": message,
                    "domain": "youtube.quota" if code == 403 else "global",
                    "reason": reason,
                }
            ],
            **extra,
        }
    }


class FakeYouTube(LoopbackJSON):
    def __init__(self, clock: ManualClock | None = None, quota: int = 10_000) -> None:
        super().__init__()
        self.clock = clock or ManualClock()
        self.quota = quota  # the project's daily units, as Google counts them
        self.units = 0
        self.channels: dict[str, Channel] = {}
        self.keys = {API_KEY}
        self.errors_next: list[tuple[int, dict[str, Any]]] = []
        self.video_index: dict[str, tuple[Channel, datetime]] = {}

    def add_channel(
        self, handle: str, n_videos: int, every: timedelta = timedelta(days=1), **kw
    ) -> Channel:
        channel_id = "UC" + f"{len(self.channels):022d}"
        newest = self.clock.now() - timedelta(hours=2)
        videos = [
            (f"v{len(self.channels):03d}x{i:05d}", newest - i * every) for i in range(n_videos)
        ]
        channel = Channel(channel_id, handle.lower(), videos, **kw)
        self.channels[channel_id] = channel
        self.video_index.update((vid, (channel, at)) for vid, at in videos)
        return channel

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.path.rstrip("/").endswith("/" + method)]

    def answer(self, path: str, params: dict[str, str]):
        call = Call(path, params, self.clock.now())
        self.calls.append(call)
        status, body = self._answer(path.rstrip("/").rsplit("/", 1)[-1], params)
        call.status = status
        return status, {}, body

    def _answer(self, method: str, params: dict[str, str]) -> tuple[int, Any]:
        if params.get("key") not in self.keys:
            return 400, yt_error(
                400,
                "badRequest",
                "API key not valid. Please pass a valid API key.",
                status="INVALID_ARGUMENT",
                details=[
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                    }
                ],
            )
        if method not in COSTS:
            return 404, yt_error(404, "notFound", f"method {method} not found")
        if self.units + COSTS[method] > self.quota:
            return 403, yt_error(
                403,
                "quotaExceeded",
                "The request cannot be completed because you have exceeded your quota.",
            )
        self.units += COSTS[method]
        if self.errors_next:
            return self.errors_next.pop(0)
        return getattr(self, "_" + method.lower())(params)

    def _channels(self, params: dict[str, str]) -> tuple[int, Any]:
        wanted = params.get("forHandle", "").lstrip("@").lower()
        found = [
            c
            for c in self.channels.values()
            if c.channel_id == params.get("id") or (wanted and c.handle == wanted)
        ]
        items = [
            {
                "kind": "youtube#channel",
                "id": c.channel_id,
                "snippet": {
                    "title": c.title or c.handle.title(),
                    "description": f"{c.handle} cooks",
                    "customUrl": "@" + c.handle,
                },
                "statistics": {
                    "viewCount": "123456",
                    "subscriberCount": "0" if c.hidden else str(c.subscribers),
                    "hiddenSubscriberCount": c.hidden,
                    "videoCount": str(len(c.videos)),
                },
                "contentDetails": {"relatedPlaylists": {"uploads": "UU" + c.channel_id[2:]}},
            }
            for c in found
        ]
        return 200, {
            "kind": "youtube#channelListResponse",
            "pageInfo": {"totalResults": len(items)},
            "items": items,
        }

    def _playlistitems(self, params: dict[str, str]) -> tuple[int, Any]:
        channel = self.channels.get("UC" + params.get("playlistId", "")[2:])
        if channel is None or channel.uploads_gone:
            return 404, yt_error(
                404,
                "playlistNotFound",
                "The playlist identified with the request's playlistId parameter cannot be found.",
            )
        size = min(50, int(params.get("maxResults", "5")))
        start = int(params.get("pageToken", "0") or 0)
        page = channel.videos[start : start + size]
        body: dict[str, Any] = {
            "items": [
                {
                    "contentDetails": {
                        "videoId": vid,
                        "videoPublishedAt": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
                }
                for vid, at in page
            ],
            "pageInfo": {"totalResults": len(channel.videos), "resultsPerPage": size},
        }
        if start + size < len(channel.videos):
            body["nextPageToken"] = str(start + size)
        return 200, body

    def _videos(self, params: dict[str, str]) -> tuple[int, Any]:
        wanted = params.get("id", "").split(",")
        if len(wanted) > 50:
            return 400, yt_error(400, "tooManyIds", "too many ids")
        index = self.video_index
        items = []
        for vid in wanted:
            if vid not in index:
                continue
            channel, at = index[vid]
            items.append(
                {
                    "id": vid,
                    "snippet": {
                        "publishedAt": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "channelId": channel.channel_id,
                        "title": f"Recipe {vid} #shorts",
                        "description": f"with @{channel.handle}_friend #streetfood",
                        "tags": channel.tags,
                        "thumbnails": {
                            "high": {"url": f"https://i.ytimg.com/vi/{vid}/hqdefault.jpg"}
                        },
                    },
                    "statistics": {"viewCount": "1500", "likeCount": "120", "commentCount": "7"},
                    "contentDetails": {"duration": "PT1M31S"},
                }
            )
        return 200, {"items": items}

    def _search(self, params: dict[str, str]) -> tuple[int, Any]:
        q = params.get("q", "").lower()
        items = [
            {"id": {"kind": "youtube#channel", "channelId": c.channel_id}}
            for c in self.channels.values()
            if q in c.handle
        ]
        return 200, {"items": items}
