"""Sparse creator rows for lookalikes: word PPMI (no SVD) next to character n-gram
TF-IDF, each row pruned to its strongest weights, compared by cosine.

Why (benchmarks/bench_lookalike.py --real, 599 real Instagram accounts split in two
halves): a creator is recognised by rare, specific tokens (names, brands, places) that a
128-dim SVD blurs, and by glued hashtags and spelling variants (`hoakaswimwear` ~ `hoaka`)
that whole words miss; character n-grams catch those.

Both blocks live in one hashed space of 2^17 columns, stored as 16-bit column ids and
one byte per weight (`SparseRows`): a 200k-creator model's rows take 3 bytes per weight
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

from engine.core.sparse import l2_rows, top_per_row

# hashed columns shared by words and char n-grams. 2^16 collides enough to cost split-half
# MRR on instagram-600 (0.759 against 0.762 at 2^17 and 0.763 at 2^20, research run);
# 2^17 still stores a column id in 16 bits (SparseRows).
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
    and "@" dropped so `#hoaka`, `@hoaka` and `hoaka` share n-grams."""
    from sklearn.feature_extraction.text import HashingVectorizer

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
    """Each row's `keep` largest weights, re-normalised: a smaller index and cheaper
    search, and slightly better retrieval (the tail is noise; bench_lookalike --real)."""
    return l2_rows(top_per_row(x, keep))


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
    keep: int = 400

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
        counts = [
            sp.csr_matrix(token_counts[i : i + CHUNK] @ grams, dtype=np.float32)
            for i in range(0, n, CHUNK)
        ]
        if idf is None:
            df = sum(np.bincount(c.indices, minlength=COLUMNS) for c in counts)
            idf = char_idf(np.asarray(df), n)
        a = np.float32(np.sqrt(self.word_weight))
        b = np.float32(np.sqrt(1.0 - self.word_weight))
        words = hashed_words(word_weights, columns)
        parts = []
        for i, c in zip(range(0, n, CHUNK), counts, strict=True):
            both = a * l2_rows(words[i : i + CHUNK]) + b * l2_rows(sublinear_tfidf(c, idf))
            parts.append(prune_rows(sp.csr_matrix(both), self.keep))
        return sp.csr_matrix(sp.vstack(parts, format="csr"), dtype=np.float32), idf


@dataclass(frozen=True)
class SparseRows:
    """Creator rows at rest, 3 bytes a weight: the low 16 bits of each column id
    (a row's columns are sorted, so the 17th bit is set from `high_from[row]` on) and
    one byte per weight, scaled per row (value = byte · scale[row] / 255; cosines
    move by ~1e-3, split-half MRR not at all, bench_lookalike --real)."""

    indptr: np.ndarray  # (n+1,) int64
    columns: np.ndarray  # (nnz,) uint16: column id mod 2^16
    levels: np.ndarray  # (nnz,) uint8
    scale: np.ndarray  # (n,) float32: each row's largest weight
    high_from: np.ndarray  # (n,) int32: entries of the row below column 2^16

    @classmethod
    def quantise(cls, rows: sp.csr_matrix) -> SparseRows:
        rows = sp.csr_matrix(rows, dtype=np.float32)
        rows.sort_indices()
        counts = np.diff(rows.indptr)
        row_of = np.repeat(np.arange(rows.shape[0]), counts)
        top = np.zeros(rows.shape[0], dtype=np.float32)
        nonempty = counts > 0
        top[nonempty] = np.maximum.reduceat(rows.data, rows.indptr[:-1][nonempty])
        per = np.repeat(np.where(top > 0, top, 1.0), counts)
        levels = np.clip(np.rint(rows.data / per * 255.0), 1, 255).astype(np.uint8)
        low = np.bincount(row_of[rows.indices < 2**16], minlength=rows.shape[0])
        return cls(
            rows.indptr.astype(np.int64),
            (rows.indices & 0xFFFF).astype(np.uint16),
            levels,
            top,
            low.astype(np.int32),
        )

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])

    def columns_of(self, at: np.ndarray, row: np.ndarray) -> np.ndarray:
        """Full column ids of entries `at`, which belong to rows `row`."""
        high = (at - self.indptr[row]) >= self.high_from[row]
        return self.columns[at].astype(np.int32) | (high.astype(np.int32) << 16)

    def to_csr(self) -> sp.csr_matrix:
        """All rows as a float32 CSR matrix (a copy: for evaluation, not serving)."""
        row = np.repeat(np.arange(len(self)), np.diff(self.indptr))
        data = self.levels * (self.scale / np.float32(255.0))[row]
        cols = self.columns_of(np.arange(self.nnz), row)
        return sp.csr_matrix(
            (data.astype(np.float32), cols, self.indptr), shape=(len(self), COLUMNS)
        )

    def row(self, i: int) -> sp.csr_matrix:
        s, e = int(self.indptr[i]), int(self.indptr[i + 1])
        data = self.levels[s:e] * (self.scale[i] / np.float32(255.0))
        cols = self.columns_of(np.arange(s, e), np.full(e - s, i))
        return sp.csr_matrix((data.astype(np.float32), cols, [0, e - s]), shape=(1, COLUMNS))
