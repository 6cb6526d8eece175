"""engine.tags' counted inputs (engine.tags.model.TagCounts) from integer columns, with
the frame path's rules: tags cleaned by engine.tags.prepare.clean_post_tags (once per
distinct tag, not per post), the same held-out rows (engine.tags.model.split_posts),
tags used by at least `min_bloggers` creators, each creator's favourite tag kept on the
`favourite_cap` posts with the smallest engine.tags.prepare.favourite_key, then tag
co-occurrence within posts as sparse products."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
from scipy import sparse

from engine.tags.embeddings import Cooc
from engine.tags.model import TagCounts, split_posts
from engine.tags.prepare import TagConfig, clean_post_tags
from engine.training.columnar.columns import PostColumns

# Held-out posts handed to the quality measures (a seeded sample past this): the
# measures' cost grows with them, their standard error shrinks only as the square root.
HELD_SAMPLE = 50_000


def cleaned_tags(cols: PostColumns, cfg: TagConfig) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(cleaned tag names, each entry's row, each entry's cleaned id): every row's
    hashtags cleaned and de-duplicated, first use kept, in order."""
    stop = cfg.stop
    names: dict[str, int] = {}
    cmap = np.full(len(cols.tag_vocab) + 1, -1, dtype=np.int64)
    for i, raw in enumerate(cols.tag_vocab):
        got = clean_post_tags([raw], stop)
        if got:
            cmap[i] = names.setdefault(got[0], len(names))
    ids = cmap[cols.tags.ids].astype(np.int32)
    rows = cols.tags.owners().astype(np.int32)
    ok = ids >= 0
    rows, ids = rows[ok], ids[ok]
    key = rows.astype(np.int64) * max(len(names), 1) + ids
    _, first = np.unique(key, return_index=True)
    del key
    first.sort()
    return list(names), rows[first], ids[first]


def _crc_table() -> np.ndarray:
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(0xEDB88320), table >> 1)
    return table.astype(np.uint32)


CRC_TABLE = _crc_table()


def _feed(state: np.ndarray, buf: np.ndarray, start: np.ndarray, lengths: np.ndarray) -> None:
    """Advance CRC-32 states (zlib's, pre-inversion) in place over each one's bytes
    `buf[start[i] : start[i] + lengths[i]]`, one byte position at a time across all."""
    for j in range(int(lengths.max()) if len(lengths) else 0):
        live = np.flatnonzero(lengths > j)
        s = state[live]
        state[live] = CRC_TABLE[(s ^ buf[start[live] + j]) & 0xFF] ^ (s >> np.uint32(8))


def _feed_byte(state: np.ndarray, byte: int) -> None:
    state[:] = CRC_TABLE[(state ^ np.uint32(byte)) & 0xFF] ^ (state >> np.uint32(8))


def _packed(strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    encoded = [t.encode() for t in strings]
    ptr = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=ptr[1:])
    return np.frombuffer(b"".join(encoded) or b"\0", dtype=np.uint8), ptr


def favourite_keys(
    seed: int, cols: PostColumns, rows: np.ndarray, tags: np.ndarray, names: list[str]
) -> np.ndarray:
    """engine.tags.prepare.favourite_key(seed, "post_id:handle", tag) of each (row, tag)
    entry, as zlib's CRC-32 computed over whole arrays from the packed post ids, handles
    and tags: each distinct row's prefix once, then each entry's tag (a Python call per
    entry was most of the tags counting: 24M of them at 5M posts)."""
    urows, inverse = np.unique(rows, return_inverse=True)
    colon = ord(":")
    start = np.uint32(zlib.crc32(f"{seed}:".encode()) ^ 0xFFFFFFFF)
    state = np.full(len(urows), start, dtype=np.uint32)
    ids = np.frombuffer(cols.post_id.buf or b"\0", dtype=np.uint8)
    at = cols.post_id.ptr[urows]
    _feed(state, ids, at, cols.post_id.ptr[urows + 1] - at)
    _feed_byte(state, colon)
    hbuf, hptr = _packed(cols.handles)
    h = cols.handle[urows]
    _feed(state, hbuf, hptr[h], hptr[h + 1] - hptr[h])
    _feed_byte(state, colon)
    out = state[inverse]
    tbuf, tptr = _packed(names)
    _feed(out, tbuf, tptr[tags], tptr[tags + 1] - tptr[tags])
    return (out ^ np.uint32(0xFFFFFFFF)).astype(np.int64)


def prepared_cooc(
    rows: np.ndarray,
    tags: np.ndarray,
    owners: np.ndarray,
    names: list[str],
    cfg: TagConfig,
    keys: np.ndarray,
) -> Cooc:
    """engine.tags.prepare.prepare_sentences then engine.tags.embeddings.cooccurrence,
    on the entries (row, tag) given (rows in order); `keys`: each entry's favourite_key
    wherever its (creator, tag) has more than `favourite_cap` entries."""
    n_tags = max(len(names), 1)
    pair = owners.astype(np.int64) * n_tags + tags
    bloggers = np.bincount(np.unique(pair) % n_tags, minlength=n_tags)
    keep = bloggers[tags] >= cfg.min_bloggers
    rows, tags, pair, keys = rows[keep], tags[keep], pair[keep], keys[keep]
    # the favourite-tag cap: per (creator, tag) the `favourite_cap` smallest keys
    _, inverse, sizes = np.unique(pair, return_inverse=True, return_counts=True)
    del pair
    over = sizes[inverse] > cfg.favourite_cap
    if over.any():
        idx = np.flatnonzero(over)
        fkeys = keys[idx]
        order = np.lexsort((rows[idx], fkeys, inverse[idx]))
        grp = inverse[idx][order]
        starts = np.flatnonzero(np.r_[True, grp[1:] != grp[:-1]])
        rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
        dropped = np.zeros(len(rows), dtype=bool)
        dropped[idx[order[rank >= cfg.favourite_cap]]] = True
        rows, tags = rows[~dropped], tags[~dropped]
    # sentences: posts left with two tags or more
    per_row = np.bincount(rows)
    keep = per_row[rows] >= 2
    rows, tags = rows[keep], tags[keep]
    used = np.unique(tags)
    order = np.argsort(np.asarray(names, dtype=object)[used], kind="stable")
    used = used[order]
    pos = np.full(n_tags, -1, dtype=np.int64)
    pos[used] = np.arange(len(used))
    srow = np.cumsum(np.r_[False, rows[1:] != rows[:-1]]) if len(rows) else rows  # rows sorted
    x = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (srow, pos[tags])),
        shape=(int(srow.max()) + 1 if len(srow) else 0, len(used)),
    )
    co = sparse.csr_matrix(x.T @ x)
    co.setdiag(0)
    co.eliminate_zeros()
    return Cooc([names[t] for t in used], co, np.asarray(x.sum(axis=0)).ravel())


def tag_counts(cols: PostColumns, cfg: TagConfig, seed: int) -> TagCounts:
    names, rows, tags = cleaned_tags(cols, cfg)
    n = len(cols)
    owners = cols.handle[rows]
    train_i, test_i = split_posts(n, cfg.holdout, seed)
    is_held = np.zeros(n, dtype=bool)
    is_held[test_i] = True
    tr = ~is_held[rows]
    keys = np.full(len(rows), -1, dtype=np.int64)  # only where a cap can apply (full set)
    n_tags = max(len(names), 1)
    pair, inverse, uses = np.unique(
        owners.astype(np.int64) * n_tags + tags, return_inverse=True, return_counts=True
    )
    capped = np.flatnonzero(uses[inverse] > cfg.favourite_cap)
    del inverse
    keys[capped] = favourite_keys(seed, cols, rows[capped], tags[capped], names)
    del capped
    train = prepared_cooc(rows[tr], tags[tr], owners[tr], names, cfg, keys[tr])
    full = prepared_cooc(rows, tags, owners, names, cfg, keys) if cfg.refit else train
    del keys
    if len(test_i) > HELD_SAMPLE:
        rng = np.random.default_rng(seed)
        test_i = np.sort(rng.choice(test_i, HELD_SAMPLE, replace=False))
    held = _lists(rows, tags, names, test_i)
    handles = np.asarray(cols.handles, dtype=object)
    nb = np.bincount(pair % n_tags, minlength=len(names))
    creator_tags = pd.DataFrame(
        {
            "handle": handles[pair // n_tags],
            "tag": np.asarray(names, dtype=object)[pair % n_tags],
            "n": uses,
        }
    )
    present = np.flatnonzero(np.bincount(cols.handle, minlength=len(handles)))
    per = np.bincount(cols.handle, minlength=len(handles))
    creators = pd.DataFrame(
        {
            "handle": handles[present],
            "posts": per[present],
            "likes": np.bincount(cols.handle, cols.likes.astype(float), len(handles))[present],
            "comments": np.bincount(cols.handle, cols.comments.astype(float), len(handles))[
                present
            ],
        }
    )
    raw = cols.tags.lengths.astype(np.float64)
    adj = cols.likes.astype(np.float64) / np.maximum(raw, 1.0)
    tag_likes = pd.DataFrame(
        {
            "tag": names,
            "count": np.bincount(tags, minlength=len(names)),
            "adj_sum": np.bincount(tags, weights=adj[rows], minlength=len(names)),
        }
    )
    bloggers = {t: int(nb[i]) for i, t in enumerate(names) if nb[i]}
    engagement = cols.recent_engagement()
    return TagCounts(train, full, held, bloggers, creator_tags, creators, tag_likes, engagement)


def _lists(rows: np.ndarray, tags: np.ndarray, names: list[str], wanted: np.ndarray):
    """The cleaned tag lists of rows `wanted` (sorted), in entry order."""
    at = np.searchsorted(wanted, rows)
    at[at == len(wanted)] = 0
    hit = wanted[at] == rows if len(wanted) else np.zeros(len(rows), dtype=bool)
    out: list[list[str]] = [[] for _ in range(len(wanted))]
    for i, t in zip(at[hit].tolist(), tags[hit].tolist(), strict=True):
        out[i].append(names[t])
    return out
