"""Sparse creator rows for lookalikes: word PPMI (no SVD) next to character n-gram
TF-IDF, each row pruned to its strongest weights, compared by cosine.

Why (benchmarks/bench_lookalike.py --real, 599 real Instagram accounts split in two
halves): a creator is recognised by rare, specific tokens (names, brands, places) that a
128-dim SVD blurs, and by glued hashtags and spelling variants (`hoakaswimwear` ~ `hoaka`)
that whole words miss; character n-grams catch those.

Both blocks live in one hashed space of 2^17 columns, stored as 16-bit column ids and
one byte per weight that also carries the 17th bit (`SparseRows`): a 200k-creator model's rows take 3 bytes per weight
instead of 6 (issue: lookalike serving). The char n-grams are taken of each
distinct token once (sklearn's char_wb analyzer over the vocabulary, not over every
caption), then summed per creator through the token counts: the same counts as
char_wb over the whole text, at a fraction of the cost (657 s -> tens of seconds at
100k creators). Fold-in needs only the stored idf and each word's column."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from engine.core.sparse import l2_rows

# hashed columns shared by words and char n-grams. 2^16 collides enough to cost split-half
# MRR on instagram-600 (0.759 against 0.762 at 2^17 and 0.763 at 2^20, research run);
# 2^17 still stores a column id in 16 bits and one spare bit (SparseRows).
COLUMNS = 2**17
CHUNK = 10_000  # creators weighted at a time (bounds the n-gram product's memory)


def word_columns(tokens: Sequence[str]) -> np.ndarray:
    """Each vocabulary token's hashed column; stored with the model."""
    from sklearn.utils import murmurhash3_32

    return np.fromiter(
        (murmurhash3_32("w\x00" + t, positive=True) % COLUMNS for t in tokens),
        dtype=np.int32,
        count=len(tokens),
    )


def token_ngrams(tokens: Sequence[str], ngrams: tuple[int, int]) -> sp.csr_matrix:
    """(tokens x COLUMNS) hashed char_wb n-gram counts of each distinct token, '#'
    and "@" dropped so `#hoaka`, `@hoaka` and `hoaka` share n-grams. No tokens give a
    (0 x COLUMNS) matrix: a creator whose posts are only emoji (common on TikTok) has
    none, and sklearn's hasher raises StopIteration on an empty list instead."""
    from sklearn.feature_extraction.text import HashingVectorizer

    if len(tokens) == 0:
        return sp.csr_matrix((0, COLUMNS), dtype=np.float32)

    vec = HashingVectorizer(
        analyzer="char_wb",
        ngram_range=ngrams,
        n_features=COLUMNS,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )
    return sp.csr_matrix(vec.transform([t.lstrip("#@") for t in tokens]))


def char_idf(df: np.ndarray, n_rows: int) -> np.ndarray:
    """Smoothed idf ln((1+n)/(1+df)) + 1, as sklearn's TfidfTransformer."""
    return (np.log((1.0 + n_rows) / (1.0 + df)) + 1.0).astype(np.float32)


def sublinear_tfidf(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """(1 + ln tf) · idf: without the damping a creator's favourite word dominates
    (split-half MRR 0.762 against 0.786 with it, research run of issue 13)."""
    x = sp.csr_matrix(counts, dtype=np.float32, copy=True)
    x.data = (1.0 + np.log(x.data)) * idf[x.indices]
    return x


def prune_rows(x: sp.csr_matrix, keep: int) -> sp.csr_matrix:
    """Each row's `keep` largest weights, re-normalised, strongest first (the order
    SparseRows stores): a smaller index and cheaper search, and slightly better
    retrieval (the tail is noise; bench_lookalike --real). One argsort of a float key
    (row, then weight descending) rather than a lexsort: 3x faster at 10k rows. Equal
    weights keep column order (indices sorted first), so the rows do not depend on the
    order the counts arrived in (the Spark backend's differs from the local one's)."""
    x = sp.csr_matrix(x, dtype=np.float32, copy=True)
    x.sort_indices()
    counts = np.diff(x.indptr)
    row = np.repeat(np.arange(x.shape[0]), counts)
    top = np.abs(x.data).max(initial=0.0) or 1.0
    order = np.argsort(row * 4.0 - x.data / top, kind="stable")
    rank = np.arange(len(order)) - np.repeat(x.indptr[:-1], counts)
    chosen = order[rank < keep if keep > 0 else slice(None)]
    kept = np.minimum(counts, keep) if keep > 0 else counts
    indptr = np.concatenate(([0], np.cumsum(kept)))
    data = x.data[chosen]
    norms = np.sqrt(np.add.reduceat(data * data, indptr[:-1][kept > 0]))
    data /= np.repeat(norms, kept[kept > 0]).astype(np.float32)
    out = sp.csr_matrix((data, x.indices[chosen], indptr), shape=x.shape)
    out.has_sorted_indices = False  # strongest first, not by column
    return out


def hashed_words(weights: sp.csr_matrix, columns: np.ndarray) -> sp.csr_matrix:
    """Word rows moved to their hashed columns (colliding words in one row add up)."""
    w = sp.csr_matrix(weights, dtype=np.float32)
    out = sp.csr_matrix(
        (w.data, columns[w.indices].astype(np.int32), w.indptr), (w.shape[0], COLUMNS)
    )
    out.sum_duplicates()
    return out


@dataclass(frozen=True)
class TextRows:
    """How word and char blocks are combined: cos = w·cos_words + (1-w)·cos_chars."""

    word_weight: float = 0.5
    ngrams: tuple[int, int] = (3, 5)
    keep: int = 300

    def rows(
        self,
        word_weights: sp.csr_matrix,
        columns: np.ndarray,
        token_counts: sp.csr_matrix,
        grams: sp.csr_matrix,
        idf: np.ndarray | None,
    ) -> tuple[sp.csr_matrix, np.ndarray]:
        """Creator rows over COLUMNS and the char idf (learned here when `idf` is
        None, reused for fold-in otherwise). `token_counts` (creators x tokens) counts
        every token, rare ones included; `grams` is token_ngrams of those tokens."""
        n = token_counts.shape[0]

        def chunk(i: int) -> sp.csr_matrix:
            return sp.csr_matrix(token_counts[i : i + CHUNK] @ grams, dtype=np.float32)

        # the n-gram counts are computed twice rather than held between the two passes:
        # unpruned they are ~750 entries a creator (1 GB at 166k creators; issue 27)
        if idf is None:
            df = np.zeros(COLUMNS, dtype=np.int64)
            for i in range(0, n, CHUNK):
                df += np.bincount(chunk(i).indices, minlength=COLUMNS)
            idf = char_idf(df, n)
        a = np.float32(np.sqrt(self.word_weight))
        b = np.float32(np.sqrt(1.0 - self.word_weight))
        words = hashed_words(word_weights, columns)
        parts = []
        for i in range(0, n, CHUNK):
            both = a * l2_rows(words[i : i + CHUNK]) + b * l2_rows(sublinear_tfidf(chunk(i), idf))
            parts.append(prune_rows(sp.csr_matrix(both), self.keep))
        return sp.csr_matrix(sp.vstack(parts, format="csr"), dtype=np.float32), idf


@dataclass(frozen=True)
class SparseRows:
    """Creator rows at rest, 3 bytes a weight, each row's strongest weight first (so
    its top terms are a prefix: engine.lookalike.search indexes those). A column id is
    its low 16 bits in `columns` and its 17th bit in the lowest bit of `levels`; the
    other 7 bits are the weight, scaled per row (value = (levels >> 1) · scale[row] /
    127; cosines move by ~1e-3, split-half MRR not at all, bench_lookalike --real)."""

    indptr: np.ndarray  # (n+1,) int64
    columns: np.ndarray  # (nnz,) uint16: column id mod 2^16
    levels: np.ndarray  # (nnz,) uint8: weight level << 1 | column id >> 16
    scale: np.ndarray  # (n,) float32: each row's largest weight

    @classmethod
    def quantise(cls, rows: sp.csr_matrix) -> SparseRows:
        """`rows` as prune_rows leaves them: each row strongest first."""
        rows = sp.csr_matrix(rows, dtype=np.float32)
        counts = np.diff(rows.indptr)
        data, cols = rows.data, rows.indices.astype(np.int64)
        top = np.zeros(rows.shape[0], dtype=np.float32)
        nonempty = counts > 0
        top[nonempty] = data[rows.indptr[:-1][nonempty]]
        per = np.repeat(np.where(top > 0, top, 1.0), counts)
        level = np.clip(np.rint(data / per * 127.0), 1, 127).astype(np.uint8)
        return cls(
            rows.indptr.astype(np.int64),
            (cols & 0xFFFF).astype(np.uint16),
            (level << 1) | (cols >> 16).astype(np.uint8),
            top,
        )

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])

    def entries(self, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Full column ids (int32) and weight levels (1..127) of entries `at`."""
        packed = self.levels[at]
        cols = self.columns[at].astype(np.int32) | ((packed & 1).astype(np.int32) << 16)
        return cols, packed >> 1

    def to_csr(self) -> sp.csr_matrix:
        """All rows as a float32 CSR matrix (a copy: for evaluation, not serving)."""
        row = np.repeat(np.arange(len(self)), np.diff(self.indptr))
        cols, level = self.entries(np.arange(self.nnz))
        data = level * (self.scale / np.float32(127.0))[row]
        out = sp.csr_matrix(
            (data.astype(np.float32), cols, self.indptr), shape=(len(self), COLUMNS)
        )
        out.sort_indices()
        return out

    def row(self, i: int) -> sp.csr_matrix:
        s, e = int(self.indptr[i]), int(self.indptr[i + 1])
        cols, level = self.entries(np.arange(s, e))
        data = level * (self.scale[i] / np.float32(127.0))
        return sp.csr_matrix((data.astype(np.float32), cols, [0, e - s]), shape=(1, COLUMNS))
