"""Every (post, author) row of the store as integer-coded columns, read chunk by chunk:
what the local backend counts from instead of one DataFrame holding every post's text
(issue 27: at 1M posts that frame, its per-post tag lists and the token lists built
from it were most of the 2.3 GB and half the time).

A row's strings become ids into a growing vocabulary as each chunk arrives (handles,
platforms, songs, hashtags, caption words, char tokens); captions themselves are never
kept. Rows keep the store's order (post id, then author), the order the frame path
reads them in, so a held-out split by row position is the same one."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from engine.core.engagement import recent_posts
from engine.core.text import caption_words


class Vocab:
    """Strings -> ids in first-seen order; `codes` maps a chunk's values at the cost of
    one factorisation plus a dict lookup per distinct value."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.index)

    def codes(self, values: Sequence | np.ndarray) -> np.ndarray:
        """Ids of `values` (-1 for None/NaN)."""
        if len(values) == 0:
            return np.zeros(0, dtype=np.int32)
        local, uniques = pd.factorize(np.asarray(values, dtype=object))
        index = self.index
        ids = np.fromiter(
            (index.setdefault(str(u), len(index)) for u in uniques),
            dtype=np.int32,
            count=len(uniques),
        )
        out = np.full(len(local), -1, dtype=np.int32)
        ok = local >= 0
        out[ok] = ids[local[ok]]
        return out

    def items(self) -> list[str]:
        return list(self.index)


@dataclass
class Ragged:
    """One list of ids per row: `ids[ptr[r]:ptr[r + 1]]`."""

    ptr: np.ndarray
    ids: np.ndarray

    @classmethod
    def join(cls, parts: list[tuple[np.ndarray, np.ndarray]]) -> Ragged:
        lengths = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
        ids = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int32)
        ptr = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=ptr[1:])
        return cls(ptr, ids.astype(np.int32, copy=False))

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.ptr)

    def owners(self) -> np.ndarray:
        """The row of each id."""
        return np.repeat(np.arange(len(self.ptr) - 1, dtype=np.int64), self.lengths)

    def take(self, rows: np.ndarray) -> Ragged:
        """The lists of `rows`, in that order."""
        lengths = self.lengths[rows]
        ptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=ptr[1:])
        starts = np.repeat(self.ptr[:-1][rows] - ptr[:-1], lengths)
        return Ragged(ptr, self.ids[np.arange(ptr[-1], dtype=np.int64) + starts])

    def lists(self, vocab: Sequence[str]) -> list[list[str]]:
        words = np.asarray(vocab, dtype=object)
        flat = words[self.ids].tolist()
        p = self.ptr.tolist()
        return [flat[p[i] : p[i + 1]] for i in range(len(p) - 1)]


SEP = "\x00"  # joins a chunk's captions: no caption token is a lone NUL (Postgres has none)


class CaptionTokens:
    """A chunk's captions as ragged ids of their caption words
    (engine.core.text.caption_words) and of their whitespace words lowercased (the char
    tokens' caption part), tokenised once per distinct whitespace word, not per post.
    Equal to tokenising each caption: none of caption_words' patterns (URLs, @mentions,
    #tags, words) matches across whitespace."""

    def __init__(self) -> None:
        self.raw: dict[str, int] = {}
        self.words, self.chars = Vocab(), Vocab()
        self._char_of: list[int] = []
        self._n_words: list[int] = []
        self._word_ids: list[int] = []
        self._arrays: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def _learn(self, token: str) -> int:
        gid = len(self.raw)
        self.raw[token] = gid
        chars, words = self.chars.index, self.words.index
        if token == SEP:  # the row boundary: no char token, no words
            self._char_of.append(-1)
            self._n_words.append(0)
            self._arrays = None
            return gid
        self._char_of.append(chars.setdefault(token.lower(), len(chars)))
        found = caption_words(token)
        self._n_words.append(len(found))
        self._word_ids.extend(words.setdefault(w, len(words)) for w in found)
        self._arrays = None
        return gid

    def _tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if self._arrays is None:
            n_words = np.asarray(self._n_words, dtype=np.int64)
            ptr = np.zeros(len(n_words) + 1, dtype=np.int64)
            np.cumsum(n_words, out=ptr[1:])
            self._arrays = (
                np.asarray(self._char_of, dtype=np.int32),
                n_words,
                ptr,
                np.asarray(self._word_ids, dtype=np.int32),
            )
        return self._arrays

    def add(
        self, captions: np.ndarray, digest: Any = None
    ) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """((word lengths, word ids), (char lengths, char ids)) of `captions`' rows;
        `digest` (two hashlib objects) takes the captions' text and which are missing."""
        n = len(captions)
        text = f" {SEP} ".join(c if isinstance(c, str) else "" for c in captions)
        if digest is not None:  # the text and which captions are missing, chunk-size free
            digest[0].update(f"{text} {SEP} ".encode("utf-8", "surrogatepass"))
            digest[1].update(np.fromiter((isinstance(c, str) for c in captions), bool, n).tobytes())
        flat = np.asarray(text.split(), dtype=object)
        if not len(flat):
            empty = (np.zeros(n, np.int64), np.zeros(0, np.int32))
            return empty, empty
        local, uniques = pd.factorize(flat)
        raw = self.raw
        gids = np.fromiter(
            (raw[u] if u in raw else self._learn(u) for u in uniques),
            dtype=np.int64,
            count=len(uniques),
        )
        sep = raw.get(SEP)
        tokens = gids[local]
        is_sep = tokens == sep if sep is not None else np.zeros(len(tokens), dtype=bool)
        row = np.cumsum(is_sep)[~is_sep]
        tokens = tokens[~is_sep]
        char_of, n_words, ptr, word_ids = self._tables()
        char_lengths = np.bincount(row, minlength=n).astype(np.int64)
        chars = char_of[tokens]
        per_token = n_words[tokens]
        word_lengths = np.bincount(row, weights=per_token, minlength=n).astype(np.int64)
        total = int(per_token.sum())
        out_ptr = np.zeros(len(tokens) + 1, dtype=np.int64)
        np.cumsum(per_token, out=out_ptr[1:])
        at = np.arange(total, dtype=np.int64) + np.repeat(ptr[tokens] - out_ptr[:-1], per_token)
        return (word_lengths, word_ids[at]), (char_lengths, chars)


@dataclass
class PostColumns:
    """The store's (post, author) rows as columns. Per row: the author's id (`handle`
    into `handles`), post id string (the favourite-tag cap's key), time, likes,
    comments, views (NaN unknown), platform and song ids (-1: none), whether it has an
    image; ragged ids of its hashtags (store order), caption words
    (engine.core.text.caption_words) and caption words as written
    (engine.lookalike.model.char_tokens' caption part)."""

    handles: list[str]
    handle: np.ndarray
    post_id: PackedStrings
    posted_at: np.ndarray
    likes: np.ndarray
    comments: np.ndarray
    views: np.ndarray
    platforms: list[str]
    platform: np.ndarray
    songs: list[str]
    song: np.ndarray
    has_image: np.ndarray
    tag_vocab: list[str]
    tags: Ragged
    word_vocab: list[str]
    words: Ragged
    char_vocab: list[str]
    chars: Ragged
    fingerprint: str = ""
    _handle_array: np.ndarray | None = field(default=None, repr=False)
    _recent: pd.DataFrame | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.handle)

    def handle_strings(self) -> np.ndarray:
        """Each row's handle as a string (object array sharing one str per creator)."""
        if self._handle_array is None:
            self._handle_array = np.asarray(self.handles, dtype=object)
        return self._handle_array[self.handle]

    def recent_engagement(self) -> pd.DataFrame:
        """Each creator's newest posts' likes, comments, views and platform
        (engine.core.engagement.recent_posts), computed once for the kinds that read it."""
        if self._recent is None:
            frame = pd.DataFrame(
                {
                    "handle": self.handle_strings(),
                    "posted_at": self.posted_at,
                    "likes": self.likes,
                    "comments": self.comments,
                    "views": self.views,
                    "platform": np.asarray(self.platforms, dtype=object)[self.platform],
                }
            )
            self._recent = recent_posts(frame)
        return self._recent

    @classmethod
    def read(cls, chunks: Iterator[tuple[pd.DataFrame, pd.DataFrame]]) -> PostColumns:
        """From models.store.Store.post_chunks; also hashes what it read (the run's
        data fingerprint), so the posts are read once."""
        handles, platforms, songs = Vocab(), Vocab(), Vocab()
        tag_vocab, captions = Vocab(), CaptionTokens()
        cols: dict[str, list[np.ndarray]] = {
            k: []
            for k in (
                "handle", "post_id", "posted_at", "likes", "comments", "views",
                "platform", "song", "has_image",
            )
        }  # fmt: skip
        tags, words, chars = [], [], []
        digest = hashlib.sha256()
        text_digests = (hashlib.sha256(), hashlib.sha256())
        for rows, tag_rows in chunks:
            if not len(rows):  # a range of deleted posts
                continue
            images = rows["image"].to_numpy(dtype=object)
            digest.update("".join(f"{x}\x00" for x in images if x is not None).encode())
            cols["handle"].append(handles.codes(rows["handle"].to_numpy()))
            cols["post_id"].append(_packed(rows["post_id"].to_numpy(dtype=object)))
            cols["posted_at"].append(
                pd.to_datetime(rows["posted_at"], format="ISO8601").to_numpy("datetime64[ns]")
            )
            for c in ("likes", "comments"):
                cols[c].append(pd.to_numeric(rows[c]).fillna(0).to_numpy(dtype=np.int64))
            cols["views"].append(pd.to_numeric(rows["views"]).to_numpy(dtype=np.float64))
            cols["platform"].append(platforms.codes(rows["platform"].to_numpy()))
            song = rows["song_id"].to_numpy(dtype=object)
            song = np.where(pd.isna(song) | (song == ""), None, song)
            cols["song"].append(songs.codes(song))
            cols["has_image"].append(rows["image"].notna().to_numpy())
            tags.append(_chunk_tags(rows["post_pk"].to_numpy(), tag_rows, tag_vocab))
            w, c = captions.add(rows["caption"].to_numpy(dtype=object), text_digests)
            words.append(w)
            chars.append(c)

        def cat(name: str, dtype) -> np.ndarray:
            parts = cols[name]
            return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

        out = cls(
            handles=handles.items(),
            handle=cat("handle", np.int32),
            post_id=PackedStrings.join(cols["post_id"]),
            posted_at=cat("posted_at", "datetime64[ns]"),
            likes=cat("likes", np.int64),
            comments=cat("comments", np.int64),
            views=cat("views", np.float64),
            platforms=platforms.items(),
            platform=cat("platform", np.int32),
            songs=songs.items(),
            song=cat("song", np.int32),
            has_image=cat("has_image", bool),
            tag_vocab=tag_vocab.items(),
            tags=Ragged.join(tags),
            word_vocab=captions.words.items(),
            words=Ragged.join(words),
            char_vocab=captions.chars.items(),
            chars=Ragged.join(chars),
        )
        for d in text_digests:
            digest.update(d.digest())
        out.fingerprint = out._digest(digest)
        return out

    def _digest(self, digest: Any) -> str:
        """The run's data fingerprint: every column as read (ids with their
        vocabularies; the captions' and images' text went in chunk by chunk)."""
        for a in (
            self.handle, self.posted_at, self.likes, self.comments, self.views,
            self.platform, self.song, self.has_image, self.tags.ptr, self.tags.ids,
            self.post_id.ptr,
        ):  # fmt: skip
            digest.update(np.ascontiguousarray(a).tobytes())
        digest.update(self.post_id.buf)
        for vocab in (self.handles, self.platforms, self.songs, self.tag_vocab):
            digest.update("\x00".join(vocab).encode("utf-8", "surrogatepass") + b"\x01")
        return digest.hexdigest()


@dataclass
class PackedStrings:
    """Strings as one UTF-8 buffer and offsets: a million post ids as Python objects
    would pin the memory of every chunk they were read with."""

    buf: bytes
    ptr: np.ndarray

    @classmethod
    def join(cls, parts: list[tuple[bytes, np.ndarray]]) -> PackedStrings:
        bufs, ptrs, base = [], [np.zeros(1, dtype=np.int64)], 0
        for buf, lengths in parts:
            bufs.append(buf)
            ptrs.append(base + np.cumsum(lengths))
            base += len(buf)
        return cls(b"".join(bufs), np.concatenate(ptrs))


def _packed(values: np.ndarray) -> tuple[bytes, np.ndarray]:
    encoded = [str(v).encode() for v in values]
    return b"".join(encoded), np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))


def _chunk_tags(
    post_pks: np.ndarray, tag_rows: pd.DataFrame, vocab: Vocab
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's tag ids: a post's tags (rows ordered by post, then position) repeated
    for each of its authors' rows, as the frame path attaches one list to each."""
    n = len(post_pks)
    if tag_rows.empty or n == 0:
        return np.zeros(n, dtype=np.int64), np.zeros(0, dtype=np.int32)
    tpk = tag_rows["post_pk"].to_numpy(dtype=np.int64)
    codes = vocab.codes(tag_rows["tag"].to_numpy())
    # per row: the [start, end) of its post's tags in the (post-ordered) tag rows
    start = np.searchsorted(tpk, post_pks, side="left")
    end = np.searchsorted(tpk, post_pks, side="right")
    lengths = (end - start).astype(np.int64)
    total = int(lengths.sum())
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=ptr[1:])
    at = np.arange(total, dtype=np.int64) + np.repeat(start - ptr[:-1], lengths)
    return lengths, codes[at]
