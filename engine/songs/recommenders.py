"""Song recommenders for reels, all behind one interface and all fitted on a sparse
creator x song usage matrix (never dense: 100k creators x 20k songs must fit in memory).

From the internship report: popularity (distinct users), celebrity usage (creators with
more than 80k followers), "performing" songs (uses with Delta > 4), item- and user-based
collaborative filtering (cosine, and mean-centred Pearson) and truncated SVD. Each
recommender ranks songs (`scores`) and, where the method can, predicts a creator's Delta
for a song (`predict`), which is what the report scored with RMSE.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import randomized_svd

# Dense work buffers are cut into blocks of about this many float32 cells (80 MB).
_BLOCK_CELLS = 20_000_000
# ALS runs on implicit's threads from this many (creator, song) entries up.
THREADED_NNZ = 200_000
# Shrinkage (in pseudo-ratings) of per-user baselines and neighbourhood averages.
SHRINK = 5.0


@dataclass
class UsageMatrix:
    """Who used which song: `uses` is a CSR users x items matrix of use counts whose
    sparsity pattern is "has used"; `rating` is aligned with `uses.data` (the Delta of
    that creator's reels with that song). `user_weight` is the creator's followers.
    `lift`, also aligned with `uses.data`, is the ER of those reels over the creator's
    average ER (1 where unknown): Delta as a ratio, which is never negative."""

    users: np.ndarray
    items: np.ndarray
    uses: sp.csr_matrix
    rating: np.ndarray
    user_weight: np.ndarray
    lift: np.ndarray | None = None
    _binary: sp.csr_matrix | None = field(default=None, init=False, repr=False, compare=False)
    _confidence: sp.csr_matrix | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def from_triples(
        cls,
        users: np.ndarray,
        items: np.ndarray,
        user_rows: np.ndarray,
        item_cols: np.ndarray,
        uses: np.ndarray,
        rating: np.ndarray | None = None,
        user_weight: np.ndarray | None = None,
        lift: np.ndarray | None = None,
    ) -> UsageMatrix:
        """Build from one entry per (user, item); entries are sorted into CSR order by
        hand so that `rating` stays aligned with the matrix data (and a Delta of exactly
        0 is kept as an entry)."""
        user_rows = np.asarray(user_rows, dtype=np.int64)
        item_cols = np.asarray(item_cols, dtype=np.int64)
        order = np.lexsort((item_cols, user_rows))
        r, c = user_rows[order], item_cols[order]
        if r.size > 1 and np.any((r[1:] == r[:-1]) & (c[1:] == c[:-1])):
            raise ValueError("duplicate (user, item) entries; aggregate them first")
        n_users, n_items = len(users), len(items)
        indptr = np.r_[0, np.cumsum(np.bincount(r, minlength=n_users))].astype(np.int64)
        values = np.asarray(uses, dtype=np.float32)[order]
        mat = sp.csr_matrix((values, c.astype(np.int32), indptr), shape=(n_users, n_items))
        rat = (
            np.zeros(r.size, np.float32)
            if rating is None
            else np.asarray(rating, dtype=np.float32)[order]
        )
        weight = (
            np.zeros(n_users, np.float64)
            if user_weight is None
            else np.asarray(user_weight, dtype=np.float64)
        )
        lifted = (
            np.ones(r.size, np.float32)
            if lift is None
            else np.maximum(np.nan_to_num(np.asarray(lift, dtype=np.float32)[order], nan=1.0), 0.0)
        )
        return cls(
            np.asarray(users).astype(str), np.asarray(items).astype(str), mat, rat, weight, lifted
        )

    @property
    def shape(self) -> tuple[int, int]:
        return self.uses.shape

    def binary(self) -> sp.csr_matrix:
        """The 0/1 "has used" matrix, built once and shared: callers must not edit it."""
        if self._binary is None:
            out = self.uses.copy()
            out.data = np.ones_like(out.data)
            self._binary = out
        return self._binary

    def engagement_lift(self) -> np.ndarray:
        """`lift` aligned with `uses.data` (all ones for a matrix built without it)."""
        if self.lift is None or self.lift.size != self.uses.nnz:
            return np.ones(self.uses.nnz, np.float32)
        return self.lift

    def confidence(self) -> sp.csr_matrix:
        """How much each (creator, song) entry says the creator likes the song, for the
        implicit-feedback models (ALS, EASE): log(1 + uses) x engagement lift, scaled to
        mean 1. Built from counts and ratios only, so never negative (Delta is negative
        for about half of a creator's songs by construction), and scale-free, so the same
        regularisation fits one-reel-per-song stores and Last.fm's play counts alike.
        Built once and shared: callers must not edit it."""
        if self._confidence is not None:
            return self._confidence
        out = self.uses.astype(np.float32, copy=True)
        out.data = (np.log1p(out.data) * self.engagement_lift()).astype(np.float32)
        mean = float(out.data.mean()) if out.data.size else 0.0
        if mean > 0:
            out.data /= mean
        self._confidence = out
        return out

    def ratings(self) -> sp.csr_matrix:
        """The Delta matrix, with its own copies of the arrays (callers may edit it)."""
        return sp.csr_matrix(
            (self.rating.copy(), self.uses.indices.copy(), self.uses.indptr.copy()),
            shape=self.shape,
        )

    def user_means(self, shrink: float = SHRINK) -> np.ndarray:
        """Each user's mean rating, shrunk towards the global mean as if `shrink` extra
        ratings at the global mean had been seen: a creator with three reels should not
        get their own noisy average as their baseline."""
        counts = np.diff(self.uses.indptr)
        glob = float(self.rating.mean()) if self.rating.size else 0.0
        sums = np.zeros(counts.size)
        if self.rating.size:
            sums[counts > 0] = np.add.reduceat(self.rating - glob, self.uses.indptr[:-1])[
                counts > 0
            ]
        return (glob + sums / (counts + shrink)).astype(np.float32)

    def entry_users(self) -> np.ndarray:
        return np.repeat(np.arange(self.shape[0]), np.diff(self.uses.indptr))

    def select(self, keep: np.ndarray) -> UsageMatrix:
        """The same users and items with only the entries where `keep` (aligned with the
        CSR data) is true, e.g. the training part of a hold-out split."""
        rows = self.entry_users()[keep]
        return UsageMatrix.from_triples(
            self.users,
            self.items,
            rows,
            self.uses.indices[keep],
            self.uses.data[keep],
            self.rating[keep],
            self.user_weight,
            self.engagement_lift()[keep],
        )

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "users": self.users,
            "items": self.items,
            "indptr": self.uses.indptr,
            "indices": self.uses.indices,
            "uses": self.uses.data,
            "rating": self.rating,
            "user_weight": self.user_weight,
            "lift": self.engagement_lift(),
        }

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> UsageMatrix:
        users, items = a["users"].astype(str), a["items"].astype(str)
        mat = sp.csr_matrix((a["uses"], a["indices"], a["indptr"]), shape=(len(users), len(items)))
        return cls(users, items, mat, a["rating"], a["user_weight"], a["lift"])


def _row_normalised(mat: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(mat.multiply(mat).sum(axis=1)).ravel())
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(sp.diags(inv.astype(np.float32)) @ mat)


def _centred(mat: sp.csr_matrix, by: str) -> sp.csr_matrix:
    """Subtract each row's (by="row") or column's (by="col") mean over its stored entries
    only: the usual sparse stand-in for Pearson correlation."""
    m = mat.tocsr(copy=True) if by == "row" else mat.T.tocsr(copy=True)
    counts = np.diff(m.indptr)
    sums = np.asarray(m.sum(axis=1)).ravel()
    means = np.divide(sums, counts, out=np.zeros_like(sums, dtype=np.float64), where=counts > 0)
    m.data = (m.data - np.repeat(means, counts)).astype(np.float32)
    return m if by == "row" else m.T.tocsr()


def _keep_top_k(dense: np.ndarray, k: int) -> sp.csr_matrix:
    """Each row's k largest positive values as a sparse matrix (a neighbourhood)."""
    n_rows, n_cols = dense.shape
    k = min(k, n_cols)
    if k <= 0:
        return sp.csr_matrix((n_rows, n_cols), dtype=np.float32)
    cols = np.argpartition(-dense, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(dense, cols, axis=1)
    rows = np.repeat(np.arange(n_rows), k)
    keep = vals.ravel() > 0
    return sp.csr_matrix(
        (vals.ravel()[keep], (rows[keep], cols.ravel()[keep])),
        shape=(n_rows, n_cols),
        dtype=np.float32,
    )


def top_k_similarity(vectors: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Row i's k most similar other rows (dot product of already-normalised sparse rows),
    computed in blocks so that memory stays bounded at any size."""
    n = vectors.shape[0]
    vt = vectors.T.tocsc()
    block = max(1, _BLOCK_CELLS // max(n, 1))
    parts = []
    for start in range(0, n, block):
        stop = min(start + block, n)
        dense = (vectors[start:stop] @ vt).toarray().astype(np.float32, copy=False)
        dense[np.arange(stop - start), np.arange(start, stop)] = 0.0
        parts.append(_keep_top_k(dense, k))
    return sp.vstack(parts).tocsr() if parts else sp.csr_matrix((0, 0), dtype=np.float32)


class SongRecommender:
    """The interface: `fit` on a usage matrix, `scores` (higher is better) for a batch
    of user rows, `predict` a Delta for (user, item) pairs where the method can; payload
    arrays and JSON params for the pickle-free artifact."""

    name: str = ""
    personalised: ClassVar[bool] = True
    predicts_rating: ClassVar[bool] = False

    def fit(self, usage: UsageMatrix) -> SongRecommender:
        raise NotImplementedError

    def scores(self, user_rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def predict(self, user_rows: np.ndarray, item_cols: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{self.name} does not predict Delta")

    def params(self) -> dict[str, Any]:
        return {}

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {}

    def restore(self, usage: UsageMatrix, arrays: dict[str, np.ndarray]) -> None:
        """Rebuild from `to_arrays` output plus the (shared, stored once) usage matrix."""
        raise NotImplementedError


# ---------------------------------------------------------------- popularity family
@dataclass
class CountPopularity(SongRecommender):
    """Songs ranked by how many distinct creators used them, optionally only counting
    celebrities (followers > `min_followers`) or well-performing uses (Delta >
    `min_delta`). Ties go to overall popularity, so a filter that leaves little signal
    still gives a sensible list."""

    name: str = "popularity"
    min_followers: float | None = None
    min_delta: float | None = None
    personalised: ClassVar[bool] = False
    _scores: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32), repr=False)

    def fit(self, usage: UsageMatrix) -> CountPopularity:
        n_items = usage.shape[1]
        users = usage.entry_users()
        keep = np.ones(usage.rating.size, dtype=bool)
        if self.min_followers is not None:
            keep &= usage.user_weight[users] > self.min_followers
        if self.min_delta is not None:
            keep &= usage.rating > self.min_delta
        counted = np.bincount(usage.uses.indices[keep], minlength=n_items).astype(np.float64)
        overall = np.bincount(usage.uses.indices, minlength=n_items).astype(np.float64)
        top = overall.max() if overall.size else 0.0
        self._scores = (counted + overall / (top + 1.0)).astype(np.float32)
        return self

    def scores(self, user_rows: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self._scores, (len(user_rows), self._scores.size)).copy()

    def params(self) -> dict[str, Any]:
        return {"min_followers": self.min_followers, "min_delta": self.min_delta}

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"scores": self._scores}

    def restore(self, usage: UsageMatrix, arrays: dict[str, np.ndarray]) -> None:
        self._scores = arrays["scores"]


# ------------------------------------------------------------- neighbourhood CF
@dataclass
class ItemCF(SongRecommender):
    """Item-based CF: each song's `neighbours` most similar songs (cosine on who used it,
    or Pearson on mean-centred Delta); a creator's score for a song sums its similarity
    to the songs they used."""

    name: str = "item_cosine"
    similarity: str = "cosine"
    neighbours: int = 100
    predicts_rating: ClassVar[bool] = True
    _sim: sp.csr_matrix | None = field(default=None, repr=False)
    _usage: UsageMatrix | None = field(default=None, repr=False)

    def fit(self, usage: UsageMatrix) -> ItemCF:
        self._usage = usage
        base = usage.binary() if self.similarity == "cosine" else _centred(usage.ratings(), "col")
        item_vectors = _row_normalised(base.T.tocsr())
        self._sim = top_k_similarity(item_vectors, self.neighbours)
        return self

    def scores(self, user_rows: np.ndarray) -> np.ndarray:
        x = self._usage.binary()[user_rows]
        return np.asarray((x @ self._sim).todense(), dtype=np.float32)

    def predict(self, user_rows: np.ndarray, item_cols: np.ndarray) -> np.ndarray:
        return _neighbour_predict(self._usage, user_rows, item_cols, item_sim=self._sim)

    def closest_used(self, used: np.ndarray, items: list[int]) -> list[int]:
        """For each item, the used item that contributed most to its score (-1: none),
        so the answer can say which of the creator's songs it resembles."""
        if not len(used) or not items:
            return [-1] * len(items)
        sub = self._sim[np.asarray(used)][:, items].toarray()
        best = sub.argmax(axis=0)
        return [int(used[b]) if sub[b, n] > 0 else -1 for n, b in enumerate(best)]

    def params(self) -> dict[str, Any]:
        return {"similarity": self.similarity, "neighbours": self.neighbours}

    def to_arrays(self) -> dict[str, np.ndarray]:
        s = self._sim
        return {"sim_indptr": s.indptr, "sim_indices": s.indices, "sim_data": s.data}

    def restore(self, usage: UsageMatrix, arrays: dict[str, np.ndarray]) -> None:
        self._usage = usage
        n = usage.shape[1]
        self._sim = sp.csr_matrix(
            (arrays["sim_data"], arrays["sim_indices"], arrays["sim_indptr"]), shape=(n, n)
        )


@dataclass
class UserCF(SongRecommender):
    """User-based CF: a creator's `neighbours` most similar creators (cosine on the songs
    they used, or Pearson on their mean-centred Delta), found at query time from the
    stored usage matrix, so fitting is cheap and the payload is the usage itself."""

    name: str = "user_cosine"
    similarity: str = "cosine"
    neighbours: int = 50
    predicts_rating: ClassVar[bool] = True
    _vectors: sp.csr_matrix | None = field(default=None, repr=False)
    _usage: UsageMatrix | None = field(default=None, repr=False)
    _found: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)

    def fit(self, usage: UsageMatrix) -> UserCF:
        self._usage = usage
        base = usage.binary() if self.similarity == "cosine" else _centred(usage.ratings(), "row")
        self._vectors = _row_normalised(base)
        self._found = {}
        return self

    def neighbour_weights(self, user_rows: np.ndarray) -> sp.csr_matrix:
        """(batch x users) sparse matrix of each row's top neighbours and similarities.
        Rows found once are kept (a few hundred bytes each): the held-out evaluation
        asks for the same creators' neighbours to rank and again to predict Delta, and
        at 166k creators each ask is a 166k-wide scan (issue 27)."""
        user_rows = np.asarray(user_rows, dtype=np.int64)
        new = np.unique(user_rows[[int(r) not in self._found for r in user_rows]])
        vt = self._vectors.T.tocsc() if new.size else None
        block = max(1, _BLOCK_CELLS // max(self._vectors.shape[0], 1))
        for start in range(0, len(new), block):
            rows = new[start : start + block]
            dense = (self._vectors[rows] @ vt).toarray().astype(np.float32, copy=False)
            dense[np.arange(len(rows)), rows] = 0.0
            top = _keep_top_k(dense, self.neighbours)
            for n, r in enumerate(rows.tolist()):
                lo, hi = top.indptr[n], top.indptr[n + 1]
                self._found[r] = (top.indices[lo:hi], top.data[lo:hi])
        got = [self._found[int(r)] for r in user_rows]
        indptr = np.r_[0, np.cumsum([len(i) for i, _ in got])]
        indices = np.concatenate([i for i, _ in got]) if got else np.zeros(0, np.int32)
        data = np.concatenate([d for _, d in got]) if got else np.zeros(0, np.float32)
        return sp.csr_matrix(
            (data, indices, indptr), shape=(len(user_rows), self._vectors.shape[0])
        )

    def scores(self, user_rows: np.ndarray) -> np.ndarray:
        w = self.neighbour_weights(user_rows)
        return np.asarray((w @ self._usage.binary()).todense(), dtype=np.float32)

    def predict(self, user_rows: np.ndarray, item_cols: np.ndarray) -> np.ndarray:
        return _neighbour_predict(self._usage, user_rows, item_cols, user_cf=self)

    def params(self) -> dict[str, Any]:
        return {"similarity": self.similarity, "neighbours": self.neighbours}

    def restore(self, usage: UsageMatrix, arrays: dict[str, np.ndarray]) -> None:
        self.fit(usage)


def _neighbour_predict(
    usage: UsageMatrix,
    user_rows: np.ndarray,
    item_cols: np.ndarray,
    *,
    item_sim: sp.csr_matrix | None = None,
    user_cf: UserCF | None = None,
    shrink: float = 1.0,
) -> np.ndarray:
    """Mean-centred neighbourhood prediction: the creator's mean Delta plus the
    similarity-weighted mean deviation of the neighbours' ratings; the creator's mean
    where no neighbour rated the song."""
    user_rows = np.asarray(user_rows)
    item_cols = np.asarray(item_cols)
    means = usage.user_means()
    out = means[user_rows].astype(np.float64)
    uniq, inv = np.unique(user_rows, return_inverse=True)
    deviations = usage.ratings()
    deviations.data = deviations.data - np.repeat(means, np.diff(deviations.indptr))
    if item_sim is not None:
        dev = deviations[uniq]
        num = dev @ item_sim
        den = usage.binary()[uniq] @ abs(item_sim)
    else:
        w = user_cf.neighbour_weights(uniq)
        num = w @ deviations
        den = abs(w) @ usage.binary()
    num = np.asarray(num[inv, item_cols]).ravel()
    den = np.asarray(den[inv, item_cols]).ravel()
    has = den > 0
    out[has] += num[has] / (den[has] + shrink)
    return out.astype(np.float32)


# ------------------------------------------------------------------------ SVD
@dataclass
class TruncatedSVD(SongRecommender):
    """Matrix factorisation by truncated (randomized) SVD, k factors. Ranking uses the
    factorised "has used" matrix (PureSVD: score = x_u V^T V); Delta predictions use a
    second factorisation of the creator-mean-centred Delta matrix."""

    name: str = "svd"
    k: int = 32
    seed: int = 42
    predicts_rating: ClassVar[bool] = True
    _item_factors: np.ndarray | None = field(default=None, repr=False)
    _rating_users: np.ndarray | None = field(default=None, repr=False)
    _rating_items: np.ndarray | None = field(default=None, repr=False)
    _means: np.ndarray | None = field(default=None, repr=False)
    _usage: UsageMatrix | None = field(default=None, repr=False)

    def fit(self, usage: UsageMatrix) -> TruncatedSVD:
        self._usage = usage
        k = max(1, min(self.k, min(usage.shape) - 1))
        _, _, vt = randomized_svd(usage.binary(), k, random_state=self.seed)
        self._item_factors = vt.astype(np.float32)
        self._means = usage.user_means()
        centred = usage.ratings()
        centred.data = centred.data - np.repeat(self._means, np.diff(centred.indptr))
        u, s, vt2 = randomized_svd(centred, k, random_state=self.seed)
        self._rating_users = (u * s).astype(np.float32)
        self._rating_items = vt2.astype(np.float32)
        return self

    def scores(self, user_rows: np.ndarray) -> np.ndarray:
        x = self._usage.binary()[user_rows]
        return np.asarray((x @ self._item_factors.T) @ self._item_factors, dtype=np.float32)

    def predict(self, user_rows: np.ndarray, item_cols: np.ndarray) -> np.ndarray:
        dots = np.einsum(
            "ij,ji->i", self._rating_users[user_rows], self._rating_items[:, item_cols]
        )
        return (self._means[user_rows] + dots).astype(np.float32)

    def params(self) -> dict[str, Any]:
        return {"k": self.k}

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "item_factors": self._item_factors,
            "rating_users": self._rating_users,
            "rating_items": self._rating_items,
            "means": self._means,
        }

    def restore(self, usage: UsageMatrix, arrays: dict[str, np.ndarray]) -> None:
        self._usage = usage
        self._item_factors = arrays["item_factors"]
        self._rating_users = arrays["rating_users"]
        self._rating_items = arrays["rating_items"]
        self._means = arrays["means"]


# --------------------------------------------------------------- registry
DEFAULT_METHODS = (
    "popularity",
    "celebrity",
    "performing",
    "item_cosine",
    "item_pearson",
    "user_cosine",
    "user_pearson",
    "svd",
    "ease",
    "als",
)


def make_recommender(name: str, config: dict[str, Any] | None = None) -> SongRecommender:
    """A fresh recommender by method name; `config` holds the tunables (celebrity
    followers, performing Delta, neighbours, SVD k)."""
    c = config or {}
    if name == "popularity":
        return CountPopularity(name=name)
    if name == "celebrity":
        return CountPopularity(name=name, min_followers=float(c.get("celebrity_followers", 80_000)))
    if name == "performing":
        return CountPopularity(name=name, min_delta=float(c.get("performing_delta", 4.0)))
    if name in ("item_cosine", "item_pearson"):
        return ItemCF(
            name=name, similarity=name.split("_")[1], neighbours=int(c.get("item_neighbours", 100))
        )
    if name in ("user_cosine", "user_pearson"):
        return UserCF(
            name=name, similarity=name.split("_")[1], neighbours=int(c.get("user_neighbours", 50))
        )
    if name == "svd":
        return TruncatedSVD(name=name, k=int(c.get("svd_k", 32)), seed=int(c.get("seed", 42)))
    if name == "ease":
        return EASE(
            name=name,
            lam=float(c.get("ease_lambda", 50.0)),
            min_creators=int(c.get("ease_min_creators", 2)),
            neighbours=int(c.get("ease_neighbours", 256)),
        )
    if name == "als":
        return ImplicitALS(
            name=name,
            factors=int(c.get("als_factors", 32)),
            regularization=float(c.get("als_regularization", 10.0)),
            alpha=float(c.get("als_alpha", 5.0)),
            iterations=int(c.get("als_iterations", 15)),
            seed=int(c.get("seed", 42)),
            threads=int(c.get("als_threads", 0)),
        )
    raise ValueError(f"unknown song method {name!r}; known: {', '.join(DEFAULT_METHODS)}")


def top_items(scores: np.ndarray, exclude: sp.csr_matrix | None, k: int) -> np.ndarray:
    """Indices of each row's k best items (best first), never one in `exclude` (the
    songs the creator already used). Rows of `exclude` align with rows of `scores`."""
    scores = np.array(scores, dtype=np.float32, copy=True)
    if exclude is not None and exclude.nnz:
        r, c = exclude.nonzero()
        scores[r, c] = -np.inf
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    best = np.take_along_axis(part, order, axis=1)
    # Excluded items may fill the tail when a row has fewer than k candidates.
    return np.where(np.isfinite(np.take_along_axis(scores, best, axis=1)), best, -1)


# ------------------------------------------------------------------------ ALS
@dataclass
class ImplicitALS(SongRecommender):
    """Implicit-feedback ALS (Hu, Koren, Volinsky 2008) via the `implicit` package, on
    `UsageMatrix.confidence()`: log(1 + uses) x engagement lift, scaled to mean 1.

    Issue 28: the old input was log(1 + uses) alone with regularization 30, tuned on
    Last.fm play counts (log plays ~6). A real store has one reel per creator and song,
    so every entry was log 2 = 0.69 and the regularisation swamped it: MAP@10 0.043
    inside `engine train` on Last.fm-as-reels, half of item-kNN. A scale-free confidence
    (mean 1) with the reel's engagement lift, and 32 factors / regularization 10 /
    alpha 5 for a few hundred to a few thousand creators, measured in bench_songs'
    product path, puts it above item-kNN."""

    name: str = "als"
    factors: int = 32
    regularization: float = 10.0
    alpha: float = 5.0
    iterations: int = 15
    seed: int = 42
    # implicit's own threads (0: one per core) from THREADED_NNZ entries up; each solves
    # its own users' rows, so the factors do not depend on the count (issue 27; it was
    # 1). Below that one thread: on a small matrix OpenMP's start and its spinning
    # threads on a busy machine cost more than the solve (the small demo: 0.8 -> 4.2 s).
    threads: int = 0
    _user_factors: np.ndarray | None = field(default=None, repr=False)
    _item_factors: np.ndarray | None = field(default=None, repr=False)

    def fit(self, usage: UsageMatrix) -> ImplicitALS:
        return self.fit_confidence(usage.confidence())

    def fit_confidence(self, x: sp.csr_matrix) -> ImplicitALS:
        """Fit on a given creators x songs confidence matrix (bench_songs feeds it the
        pre-issue-28 input to measure the change)."""
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        factors = max(1, min(self.factors, min(x.shape)))
        with threadpool_limits(1, "blas"), warnings.catch_warnings():
            # implicit checks the BLAS thread count when built; the limit above applies
            warnings.filterwarnings("ignore", "OpenBLAS is configured", RuntimeWarning)
            model = AlternatingLeastSquares(
                factors=factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.seed,
                num_threads=self.threads if x.nnz >= THREADED_NNZ else 1,
            )
            model.fit(x.tocsr(), show_progress=False)
        self._user_factors = np.asarray(model.user_factors, dtype=np.float32)
        self._item_factors = np.asarray(model.item_factors, dtype=np.float32)
        return self

    def scores(self, user_rows: np.ndarray) -> np.ndarray:
        return self._user_factors[np.asarray(user_rows)] @ self._item_factors.T

    def params(self) -> dict[str, Any]:
        return {
            "factors": self.factors,
            "regularization": self.regularization,
            "alpha": self.alpha,
            "iterations": self.iterations,
        }

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"user_factors": self._user_factors, "item_factors": self._item_factors}

    def restore(self, usage: UsageMatrix, arrays: dict[str, np.ndarray]) -> None:
        self._user_factors = arrays["user_factors"]
        self._item_factors = arrays["item_factors"]


# ----------------------------------------------------------------------- EASE
def _spd_inverse(gram: np.ndarray) -> np.ndarray:
    """The inverse of a symmetric positive-definite float32 matrix by Cholesky (LAPACK
    potrf/potri, half the work of a general inverse), mirrored to full."""
    from scipy.linalg import lapack

    chol, info = lapack.spotrf(gram, lower=True, overwrite_a=True)
    if info == 0:
        inv, info = lapack.spotri(chol, lower=True, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE Gram matrix is not positive definite ({info})")
    return np.tril(inv) + np.tril(inv, -1).T


def ease_weights(x: sp.csr_matrix, lam: float) -> np.ndarray:
    """EASE's item-item weights B = I - P / diag(P), P = (X^T X + lam I)^-1, in float32.
    With fewer creators than songs P comes from the creators x creators system instead
    (Woodbury: P = (I - X^T (X X^T + lam I)^-1 X) / lam), the cheaper of the two."""
    n_users, n_items = x.shape
    if n_users < n_items:
        dense = x.toarray().astype(np.float32)
        k = dense @ dense.T
        k[np.diag_indices_from(k)] += lam
        p = -(dense.T @ _spd_inverse(k) @ dense)
        p[np.diag_indices_from(p)] += 1.0
        p /= lam
    else:
        p = (x.T @ x).toarray().astype(np.float32)
        p[np.diag_indices_from(p)] += lam
        p = _spd_inverse(p)
    b = p / -np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return b


def _keep_strongest(dense: np.ndarray, k: int) -> sp.csr_matrix:
    """Each row's k largest weights by magnitude, sign kept: EASE's negative weights
    (songs that rarely go together) carry as much as its positive ones."""
    n_rows, n_cols = dense.shape
    k = min(k, n_cols)
    cols = np.argpartition(-np.abs(dense), k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(dense, cols, axis=1)
    rows = np.repeat(np.arange(n_rows), k)
    return sp.csr_matrix(
        (vals.ravel(), (rows, cols.ravel())), shape=(n_rows, n_cols), dtype=np.float32
    )


@dataclass
class EASE(SongRecommender):
    """EASE (Steck 2019): a closed-form item-item linear model on the confidence matrix,
    lam = 50. Only songs used by at least `min_creators` creators take part (a song one
    creator used teaches nothing about co-use, and at Last.fm's size this cuts 10k songs
    to 4k); the rest follow in a popularity tail. Each song keeps its `neighbours`
    strongest weights (by magnitude), so the payload is sparse like item-kNN's."""

    name: str = "ease"
    lam: float = 50.0
    min_creators: int = 2
    neighbours: int = 256
    _weights: sp.csr_matrix | None = field(default=None, repr=False)
    _kept: np.ndarray | None = field(default=None, repr=False)
    _tail: np.ndarray | None = field(default=None, repr=False)
    _usage: UsageMatrix | None = field(default=None, repr=False)

    def fit(self, usage: UsageMatrix) -> EASE:
        self._usage = usage
        counts = np.bincount(usage.uses.indices, minlength=usage.shape[1])
        self._kept = np.flatnonzero(counts >= self.min_creators).astype(np.int64)
        self._tail = (counts / (counts.max(initial=0) + 1.0)).astype(np.float32)
        if self._kept.size:
            b = ease_weights(usage.confidence()[:, self._kept].tocsr(), self.lam)
            self._weights = _keep_strongest(b, self.neighbours)
        else:
            self._weights = sp.csr_matrix((0, 0), dtype=np.float32)
        return self

    def scores(self, user_rows: np.ndarray) -> np.ndarray:
        """Kept songs by x_u B; the others below all of them, by how many creators used
        them (`_tail` is in [0, 1))."""
        rows = np.asarray(user_rows)
        out = np.broadcast_to(self._tail, (len(rows), self._tail.size)).copy()
        if self._kept.size:
            x = self._usage.confidence()[rows][:, self._kept]
            kept = np.asarray((x @ self._weights).todense(), dtype=np.float32)
            out += kept.min(axis=1, keepdims=True) - 1.0
            out[:, self._kept] = kept
        return out

    def params(self) -> dict[str, Any]:
        return {"lam": self.lam, "min_creators": self.min_creators, "neighbours": self.neighbours}

    def to_arrays(self) -> dict[str, np.ndarray]:
        w = self._weights
        return {
            "kept": self._kept,
            "tail": self._tail,
            "w_indptr": w.indptr,
            "w_indices": w.indices,
            "w_data": w.data,
        }

    def restore(self, usage: UsageMatrix, arrays: dict[str, np.ndarray]) -> None:
        self._usage = usage
        self._kept, self._tail = arrays["kept"], arrays["tail"]
        n = self._kept.size
        self._weights = sp.csr_matrix(
            (arrays["w_data"], arrays["w_indices"], arrays["w_indptr"]), shape=(n, n)
        )
