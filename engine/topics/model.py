"""Fixed topics: tag embeddings clustered into named themes (TopicTensor's clustered tag
vectors), so that `/topics` can list what the creators talk about and the influencer map
can colour each creator by theme.

Pure: tag names, tag vectors and usage counts in, a `TopicModel` out. Several clustering
methods are offered because none wins everywhere: k-means and average-linkage on cosine
need a number of topics (picked here by silhouette), HDBSCAN finds it alone but needs a
low-dimensional space (PCA first) and leaves outliers unassigned. `benchmarks.bench_topics`
scores them against the demo's planted topics.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from engine.core.artifact_io import pack_model, unpack_model
from engine.core.blacklist import SPAM_CLUSTER
from engine.core.index import l2_normalise

KIND = "topics"
# The layout of its payload; raise it (and the kind's model_version) when it changes.
FORMAT_VERSION = 1

METHODS = ("auto", "kmeans", "agglomerative", "hdbscan")
# Average-linkage needs the full n x n distance matrix; above this many tags "auto" uses
# k-means (benchmarks.bench_topics: both recover the demo's planted topics exactly,
# agglomerative 5x faster at 650 tags and slightly better on the small demo).
AGGLOMERATIVE_MAX_TAGS = 6000
NOISE = -1


@dataclass(frozen=True)
class TopicConfig:
    method: str = "auto"
    k: int | None = None  # fixed number of clusters; None = choose by silhouette
    k_range: tuple[int, int] = (4, 40)
    min_cluster_size: int = 3  # smaller clusters are dropped (and HDBSCAN's minimum)
    reduce: str = "pca"  # HDBSCAN's reduced space: "pca" (pca_dims) or "tsne" (2-D)
    pca_dims: int = 10
    max_blacklisted_share: float = 0.5
    min_cohesion: float = 0.15  # mean cosine of members to the centroid
    min_creators: int = 1  # creators whose nearest topic it is (when creators are given)
    name_tags: int = 3

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> TopicConfig:
        d = dict(d or {})
        if "k_range" in d:
            d["k_range"] = tuple(d["k_range"])
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass(frozen=True)
class Topic:
    id: int
    name: str
    top_tags: list[str]
    n_tags: int
    cohesion: float
    creators: int = 0


@dataclass(frozen=True)
class DroppedCluster:
    top_tags: list[str]
    n_tags: int
    reason: str


# ----------------------------------------------------------------- clustering
def _silhouette(x: np.ndarray, labels: np.ndarray, seed: int) -> float:
    from sklearn.metrics import silhouette_score

    mask = labels != NOISE
    if len(set(labels[mask].tolist())) < 2 or mask.sum() < 3:
        return -1.0
    n = int(mask.sum())
    return float(
        silhouette_score(
            x[mask], labels[mask], metric="cosine", sample_size=min(n, 3000), random_state=seed
        )
    )


def _k_candidates(n: int, k_range: tuple[int, int]) -> list[int]:
    lo, hi = max(2, k_range[0]), min(k_range[1], max(2, n // 3))
    if hi <= lo:
        return [max(2, min(lo, n - 1))]
    step = max(1, (hi - lo) // 12)
    return list(range(lo, hi + 1, step))


def _kmeans(x: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(x)


def _agglomerative(x: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    return AgglomerativeClustering(n_clusters=k, metric="cosine", linkage="average").fit_predict(x)


def _best_k(
    x: np.ndarray, fit: Callable[[np.ndarray, int, int], np.ndarray], cfg: TopicConfig, seed: int
) -> tuple[np.ndarray, int]:
    """The number of topics is unknown in production, so take the k whose clustering
    has the best cosine silhouette."""
    if cfg.k is not None:
        k = max(2, min(cfg.k, len(x) - 1))
        return fit(x, k, seed), k
    best: tuple[float, np.ndarray, int] | None = None
    for k in _k_candidates(len(x), cfg.k_range):
        labels = fit(x, k, seed)
        score = _silhouette(x, labels, seed)
        if best is None or score > best[0]:
            best = (score, labels, k)
    assert best is not None
    return best[1], best[2]


def _reduce(x: np.ndarray, cfg: TopicConfig, seed: int) -> np.ndarray:
    """Density is meaningless in 64-d, so HDBSCAN runs on a few dimensions: PCA (then
    re-normalised, so Euclidean distance is monotone in cosine) or a 2-D cosine t-SNE
    (the usual UMAP-then-HDBSCAN recipe with sklearn's t-SNE standing in for UMAP)."""
    from sklearn.decomposition import PCA

    if cfg.reduce == "tsne" and len(x) > 10:
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, (len(x) - 1) / 3.5))
        return TSNE(
            2, perplexity=perplexity, metric="cosine", init="pca", random_state=seed
        ).fit_transform(x)
    if cfg.reduce not in ("pca", "tsne"):
        raise ValueError(f"unknown reduction {cfg.reduce!r}; expected pca or tsne")
    dims = max(2, min(cfg.pca_dims, x.shape[1], len(x) - 1))
    return l2_normalise(PCA(n_components=dims, random_state=seed).fit_transform(x))


def _hdbscan(x: np.ndarray, cfg: TopicConfig, seed: int) -> np.ndarray:
    from sklearn.cluster import HDBSCAN

    return HDBSCAN(
        min_cluster_size=max(2, cfg.min_cluster_size), min_samples=2, copy=True
    ).fit_predict(_reduce(x, cfg, seed))


def resolve_method(method: str, n_tags: int) -> str:
    if method == "auto":
        return "agglomerative" if n_tags <= AGGLOMERATIVE_MAX_TAGS else "kmeans"
    if method not in METHODS:
        raise ValueError(f"unknown topic clustering method {method!r}; expected one of {METHODS}")
    return method


def cluster_labels(x: np.ndarray, cfg: TopicConfig, seed: int = 42) -> np.ndarray:
    """Cluster L2-normalised tag vectors; -1 marks a tag left outside every cluster."""
    x = l2_normalise(x)
    cfg = replace(cfg, method=resolve_method(cfg.method, len(x)))
    if len(x) < 3:
        return np.zeros(len(x), dtype=np.int64)
    if cfg.method == "kmeans":
        return _best_k(x, _kmeans, cfg, seed)[0]
    if cfg.method == "agglomerative":
        return _best_k(x, _agglomerative, cfg, seed)[0]
    if cfg.method == "hdbscan":
        return _hdbscan(x, cfg, seed)
    raise ValueError(f"unknown topic clustering method {cfg.method!r}; expected one of {METHODS}")


def _nearest(vectors: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise nearest centroid by cosine and its similarity; (-1, 0) for a zero row."""
    v = np.asarray(vectors, dtype=np.float32)
    if len(centroids) == 0 or len(v) == 0:
        return np.full(len(v), NOISE, dtype=np.int64), np.zeros(len(v), dtype=np.float32)
    norms = np.linalg.norm(v, axis=1)
    sims = l2_normalise(v) @ centroids.T
    best = sims.argmax(axis=1)
    best_sim = sims[np.arange(len(v)), best]
    return (
        np.where(norms > 0, best, NOISE).astype(np.int64),
        np.where(norms > 0, best_sim, 0.0).astype(np.float32),
    )


# ----------------------------------------------------------------- the model
@dataclass
class TopicModel:
    """Kept topics with their centroids, every tag's topic (-1 for none) and every
    known creator's topic. Topic ids are row numbers of `centroids`."""

    topics: list[Topic]
    centroids: np.ndarray  # (k, d) L2-normalised
    tags: np.ndarray  # (n_tags,) str
    tag_topic: np.ndarray  # (n_tags,) int
    handles: np.ndarray  # (n_creators,) str
    handle_topic: np.ndarray  # (n_creators,) int
    handle_sim: np.ndarray  # (n_creators,) float32, cosine to the topic's centroid
    method: str = "kmeans"
    metrics: dict[str, float] = field(default_factory=dict)
    dropped: list[DroppedCluster] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._handle_row = {str(h): i for i, h in enumerate(self.handles.tolist())}

    def name(self, topic_id: int) -> str:
        return self.topics[topic_id].name if 0 <= topic_id < len(self.topics) else "other"

    def assign(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest topic centroid (cosine) for each row; (-1, 0) for a zero vector."""
        return _nearest(vectors, self.centroids)

    def topic_of(self, handle: str) -> int:
        row = self._handle_row.get(handle)
        return int(self.handle_topic[row]) if row is not None else NOISE

    def topics_of(self, handles: Sequence[str]) -> np.ndarray:
        return np.array([self.topic_of(h) for h in handles], dtype=np.int64)

    # ----------------------------------------------------------- persistence
    def to_bytes(self) -> bytes:
        meta = {
            "method": self.method,
            "metrics": self.metrics,
            "topics": [
                {
                    "id": t.id,
                    "name": t.name,
                    "top_tags": t.top_tags,
                    "n_tags": t.n_tags,
                    "cohesion": t.cohesion,
                    "creators": t.creators,
                }
                for t in self.topics
            ],
            "dropped": [
                {"top_tags": d.top_tags, "n_tags": d.n_tags, "reason": d.reason}
                for d in self.dropped
            ],
        }
        arrays = {
            "centroids": self.centroids.astype(np.float32),
            "tags": self.tags.astype(str),
            "tag_topic": self.tag_topic.astype(np.int32),
            "handles": self.handles.astype(str),
            "handle_topic": self.handle_topic.astype(np.int32),
            "handle_sim": self.handle_sim.astype(np.float32),
        }
        return pack_model(KIND, FORMAT_VERSION, arrays, meta)

    @classmethod
    def from_bytes(cls, payload: bytes) -> TopicModel:
        arrays, meta = unpack_model(payload, KIND, FORMAT_VERSION)
        return cls(
            topics=[Topic(**t) for t in meta["topics"]],
            centroids=arrays["centroids"],
            tags=arrays["tags"],
            tag_topic=arrays["tag_topic"].astype(np.int64),
            handles=arrays["handles"],
            handle_topic=arrays["handle_topic"].astype(np.int64),
            handle_sim=arrays["handle_sim"],
            method=meta.get("method", ""),
            metrics=meta.get("metrics", {}),
            dropped=[DroppedCluster(**d) for d in meta.get("dropped", [])],
        )


def _rank_members(
    x: np.ndarray, members: np.ndarray, centroid: np.ndarray, usage: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Members ordered by closeness to the centroid weighted by how many creators use
    them, so that the name is made of common, central tags (not rare ones)."""
    sims = x[members] @ centroid
    score = np.clip(sims, 0, None) * np.log1p(usage[members])
    order = np.argsort(-score, kind="stable")
    return members[order], sims


@dataclass(frozen=True)
class TagSpace:
    """What topics are fitted from: a tag model's tags and vectors, how often each tag
    was used (`usage[i]` ranks names: common tags name a topic) and, to give every
    creator a topic, the creators' vectors in the same space."""

    tags: Sequence[str]
    vectors: np.ndarray
    usage: np.ndarray | None = None
    handles: Sequence[str] = ()
    blogger_vectors: np.ndarray | None = None


def fit(
    data: TagSpace,
    config: TopicConfig | None = None,
    *,
    blacklist: Collection[str] = SPAM_CLUSTER,
    seed: int = 42,
) -> TopicModel:
    """Cluster the tags, drop useless clusters (too small, mostly blacklisted tags, too
    diffuse, nobody's nearest topic), name the rest by their top tags and give each
    creator its nearest topic."""
    cfg = config or TopicConfig()
    tags, tag_vectors, usage = data.tags, data.vectors, data.usage
    handles, blogger_vectors = data.handles, data.blogger_vectors
    tag_arr = np.asarray([str(t) for t in tags], dtype=str)
    x = l2_normalise(tag_vectors)
    if len(tag_arr) != len(x):
        raise ValueError(f"{len(tag_arr)} tags but {len(x)} tag vectors")
    use = np.ones(len(x)) if usage is None else np.asarray(usage, dtype=np.float64)
    raw = cluster_labels(x, cfg, seed) if len(x) else np.zeros(0, dtype=np.int64)
    black = set(blacklist)

    kept: list[tuple[np.ndarray, np.ndarray, float, list[str]]] = []
    dropped: list[DroppedCluster] = []
    for label in sorted(set(raw.tolist()) - {NOISE}):
        members = np.flatnonzero(raw == label)
        centroid = l2_normalise(x[members].mean(axis=0, keepdims=True))[0]
        ranked, sims = _rank_members(x, members, centroid, use)
        top = [str(tag_arr[i]) for i in ranked[:8]]
        cohesion = float(sims.mean())
        black_share = float(np.mean([str(tag_arr[i]) in black for i in members]))
        if len(members) < cfg.min_cluster_size:
            dropped.append(DroppedCluster(top, len(members), "too small"))
        elif black_share > cfg.max_blacklisted_share:
            dropped.append(DroppedCluster(top, len(members), "mostly blacklisted tags"))
        elif cohesion < cfg.min_cohesion:
            dropped.append(DroppedCluster(top, len(members), f"too diffuse ({cohesion:.2f})"))
        else:
            good = [t for t in top if t not in black] or top
            kept.append((members, centroid, cohesion, good))

    handle_arr = np.asarray([str(h) for h in handles], dtype=str)
    bvecs = blogger_vectors if blogger_vectors is not None and len(handle_arr) else None
    if bvecs is not None and kept:
        # A topic that is nobody's nearest (personal brand tags shared by a few
        # namesakes, say) describes no creator: drop it, then re-assign.
        nearest = _nearest(bvecs, np.stack([k[1] for k in kept]))[0]
        counts = np.bincount(nearest[nearest >= 0], minlength=len(kept))
        for (members, _, _, good), n in zip(kept, counts, strict=True):
            if n < cfg.min_creators:
                dropped.append(DroppedCluster(good, len(members), f"only {n} creators"))
        kept = [k for k, n in zip(kept, counts, strict=True) if n >= cfg.min_creators]

    # Largest topics first, so ids read as an ordered list.
    kept.sort(key=lambda k: -len(k[0]))
    tag_topic = np.full(len(x), NOISE, dtype=np.int64)
    centroids = np.zeros((len(kept), x.shape[1] if x.ndim == 2 else 0), dtype=np.float32)
    for tid, (members, centroid, _, _) in enumerate(kept):
        tag_topic[members] = tid
        centroids[tid] = centroid
    if bvecs is not None:
        handle_topic, handle_sim = _nearest(bvecs, centroids)
    else:
        handle_topic = np.full(len(handle_arr), NOISE, dtype=np.int64)
        handle_sim = np.zeros(len(handle_arr), dtype=np.float32)
    creators = np.bincount(handle_topic[handle_topic >= 0], minlength=len(kept))

    topics = [
        Topic(
            id=tid,
            name=" · ".join(good[: cfg.name_tags]),
            top_tags=good,
            n_tags=len(members),
            cohesion=round(cohesion, 4),
            creators=int(creators[tid]),
        )
        for tid, (members, _, cohesion, good) in enumerate(kept)
    ]
    metrics = {
        "silhouette": round(_silhouette(x, tag_topic, seed), 4) if len(x) else -1.0,
        "topics": float(len(topics)),
        "dropped_clusters": float(len(dropped)),
        "tags_in_topics": round(float(np.mean(tag_topic >= 0)), 4) if len(x) else 0.0,
    }
    return TopicModel(
        topics,
        centroids,
        tag_arr,
        tag_topic,
        handle_arr,
        handle_topic,
        handle_sim,
        resolve_method(cfg.method, len(x)),
        metrics,
        dropped,
    )


# ------------------------------------------------------------- scoring
def score_against_truth(
    tags: Sequence[str], tag_topic: np.ndarray, truth_topic_tags: dict[str, Sequence[str]]
) -> dict[str, float]:
    """How well clusters recover planted topics: adjusted Rand index and purity over the
    planted tags present in the vocabulary (a tag planted in two topics is skipped);
    unclustered tags count as one extra 'none' cluster, so dropping tags costs ARI, and
    coverage says what share of planted tags landed in a kept topic."""
    from sklearn.metrics import adjusted_rand_score

    planted: dict[str, str] = {}
    ambiguous: set[str] = set()
    for topic, ttags in truth_topic_tags.items():
        for t in ttags:
            if t in planted and planted[t] != topic:
                ambiguous.add(t)
            planted[t] = topic
    row = {str(t): i for i, t in enumerate(tags)}
    pairs = [
        (planted[t], int(tag_topic[row[t]])) for t in planted if t in row and t not in ambiguous
    ]
    if not pairs:
        return {"ari": 0.0, "purity": 0.0, "coverage": 0.0, "planted_tags": 0.0}
    truth = [p[0] for p in pairs]
    pred = [p[1] for p in pairs]
    clustered = [(t, p) for t, p in pairs if p != NOISE]
    majority_hits = 0
    for label in {p for _, p in clustered}:
        members = [t for t, p in clustered if p == label]
        majority_hits += max(members.count(t) for t in set(members))
    return {
        "ari": round(float(adjusted_rand_score(truth, pred)), 4),
        "purity": round(majority_hits / len(clustered), 4) if clustered else 0.0,
        "coverage": round(len(clustered) / len(pairs), 4),
        "planted_tags": float(len(pairs)),
    }


def creator_accuracy(
    handles: Sequence[str], handle_topic: np.ndarray, truth_topic: dict[str, str]
) -> float:
    """Share of creators whose topic's majority planted topic is their own planted topic
    (purity of the creator assignment; unassigned creators count as misses)."""
    pairs = [
        (truth_topic[h], int(t))
        for h, t in zip(handles, handle_topic, strict=True)
        if h in truth_topic
    ]
    if not pairs:
        return 0.0
    majority: dict[int, str] = {}
    for label in {p for _, p in pairs if p != NOISE}:
        members = [t for t, p in pairs if p == label]
        majority[label] = max(set(members), key=members.count)
    hits = sum(1 for t, p in pairs if p != NOISE and majority[p] == t)
    return round(hits / len(pairs), 4)
