"""Dated snapshots of creator and post counts. A creator has one row a day (a second
sync the same day overwrites it); a post gets a row only on a day its counts moved, so
a year of daily syncs of quiet posts costs nothing. `prune` keeps the tables bounded."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models import queries
from models.schema import CreatorSnapshot, Influencer, PostSnapshot


@dataclass(frozen=True)
class PostCounts:
    post_id: str
    likes: int | None
    comments: int | None
    views: int | None


def record_creator(
    session: Session,
    platform: str,
    handle: str,
    day: date,
    *,
    followers: int | None,
    following: int | None,
    media_count: int | None,
) -> bool:
    """Upsert the day's row; True when something was written or changed."""
    values = {"followers": followers, "following": following, "media_count": media_count}
    row = session.get(CreatorSnapshot, (platform, handle, day))
    if row is None:
        session.add(CreatorSnapshot(platform=platform, handle=handle, day=day, **values))
        session.flush()
        return True
    if all(getattr(row, k) == v for k, v in values.items()):
        return False
    for k, v in values.items():
        setattr(row, k, v)
    session.flush()
    return True


def record_posts(session: Session, platform: str, day: date, posts: Sequence[PostCounts]) -> int:
    """A row for each post whose counts differ from its latest snapshot (or that has
    none); a post already snapshotted today is updated in place. Returns rows written."""
    latest = _latest_posts(session, platform, [p.post_id for p in posts])
    written = 0
    for p in {p.post_id: p for p in posts}.values():
        counts = (p.likes, p.comments, p.views)
        before = latest.get(p.post_id)
        if before is not None and (before.likes, before.comments, before.views) == counts:
            continue
        if before is not None and before.day == day:
            before.likes, before.comments, before.views = counts
        else:
            session.add(
                PostSnapshot(
                    platform=platform,
                    post_id=p.post_id,
                    day=day,
                    likes=p.likes,
                    comments=p.comments,
                    views=p.views,
                )
            )
        written += 1
    session.flush()
    return written


def _latest_posts(session: Session, platform: str, ids: list[str]) -> dict[str, PostSnapshot]:
    out: dict[str, PostSnapshot] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        newest = (
            select(PostSnapshot.post_id, func.max(PostSnapshot.day).label("day"))
            .where(PostSnapshot.platform == platform, PostSnapshot.post_id.in_(chunk))
            .group_by(PostSnapshot.post_id)
            .subquery()
        )
        rows = session.scalars(
            select(PostSnapshot)
            .join(
                newest,
                (PostSnapshot.post_id == newest.c.post_id) & (PostSnapshot.day == newest.c.day),
            )
            .where(PostSnapshot.platform == platform)
        )
        out.update((r.post_id, r) for r in rows)
    return out


def prune(session: Session, before: date) -> tuple[int, int]:
    """Delete snapshots older than `before`: (creator rows, post rows) removed. The
    newest row of each post is kept even when old: it is what "changed?" compares
    against, and dropping it would write the same counts again on the next sync."""
    creators = session.execute(delete(CreatorSnapshot).where(CreatorSnapshot.day < before))
    newest = (
        select(PostSnapshot.platform, PostSnapshot.post_id, func.max(PostSnapshot.day).label("d"))
        .group_by(PostSnapshot.platform, PostSnapshot.post_id)
        .subquery()
    )
    keep = select(newest.c.d).where(
        newest.c.platform == PostSnapshot.platform, newest.c.post_id == PostSnapshot.post_id
    )
    posts = session.execute(
        delete(PostSnapshot).where(
            PostSnapshot.day < before, PostSnapshot.day != keep.scalar_subquery()
        )
    )
    return creators.rowcount or 0, posts.rowcount or 0


def followers_by_day(
    session: Session, handles: Iterable[str], since: date
) -> dict[str, list[tuple[date, int]]]:
    """Each handle's (day, followers) from `since` on, oldest first, any platform."""
    wanted = sorted(set(handles))
    out: dict[str, list[tuple[date, int]]] = {}
    for i in range(0, len(wanted), 500):
        rows = session.execute(
            select(CreatorSnapshot.handle, CreatorSnapshot.day, CreatorSnapshot.followers)
            .where(
                CreatorSnapshot.handle.in_(wanted[i : i + 500]),
                CreatorSnapshot.day >= since,
                CreatorSnapshot.followers.is_not(None),
            )
            .order_by(CreatorSnapshot.handle, CreatorSnapshot.day)
        )
        for handle, day, followers in rows:
            out.setdefault(handle, []).append((day, int(followers)))
    return out


def counts(session: Session) -> dict[str, int]:
    return {
        "creator_snapshots": session.scalar(select(func.count()).select_from(CreatorSnapshot)) or 0,
        "post_snapshots": session.scalar(select(func.count()).select_from(PostSnapshot)) or 0,
    }


def last_import(session: Session) -> datetime | None:
    """When an import (or a sync) last wrote a creator: the newest `influencers.updated_at`
    (naive UTC; the writer sets it on every upsert). The answers' footer says this when
    no source ever synced, so data that only came by CSV still says how old it is."""
    return session.scalar(select(func.max(Influencer.updated_at)))


def song_post_deltas(session: Session, days: int) -> pd.DataFrame:
    """The snapshots of reels with a song over the `days` up to the newest post snapshot
    (models.queries.song_post_deltas: counts, the previous snapshot's counts, song_id,
    posted_at, day): what trending's daily-count method reads. Empty without any post
    snapshot, which is how a store that never synced falls back to post dates."""
    newest = session.scalar(select(func.max(PostSnapshot.day)))
    if newest is None:
        return pd.DataFrame()
    if isinstance(newest, str):  # SQLite without type affinity on an aggregate
        newest = date.fromisoformat(newest)
    since = newest - timedelta(days=max(1, days) - 1)
    rows = session.execute(queries.song_post_deltas(since)).mappings().all()
    return pd.DataFrame([dict(r) for r in rows])
