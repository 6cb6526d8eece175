"""What the training pipeline hands to every model: plain pandas frames read from the
store, so that algorithm modules never touch the database and run from a notebook too.

Frames and columns (all ids are strings; a handle's id is the handle itself):

- influencers: handle, platform, name, followers, following, posts_count, bio,
  language, country  (ints may be missing -> pandas nullable Int64)
- posts: post_id, platform, handle, posted_at (datetime64, UTC, tz-naive), caption,
  likes, comments (int64), image (absolute path or http(s) URL, or None),
  song_id (str or None), hashtags (list[str], normalised, caption tags included),
  views (Int64, NA where the export gave none: TikTok and YouTube count plays, and
  their engagement rate is per view, engine.core.engagement)
- songs: song_id, title, artist, release, year
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol

import pandas as pd

INFLUENCER_COLUMNS = [
    "handle",
    "platform",
    "name",
    "followers",
    "following",
    "posts_count",
    "bio",
    "language",
    "country",
]
POST_COLUMNS = [
    "post_id",
    "platform",
    "handle",
    "posted_at",
    "caption",
    "likes",
    "comments",
    "image",
    "song_id",
    "hashtags",
    "views",
]
SONG_COLUMNS = ["song_id", "title", "artist", "release", "year"]


class FrameSource(Protocol):
    """What the dataset is read from: models.store.Store, or any fake with its frames."""

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]: ...

    def describe(self) -> str: ...


@dataclass
class Dataset:
    influencers: pd.DataFrame
    posts: pd.DataFrame
    songs: pd.DataFrame
    meta: dict = field(default_factory=dict)

    @classmethod
    def read(cls, store: FrameSource) -> Dataset:
        """Everything a model can learn from, read from the store in one go."""
        influencers, posts, songs = store.frames()
        return cls(influencers, posts, songs, meta={"database": store.describe()})

    @classmethod
    def empty(cls) -> Dataset:
        return cls(
            influencers=pd.DataFrame(columns=INFLUENCER_COLUMNS),
            posts=pd.DataFrame(columns=POST_COLUMNS),
            songs=pd.DataFrame(columns=SONG_COLUMNS),
        )

    def fingerprint(self) -> str:
        """A content hash of everything a model can learn from, so that a daily retrain
        can skip a model whose inputs did not change."""
        h = hashlib.sha256()
        for frame in (self.influencers, self.posts, self.songs):
            if len(frame):
                hashed = pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy()
                h.update(hashed.tobytes())
            h.update(str(len(frame)).encode())
        return h.hexdigest()[:32]
