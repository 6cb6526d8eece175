"""Held-out evaluation shared by every recommender: ranking metrics at k, RMSE, and a
per-user hold-out split with a fixed seed, so that figures from different models (and
different engineers) are computed the same way and can be compared.

Everything here works on plain sequences and numpy arrays; nothing knows what an item is.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np


def precision_at_k(recommended: Sequence[Hashable], relevant: Iterable[Hashable], k: int) -> float:
    """Share of the top k that are relevant (divided by k even when fewer were given, so
    that a recommender cannot gain by answering less)."""
    if k <= 0:
        raise ValueError("k must be positive")
    rel = set(relevant)
    return sum(1 for item in list(recommended)[:k] if item in rel) / k


def recall_at_k(recommended: Sequence[Hashable], relevant: Iterable[Hashable], k: int) -> float:
    """Share of the relevant items found in the top k (0 when nothing is relevant)."""
    rel = set(relevant)
    if not rel:
        return 0.0
    return sum(1 for item in list(recommended)[:k] if item in rel) / len(rel)


def average_precision_at_k(
    recommended: Sequence[Hashable], relevant: Iterable[Hashable], k: int
) -> float:
    """AP@k normalised by min(|relevant|, k), the usual MAP@k definition (a perfect list
    scores 1 even when more than k items are relevant)."""
    rel = set(relevant)
    if not rel:
        return 0.0
    hits, total = 0, 0.0
    for rank, item in enumerate(list(recommended)[:k], start=1):
        if item in rel:
            hits += 1
            total += hits / rank
    return total / min(len(rel), k)


def ndcg_at_k(recommended: Sequence[Hashable], relevant: Iterable[Hashable], k: int) -> float:
    """Binary-relevance NDCG@k with log2 discounts."""
    rel = set(relevant)
    if not rel:
        return 0.0
    dcg = sum(
        1.0 / math.log2(rank + 1)
        for rank, item in enumerate(list(recommended)[:k], start=1)
        if item in rel
    )
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(rel), k) + 1))
    return dcg / ideal


@dataclass(frozen=True)
class RankingMetrics:
    """Means over the evaluated users (those with at least one held-out item)."""

    k: int
    users: int
    precision: float
    recall: float
    map: float
    ndcg: float

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        d = asdict(self)
        k = d.pop("k")
        return {
            f"{prefix}{name}@{k}" if name != "users" else f"{prefix}users": float(v)
            for name, v in d.items()
        }


def ranking_metrics(
    recommendations: Mapping[Hashable, Sequence[Hashable]],
    truth: Mapping[Hashable, Iterable[Hashable]],
    k: int = 10,
) -> RankingMetrics:
    """Mean precision/recall/MAP/NDCG@k over every user in `truth` with held-out items;
    a user missing from `recommendations` counts as an empty list (scores 0)."""
    p, r, ap, nd = [], [], [], []
    for user, relevant in truth.items():
        rel = set(relevant)
        if not rel:
            continue
        recs = list(recommendations.get(user, ()))
        p.append(precision_at_k(recs, rel, k))
        r.append(recall_at_k(recs, rel, k))
        ap.append(average_precision_at_k(recs, rel, k))
        nd.append(ndcg_at_k(recs, rel, k))
    n = len(p)

    def mean(xs: list[float]) -> float:
        return float(np.mean(xs)) if xs else 0.0

    return RankingMetrics(
        k=k, users=n, precision=mean(p), recall=mean(r), map=mean(ap), ndcg=mean(nd)
    )


def rmse(predicted: np.ndarray | Sequence[float], actual: np.ndarray | Sequence[float]) -> float:
    pred = np.asarray(predicted, dtype=np.float64)
    act = np.asarray(actual, dtype=np.float64)
    if pred.shape != act.shape:
        raise ValueError(f"shapes differ: {pred.shape} vs {act.shape}")
    if pred.size == 0:
        raise ValueError("rmse of nothing")
    return float(np.sqrt(np.mean((pred - act) ** 2)))


def holdout_mask(
    users: np.ndarray | Sequence[Hashable],
    fraction: float = 0.2,
    seed: int = 42,
    min_train: int = 1,
) -> np.ndarray:
    """Boolean mask of the rows to hold out: `fraction` of each user's rows (rounded,
    at least one when the user has more than `min_train` rows), chosen at random with a
    fixed seed. A user keeps at least `min_train` rows for training, so that every
    evaluated user has a history to be recommended from."""
    if not 0.0 < fraction < 1.0:
        raise ValueError("fraction must be between 0 and 1")
    codes = np.unique(np.asarray(users), return_inverse=True)[1].ravel()
    n = codes.size
    rng = np.random.default_rng(seed)
    # Random order within each user: sort by (user, random key).
    order = np.lexsort((rng.random(n), codes))
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    counts = np.diff(np.r_[starts, n])
    rank_in_user = np.arange(n) - np.repeat(starts, counts)
    n_test = np.maximum(np.rint(counts * fraction).astype(int), (counts > min_train).astype(int))
    n_test = np.minimum(n_test, np.maximum(counts - min_train, 0))
    mask_sorted = rank_in_user < np.repeat(n_test, counts)
    mask = np.zeros(n, dtype=bool)
    mask[order] = mask_sorted
    return mask
