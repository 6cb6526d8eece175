"""The local backend (issue 27): the store streamed once by columns and in chunks
(engine.training.columnar.columns), every kind's heavy counting done on integer ids
(the same CountingBackend methods the Spark backend answers), and a Dataset for the
kinds that holds every influencer and song but, of the posts, only a stable sample of
creators' (the held-out evaluations) and the posts with an image (the photos kind).
What a kind no longer needs is dropped before the next kind counts."""

from __future__ import annotations

import hashlib
import time
import zlib
from typing import Any

import numpy as np
import pandas as pd

from engine.core.dataset import Dataset
from engine.lookalike.model import LookalikeConfig, LookalikeCounts
from engine.songs.model import CleaningRules, SongTables
from engine.tags.model import TagCounts, embedding_methods
from engine.tags.prepare import TagConfig
from engine.training.columnar.columns import PostColumns

SAMPLE_CREATORS = 2000  # creators whose posts the kinds' evaluations read
CHUNK_POSTS = 50_000  # posts read at a time (bounded memory while reading)


def needs_frames(config: dict[str, dict[str, Any]] | None) -> str | None:
    """Why this run must train from the frames of every post (None: it need not):
    Word2Vec tag embeddings train on every post's tag list."""
    tags = TagConfig.from_dict((config or {}).get("tags"))
    if set(embedding_methods(tags)) - {"ppmi"}:
        return "Word2Vec tag embeddings read every post's tags"
    return None


class ColumnarBackend:
    name = "local"

    def __init__(
        self,
        store: Any,
        *,
        log=lambda _m: None,
        chunk_posts: int = CHUNK_POSTS,
        sample_creators: int = SAMPLE_CREATORS,
    ) -> None:
        t0 = time.perf_counter()
        self.columns: PostColumns | None = PostColumns.read(store.post_chunks(chunk_posts))
        self.influencers = store.influencers_frame()
        self.songs = store.songs_frame()
        self.sample_creators = sample_creators
        self.total = len(self.columns)
        self.seconds: dict[str, float] = {"read": time.perf_counter() - t0}
        self.log = log
        log(f"local: {self.total} post rows read by columns in {self.seconds['read']:.1f}s")

    # ------------------------------------------------------------ counting
    def lookalike_counts(self, config: LookalikeConfig) -> LookalikeCounts | None:
        from engine.training.columnar.lookalike_counts import lookalike_counts

        out = self._timed("lookalike", lambda c: lookalike_counts(c, config))
        if self.columns is not None:  # no later kind reads the caption tokens
            self.columns.words = self.columns.chars = None  # type: ignore[assignment]
        return out

    def tag_counts(self, config: TagConfig, seed: int) -> TagCounts:
        from engine.training.columnar.tag_counts import tag_counts

        return self._timed("tags", lambda c: tag_counts(c, config, seed))

    def song_tables(self, rules: CleaningRules, config: dict[str, Any]) -> SongTables:
        from engine.training.columnar.song_counts import song_tables

        out = self._timed("songs", lambda c: song_tables(c, self.influencers, rules, config))
        self.columns = None  # the last kind that counts posts
        return out

    def _timed(self, name: str, job):
        if self.columns is None:
            raise RuntimeError(f"{name}: the post columns were already released")
        t0 = time.perf_counter()
        out = job(self.columns)
        self.seconds[name] = time.perf_counter() - t0
        self.log(f"local: {name} counts in {self.seconds[name]:.1f}s")
        return out

    # ------------------------------------------------------------ the data
    def fingerprint(self) -> str:
        """The posts as read (hashed chunk by chunk) with the influencers and songs."""
        h = hashlib.sha256((self.columns.fingerprint if self.columns else "").encode())
        for frame in (self.influencers, self.songs):
            if len(frame):
                hashed = pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy()
                h.update(hashed.tobytes())
            h.update(str(len(frame)).encode())
        return h.hexdigest()[:32]

    def sample_handles(self) -> list[str]:
        """Up to `sample_creators` creators with posts, chosen by a hash of the handle
        (the same ones from run to run)."""
        cols = self.columns
        assert cols is not None
        present = np.flatnonzero(np.bincount(cols.handle, minlength=len(cols.handles)))
        chosen = sorted(present.tolist(), key=lambda i: (zlib.crc32(cols.handles[i].encode()), i))
        return [cols.handles[i] for i in chosen[: self.sample_creators]]

    def dataset(self, store: Any) -> Dataset:
        cols = self.columns
        assert cols is not None
        posts = store.posts_frame(self.sample_handles()) if len(cols) else store.posts_frame()
        if cols.has_image.any():
            images = store.images_frame()
            posts = pd.concat([posts, images], ignore_index=True).drop_duplicates(
                ["post_id", "platform", "handle"], ignore_index=True
            )
        meta = {"database": store.describe(), "posts_total": self.total, "backend": "local"}
        return Dataset(self.influencers, posts, self.songs, meta=meta)

    def close(self) -> None:
        self.columns = None
