"""Lookalike creators (AnyTag): each creator is the words and hashtags of their recent
posts; a PPMI weighting keeps what is distinctive of them rather than what everyone
says; a truncated SVD turns that sparse row into a dense vector; cosine neighbours in
that space are creators who talk about the same things.

Sparse end to end: counts and PPMI are scipy CSR matrices, the SVD is randomised, and
only the (creators x dims) result is dense. A creator imported after training is folded
in by projecting their PPMI row through the stored basis.

Next to the dense vectors each creator also gets a sparse row (engine.lookalike.sparse:
word PPMI without the SVD plus character n-grams, hashed into 2^17 columns, 3 bytes a
weight). On real accounts the sparse similarity finds a creator's other half far
more often than the 128-dim SVD does (benchmarks/bench_lookalike.py --real);
engine.lookalike.search keeps its queries in milliseconds at 100k creators."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD

from engine.core.artifact_io import pack_model, unpack_model
from engine.core.dataset import Dataset
from engine.core.engagement import creator_engagement
from engine.core.engagement import recent_posts as recent_engagement
from engine.core.errors import NotEnoughData
from engine.core.filters import Filters
from engine.core.index import VectorIndex, l2_normalise
from engine.core.recommendation import Recommendation
from engine.core.text import caption_words
from engine.lookalike.calibration import (
    Calibration,
    calibrate,
    calibrations_dict,
    calibrations_from,
    off_diagonal,
    pair_sample,
)
from engine.lookalike.search import SparseSearch
from engine.lookalike.sparse import (
    SparseRows,
    TextRows,
    token_ngrams,
    word_columns,
)

KIND = "lookalike"
# The layout of its payload; raise it (and the kind's model_version) when it changes.
FORMAT_VERSION = 1

# Each creator's strongest tokens, kept for the reasons ("shares #aruba 'flamingo'").
# Two creators' top 24 overlapped in only 13% of real top-10 answers (instagram-600: 87%
# of reasons said "similar overall vocabulary"); the top 64 overlap in most of them
# (benchmarks/bench_answers.py), at 256 bytes a creator.
TOP_TOKENS = 64
COMMON_SHARE = 0.1  # a token more creators use than this share names nothing they share
AUDIENCE_RATIO = 1.5  # followers within this factor of each other: "a similar audience"


@dataclass(frozen=True)
class LookalikeConfig:
    window_days: int = 90
    min_posts_window: int = (
        50  # the window is "the last 90 days or the last 50 posts", whichever is more
    )
    dims: int = 128
    min_creators: int = 2  # a token must be used by this many creators to count
    max_vocab: int = 200_000
    tag_weight: float = 1.0  # a hashtag counts this many word occurrences
    seed: int = 42
    # sparse rows (0 = none): strongest weights kept per creator; word PPMI's share of
    # the cosine (the rest is char n-grams). Split-half MRR@10 (bench_lookalike, 2^17
    # hashed columns), keep 200 / 250 / 300 / 400: instagram-600 0.768 / 0.766 / 0.766
    # / 0.762 (TF-IDF 0.722), demo 0.665 / 0.687 / 0.721 / 0.782 (must stay >= 0.676);
    # 300 is best on real accounts with a margin on the demo, and 3/4 of the bytes.
    sparse_keep: int = 300
    word_weight: float = 0.5

    def text_rows(self) -> TextRows:
        return TextRows(word_weight=self.word_weight, keep=self.sparse_keep)

    @classmethod
    def from_dict(cls, cfg: dict[str, Any] | None) -> LookalikeConfig:
        known = {k: v for k, v in (cfg or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)


def recent_posts(posts: pd.DataFrame, cfg: LookalikeConfig) -> pd.DataFrame:
    """Each creator's posts of the last `window_days` (before the newest post in the
    data), topped up to their `min_posts_window` most recent posts."""
    if posts.empty:
        return posts
    df = posts.sort_values(["handle", "posted_at"], ascending=[True, False], kind="stable")
    newest = df["posted_at"].max()
    recent_rank = df.groupby("handle").cumcount()
    in_window = df["posted_at"] >= newest - pd.Timedelta(days=cfg.window_days)
    if pd.isna(newest):
        in_window = pd.Series(False, index=df.index)
    return df[in_window.fillna(False) | (recent_rank < cfg.min_posts_window)]


def post_tokens(caption: str | None, hashtags: Sequence[str]) -> list[str]:
    """A post's tokens: caption words as-is, hashtags with a leading '#'. A post without
    a caption (NULL in the store, NaN in the frame) has hashtags only."""
    text = caption if isinstance(caption, str) else None
    return caption_words(text) + ["#" + t for t in hashtags]


def char_tokens(caption: str | None, hashtags: Sequence[str]) -> list[str]:
    """A post's words for the char n-grams: the caption split on whitespace as written
    (URLs, @mentions and numbers included: a creator's links and the people they tag
    identify them; the default demo's split-half MRR@10 is 0.78 with them, 0.65 with
    the caption words alone, research run) and the hashtags."""
    words = caption.lower().split() if isinstance(caption, str) else []
    return words + list(hashtags)


def token_counts(
    handles: Sequence[str], docs: Sequence[list[str]]
) -> tuple[sp.csr_matrix, list[str]]:
    """Creators (in first-seen order) x every distinct token, raw counts, and the
    tokens: one factorisation of all tokens instead of a dict lookup per token."""
    order = {h: i for i, h in enumerate(dict.fromkeys(handles))}
    lens = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
    flat = np.fromiter(chain.from_iterable(docs), dtype=object, count=int(lens.sum()))
    codes, uniques = pd.factorize(flat) if len(flat) else (np.zeros(0, np.int64), [])
    rows = np.repeat(np.fromiter((order[h] for h in handles), np.int64, len(handles)), lens)
    m = sp.csr_matrix((np.ones(len(codes)), (rows, codes)), shape=(len(order), len(uniques)))
    m.sum_duplicates()
    return m, [str(t) for t in uniques]


def vocab_counts(
    counts: sp.csr_matrix, tokens: Sequence[str], vocab: dict[str, int] | None, cfg: LookalikeConfig
) -> tuple[sp.csr_matrix, dict[str, int]]:
    """token_counts restricted to the vocabulary (built when None: tokens used by at
    least `min_creators` creators, most used first), hashtags weighted by tag_weight."""
    if vocab is None:
        df = np.bincount(counts.indices, minlength=len(tokens))
        kept = sorted(np.flatnonzero(df >= cfg.min_creators), key=lambda j: (-df[j], tokens[j]))
        vocab = {tokens[j]: i for i, j in enumerate(kept[: cfg.max_vocab])}
    src = [j for j, t in enumerate(tokens) if t in vocab]
    dst = [vocab[tokens[j]] for j in src]
    weight = [cfg.tag_weight if tokens[j].startswith("#") else 1.0 for j in src]
    select = sp.csr_matrix((weight, (src, dst)), shape=(len(tokens), len(vocab)))
    return sp.csr_matrix(counts @ select), vocab


def count_matrix(
    handles: Sequence[str],
    docs: Sequence[list[str]],
    vocab: dict[str, int] | None,
    cfg: LookalikeConfig,
) -> tuple[sp.csr_matrix, dict[str, int]]:
    """Creators x tokens counts. Without `vocab` it is built (tokens used by at least
    `min_creators` creators); with it, unknown tokens are dropped (fold-in)."""
    counts, tokens = token_counts(handles, docs)
    return vocab_counts(counts, tokens, vocab, cfg)


def ppmi(
    counts: sp.csr_matrix, col_totals: np.ndarray | None = None, grand_total: float | None = None
) -> sp.csr_matrix:
    """max(0, log(n(i,w)·N / (n(i)·n(w)))) on the non-zeros only. Fold-in passes the
    training corpus's column totals and N so a new row is weighted like the old ones."""
    counts = counts.tocsr().astype(np.float64)
    n_w = np.asarray(counts.sum(axis=0)).ravel() if col_totals is None else col_totals
    n_total = float(counts.sum()) if grand_total is None else grand_total
    n_i = np.asarray(counts.sum(axis=1)).ravel()
    coo = counts.tocoo()
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(coo.data * n_total / (n_i[coo.row] * n_w[coo.col]))
    keep = np.isfinite(pmi) & (pmi > 0)
    out = sp.csr_matrix((pmi[keep], (coo.row[keep], coo.col[keep])), shape=counts.shape)
    return out


@dataclass(repr=False)
class LookalikeModel:
    handles: np.ndarray  # (n,) str
    vectors: np.ndarray  # (n, d) float32, L2-normalised
    components: np.ndarray  # (d, V) float32: SVD basis for fold-in
    vocab: np.ndarray  # (V,) str
    col_totals: np.ndarray  # (V,) float64
    grand_total: float
    top_tokens: np.ndarray  # (n, TOP_TOKENS) int32, -1 padded: each creator's strongest tokens
    followers: np.ndarray  # (n,) float64, NaN unknown
    er: np.ndarray  # (n,) float64 percent, NaN unknown
    language: np.ndarray  # (n,) str, '' unknown
    params: dict[str, Any] = field(default_factory=dict)
    # A loaded model brings its HNSW graph (built on `vectors`, stored once); a fitted one
    # builds it here.
    index_graph: np.ndarray | None = None
    index_params: dict[str, int] | None = None
    # (n x COLUMNS) L2-normalised rows of the default method, the char idf they were
    # weighted with and each vocabulary word's hashed column; None for models fitted
    # with sparse_keep = 0 (and for payloads of the older, unhashed layout)
    sparse: SparseRows | None = None
    char_idf: np.ndarray | None = None
    word_cols: np.ndarray | None = None
    # raw similarity -> displayed match per method ("sparse", "ppmi"), measured at
    # training (engine.lookalike.calibration); empty for models trained before it
    calibration: dict[str, Calibration] = field(default_factory=dict)
    # (V,) bool: tokens too common to be a reason (None for older payloads: none left out)
    common: np.ndarray | None = None
    # (n,) bool: every recent post hides its likes, so the ER is unknown for that reason
    # (None for payloads before model_version 4: none known)
    er_hidden: np.ndarray | None = None

    def __post_init__(self) -> None:
        self._row = {h: i for i, h in enumerate(self.handles.tolist())}
        self._vocab_index: dict[str, int] | None = None
        self._index = (
            VectorIndex.from_parts(self.vectors, self.index_graph, self.index_params)
            if self.index_params is not None
            else VectorIndex.build(self.vectors)
        )
        self._search = SparseSearch(self.sparse) if self.sparse is not None else None

    def warm(self) -> None:
        """Build what the first query would otherwise build (the sparse postings, about
        a second at 100k creators): a server runs this before swapping the model in."""
        if self._search is not None:
            self._search.postings()

    # ---------------------------------------------------------- serialise
    def to_bytes(self) -> bytes:
        empty = np.zeros(0, dtype=np.uint8)
        return pack_model(
            KIND,
            FORMAT_VERSION,
            {
                "handles": self.handles.astype(str),
                # Half precision at rest: the HNSW graph carries its own float32 copy for
                # search, so this one only serves exact fallbacks, the map and blends,
                # where 1e-3 does not matter; it saves a fifth of what hot reload fetches.
                "vectors": self.vectors.astype(np.float16),
                "components": self.components,
                "vocab": self.vocab.astype(str),
                "col_totals": self.col_totals,
                "top_tokens": self.top_tokens,
                "followers": self.followers,
                "er": self.er,
                "language": self.language.astype(str),
                "index_graph": graph if (graph := self._index.graph()) is not None else empty,
                **({"common": self.common.astype(np.uint8)} if self.common is not None else {}),
                **(
                    {"er_hidden": self.er_hidden.astype(np.uint8)}
                    if self.er_hidden is not None
                    else {}
                ),
                **_sparse_arrays(self.sparse, self.char_idf, self.word_cols),
            },
            {
                "grand_total": self.grand_total,
                "params": self.params,
                "index_params": self._index.params_dict(),
                "calibration": calibrations_dict(self.calibration),
            },
        )

    @classmethod
    def from_bytes(cls, payload: bytes) -> LookalikeModel:
        a, meta = unpack_model(payload, KIND, FORMAT_VERSION)
        return cls(
            a["handles"],
            a["vectors"].astype(np.float32),
            a["components"],
            a["vocab"],
            a["col_totals"],
            meta["grand_total"],
            a["top_tokens"],
            a["followers"],
            a["er"],
            a["language"],
            meta.get("params", {}),
            *_stored_index(a, meta),
            *_sparse_from(a),
            calibrations_from(meta.get("calibration")),
            a["common"].astype(bool) if "common" in a else None,
            a["er_hidden"].astype(bool) if "er_hidden" in a else None,
        )

    # ------------------------------------------------------------- lookups
    def __contains__(self, handle: str) -> bool:
        return handle in self._row

    def creator_vectors(self) -> tuple[list[str], np.ndarray]:
        return self.handles.tolist(), self.vectors

    def creator_index(self) -> VectorIndex:
        """The nearest-neighbour index over `creator_vectors` (the songs niche table
        reuses it rather than building its own, issue 27)."""
        return self._index

    def row(self, handle: str) -> int:
        return self._row[handle]

    @property
    def has_sparse(self) -> bool:
        return self.sparse is not None and self.char_idf is not None and self.word_cols is not None

    def place(self, posts: pd.DataFrame) -> Placed:
        """One creator's posts as the training creators are represented: dense vector
        through the stored basis, sparse row with the stored totals and idf."""
        if self._vocab_index is None:
            self._vocab_index = {t: i for i, t in enumerate(self.vocab.tolist())}
        cfg = LookalikeConfig.from_dict(self.params)
        recent = recent_posts(posts, cfg)
        pairs = list(zip(recent["caption"], recent["hashtags"], strict=True))
        docs = [post_tokens(c, t) for c, t in pairs]
        handles = ["_"] * len(docs)
        counts, _ = count_matrix(handles or ["_"], docs or [[]], self._vocab_index, cfg)
        weights = ppmi(counts, self.col_totals, self.grand_total)
        vec = l2_normalise(np.asarray(weights @ self.components.T.astype(np.float64)).ravel())
        top = _top_tokens(weights, counts, self.common)[0]  # before the rows reorder weights
        row = None
        if self.has_sparse:
            chars, tokens = token_counts(
                handles or ["_"], [char_tokens(c, t) for c, t in pairs] or [[]]
            )
            grams = token_ngrams(tokens, cfg.text_rows().ngrams)
            rows, _ = cfg.text_rows().rows(weights, self.word_cols, chars, grams, self.char_idf)
            row = SparseRows.quantise(rows).row(0)  # as stored, so fold-in matches fit
        return Placed(vec.astype(np.float32), top, row)

    def sparse_row(self, row: int) -> sp.csr_matrix | None:
        return self.sparse.row(row) if self.sparse is not None else None

    def sparse_matrix(self) -> sp.csr_matrix | None:
        """All sparse rows as float32 CSR (a copy; for evaluation, not serving)."""
        return self.sparse.to_csr() if self.sparse is not None else None

    def sparse_neighbours(
        self, query: sp.csr_matrix, k: int, *, exclude: set[int], allow=None
    ) -> list[tuple[int, float]]:
        """Sparse cosine neighbours (engine.lookalike.search: candidates from the
        query's strongest columns, re-ranked exactly); [] without sparse rows."""
        if self._search is None:
            return []
        return self._search.query(query, k, exclude=exclude, allow=allow)

    def neighbours(
        self, vector: np.ndarray, k: int, *, exclude: set[int], allow=None
    ) -> list[tuple[int, float]]:
        return self._index.query(vector, k, exclude=exclude, allow=allow)

    def filter_mask(self, filters: Filters | None) -> np.ndarray | None:
        return filters.mask(self.followers, self.er, self.language) if filters else None

    def hidden_left_out(self, filters: Filters | None) -> int:
        """Creators an `er:` filter left out only because their likes are hidden."""
        if not filters or self.er_hidden is None:
            return 0
        return filters.hidden_er_left_out(self.followers, self.language, self.er_hidden)

    def match(self, similarity: float, method: str) -> float | None:
        """The displayed match in [0, 1] of a raw similarity found by `method`, None
        when this model has no calibration for it (the raw similarity is shown)."""
        cal = self.calibration.get(method)
        return None if cal is None else cal(similarity)

    def why(self, mine: np.ndarray, row: int, n: int = 4, followers: float = float("nan")) -> str:
        """What the two creators share: their strongest hashtags and words in common,
        and a similar audience when both follower counts are known; "" when they share
        neither (a reason that names nothing is left out)."""
        theirs = set(self.top_tokens[row].tolist())
        shared = [self.vocab[t] for t in mine.tolist() if t >= 0 and t in theirs][:n]
        parts = []
        if shared:
            tags = [t for t in shared if t.startswith("#")]
            words = [f"'{t}'" for t in shared if not t.startswith("#")]
            parts.append("shares " + ", ".join([" ".join(tags)] * bool(tags) + words))
        audience = _audience(followers, float(self.followers[row]))
        if audience:
            parts.append(audience)
        return "; ".join(parts)

    def result(self, row: int, score: float, why: str) -> Recommendation:
        h = str(self.handles[row])
        extra = {
            "followers": _num(self.followers[row]),
            "er": _num(self.er[row]),
            "language": str(self.language[row]) or None,
        }
        if self.er_hidden is not None and self.er_hidden[row]:
            extra["er_hidden"] = True  # shown as "ER unknown — likes hidden"
        return Recommendation(h, f"@{h}", float(score), why, extra)


@dataclass(frozen=True)
class Placed:
    """A creator as the model sees them: dense vector, top token ids, sparse row."""

    vector: np.ndarray
    top: np.ndarray
    sparse: sp.csr_matrix | None


def _sparse_arrays(
    rows: SparseRows | None, idf: np.ndarray | None, word_cols: np.ndarray | None
) -> dict[str, np.ndarray]:
    """The rows as stored (SparseRows), the char idf and the words' hashed columns."""
    if rows is None or idf is None or word_cols is None:
        return {}
    return {
        "sparse_indptr": rows.indptr,
        "sparse_columns": rows.columns,
        "sparse_levels": rows.levels,
        "sparse_scale": rows.scale,
        "char_idf": idf.astype(np.float32),
        "word_cols": word_cols.astype(np.int32),
    }


def _sparse_from(
    a: dict[str, np.ndarray],
) -> tuple[SparseRows | None, np.ndarray | None, np.ndarray | None]:
    """Zero-copy views of the stored rows. Payloads of the first sparse layout (int32
    columns over an unhashed space) load without rows: they answer by ppmi until the
    next training replaces them."""
    if "sparse_columns" not in a:
        return None, None, None
    rows = SparseRows(
        a["sparse_indptr"],
        a["sparse_columns"],
        a["sparse_levels"],
        a["sparse_scale"],
    )
    return rows, a["char_idf"], a["word_cols"]


def _stored_index(
    arrays: dict[str, np.ndarray], meta: dict[str, Any]
) -> tuple[np.ndarray | None, dict[str, int] | None]:
    """Graph and parameters of the stored index (the vectors are stored once, beside it)."""
    return arrays["index_graph"], meta["index_params"]


def _audience(mine: float, theirs: float) -> str:
    """ "a similar audience (310k and 280k followers)" when both are known and within
    AUDIENCE_RATIO of each other."""
    if not (mine > 0 and theirs > 0) or max(mine, theirs) / min(mine, theirs) > AUDIENCE_RATIO:
        return ""
    return f"a similar audience ({_short(mine)} and {_short(theirs)} followers)"


def _short(n: float) -> str:
    for size, unit in ((1e6, "m"), (1e3, "k")):
        if n >= size:
            return f"{n / size:.1f}".rstrip("0").rstrip(".") + unit
    return f"{n:.0f}"


def _num(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def _top_tokens(
    weights: sp.csr_matrix, counts: sp.csr_matrix, common: np.ndarray | None = None
) -> np.ndarray:
    """Each creator's TOP_TOKENS strongest tokens by count x PPMI (what they say often
    and others do not), leaving out `common` tokens (used by more than COMMON_SHARE of
    all creators: 'good', 'week'); ties go to the token more creators use (the
    vocabulary is ordered by it). Two alike creators' lists then meet on the words they
    share: 92% of real top-10 answers name one, against 13% for PPMI's top 24 with
    everything in (bench_answers)."""
    score = sp.csr_matrix(sp.csr_matrix(weights).multiply(sp.csr_matrix(counts)))
    if common is not None:
        score.data[common[score.indices]] = 0.0
    score.eliminate_zeros()
    out = np.full((score.shape[0], TOP_TOKENS), -1, dtype=np.int32)
    for i in range(score.shape[0]):
        start, end = score.indptr[i], score.indptr[i + 1]
        cols, vals = score.indices[start:end], score.data[start:end]
        best = cols[np.lexsort((cols, -vals))[:TOP_TOKENS]]
        out[i, : len(best)] = best
    return out


def common_tokens(counts: sp.csr_matrix) -> np.ndarray:
    """Tokens used by more than COMMON_SHARE of the creators (at least 2 of them)."""
    df = np.bincount(sp.csr_matrix(counts).indices, minlength=counts.shape[1])
    return df > max(COMMON_SHARE * counts.shape[0], 2)


def creator_stats(
    data: Dataset, handles: Sequence[str], engagement: pd.DataFrame | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Followers, robust ER (percent, engine.core.engagement), ER-hidden flag and
    language per handle, for filters and display; `engagement`: each creator's recent
    posts (engine.core.engagement.recent_posts) when collected elsewhere (Spark)."""
    inf = data.influencers.drop_duplicates("handle").set_index("handle")
    by_handle = pd.to_numeric(inf["followers"], errors="coerce").astype("float64")
    followers = by_handle.reindex(handles).to_numpy()
    posts = engagement if engagement is not None else recent_engagement(data.posts)
    er, hidden = creator_engagement(posts, by_handle).at(list(handles))
    language = inf["language"].reindex(handles).fillna("").astype(str).str.lower().to_numpy()
    return followers, er, hidden, language


@dataclass
class LookalikeCounts:
    """What the lookalike model is built from, whoever counted it (this process, or the
    Spark backend over every post): creators x tokens counts over the recent-posts
    window with its vocabulary, creators x every distinct char token (`char_tokens`:
    caption words as written and hashtags; their hashed n-grams are computed once per
    distinct token when the rows are built), and each creator's newest posts' likes,
    comments and views (`engagement`, engine.core.engagement.recent_posts) for the ER."""

    handles: list[str]
    counts: sp.csr_matrix
    vocab: dict[str, int]
    char_counts: sp.csr_matrix | None
    engagement: pd.DataFrame
    char_tokens: list[str] = field(default_factory=list)


def lookalike_counts(data: Dataset, cfg: LookalikeConfig) -> LookalikeCounts | None:
    """The counts from the Dataset's frames (None: no recent posts)."""
    recent = recent_posts(data.posts, cfg)
    if recent.empty:
        return None
    pairs = list(zip(recent["caption"], recent["hashtags"], strict=True))
    docs = [post_tokens(c, t) for c, t in pairs]
    handles_per_post = recent["handle"].tolist()
    counts, vocab = count_matrix(handles_per_post, docs, None, cfg)
    handles = list(dict.fromkeys(handles_per_post))
    chars, tokens = None, []
    if cfg.sparse_keep > 0:
        chars, tokens = token_counts(handles_per_post, [char_tokens(c, t) for c, t in pairs])
    engagement = recent_engagement(data.posts)
    return LookalikeCounts(handles, counts, vocab, chars, engagement, tokens)


def fit(
    data: Dataset, cfg: LookalikeConfig, counted: LookalikeCounts | None = None
) -> LookalikeModel:
    """PPMI -> SVD vectors and sparse rows from `counted` (default: count `data` here)."""
    counted = counted if counted is not None else lookalike_counts(data, cfg)
    if counted is None or not counted.handles:
        raise NotEnoughData("no posts to learn lookalikes from; import posts first")
    counts, vocab, handles = counted.counts, counted.vocab, counted.handles
    weights = ppmi(counts)
    if len(handles) < 2:
        raise NotEnoughData("fewer than 2 creators with posts")
    if not weights.nnz:
        raise NotEnoughData("no captions or hashtags on any post")
    dims = max(1, min(cfg.dims, min(weights.shape) - 1))
    svd = TruncatedSVD(n_components=dims, algorithm="randomized", n_iter=5, random_state=cfg.seed)
    dense = svd.fit_transform(weights) if weights.nnz else np.zeros((len(handles), dims))
    vectors = l2_normalise(dense)
    followers, er, er_hidden, language = creator_stats(data, handles, counted.engagement)
    vocab_arr = np.array(sorted(vocab, key=vocab.get), dtype=str)
    common = common_tokens(counts)
    # before the sparse rows are built: building them reorders the weights' entries
    top_tokens = _top_tokens(weights, counts, common)
    rows = idf = word_cols = None
    if cfg.sparse_keep > 0 and counted.char_counts is not None:
        word_cols = word_columns(vocab_arr.tolist())
        grams = token_ngrams(counted.char_tokens, cfg.text_rows().ngrams)
        csr, idf = cfg.text_rows().rows(weights, word_cols, counted.char_counts, grams, None)
        rows = SparseRows.quantise(csr)
    return LookalikeModel(
        handles=np.array(handles, dtype=str),
        vectors=vectors,
        components=svd.components_.astype(np.float32),
        vocab=vocab_arr,
        col_totals=np.asarray(counts.sum(axis=0)).ravel(),
        grand_total=float(counts.sum()),
        top_tokens=top_tokens,
        common=common,
        followers=followers,
        er=er,
        er_hidden=er_hidden,
        language=language,
        params={**cfg.__dict__, "dims": dims, "vocab": len(vocab), "creators": len(handles)},
        sparse=rows,
        char_idf=idf,
        word_cols=word_cols,
    )


def split_halves(
    model: LookalikeModel,
    posts: pd.DataFrame,
    *,
    max_creators: int = 400,
    min_posts: int = 8,
    seed: int = 0,
) -> list[tuple[Placed, Placed]]:
    """Each sampled creator's odd and even posts placed as two pseudo-creators ([]
    when fewer than 5 creators have `min_posts`)."""
    rng = np.random.default_rng(seed)
    counts = posts.groupby("handle").size()
    eligible = counts[counts >= min_posts].index.to_numpy()
    if len(eligible) < 5:
        return []
    chosen = rng.choice(eligible, size=min(max_creators, len(eligible)), replace=False)
    by_handle = dict(
        tuple(posts[posts["handle"].isin(chosen)].sort_values("posted_at").groupby("handle"))
    )
    return [
        (model.place(by_handle[h].iloc[0::2]), model.place(by_handle[h].iloc[1::2])) for h in chosen
    ]


def _half_sims(model: LookalikeModel, halves: list[tuple[Placed, Placed]], sparse: bool):
    """Odd halves x even halves similarities, by the sparse rows or the SVD vectors."""
    if sparse:
        a_rows = sp.vstack([a.sparse for a, _ in halves], format="csr")
        return (a_rows @ sp.vstack([b.sparse for _, b in halves], format="csr").T).toarray()
    return np.stack([a.vector for a, _ in halves]) @ np.stack([b.vector for _, b in halves]).T


def split_half_retrieval(
    model: LookalikeModel,
    posts: pd.DataFrame | None = None,
    *,
    max_creators: int = 400,
    min_posts: int = 8,
    seed: int = 0,
    halves: list[tuple[Placed, Placed]] | None = None,
) -> dict[str, float]:
    """Fold in each sampled creator's odd and even posts as two pseudo-creators and
    ask, for each odd half, where its own even half ranks among all even halves. A
    model that captures what a creator is about finds it near the top. `halves`:
    split_halves already placed (else they are placed from `posts`)."""
    if halves is None:
        assert posts is not None
        halves = split_halves(
            model, posts, max_creators=max_creators, min_posts=min_posts, seed=seed
        )
    if not halves:
        return {}
    sims = _half_sims(model, halves, model.has_sparse)  # the similarity the default ranks by
    own = np.diag(sims)
    ranks = (sims > own[:, None]).sum(axis=1) + 1
    return {
        "split_half_hit@1": float(np.mean(ranks == 1)),
        "split_half_hit@10": float(np.mean(ranks <= 10)),
        "split_half_mrr": float(np.mean(1.0 / ranks)),
        "split_half_creators": float(len(halves)),
    }


def fit_calibration(
    model: LookalikeModel, halves: list[tuple[Placed, Placed]], seed: int = 0
) -> dict[str, Calibration]:
    """Per method, the anchors of its displayed match (engine.lookalike.calibration):
    similarities of random pairs of training creators and of each split creator's two
    halves. About a second at 100k creators (SAMPLE rows, not all pairs)."""
    rows = pair_sample(len(model.handles), seed)
    out: dict[str, Calibration] = {}
    dense = model.vectors[rows].astype(np.float64)
    twins = np.diag(_half_sims(model, halves, False)) if halves else np.zeros(0)
    if (cal := calibrate(off_diagonal(dense @ dense.T), twins)) is not None:
        out["ppmi"] = cal
    if model.has_sparse:
        x = sp.vstack([model.sparse_row(int(r)) for r in rows], format="csr")
        twins = np.diag(_half_sims(model, halves, True)) if halves else np.zeros(0)
        if (cal := calibrate(off_diagonal((x @ x.T).toarray()), twins)) is not None:
            out["sparse"] = cal
    return out
