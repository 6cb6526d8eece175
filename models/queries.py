"""The SELECTs that read what training reads, written once: the store's pandas frames,
the Parquet snapshot and Spark's JDBC reads all build on these, so a column added to
posts (or a join changed) reaches every backend together.

Post tables carry `post_pk` (the posts row id) so that a reader joins a post to its
authors (a collab post has several) and to its ordered hashtags; the column names here
are the ones the Parquet snapshot and the Spark jobs expect."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Select, func, select

from models.schema import Influencer, Post, PostAuthor, PostHashtag, PostSnapshot, Song


def influencers() -> Select:
    return select(
        Influencer.id.label("influencer_id"),
        Influencer.handle,
        Influencer.platform,
        Influencer.name,
        Influencer.followers,
        Influencer.following,
        Influencer.posts_count,
        Influencer.bio,
        Influencer.language,
        Influencer.country,
    )


def posts() -> Select:
    """One row per post, without its authors."""
    return select(
        Post.id.label("post_pk"),
        Post.post_id,
        Post.platform,
        Post.posted_at,
        Post.caption,
        Post.likes,
        Post.comments,
        Post.image,
        Post.song_id,
        Post.views,
    )


def post_authors() -> Select:
    return select(PostAuthor.post_pk, Influencer.id.label("influencer_id"), Influencer.handle).join(
        Influencer, Influencer.id == PostAuthor.influencer_id
    )


def post_hashtags() -> Select:
    return select(PostHashtag.post_pk, PostHashtag.position, PostHashtag.tag)


def songs() -> Select:
    return select(Song.song_id, Song.title, Song.artist, Song.release, Song.year)


def posts_by_author(handles: Sequence[str] | None = None) -> Select:
    """`posts()` joined to its authors: one row per (post, author) with the author's
    handle, ordered by post then author; `handles` keeps only those authors' rows."""
    q = (
        posts()
        .add_columns(Influencer.handle)
        .join(PostAuthor, PostAuthor.post_pk == Post.id)
        .join(Influencer, Influencer.id == PostAuthor.influencer_id)
        .order_by(Post.id, Influencer.id)
    )
    return q if handles is None else q.where(Influencer.handle.in_(handles))


def hashtags_of(handles: Sequence[str] | None = None) -> Select:
    """`post_hashtags()` in post and position order; `handles` keeps the tags of the
    posts those creators wrote."""
    q = post_hashtags().order_by(PostHashtag.post_pk, PostHashtag.position)
    if handles is None:
        return q
    return q.where(
        PostHashtag.post_pk.in_(
            select(PostAuthor.post_pk)
            .join(Influencer, Influencer.id == PostAuthor.influencer_id)
            .where(Influencer.handle.in_(handles))
        )
    )


def song_post_deltas(since: date) -> Select:
    """Each snapshot from `since` on of a post that has a song, with the counts of that
    post's snapshot before it (`*_before`, None for its first) and the post's song and
    date: trending reads the likes, comments and views a song's reels gained between
    dated snapshots (issue 23). The previous snapshot may be older than `since` (a
    quiet post gets a row only when its counts move), so the LAG runs over each post's
    whole retained history and only the outer query cuts at `since`."""
    order = {
        "partition_by": (PostSnapshot.platform, PostSnapshot.post_id),
        "order_by": PostSnapshot.day,
    }
    inner = (
        select(
            PostSnapshot.platform,
            PostSnapshot.post_id,
            PostSnapshot.day,
            PostSnapshot.likes,
            PostSnapshot.comments,
            PostSnapshot.views,
            func.lag(PostSnapshot.likes).over(**order).label("likes_before"),
            func.lag(PostSnapshot.comments).over(**order).label("comments_before"),
            func.lag(PostSnapshot.views).over(**order).label("views_before"),
            func.lag(PostSnapshot.day).over(**order).label("day_before"),
            Post.song_id,
            Post.posted_at,
        )
        .join(
            Post,
            (Post.platform == PostSnapshot.platform) & (Post.post_id == PostSnapshot.post_id),
        )
        .where(Post.song_id.is_not(None))
        .subquery()
    )
    return select(inner).where(inner.c.day >= since).order_by(inner.c.post_id, inner.c.day)


# Every table a training backend reads, and the order the snapshot writes it in (the
# Spark jobs do not depend on it; it makes two snapshots of one store byte-comparable).
TABLES = {
    "influencers": (influencers, (Influencer.id,)),
    "posts": (posts, (Post.id,)),
    "post_authors": (post_authors, (PostAuthor.post_pk, Influencer.id)),
    "post_hashtags": (post_hashtags, (PostHashtag.post_pk, PostHashtag.position)),
    "songs": (songs, (Song.song_id,)),
}


def snapshot_selects() -> dict[str, Select]:
    """Each table's select in its snapshot order."""
    return {name: build().order_by(*order) for name, (build, order) in TABLES.items()}


def jdbc_queries() -> dict[str, str]:
    """Each table's select as PostgreSQL text for Spark's JDBC reader (unordered:
    Spark reads the post tables in post_pk ranges, one connection per range)."""
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()
    return {
        name: str(build().compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        for name, (build, _order) in TABLES.items()
    }
