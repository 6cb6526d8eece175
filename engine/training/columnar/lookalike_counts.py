"""engine.lookalike.model.lookalike_counts from integer columns: the same recent-posts
window, token space, vocabulary rule (engine.lookalike.model.vocab_counts, called as
is) and char tokens, counted with sparse matrices instead of per-post token lists."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from engine.lookalike.model import LookalikeConfig, LookalikeCounts, vocab_counts
from engine.training.columnar.columns import PostColumns, Ragged

NAT = np.iinfo(np.int64).min


def string_ranks(values: list[str]) -> np.ndarray:
    """Each string's position in sorted order (what sorting a frame by it uses)."""
    order = np.argsort(np.asarray(values, dtype=object), kind="stable")
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[order] = np.arange(len(values))
    return ranks


def newest_first(cols: PostColumns) -> tuple[np.ndarray, np.ndarray]:
    """Row order by (handle, posted_at newest first, row), undated rows last within
    their creator (the frame path's stable sort), and each row's rank within its
    creator in that order."""
    t = cols.posted_at.view(np.int64)
    key = np.where(t == NAT, np.iinfo(np.int64).max, -t)
    hrank = string_ranks(cols.handles)[cols.handle]
    order = np.lexsort((np.arange(len(t)), key, hrank))
    sorted_h = hrank[order]
    starts = np.flatnonzero(np.r_[True, sorted_h[1:] != sorted_h[:-1]])
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - group_start
    return order, rank


def recent_rows(cols: PostColumns, cfg: LookalikeConfig) -> np.ndarray:
    """engine.lookalike.model.recent_posts as row numbers, in its (sorted) order."""
    if not len(cols):
        return np.zeros(0, dtype=np.int64)
    order, rank = newest_first(cols)
    t = cols.posted_at.view(np.int64)
    dated = t != NAT
    keep = rank < cfg.min_posts_window
    if dated.any():
        newest = t[dated].max()
        since = newest - np.int64(cfg.window_days) * 86_400 * 10**9
        keep |= dated & (t >= since)
    return order[keep[order]]


ROWS_AT_ONCE = 1_000_000  # recent rows counted per step (bounded temporaries)


def _counts(
    recent: np.ndarray,
    parts: list[tuple[Ragged, np.ndarray | None, int]],
    creator: np.ndarray,
    n_creators: int,
    names: np.ndarray,
) -> tuple[sp.csr_matrix, list[str]]:
    """Creators x the ids used in `recent` rows (in id order), raw counts, and the ids'
    names. Each part is (ragged ids, an id map or None, offset into `names`)."""
    total = sp.csr_matrix((n_creators, len(names)), dtype=np.float64)
    for start in range(0, len(recent), ROWS_AT_ONCE):
        rows = recent[start : start + ROWS_AT_ONCE]
        who, cols = [], []
        for ragged, mapping, offset in parts:
            part = ragged.take(rows)
            who.append(creator[rows][part.owners()].astype(np.int32))
            ids = part.ids if mapping is None else mapping[part.ids]
            cols.append(ids.astype(np.int32) + np.int32(offset))
        w, c = np.concatenate(who), np.concatenate(cols)
        total = (
            total
            + sp.coo_matrix((np.ones(len(c), dtype=np.float64), (w, c)), shape=total.shape).tocsr()
        )
        del who, cols, w, c
    used = np.flatnonzero(np.diff(total.tocsc().indptr))
    return sp.csr_matrix(total[:, used]), [str(t) for t in names[used]]


def lookalike_counts(cols: PostColumns, cfg: LookalikeConfig) -> LookalikeCounts | None:
    recent = recent_rows(cols, cfg)
    if not len(recent):
        return None
    codes = cols.handle[recent]
    seen, first = np.unique(codes, return_index=True)
    handle_codes = seen[np.argsort(first, kind="stable")]  # first seen = sorted by handle
    pos = np.full(len(cols.handles), -1, dtype=np.int64)
    pos[handle_codes] = np.arange(len(handle_codes))
    creator = pos[cols.handle]
    handles = [cols.handles[c] for c in handle_codes]
    n = len(handles)
    # tokens: caption words, then '#'-prefixed hashtags (engine.lookalike.model.post_tokens)
    words = np.asarray(cols.word_vocab, dtype=object)
    tags = np.asarray(["#" + t for t in cols.tag_vocab], dtype=object)
    raw, tokens = _counts(
        recent,
        [(cols.words, None, 0), (cols.tags, None, len(words))],
        creator,
        n,
        np.concatenate([words, tags]),
    )
    counts, vocab = vocab_counts(raw, tokens, None, cfg)
    chars, char_tokens = None, []
    if cfg.sparse_keep > 0:  # caption words as written, then the hashtags (char_tokens)
        char_index = {t: i for i, t in enumerate(cols.char_vocab)}
        for t in cols.tag_vocab:
            char_index.setdefault(t, len(char_index))
        tag_as_char = np.array([char_index[t] for t in cols.tag_vocab], dtype=np.int64)
        names = np.asarray(list(char_index), dtype=object)
        chars, char_tokens = _counts(
            recent, [(cols.chars, None, 0), (cols.tags, tag_as_char, 0)], creator, n, names
        )
    engagement = cols.recent_engagement()
    return LookalikeCounts(handles, counts, vocab, chars, engagement, char_tokens)
