"""Hashtag embeddings, related hashtags and weighted topic search (TopicTensor).

Training data is prepared the way TopicTensor did it: normalised tags, a blacklist of
non-topical tags, only tags used by at least `min_bloggers` different bloggers, each
blogger's favourite tags down-weighted (so one prolific blogger cannot dominate the
co-occurrence statistics), and tag order shuffled within a post (a post's tags are a
set, and Word2Vec windows must not learn the order people typed them in).

Three embeddings are fitted and measured on held-out posts with TopicTensor's metric:
Word2Vec skip-gram, Word2Vec CBOW and a PPMI + truncated SVD co-occurrence embedding;
a blend (concatenated, so cosine = mean of both cosines) is measured too. The default is
whichever measures best. Pure: frames and arrays in, dataclasses out.
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from engine.core.artifact_io import pack, unpack
from engine.core.blacklist import NON_TOPICAL
from engine.core.errors import BadQuery, close_matches
from engine.core.filters import Filters, check_k
from engine.core.like_rating import like_rating
from engine.core.recommendation import Answer, Recommendation
from engine.core.text import normalize_tag
from engine.tags.query import TopicQuery, parse_topic

METHODS = ("skipgram", "cbow", "ppmi")


@dataclass(frozen=True)
class TagConfig:
    """Everything configurable (the pipeline's `tags` config section)."""

    min_bloggers: int = (
        5  # 3 keeps personal brand tags (#rosafood) of namesakes; quality 0.4297 vs 0.4276
    )
    favourite_cap: int = 6  # a blogger contributes at most this many posts per tag
    blacklist: frozenset[str] = NON_TOPICAL
    extra_blacklist: frozenset[str] = frozenset()
    vector_size: int = 128  # PPMI-SVD measured best at 128 of 32/64/128/200 on both corpora
    window: int = 30  # larger than any post: a shuffled post is one bag of tags
    epochs: int = 10
    negative: int = 5
    method: str = "auto"  # auto | skipgram | cbow | ppmi | blend
    holdout: float = 0.1
    refit: bool = True  # refit the chosen method on all posts after measuring
    cds_alpha: float = 0.75  # PPMI context-distribution smoothing (Levy et al.)
    # blogger score = sim / (log(likes)^lam * log(followers)^phi * log(tags)^tau)
    lam: float = 0.0
    phi: float = 0.0
    tau: float = 0.0  # λ = φ = τ = 0 measured best on demo p@20 (τ 0.5: 0.985 single-tag)
    workers: int = 0  # 0 = all cores

    @classmethod
    def from_dict(cls, cfg: dict[str, Any] | None) -> TagConfig:
        cfg = dict(cfg or {})
        for key in ("blacklist", "extra_blacklist"):
            if key in cfg:
                cfg[key] = frozenset(normalize_tag(t) for t in cfg[key])
        unknown = set(cfg) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown tags config keys: {', '.join(sorted(unknown))}")
        out = cls(**cfg)
        for name in ("lam", "phi", "tau"):
            if not 0.0 <= getattr(out, name) <= 1.0:
                raise ValueError(f"tags config {name} must be in [0, 1]")
        if out.method not in (*METHODS, "blend", "auto"):
            raise ValueError(f"tags config method must be auto, blend or one of {METHODS}")
        return out

    @property
    def stop(self) -> frozenset[str]:
        return self.blacklist | self.extra_blacklist

    @property
    def n_workers(self) -> int:
        return self.workers or os.cpu_count() or 1


# ------------------------------------------------------------------ preparation
def clean_post_tags(tags: Sequence[str], stop: frozenset[str]) -> list[str]:
    """Normalised, de-duplicated, without blacklisted tags, numerals and one-letter tags."""
    seen: dict[str, None] = {}
    for raw in tags:
        tag = normalize_tag(raw)
        if len(tag) < 2 or tag in stop or tag.isdigit():
            continue
        seen.setdefault(tag, None)
    return list(seen)


def tag_bloggers(posts: list[list[str]], owners: Sequence[str]) -> Counter:
    """How many different bloggers used each tag."""
    pairs = {(o, t) for o, tags in zip(owners, posts, strict=True) for t in tags}
    return Counter(t for _, t in pairs)


def prepare_sentences(
    posts: list[list[str]], owners: Sequence[str], cfg: TagConfig, seed: int
) -> tuple[list[list[str]], dict[str, int]]:
    """Training sentences and the vocabulary (tag -> number of bloggers using it).

    `posts` are cleaned tag lists. A blogger's favourite tag is kept on only
    `favourite_cap` of their posts, chosen at random, so that a blogger who tags
    every one of 500 posts #mybrand adds as much co-occurrence as one who did it 6 times.
    """
    rng = np.random.default_rng(seed)
    bloggers = tag_bloggers(posts, owners)
    vocab = {t: n for t, n in bloggers.items() if n >= cfg.min_bloggers}
    kept = [[t for t in tags if t in vocab] for tags in posts]
    by_blogger_tag: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, (owner, tags) in enumerate(zip(owners, kept, strict=True)):
        for t in tags:
            by_blogger_tag[(owner, t)].append(i)
    drop: set[tuple[int, str]] = set()
    for (_, t), rows in by_blogger_tag.items():
        if len(rows) > cfg.favourite_cap:
            chosen = rng.choice(len(rows), size=len(rows) - cfg.favourite_cap, replace=False)
            drop.update((rows[j], t) for j in chosen)
    sentences = []
    for i, tags in enumerate(kept):
        tags = [t for t in tags if (i, t) not in drop] if drop else list(tags)
        if len(tags) >= 2:
            rng.shuffle(tags)
            sentences.append(tags)
    return sentences, vocab


# ------------------------------------------------------------------ embeddings
@dataclass
class Embedding:
    method: str
    tags: list[str]
    vectors: np.ndarray  # (n, d) float32, L2-normalised rows
    seconds: float = 0.0
    words_per_sec: float | None = None

    def index(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.tags)}


def _normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(norms > 0, norms, 1.0)


def fit_word2vec(
    sentences: list[list[str]], cfg: TagConfig, *, sg: bool, seed: int, epochs: int | None = None
) -> Embedding:
    """gensim Word2Vec with negative sampling; words/s is gensim's effective-words count
    over the training time (the figure its epoch log lines report)."""
    from gensim.models import Word2Vec

    model = Word2Vec(
        vector_size=cfg.vector_size,
        window=cfg.window,
        min_count=1,
        sg=int(sg),
        negative=cfg.negative,
        hs=0,
        workers=cfg.n_workers,
        seed=seed,
        sample=0,  # tags are already de-duplicated per post; frequent tags still topical
    )
    model.build_vocab(sentences)
    t0 = time.perf_counter()
    effective, _raw = model.train(
        sentences, total_examples=len(sentences), epochs=epochs or cfg.epochs
    )
    seconds = time.perf_counter() - t0
    tags = list(model.wv.index_to_key)
    return Embedding(
        "skipgram" if sg else "cbow",
        tags,
        _normalise(model.wv.vectors),
        seconds,
        effective / seconds if seconds > 0 else None,
    )


def fit_ppmi_svd(sentences: list[list[str]], cfg: TagConfig, seed: int) -> Embedding:
    """Co-occurrence within posts -> PPMI (with context smoothing) -> truncated SVD,
    vectors U·sqrt(S). Strong when there is too little text for Word2Vec."""
    from sklearn.utils.extmath import randomized_svd

    t0 = time.perf_counter()
    tags = sorted({t for s in sentences for t in s})
    pos = {t: i for i, t in enumerate(tags)}
    rows = np.repeat(np.arange(len(sentences)), [len(s) for s in sentences])
    cols = np.fromiter((pos[t] for s in sentences for t in s), dtype=np.int64, count=len(rows))
    x = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(sentences), len(tags))
    )
    x.data[:] = 1.0  # a tag counts once per post
    co = (x.T @ x).tocoo()
    keep = co.row != co.col
    r, c, n = co.row[keep], co.col[keep], co.data[keep].astype(np.float64)
    row_sum = np.bincount(r, weights=n, minlength=len(tags))
    col_sum = np.bincount(c, weights=n, minlength=len(tags)) ** cfg.cds_alpha
    total, ctx_total = n.sum(), col_sum.sum()
    pmi = np.log(n * ctx_total / (row_sum[r] * col_sum[c])) if total else n
    good = pmi > 0
    m = sparse.csr_matrix(
        (pmi[good].astype(np.float32), (r[good], c[good])), shape=(len(tags), len(tags))
    )
    dim = max(1, min(cfg.vector_size, len(tags) - 1))
    u, s, _ = randomized_svd(m, n_components=dim, random_state=seed, n_iter=5)
    return Embedding("ppmi", tags, _normalise(u * np.sqrt(s)), time.perf_counter() - t0)


def blend(a: Embedding, b: Embedding) -> Embedding:
    """Concatenate two embeddings on their shared tags: cosine = mean of the two cosines."""
    bi = b.index()
    tags = [t for t in a.tags if t in bi]
    ai = a.index()
    va = a.vectors[[ai[t] for t in tags]]
    vb = b.vectors[[bi[t] for t in tags]]
    return Embedding(
        "blend", tags, _normalise(np.hstack([va, vb]) / math.sqrt(2)), a.seconds + b.seconds
    )


# ------------------------------------------------------------------ quality metric
def nearest_table(vectors: np.ndarray, k: int, batch: int = 2048) -> np.ndarray:
    """The k nearest other rows of every row (cosine), best first."""
    n = len(vectors)
    k = min(k, n - 1)
    out = np.empty((n, k), dtype=np.int64)
    for a in range(0, n, batch):
        sims = vectors[a : a + batch] @ vectors.T
        sims[np.arange(len(sims)), np.arange(a, a + len(sims))] = -np.inf
        part = np.argpartition(-sims, k, axis=1)[:, :k] if k < n - 1 else np.argsort(-sims)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1)
        out[a : a + batch] = np.take_along_axis(part, order, axis=1)
    return out


def topic_quality(emb: Embedding, posts: list[list[str]], max_tags: int = 30) -> dict[str, float]:
    """TopicTensor's metric: for each of a held-out post's n known tags take its n nearest
    tags; quality = share of those n·n candidates that are among the post's other tags.
    Posts with fewer than two known tags say nothing and are left out."""
    idx = emb.index()
    known = [[idx[t] for t in p if t in idx][:max_tags] for p in posts]
    known = [k for k in known if len(k) >= 2]
    if not known:
        return {"quality": 0.0, "posts": 0}
    table = nearest_table(emb.vectors, max(len(k) for k in known))
    hits = total = 0
    for k in known:
        n = len(k)
        others = set(k)
        cand = table[k, :n]
        hits += int(np.isin(cand, list(others)).sum())
        total += n * n
    return {"quality": hits / total, "posts": len(known)}


# ------------------------------------------------------------------ the fitted model
@dataclass
class TagModel:
    """Tag vectors plus per-blogger topic vectors and display facts. Rows of `vectors`
    and of `blogger_matrix` are L2-normalised float32, so cosine is a dot product."""

    tags: list[str]
    vectors: np.ndarray
    tag_bloggers: np.ndarray  # int: bloggers using the tag
    tag_rating: np.ndarray  # engine.core.like_rating: log(1 + count) * adj_likes normalised 0..1
    handles: list[str]
    blogger_matrix: np.ndarray
    followers: np.ndarray  # float, NaN when unknown
    avg_likes: np.ndarray
    er: np.ndarray  # percent, NaN when followers unknown
    language: list[str]
    n_tags: np.ndarray  # distinct known tags per blogger
    bt_indptr: np.ndarray  # blogger -> (tag index, count) in CSR form
    bt_indices: np.ndarray
    bt_counts: np.ndarray
    method: str = "skipgram"
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._tag_pos = {t: i for i, t in enumerate(self.tags)}
        self._handle_pos = {h: i for i, h in enumerate(self.handles)}
        self._index = None

    # ------------------------------------------------------------ serialisation
    def to_bytes(self) -> bytes:
        arrays = {
            "tags": np.array(self.tags, dtype=str),
            "vectors": self.vectors.astype(np.float32),
            "tag_bloggers": self.tag_bloggers.astype(np.int32),
            "tag_rating": self.tag_rating.astype(np.float32),
            "handles": np.array(self.handles, dtype=str),
            "blogger_matrix": self.blogger_matrix.astype(np.float32),
            "followers": self.followers.astype(np.float64),
            "avg_likes": self.avg_likes.astype(np.float64),
            "er": self.er.astype(np.float64),
            "language": np.array(self.language, dtype=str),
            "n_tags": self.n_tags.astype(np.int32),
            "bt_indptr": self.bt_indptr.astype(np.int64),
            "bt_indices": self.bt_indices.astype(np.int32),
            "bt_counts": self.bt_counts.astype(np.int32),
        }
        meta = {"method": self.method, "params": self.params, "metrics": self.metrics}
        return pack(arrays, meta)

    @classmethod
    def from_bytes(cls, payload: bytes) -> TagModel:
        a, meta = unpack(payload)
        return cls(
            tags=a["tags"].tolist(),
            vectors=a["vectors"],
            tag_bloggers=a["tag_bloggers"],
            tag_rating=a["tag_rating"],
            handles=a["handles"].tolist(),
            blogger_matrix=a["blogger_matrix"],
            followers=a["followers"],
            avg_likes=a["avg_likes"],
            er=a["er"],
            language=a["language"].tolist(),
            n_tags=a["n_tags"],
            bt_indptr=a["bt_indptr"],
            bt_indices=a["bt_indices"],
            bt_counts=a["bt_counts"],
            method=meta.get("method", "skipgram"),
            params=meta.get("params", {}),
            metrics=meta.get("metrics", {}),
        )

    # ------------------------------------------------------------ lookups
    def blogger_vectors(self) -> tuple[list[str], np.ndarray]:
        """Handles and their L2-normalised float32 topic vectors (for thematic lookalikes)."""
        return list(self.handles), self.blogger_matrix

    def _tag_index(self):
        """Nearest-tag search: the shared nmslib index when it exists (exact numpy below
        its threshold), else exact numpy."""
        if self._index is None:
            try:
                from engine.core.index import VectorIndex

                self._index = VectorIndex.build(self.vectors)
            except ImportError:
                self._index = False
        return self._index

    def nearest_tags(
        self, vector: np.ndarray, k: int, exclude: set[int]
    ) -> list[tuple[int, float]]:
        index = self._tag_index()
        if index:
            return index.query(vector, k, exclude=exclude)
        sims = self.vectors @ vector
        if exclude:
            sims[list(exclude)] = -np.inf
        k = min(k, len(sims) - len(exclude))
        top = np.argpartition(-sims, k - 1)[:k] if 0 < k < len(sims) else np.arange(len(sims))
        top = top[np.argsort(-sims[top])][:k]
        return [(int(i), float(sims[i])) for i in top]

    def resolve(
        self, query: TopicQuery | str
    ) -> tuple[np.ndarray, list[tuple[str, float]], list[str]]:
        """The topic vector of a query, the terms used, and notes on unknown tags."""
        if isinstance(query, str):
            query = parse_topic(query)
        used, unknown = [], []
        for tag, weight in query.terms:
            if tag in self._tag_pos:
                used.append((tag, weight))
                continue
            close = close_matches(tag, self.tags)
            hint = f" (close known tags: {', '.join('#' + c for c in close)})" if close else ""
            unknown.append(f"#{tag} is not a known hashtag{hint}")
        if not used:
            raise BadQuery("None of these hashtags is known: " + "; ".join(unknown) + ".")
        notes = [f"{u}; went on without it." for u in unknown]
        vec = np.zeros(self.vectors.shape[1], dtype=np.float32)
        for tag, weight in used:
            vec += weight * self.vectors[self._tag_pos[tag]]
        norm = float(np.linalg.norm(vec))
        if norm < 1e-6:
            raise BadQuery("The weights cancel out, so the topic is empty; change a weight.")
        return vec / norm, used, notes

    def related_tags(self, query: TopicQuery | str, k: int = 20) -> Answer:
        """Tags nearest to the weighted sum of the query's tag vectors."""
        k = check_k(k)
        vec, used, notes = self.resolve(query)
        exclude = {self._tag_pos[t] for t, _ in used}
        results = []
        for i, sim in self.nearest_tags(vec, k, exclude):
            n, rating = int(self.tag_bloggers[i]), float(self.tag_rating[i])
            results.append(
                Recommendation(
                    id=self.tags[i],
                    label=f"#{self.tags[i]}",
                    score=sim,
                    why=f"similarity {sim:.2f}; used by {n} creators; like rating {rating:.2f}",
                    extra={"similarity": sim, "bloggers": n, "rating": rating},
                )
            )
        return Answer(results, notes, {"query": _terms_text(used), "method": self.method})

    def bloggers_for_topic(
        self,
        query: TopicQuery | str,
        k: int = 10,
        filters: Any = None,
        *,
        lam: float | None = None,
        phi: float | None = None,
        tau: float | None = None,
    ) -> Answer:
        """Creators by sim(topic, β) / (log(likes)^λ · log(followers)^φ · log(tags)^τ).

        Dividing by the logs keeps huge generalist accounts (many followers, many tags)
        from winning every topic by sheer breadth; λ, φ, τ default to the benchmark's pick.
        """
        k = check_k(k)
        vec, used, notes = self.resolve(query)
        lam = self.params.get("lam", 0.0) if lam is None else lam
        phi = self.params.get("phi", 0.0) if phi is None else phi
        tau = self.params.get("tau", 0.0) if tau is None else tau
        scores = self.scores(vec, lam, phi, tau)
        mask = self._filter_mask(filters)
        scores = np.where(mask, scores, -np.inf)
        n_ok = int(mask.sum())
        top = np.argsort(-scores, kind="stable")[: min(k, n_ok)]
        results = []
        for b in top:
            handle = self.handles[b]
            close = self._closest_tags(int(b), vec)
            why = (
                "posts with " + ", ".join(f"#{t} ({n}x)" for t, n in close)
                if close
                else "none of their tags is close to this topic"
            )
            sim = float(self.blogger_matrix[b] @ vec)
            results.append(
                Recommendation(
                    id=handle,
                    label=f"@{handle}",
                    score=float(scores[b]),
                    why=why,
                    extra=_blogger_extra(self, int(b), sim),
                )
            )
        if filters is not None and n_ok == 0:
            notes.append("No creator passes these filters.")
        return Answer(
            results,
            notes,
            {"query": _terms_text(used), "lam": lam, "phi": phi, "tau": tau, "method": self.method},
        )

    def scores(self, vec: np.ndarray, lam: float, phi: float, tau: float) -> np.ndarray:
        sims = self.blogger_matrix @ vec

        def damp(x: np.ndarray, power: float) -> np.ndarray:
            if power == 0:
                return np.ones(len(x))
            return np.log(np.maximum(np.nan_to_num(x, nan=math.e), math.e)) ** power

        denom = damp(self.avg_likes, lam) * damp(self.followers, phi) * damp(self.n_tags, tau)
        return sims / denom

    def _filter_mask(self, filters: Filters | None) -> np.ndarray:
        if not filters:
            return np.ones(len(self.handles), dtype=bool)
        return filters.mask(self.followers, self.er, self.language)

    def _closest_tags(self, b: int, vec: np.ndarray, n: int = 3) -> list[tuple[str, int]]:
        """The blogger's own tags nearest the topic, with how many posts carry each."""
        lo, hi = self.bt_indptr[b], self.bt_indptr[b + 1]
        idx, counts = self.bt_indices[lo:hi], self.bt_counts[lo:hi]
        if len(idx) == 0:
            return []
        sims = self.vectors[idx] @ vec
        order = np.argsort(-sims)[:n]
        return [(self.tags[int(idx[j])], int(counts[j])) for j in order if sims[j] > 0]


def _terms_text(terms: list[tuple[str, float]]) -> str:
    return str(TopicQuery(terms))


def _blogger_extra(model: TagModel, b: int, sim: float) -> dict[str, Any]:
    def num(x: float) -> float | None:
        return None if math.isnan(x) else float(x)

    return {
        "similarity": sim,
        "followers": num(model.followers[b]),
        "avg_likes": num(model.avg_likes[b]),
        "er": num(model.er[b]),
        "language": model.language[b] or None,
    }


# ------------------------------------------------------------------ fitting
@dataclass
class FitReport:
    quality: dict[str, float]  # method -> held-out quality
    chosen: str
    heldout_posts: int
    words_per_sec: dict[str, float]
    seconds: dict[str, float]


def split_posts(n: int, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of training and held-out posts (a fixed-seed random share)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    n_test = int(round(n * holdout)) if n >= 10 else 0
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def fit_embeddings(
    sentences: list[list[str]], cfg: TagConfig, seed: int, methods: Sequence[str]
) -> dict[str, Embedding]:
    out: dict[str, Embedding] = {}
    for m in methods:
        if m == "skipgram":
            out[m] = fit_word2vec(sentences, cfg, sg=True, seed=seed)
        elif m == "cbow":
            out[m] = fit_word2vec(sentences, cfg, sg=False, seed=seed)
        elif m == "ppmi":
            out[m] = fit_ppmi_svd(sentences, cfg, seed)
    return out


def choose_embedding(
    posts: list[list[str]], owners: Sequence[str], cfg: TagConfig, seed: int, log=lambda m: None
) -> tuple[Embedding, FitReport]:
    """Fit every method on the training posts, measure all on held-out posts, and return
    the chosen embedding (refitted on all posts when `cfg.refit`) with the report."""
    train_i, test_i = split_posts(len(posts), cfg.holdout, seed)
    tr_posts = [posts[i] for i in train_i]
    tr_owners = [owners[i] for i in train_i]
    sentences, _ = prepare_sentences(tr_posts, tr_owners, cfg, seed)
    if not sentences:
        raise ValueError("no post has two tags used by enough creators to learn from")
    methods = METHODS if cfg.method in ("auto", "blend") else (cfg.method,)
    embs = fit_embeddings(sentences, cfg, seed, methods)
    if cfg.method in ("auto", "blend"):
        embs["blend"] = blend(embs["skipgram"], embs["ppmi"])
    held = [posts[i] for i in test_i]
    quality = {m: topic_quality(e, held)["quality"] for m, e in embs.items()}
    for m, q in quality.items():
        log(f"tags: {m} held-out quality {q:.4f} ({embs[m].seconds:.1f}s)")
    chosen = (
        max(quality, key=lambda m: (quality[m], m == "ppmi"))
        if cfg.method == "auto"
        else cfg.method
    )
    if not held:
        chosen = "skipgram" if cfg.method == "auto" else cfg.method
    report = FitReport(
        quality=quality,
        chosen=chosen,
        heldout_posts=len(held),
        words_per_sec={m: e.words_per_sec for m, e in embs.items() if e.words_per_sec},
        seconds={m: e.seconds for m, e in embs.items()},
    )
    if cfg.refit and len(held):
        all_sentences, _ = prepare_sentences(posts, owners, cfg, seed)
        parts = ("skipgram", "ppmi") if chosen == "blend" else (chosen,)
        refit = fit_embeddings(all_sentences, cfg, seed, parts)
        final = blend(refit["skipgram"], refit["ppmi"]) if chosen == "blend" else refit[chosen]
    else:
        final = embs[chosen]
    return final, report


def post_frame_tags(posts: pd.DataFrame, cfg: TagConfig) -> list[list[str]]:
    return [
        clean_post_tags(t if isinstance(t, list | tuple | np.ndarray) else [], cfg.stop)
        for t in posts["hashtags"]
    ]


def tag_ratings(
    posts_tags: list[list[str]], likes: np.ndarray, raw_counts: np.ndarray, tags: list[str]
) -> np.ndarray:
    """The like rating (engine.core.like_rating) of each tag in `tags`; a post's credit is
    split over all the hashtags it carried (`raw_counts`), kept or not."""
    pos = {t: i for i, t in enumerate(tags)}
    ids, owners = [], []
    for p, post in enumerate(posts_tags):
        for t in post:
            i = pos.get(t)
            if i is not None:
                ids.append(i)
                owners.append(p)
    _, rating = like_rating(
        np.asarray(ids, dtype=np.int64),
        np.asarray(owners, dtype=np.int64),
        np.asarray(likes),
        np.asarray(raw_counts),
        len(tags),
    )
    return rating.astype(np.float32)


def fit_tag_model(
    posts: pd.DataFrame,
    influencers: pd.DataFrame,
    cfg: TagConfig | None = None,
    seed: int = 42,
    log=lambda m: None,
) -> tuple[TagModel, FitReport]:
    """Fit from the dataset frames (posts: handle, hashtags, likes, comments;
    influencers: handle, followers, language)."""
    cfg = cfg or TagConfig()
    posts = posts.reset_index(drop=True)
    cleaned = post_frame_tags(posts, cfg)
    owners = posts["handle"].astype(str).tolist()
    emb, report = choose_embedding(cleaned, owners, cfg, seed, log)
    tag_pos = emb.index()
    counts = tag_bloggers(cleaned, owners)
    n_bloggers = np.array([counts.get(t, 0) for t in emb.tags], dtype=np.int32)
    likes = pd.to_numeric(posts.get("likes"), errors="coerce").fillna(0).to_numpy(float)
    comments = pd.to_numeric(posts.get("comments"), errors="coerce").fillna(0).to_numpy(float)
    raw_counts = np.array(
        [len(t) if isinstance(t, list | tuple | np.ndarray) else 0 for t in posts["hashtags"]]
    )
    rating = tag_ratings(cleaned, likes, raw_counts, emb.tags)

    # blogger topic vectors: β = sum of the vectors of the tags in their posts
    handles = sorted(set(owners))
    hpos = {h: i for i, h in enumerate(handles)}
    rows, cols = [], []
    for owner, tags in zip(owners, cleaned, strict=True):
        for t in tags:
            j = tag_pos.get(t)
            if j is not None:
                rows.append(hpos[owner])
                cols.append(j)
    bt = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(handles), len(emb.tags))
    )
    bt.sum_duplicates()
    beta = _normalise(bt @ emb.vectors)

    owner_idx = np.array([hpos[o] for o in owners], dtype=np.int64)
    n_posts = np.bincount(owner_idx, minlength=len(handles)).astype(float)
    avg_likes = np.bincount(owner_idx, weights=likes, minlength=len(handles)) / np.maximum(
        n_posts, 1
    )
    avg_comments = np.bincount(owner_idx, weights=comments, minlength=len(handles)) / np.maximum(
        n_posts, 1
    )
    inf = influencers.drop_duplicates("handle").set_index("handle") if len(influencers) else None
    followers = np.full(len(handles), np.nan)
    language = [""] * len(handles)
    if inf is not None:
        f = pd.to_numeric(inf["followers"], errors="coerce").reindex(handles)
        followers = f.to_numpy(dtype=float, na_value=np.nan)
        if "language" in inf:
            language = [
                str(x).lower() if isinstance(x, str) else ""
                for x in inf["language"].reindex(handles)
            ]
    with np.errstate(divide="ignore", invalid="ignore"):
        er = np.where(followers > 0, (avg_likes + avg_comments) / followers * 100.0, np.nan)

    metrics: dict[str, Any] = {f"quality.{m}": round(q, 5) for m, q in report.quality.items()}
    metrics["quality"] = round(report.quality.get(report.chosen, 0.0), 5)
    metrics["heldout_posts"] = report.heldout_posts
    metrics["tags"] = len(emb.tags)
    metrics["bloggers"] = len(handles)
    for m, w in report.words_per_sec.items():
        metrics[f"words_per_sec.{m}"] = round(w)
    params = {
        "method": report.chosen,
        "lam": cfg.lam,
        "phi": cfg.phi,
        "tau": cfg.tau,
        "min_bloggers": cfg.min_bloggers,
        "favourite_cap": cfg.favourite_cap,
        "vector_size": cfg.vector_size,
        "epochs": cfg.epochs,
    }
    model = TagModel(
        tags=emb.tags,
        vectors=emb.vectors,
        tag_bloggers=n_bloggers,
        tag_rating=rating,
        handles=handles,
        blogger_matrix=beta,
        followers=followers,
        avg_likes=avg_likes,
        er=er,
        language=language,
        n_tags=np.diff(bt.indptr).astype(np.int32),
        bt_indptr=bt.indptr.astype(np.int64),
        bt_indices=bt.indices.astype(np.int32),
        bt_counts=bt.data.astype(np.int32),
        method=report.chosen,
        params=params,
        metrics=metrics,
    )
    return model, report


def with_params(model: TagModel, **params: float) -> TagModel:
    """A copy of the model with other default λ, φ, τ (for the benchmark's grid)."""
    return replace(model, params={**model.params, **params})
