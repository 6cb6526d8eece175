"""The item formats of the widely used Instagram and TikTok scrapers, mapped to Scout's
records. Songs come inline (`musicInfo`, `musicMeta`), so a post carries its song and
no separate songs file is needed. An item without an author or an id is a row problem
that names its line; every other item is kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.ingest.sources.records import CreatorRecord, PostRecord, SongRecord, SyncProblem
from engine.ingest.sources.scraper_files import Item
from engine.ingest.sources.values import (
    handle_of,
    hashtags_of,
    mentions_in,
    to_count,
    to_id,
    to_seconds,
    to_text,
    to_time,
)

_IG_TYPES = {"image": "IMAGE", "video": "VIDEO", "sidecar": "CAROUSEL_ALBUM"}


@dataclass
class ScrapedBatch:
    """Creators by (platform, handle), posts, and problems: a row that cannot be read is
    a `handle_unavailable` problem naming its file and line, the dataset's other rows
    stay in the batch."""

    creators: dict[tuple[str, str], CreatorRecord] = field(default_factory=dict)
    posts: list[PostRecord] = field(default_factory=list)
    problems: list[SyncProblem] = field(default_factory=list)


def platform_of(item: dict[str, Any]) -> str | None:
    if "authorMeta" in item or "webVideoUrl" in item or "diggCount" in item:
        return "tiktok"
    if "ownerUsername" in item or "shortCode" in item:
        return "instagram"
    return None


def map_items(items: list[Item], fetched_at: datetime) -> ScrapedBatch:
    batch = ScrapedBatch()
    for item in items:
        platform = platform_of(item.data)
        reader = {"tiktok": _tiktok, "instagram": _instagram}.get(platform or "")
        if reader is None:
            batch.problems.append(_row(item, "neither an Instagram nor a TikTok scraper item"))
            continue
        creator, post = reader(item.data, fetched_at)
        if not post.handle or not post.post_id:
            missing = "author" if not post.handle else "post id"
            batch.problems.append(_row(item, f"{platform} item without its {missing}"))
            continue
        batch.posts.append(post)
        key = (post.platform, post.handle)
        if creator is not None or key not in batch.creators:
            batch.creators[key] = creator or _bare_creator(post, fetched_at)
    return batch


def _row(item: Item, reason: str) -> SyncProblem:
    return SyncProblem("handle_unavailable", f"{item.where}: {reason}")


def _bare_creator(post: PostRecord, fetched_at: datetime) -> CreatorRecord:
    return CreatorRecord(post.platform, post.handle, None, None, None, None, None, fetched_at)


def _names(value: Any, key: str) -> tuple[str, ...]:
    """Handles from a list of strings or of objects (`[{"username": ...}]`)."""
    if not isinstance(value, list):
        value = [value] if value else []
    found = (handle_of(v.get(key) if isinstance(v, dict) else v) for v in value)
    return tuple(dict.fromkeys(h for h in found if h))


def _instagram(d: dict[str, Any], fetched_at: datetime) -> tuple[CreatorRecord | None, PostRecord]:
    caption = str(d.get("caption") or "")
    handle = handle_of(d.get("ownerUsername"))
    short = to_text(d.get("shortCode"))
    music = d.get("musicInfo") if isinstance(d.get("musicInfo"), dict) else {}
    song_id = to_id(music.get("audio_id"))
    post = PostRecord(
        platform="instagram",
        post_id=short or to_id(d.get("id")) or "",
        handle=handle,
        caption=caption,
        hashtags=hashtags_of(
            caption, d.get("hashtags") if isinstance(d.get("hashtags"), list) else ()
        ),
        likes=to_count(d.get("likesCount")),
        comments=to_count(d.get("commentsCount")),
        views=to_count(d.get("videoPlayCount", d.get("videoViewCount"))),
        posted_at=to_time(d.get("timestamp")),
        media_type=_IG_TYPES.get(str(d.get("type") or "").lower()) or to_text(d.get("type")),
        product_type=to_text(d.get("productType")),
        permalink=to_text(d.get("url"))
        or (f"https://www.instagram.com/p/{short}/" if short else None),
        image_url=to_text(d.get("displayUrl")),
        coauthors=tuple(h for h in _names(d.get("coauthorProducers"), "username") if h != handle),
        mentions=tuple(dict.fromkeys(_names(d.get("mentions"), "username") + mentions_in(caption))),
        song=SongRecord(song_id, to_text(music.get("song_name")), to_text(music.get("artist_name")))
        if song_id
        else None,
        duration_s=to_seconds(d.get("videoDuration")),
    )
    name = to_text(d.get("ownerFullName"))
    creator = (
        CreatorRecord("instagram", handle, name, None, None, None, None, fetched_at)
        if name
        else None
    )
    return creator, post


def _tiktok(d: dict[str, Any], fetched_at: datetime) -> tuple[CreatorRecord | None, PostRecord]:
    author = d.get("authorMeta") if isinstance(d.get("authorMeta"), dict) else {}
    music = d.get("musicMeta") if isinstance(d.get("musicMeta"), dict) else {}
    video = d.get("videoMeta") if isinstance(d.get("videoMeta"), dict) else {}
    caption = str(d.get("text") or "")
    handle = handle_of(author.get("name") or author.get("uniqueId"))
    song_id = to_id(music.get("musicId"))
    post = PostRecord(
        platform="tiktok",
        post_id=to_id(d.get("id")) or "",
        handle=handle,
        caption=caption,
        hashtags=hashtags_of(
            caption, d.get("hashtags") if isinstance(d.get("hashtags"), list) else ()
        ),
        likes=to_count(d.get("diggCount")),
        comments=to_count(d.get("commentCount")),
        views=to_count(d.get("playCount")),
        posted_at=to_time(d.get("createTimeISO") or d.get("createTime")),
        media_type="VIDEO",
        product_type=None,
        permalink=to_text(d.get("webVideoUrl")),
        image_url=to_text(video.get("coverUrl")),
        mentions=tuple(dict.fromkeys(_names(d.get("mentions"), "name") + mentions_in(caption))),
        song=SongRecord(
            song_id,
            to_text(music.get("musicName")),
            to_text(music.get("musicAuthor")),
            _flag(music.get("musicOriginal")),
        )
        if song_id
        else None,
        duration_s=to_seconds(video.get("duration")),
        shares=to_count(d.get("shareCount")),
    )
    creator = CreatorRecord(
        platform="tiktok",
        handle=handle,
        name=to_text(author.get("nickName")),
        bio=to_text(author.get("signature")),
        followers=to_count(author.get("fans")),
        following=to_count(author.get("following")),
        media_count=to_count(author.get("video")),
        fetched_at=fetched_at,
    )
    return creator, post


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    return True if text in ("true", "1", "yes") else False if text in ("false", "0", "no") else None
