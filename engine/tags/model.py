"""Hashtag embeddings, related hashtags and weighted topic search (TopicTensor).

Training data is prepared the way TopicTensor did it: normalised tags, a blacklist of
non-topical tags, only tags used by at least `min_bloggers` different bloggers, each
blogger's favourite tags down-weighted (so one prolific blogger cannot dominate the
co-occurrence statistics), and tag order shuffled within a post (a post's tags are a
set, and Word2Vec windows must not learn the order people typed them in).

Dense tag vectors (topic search, creator vectors, the topics map) come from a PPMI +
truncated SVD co-occurrence embedding; Word2Vec skip-gram and CBOW and their blend are
fitted only on request (`word2vec`, or `method`), since they never won and cost most
of the fit. Related hashtags rank by Ochiai co-occurrence scores (sparse rows), which
beat the vectors and plain sparse PPMI cosine on held-out real posts; every candidate
is measured with TopicTensor's metric and the best ships. Pure: frames and arrays in,
dataclasses out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import sparse

from engine.core.artifact_io import pack_model, unpack_model
from engine.core.dataset import Dataset
from engine.core.engagement import creator_engagement, recent_posts
from engine.core.errors import BadQuery, NotEnoughData, close_matches
from engine.core.filters import Filters, check_k
from engine.core.index import l2_normalise, top_k
from engine.core.like_rating import like_rating, rating_from_sums
from engine.core.recommendation import Answer, Recommendation
from engine.tags.embeddings import (
    Cooc,
    Embedding,
    Related,
    blend,
    fit_ochiai,
    fit_ppmi_svd,
    fit_sparse_ppmi,
    fit_word2vec,
    topic_quality,
)
from engine.tags.lift import creator_lift, post_counts, related_lift
from engine.tags.prepare import METHODS, TagConfig, clean_post_tags, prepare_sentences, tag_bloggers
from engine.tags.query import TopicQuery, parse_topic
from engine.tags.spread import effective_creators, short_note, spread_ranked, used_by

KIND = "tags"
# The layout of its payload; raise it (and the kind's model_version) when it changes.
FORMAT_VERSION = 1

if TYPE_CHECKING:
    from engine.core.index import CreatorSpace


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
    er: np.ndarray  # percent, robust (engine.core.engagement), NaN when unknown
    language: list[str]
    n_tags: np.ndarray  # distinct known tags per blogger
    bt_indptr: np.ndarray  # blogger -> (tag index, count) in CSR form
    bt_indices: np.ndarray
    bt_counts: np.ndarray
    method: str = "skipgram"
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    # related-tag score rows over `tags` (None: related tags by vector cosine)
    related: sparse.csr_matrix | None = None
    related_method: str = "vectors"
    # bool per blogger: every recent post hides its likes (ER unknown for that reason);
    # None for payloads before model_version 3
    er_hidden: np.ndarray | None = None
    # How the fit chose and measured (not stored: training's record, in the registry).
    report: FitReport | None = field(default=None, repr=False, compare=False)

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
        if self.er_hidden is not None:
            arrays["er_hidden"] = self.er_hidden.astype(np.uint8)
        if self.related is not None:
            arrays["rel_indptr"] = self.related.indptr.astype(np.int64)
            arrays["rel_indices"] = self.related.indices.astype(np.int32)
            arrays["rel_scores"] = self.related.data.astype(np.float32)
        meta = {
            "method": self.method,
            "params": self.params,
            "metrics": self.metrics,
            "related_method": self.related_method,
        }
        return pack_model(KIND, FORMAT_VERSION, arrays, meta)

    @classmethod
    def from_bytes(cls, payload: bytes) -> TagModel:
        a, meta = unpack_model(payload, KIND, FORMAT_VERSION)
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
            related=(
                sparse.csr_matrix(
                    (a["rel_scores"], a["rel_indices"], a["rel_indptr"]),
                    shape=(len(a["tags"]), len(a["tags"])),
                )
                if "rel_indptr" in a
                else None
            ),
            related_method=meta.get("related_method", "vectors"),
            er_hidden=a["er_hidden"].astype(bool) if "er_hidden" in a else None,
        )

    # ------------------------------------------------------------ lookups
    def creator_vectors(self) -> tuple[list[str], np.ndarray]:
        """Handles and their L2-normalised float32 topic vectors (for thematic lookalikes)."""
        return list(self.handles), self.blogger_matrix

    def creator_space(self) -> CreatorSpace:
        """The creators' topic vectors with an exact index, built on first use and kept
        with this model (a reload brings a new model, hence a new space)."""
        from engine.core.index import CreatorSpace

        space = self.__dict__.get("_creator_space")
        if space is None:
            space = CreatorSpace.exact(self.handles, self.blogger_matrix)
            self.__dict__["_creator_space"] = space
        return space

    def warm(self) -> None:
        """Build the nearest-tag index the vector fallback of the first query would
        build: a server runs this before swapping the model in."""
        self._tag_index()

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
        used, unknown, swapped = [], [], []
        for tag, weight in query.terms:
            if tag in self._tag_pos:
                used.append((tag, weight))
                continue
            close = close_matches(tag, self.tags)
            variant = next((v for v in tag_variants(tag) if v in self._tag_pos), None)
            if variant is None and len(close) == 1:  # one clear near-spelling: a typo
                variant = close[0]
            if variant is not None:
                used.append((variant, weight))
                swapped.append(f"#{tag} is not in the data; used #{variant}.")
                continue
            hint = f" (close known tags: {', '.join('#' + c for c in close)})" if close else ""
            unknown.append(f"#{tag} is not a known hashtag{hint}")
        if not used:
            raise BadQuery("None of these hashtags is known: " + "; ".join(unknown) + ".")
        notes = swapped + [f"{u}; went on without it." for u in unknown]
        vec = np.zeros(self.vectors.shape[1], dtype=np.float32)
        for tag, weight in used:
            vec += weight * self.vectors[self._tag_pos[tag]]
        norm = float(np.linalg.norm(vec))
        if norm < 1e-6:
            raise BadQuery("The weights cancel out, so the topic is empty; change a weight.")
        return vec / norm, used, notes

    def related_scores(
        self, used: list[tuple[str, float]], k: int, exclude: set[int]
    ) -> list[tuple[int, float]]:
        """Best k tags by the weighted sum of the query tags' related-score rows (a
        negative weight pushes a tag's co-occurring tags down); only positive sums."""
        assert self.related is not None
        total = np.zeros(len(self.tags), dtype=np.float64)
        for tag, weight in used:
            i = self._tag_pos[tag]
            lo, hi = self.related.indptr[i], self.related.indptr[i + 1]
            total[self.related.indices[lo:hi]] += weight * self.related.data[lo:hi]
        if exclude:
            total[list(exclude)] = 0.0
        cand = np.flatnonzero(total > 0)
        if len(cand) > k:
            cand = cand[np.argpartition(-total[cand], k - 1)[:k]]
        cand = cand[np.argsort(-total[cand], kind="stable")]
        return [(int(i), float(total[i])) for i in cand]

    def spread(self) -> np.ndarray:
        """Effective creators behind each tag (engine.tags.spread), computed once."""
        eff = self.__dict__.get("_spread")
        if eff is None:
            eff = effective_creators(
                self.bt_indptr, self.bt_indices, self.bt_counts, len(self.tags)
            )
            self.__dict__["_spread"] = eff
        return eff

    def like_percentile(self, i: int) -> float:
        """Where tag `i`'s like rating stands among all tags (0-100), which a person can
        read where the raw rating (log count x normalised likes) says nothing."""
        return 100.0 * float(np.mean(self.tag_rating < self.tag_rating[i]))

    def related_tags(self, query: TopicQuery | str, k: int = 20) -> Answer:
        """Tags with the best related-score sum (Ochiai by default) over the weighted
        query tags, or nearest to the weighted sum of their vectors."""
        k = check_k(k)
        vec, used, notes = self.resolve(query)
        exclude = {self._tag_pos[t] for t, _ in used}
        results = []
        # candidates beyond k, since one creator's own tags are discounted (tags.spread)
        pool = k * 3 + 10
        hits = self.related_scores(used, pool, exclude) if self.related is not None else []
        floored = bool(hits)  # the floor is on the related scores' scale, not the vectors'
        if not hits:
            hits = self.nearest_tags(vec, pool, exclude)
        reach = max((int(self.tag_bloggers[self._tag_pos[t]]) for t, w in used if w > 0), default=0)
        hits, short = spread_ranked(hits, self.spread(), k, floored, self.tag_bloggers, reach)
        if short:
            notes.append(short_note(len(hits), k))
        for i, sim in hits:
            n, rating = int(self.tag_bloggers[i]), float(self.tag_rating[i])
            results.append(
                Recommendation(
                    id=self.tags[i],
                    label=f"#{self.tags[i]}",
                    score=sim,
                    why=f"{used_by(n, float(self.spread()[i]))}; posts with it get more "
                    f"likes than {self.like_percentile(i):.0f}% of tags",
                    extra={"similarity": sim, "bloggers": n, "rating": rating},
                )
            )
        method = self.related_method if self.related is not None else self.method
        return Answer(results, notes, {"query": _terms_text(used), "method": method})

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
        top = top_k(scores, min(k, n_ok))
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
            no_lang = filters.language_note(self.language) if filters else None
            notes.append(no_lang or "No creator passes these filters.")
        hidden = self._hidden_note(filters)
        if hidden:  # an `er:` filter cannot judge creators whose likes are hidden: say so
            notes.append(hidden)
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

    def _hidden_note(self, filters: Filters | None) -> str | None:
        if not filters or self.er_hidden is None:
            return None
        n = filters.hidden_er_left_out(self.followers, self.language, self.er_hidden)
        return filters.hidden_er_note(n)

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

    extra = {
        "similarity": sim,
        "followers": num(model.followers[b]),
        "avg_likes": num(model.avg_likes[b]),
        "er": num(model.er[b]),
        "language": model.language[b] or None,
    }
    if model.er_hidden is not None and model.er_hidden[b]:
        extra["er_hidden"] = True  # shown as "ER unknown — likes hidden"
    return extra


# ------------------------------------------------------------------ fitting
@dataclass
class FitReport:
    quality: dict[str, float]  # method -> held-out quality
    chosen: str
    heldout_posts: int
    words_per_sec: dict[str, float]
    seconds: dict[str, float]
    related: str = "vectors"  # what ranks related tags; its quality is the gate's
    related_scores: Related | None = None  # fitted on all posts when refit
    quality_se: float = 0.0  # standard error of the shipped quality (held-out draw)
    lifts: dict[str, float] = field(default_factory=dict)  # engine.tags.lift, ~1 = chance

    @property
    def shipped_quality(self) -> float:
        return self.quality.get(self.related if self.related != "vectors" else self.chosen, 0.0)


# The vectors replace the related-score rows only when their held-out quality is this
# much (relative) better: within it the two are a tie that the held-out split decides
# (the Spark backend's hashed split and the local random one chose differently on
# synthetic posts where both scored 0.2227), and the rows win on real data (HARRISON
# 0.159 vs 0.136, demo 0.532 vs 0.428: benchmarks/bench_tags).
RELATED_MARGIN = 0.02


def split_posts(n: int, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of training and held-out posts (a fixed-seed random share)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    n_test = int(round(n * holdout)) if n >= 10 else 0
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def fit_embeddings(
    sentences: list[list[str]] | Cooc, cfg: TagConfig, seed: int, methods: Sequence[str]
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


def fit_related(sentences: list[list[str]] | Cooc, method: str, top: int) -> Related:
    return fit_ochiai(sentences, top) if method == "ochiai" else fit_sparse_ppmi(sentences, top)


def embedding_methods(cfg: TagConfig) -> tuple[str, ...]:
    """The embeddings to fit: PPMI+SVD under `auto`, Word2Vec too only when asked."""
    if cfg.method == "blend":
        return ("skipgram", "ppmi")
    if cfg.method == "auto":
        return METHODS if cfg.word2vec else ("ppmi",)
    return (cfg.method,)


@dataclass
class TagCounts:
    """What the tags model is built from when the posts were counted elsewhere (the
    Spark backend): the prepared sentences' co-occurrence on the training split and on
    all posts, the held-out posts' cleaned tags (a bounded sample), creators per tag,
    (handle, tag, n) uses, per-creator posts / likes / comments sums, and each tag's
    like-rating sums (tag, count, adj_sum)."""

    train: Cooc
    full: Cooc
    held: list[list[str]]
    bloggers: dict[str, int]
    creator_tags: pd.DataFrame
    creators: pd.DataFrame
    tag_likes: pd.DataFrame
    # each creator's newest posts (engine.core.engagement.recent_posts), for the ER
    engagement: pd.DataFrame | None = None


def choose_embedding(
    posts: list[list[str]],
    owners: Sequence[str],
    cfg: TagConfig,
    seed: int,
    log=lambda m: None,
    counted: TagCounts | None = None,
    keys: Sequence[str] | None = None,
) -> tuple[Embedding, FitReport]:
    """Fit the embeddings and the related-tag scores on the training posts, measure all
    on held-out posts, and return the chosen embedding (refitted on all posts when
    `cfg.refit`) with the report, which carries the chosen related-tag scores."""
    if counted is None:
        train_i, test_i = split_posts(len(posts), cfg.holdout, seed)
        tr_posts = [posts[i] for i in train_i]
        tr_owners = [owners[i] for i in train_i]
        tr_keys = [keys[i] for i in train_i] if keys is not None else None
        sentences, _ = prepare_sentences(tr_posts, tr_owners, cfg, seed, tr_keys)
        held = [posts[i] for i in test_i]
        creators = (tr_posts, tr_owners, [owners[i] for i in test_i])
    else:
        if set(embedding_methods(cfg)) - {"ppmi"}:
            raise ValueError(
                "Word2Vec tag embeddings need every post on one machine: train tags with "
                "the local backend, or use the default method"
            )
        sentences, held = counted.train, counted.held
        creators = None  # the counted held-out sample carries no creators
    if (len(sentences.tags) == 0) if isinstance(sentences, Cooc) else not sentences:
        raise NotEnoughData("no post has two tags used by enough creators to learn from")
    embs = fit_embeddings(sentences, cfg, seed, embedding_methods(cfg))
    if "skipgram" in embs and "ppmi" in embs:
        embs["blend"] = blend(embs["skipgram"], embs["ppmi"])
    rel_methods = ("ochiai",) if cfg.related == "auto" else (cfg.related,)
    rels = {m: fit_related(sentences, m, cfg.related_top) for m in rel_methods if m != "vectors"}
    scored: dict[str, Embedding | Related] = {**embs, **rels}
    measured = {m: topic_quality(e, held) for m, e in scored.items()}
    quality = {m: r["quality"] for m, r in measured.items()}
    for m, q in quality.items():
        log(f"tags: {m} held-out quality {q:.4f} ({scored[m].seconds:.1f}s)")
    chosen = (
        max(embs, key=lambda m: (quality[m], m == "ppmi")) if cfg.method == "auto" else cfg.method
    )
    if not held:
        chosen = "ppmi" if cfg.method == "auto" else cfg.method
    related = "vectors"
    if rels and held:  # related scores ship unless the chosen vectors' cosine clearly wins
        best = max(rels, key=quality.get)
        vectors_win = quality[chosen] > quality[best] * (1 + RELATED_MARGIN)
        related = best if cfg.related != "auto" or not vectors_win else related
    elif rels:
        related = next(iter(rels))
    report = FitReport(
        quality=quality,
        chosen=chosen,
        heldout_posts=len(held),
        words_per_sec={m: e.words_per_sec for m, e in embs.items() if e.words_per_sec},
        seconds={m: e.seconds for m, e in scored.items()},
        related=related,
    )
    shipped = report.related if report.related != "vectors" else chosen
    report.quality_se = float(measured[shipped].get("se", 0.0))
    report.lifts = measure_lifts(scored[shipped], report.shipped_quality, sentences, held, creators)
    if cfg.refit and len(held):
        all_sentences = (
            prepare_sentences(posts, owners, cfg, seed, keys)[0]
            if counted is None
            else counted.full
        )
        parts = ("skipgram", "ppmi") if chosen == "blend" else (chosen,)
        refit = fit_embeddings(all_sentences, cfg, seed, parts)
        final = blend(refit["skipgram"], refit["ppmi"]) if chosen == "blend" else refit[chosen]
        if related != "vectors":
            report.related_scores = fit_related(all_sentences, related, cfg.related_top)
    else:
        final = embs[chosen]
        report.related_scores = rels.get(related)
    return final, report


def measure_lifts(
    scorer: Embedding | Related,
    quality: float,
    sentences: list[list[str]] | Cooc,
    held: list[list[str]],
    creators: tuple[list[list[str]], list[str], list[str]] | None,
) -> dict[str, float]:
    """The shipped scorer's lifts over tag popularity on the held-out posts
    (engine.tags.lift); `creators` = (training posts, their creators, held-out posts'
    creators), where the held-out posts' creators are known."""
    if not held:
        return {}
    counts = post_counts(sentences, scorer.tags)
    lifts = {"related": related_lift(scorer.tags, quality, counts, held)}
    if creators is not None:
        lifts["creators"] = creator_lift(creators[0], creators[1], held, creators[2], scorer.tags)
    return {name: lift for name, lift in lifts.items() if lift is not None}


def aligned(rel: Related, tags: list[str]) -> sparse.csr_matrix:
    """The related-score rows re-indexed to `tags` (the embedding's order); tags the
    embedding lacks are dropped."""
    pos = {t: i for i, t in enumerate(tags)}
    new = np.array([pos.get(t, -1) for t in rel.tags], dtype=np.int64)
    coo = rel.scores.tocoo()
    keep = (new[coo.row] >= 0) & (new[coo.col] >= 0)
    return sparse.csr_matrix(
        (coo.data[keep], (new[coo.row[keep]], new[coo.col[keep]])),
        shape=(len(tags), len(tags)),
        dtype=np.float32,
    )


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


def fit(
    data: Dataset,
    config: TagConfig | None = None,
    *,
    seed: int = 42,
    log=lambda m: None,
    counted: TagCounts | None = None,
) -> TagModel:
    """Fit from the dataset's frames (posts: handle, hashtags, likes, comments;
    influencers: handle, followers, language), or from `counted` (then the posts are
    not read). The model carries the FitReport (`model.report`)."""
    cfg = config or TagConfig()
    posts, influencers = data.posts, data.influencers
    if counted is not None:
        emb, report = choose_embedding([], [], cfg, seed, log, counted)
        stats = _counted_stats(counted, emb.tags)
        return _assemble(emb, report, stats, influencers, cfg, counted.engagement)
    posts = posts.reset_index(drop=True)
    cleaned = post_frame_tags(posts, cfg)
    owners = posts["handle"].astype(str).tolist()
    keys = (
        (posts["post_id"].astype(str) + ":" + posts["handle"].astype(str)).tolist()
        if "post_id" in posts
        else None
    )
    emb, report = choose_embedding(cleaned, owners, cfg, seed, log, keys=keys)
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
    owner_idx = np.array([hpos[o] for o in owners], dtype=np.int64)
    n_posts = np.bincount(owner_idx, minlength=len(handles)).astype(float)
    stats = CreatorStats(
        handles,
        bt,
        n_posts,
        np.bincount(owner_idx, weights=likes, minlength=len(handles)),
        np.bincount(owner_idx, weights=comments, minlength=len(handles)),
        n_bloggers,
        rating,
    )
    return _assemble(emb, report, stats, influencers, cfg, recent_posts(posts))


@dataclass
class CreatorStats:
    """Per creator: tag uses (creators x the embedding's tags), posts, likes and
    comments sums; per tag: creators using it and like rating."""

    handles: list[str]
    bt: sparse.csr_matrix
    n_posts: np.ndarray
    likes: np.ndarray
    comments: np.ndarray
    n_bloggers: np.ndarray
    rating: np.ndarray


def _counted_stats(c: TagCounts, tags: list[str]) -> CreatorStats:
    handles = sorted(c.creators["handle"].astype(str))
    per = c.creators.set_index("handle").reindex(handles)
    hpos = {h: i for i, h in enumerate(handles)}
    tpos = {t: i for i, t in enumerate(tags)}
    ct = c.creator_tags[c.creator_tags["tag"].isin(tpos)]
    bt = sparse.csr_matrix(
        (
            ct["n"].to_numpy(np.float32),
            (ct["handle"].map(hpos).to_numpy(np.int64), ct["tag"].map(tpos).to_numpy(np.int64)),
        ),
        shape=(len(handles), len(tags)),
    )
    bt.sum_duplicates()
    tl = c.tag_likes.set_index("tag").reindex(tags)
    rating = rating_from_sums(tl["count"].fillna(0).to_numpy(), tl["adj_sum"].fillna(0).to_numpy())
    return CreatorStats(
        handles,
        bt,
        per["posts"].to_numpy(float),
        per["likes"].to_numpy(float),
        per["comments"].to_numpy(float),
        np.array([c.bloggers.get(t, 0) for t in tags], dtype=np.int32),
        rating.astype(np.float32),
    )


def _assemble(
    emb: Embedding,
    report: FitReport,
    stats: CreatorStats,
    influencers: pd.DataFrame,
    cfg: TagConfig,
    engagement: pd.DataFrame | None = None,
) -> TagModel:
    """The model from its parts; the ER is the robust one (engine.core.engagement) over
    `engagement`, each creator's newest posts (unknown for all without them)."""
    handles, bt, n_posts = stats.handles, stats.bt, stats.n_posts
    n_bloggers, rating = stats.n_bloggers, stats.rating
    beta = l2_normalise(bt @ emb.vectors)
    avg_likes = stats.likes / np.maximum(n_posts, 1)
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
    by_handle = pd.Series(followers, index=handles)
    posts = engagement if engagement is not None else pd.DataFrame(columns=["handle"])
    er, er_hidden = creator_engagement(posts, by_handle).at(handles)

    metrics: dict[str, Any] = {f"quality.{m}": round(q, 5) for m, q in report.quality.items()}
    metrics["quality"] = round(report.shipped_quality, 5)
    metrics["heldout_posts"] = report.heldout_posts
    if report.heldout_posts:
        metrics["quality_se"] = round(report.quality_se, 5)
    for name, lift in report.lifts.items():
        metrics[f"lift.{name}"] = round(lift, 4)
    metrics["tags"] = len(emb.tags)
    metrics["bloggers"] = len(handles)
    for m, w in report.words_per_sec.items():
        metrics[f"words_per_sec.{m}"] = round(w)
    params = {
        "method": report.chosen,
        "related": report.related,
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
        er_hidden=er_hidden,
        language=language,
        n_tags=np.diff(bt.indptr).astype(np.int32),
        bt_indptr=bt.indptr.astype(np.int64),
        bt_indices=bt.indices.astype(np.int32),
        bt_counts=bt.data.astype(np.int32),
        method=report.chosen,
        params=params,
        metrics=metrics,
        related=aligned(report.related_scores, emb.tags) if report.related_scores else None,
        related_method=report.related if report.related_scores else "vectors",
        report=report,
    )
    return model


def tag_variants(tag: str) -> list[str]:
    """The singular and plural spellings people swap (`#cats` for `#cat`, `#stories` for
    `#story`, `#dishes` for `#dish`), nearest first."""
    out: list[str] = []
    if tag.endswith("ies") and len(tag) > 4:
        out.append(tag[:-3] + "y")
    if tag.endswith("es") and len(tag) > 3:
        out.append(tag[:-2])
    if tag.endswith("s") and len(tag) > 2:
        out.append(tag[:-1])
    if tag.endswith("y") and len(tag) > 2:
        out.append(tag[:-1] + "ies")
    out += [tag + "s", tag + "es"]
    return [v for v in dict.fromkeys(out) if v != tag]
