"""Fast cosine search over the sparse creator rows: propose, then re-rank exactly.

An exact scan over an inverted index touches every creator who shares any weight with
the query; with char n-grams that is most of them (p95 54 ms at 100k creators, issue
13's follow-up). Here the query's strongest TERMS columns each contribute their
POSTINGS creators with the largest weight there (impact-ordered, truncated postings);
the best POOL of those are then scored exactly against the whole query row. Recall of
the exact top 10 and the cost are measured in benchmarks/bench_lookalike.py.

The postings are not stored with the model (they would double the payload that hot
reload fetches): they are built on the first query, once, under a lock, in a few
vectorised passes over the rows (about a second at 100k creators)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection

import numpy as np
import scipy.sparse as sp

from engine.lookalike.sparse import COLUMNS, SparseRows

TERMS = 48  # the query's strongest columns that propose candidates
POSTINGS = 512  # per column, the creators with the largest weights there
POOL = 256  # candidates scored exactly (at least 16 x k)
_BINS = 256  # weight histogram bins per column: 16 per halving of the weight
_ROW_CHUNK = 20_000

Allow = Callable[[np.ndarray], np.ndarray]


class SparseSearch:
    """Thread-safe: the postings are built once; queries only read."""

    def __init__(self, rows: SparseRows) -> None:
        self.rows = rows
        self._lock = threading.Lock()
        self._postings: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def postings(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(starts per column, creator rows, weights): the largest weights of each column."""
        if self._postings is None:
            with self._lock:
                if self._postings is None:
                    self._postings = build_postings(self.rows, POSTINGS)
        return self._postings

    def query(
        self,
        query: sp.csr_matrix,
        k: int,
        *,
        exclude: Collection[int] = (),
        allow: Allow | None = None,
        pool: int = POOL,
    ) -> list[tuple[int, float]]:
        """(row, cosine), best first; rows sharing no proposed column are not returned
        (the caller tops up from elsewhere when fewer than k come back)."""
        q = sp.csr_matrix(query)
        if q.nnz == 0 or len(self.rows) == 0 or k <= 0:
            return []
        starts, post_rows, post_w = self.postings()
        strongest = np.argsort(-q.data, kind="stable")[:TERMS]
        cols, weights = q.indices[strongest], q.data[strongest]
        lo, hi = starts[cols], starts[cols + 1]
        lens = hi - lo
        at = _ranges(lo, lens)
        acc = np.bincount(
            post_rows[at], weights=post_w[at] * np.repeat(weights, lens), minlength=len(self.rows)
        )
        cand = np.flatnonzero(acc)
        cand = _keep(cand, exclude, allow)
        if len(cand) > max(pool, k):
            cand = cand[np.argpartition(-acc[cand], max(pool, k) - 1)[: max(pool, k)]]
        dense = np.zeros(COLUMNS, dtype=np.float32)
        dense[q.indices] = q.data
        sims = self.score(dense, cand)
        order = np.argsort(-sims, kind="stable")[:k]
        return [(int(cand[i]), float(sims[i])) for i in order]

    def score(self, dense_query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Exact dot products of `rows` with a dense query over COLUMNS."""
        r = self.rows
        lo = r.indptr[rows]
        lens = r.indptr[rows + 1] - lo
        at = _ranges(lo, lens)
        which = np.repeat(np.arange(len(rows)), lens)
        vals = dense_query[r.columns_of(at, rows[which])] * r.levels[at]
        per_row = np.bincount(which, vals, minlength=len(rows))
        return (per_row * r.scale[rows] / 255.0).astype(np.float32)


def _ranges(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Concatenated aranges starts[i] .. starts[i] + lens[i]."""
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lens)[:-1])), lens)
    return offsets + np.arange(total)


def _keep(cand: np.ndarray, exclude: Collection[int], allow: Allow | None) -> np.ndarray:
    if len(exclude):
        cand = cand[~np.isin(cand, np.fromiter(exclude, dtype=np.int64))]
    if allow is not None and len(cand):
        cand = cand[np.asarray(allow(cand), dtype=bool)]
    return cand


def _weights(rows: SparseRows, start: int, end: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns, creator rows and float32 weights of the entries of rows start..end."""
    lo, hi = int(rows.indptr[start]), int(rows.indptr[end])
    counts = np.diff(rows.indptr[start : end + 1])
    row = np.repeat(np.arange(start, end, dtype=np.int32), counts)
    w = rows.levels[lo:hi] * (rows.scale[row] / np.float32(255.0))
    return rows.columns_of(np.arange(lo, hi), row), row, w


def _bin(w: np.ndarray) -> np.ndarray:
    """0 for the largest weights (1.0) up to _BINS - 1 for the smallest."""
    return np.clip(-np.log2(np.maximum(w, 1e-30)) * 16, 0, _BINS - 1).astype(np.int64)


def build_postings(rows: SparseRows, keep: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column, the `keep` entries with the largest weights (a few more where the
    cut falls inside a histogram bin), without sorting all entries: a weight histogram
    per column gives each column's cut, a second pass collects the entries above it."""
    n = len(rows)
    hist = np.zeros(COLUMNS * _BINS, dtype=np.int64)
    for s in range(0, n, _ROW_CHUNK):
        cols, _, w = _weights(rows, s, min(n, s + _ROW_CHUNK))
        hist += np.bincount(cols.astype(np.int64) * _BINS + _bin(w), minlength=COLUMNS * _BINS)
    above = np.cumsum(hist.reshape(COLUMNS, _BINS), axis=1)
    cut = np.minimum((above < keep).sum(axis=1), _BINS - 1)  # last bin kept per column
    picked_cols, picked_rows, picked_w = [], [], []
    for s in range(0, n, _ROW_CHUNK):
        cols, row, w = _weights(rows, s, min(n, s + _ROW_CHUNK))
        sel = _bin(w) <= cut[cols]
        picked_cols.append(cols[sel])
        picked_rows.append(row[sel])
        picked_w.append(w[sel])
    cols = np.concatenate(picked_cols) if picked_cols else np.zeros(0, np.int32)
    order = np.argsort(cols, kind="stable")
    starts = np.zeros(COLUMNS + 1, dtype=np.int64)
    starts[1:] = np.cumsum(np.bincount(cols, minlength=COLUMNS))
    post_rows = np.concatenate(picked_rows)[order] if picked_rows else np.zeros(0, np.int32)
    post_w = np.concatenate(picked_w)[order] if picked_w else np.zeros(0, np.float32)
    return starts, post_rows, post_w
