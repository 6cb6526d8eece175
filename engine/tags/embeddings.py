"""The tag embeddings that are fitted and compared on held-out posts (Word2Vec skip-gram
and CBOW, PPMI + truncated SVD, their blend), the sparse related-tag scores (Ochiai and
plain sparse PPMI cosine), and TopicTensor's quality metric that compares them all."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

if TYPE_CHECKING:
    pass

from engine.core.index import l2_normalise
from engine.core.sparse import l2_rows, top_per_row
from engine.tags.prepare import TagConfig


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
        l2_normalise(model.wv.vectors),
        seconds,
        effective / seconds if seconds > 0 else None,
    )


@dataclass
class Cooc:
    """Tag co-occurrence within posts: `co[i, j]` posts carry both (diagonal zero),
    `posts[i]` posts carry tag i."""

    tags: list[str]
    co: sparse.csr_matrix
    posts: np.ndarray


def as_cooc(sentences: list[list[str]] | Cooc) -> Cooc:
    """The co-occurrence of `sentences`, or `sentences` itself when it was counted
    elsewhere (the Spark backend hands Cooc objects)."""
    return sentences if isinstance(sentences, Cooc) else cooccurrence(sentences)


def cooccurrence(sentences: list[list[str]]) -> Cooc:
    tags = sorted({t for s in sentences for t in s})
    pos = {t: i for i, t in enumerate(tags)}
    rows = np.repeat(np.arange(len(sentences)), [len(s) for s in sentences])
    cols = np.fromiter((pos[t] for s in sentences for t in s), dtype=np.int64, count=len(rows))
    x = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(sentences), len(tags))
    )
    x.data[:] = 1.0  # a tag counts once per post
    co = sparse.csr_matrix(x.T @ x)
    co.setdiag(0)
    co.eliminate_zeros()
    return Cooc(tags, co, np.asarray(x.sum(axis=0)).ravel())


def ppmi_matrix(c: Cooc, cds_alpha: float) -> sparse.csr_matrix:
    """PPMI of the co-occurrence counts with context smoothing α (1 = plain PMI)."""
    co = c.co.tocoo()
    r, cc, n = co.row, co.col, co.data.astype(np.float64)
    row_sum = np.bincount(r, weights=n, minlength=len(c.tags))
    col_sum = np.bincount(cc, weights=n, minlength=len(c.tags)) ** cds_alpha
    ctx_total = col_sum.sum()
    pmi = np.log(n * ctx_total / (row_sum[r] * col_sum[cc])) if len(n) else n
    good = pmi > 0
    return sparse.csr_matrix(
        (pmi[good].astype(np.float32), (r[good], cc[good])), shape=(len(c.tags), len(c.tags))
    )


def fit_ppmi_svd(sentences: list[list[str]] | Cooc, cfg: TagConfig, seed: int) -> Embedding:
    """Co-occurrence within posts -> PPMI (with context smoothing) -> truncated SVD,
    vectors U·sqrt(S). Strong when there is too little text for Word2Vec."""
    from sklearn.utils.extmath import randomized_svd

    t0 = time.perf_counter()
    c = as_cooc(sentences)
    m = ppmi_matrix(c, cfg.cds_alpha)
    dim = max(1, min(cfg.vector_size, len(c.tags) - 1))
    u, s, _ = randomized_svd(m, n_components=dim, random_state=seed, n_iter=5)
    return Embedding("ppmi", c.tags, l2_normalise(u * np.sqrt(s)), time.perf_counter() - t0)


@dataclass
class Related:
    """Related-tag scores as sparse rows: row i holds tag i's best-scoring other tags
    (at most `top` of them). A weighted query adds its tags' rows."""

    method: str
    tags: list[str]
    scores: sparse.csr_matrix  # float32, (n_tags, n_tags)
    seconds: float = 0.0

    def index(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.tags)}

    def table(self, k: int) -> np.ndarray:
        """Each tag's k best others, best first; -1 pads rows with fewer."""
        s = self.scores
        out = np.full((s.shape[0], k), -1, dtype=np.int64)
        for i in range(s.shape[0]):
            lo, hi = s.indptr[i], s.indptr[i + 1]
            best = s.indices[lo:hi][np.argsort(-s.data[lo:hi], kind="stable")[:k]]
            out[i, : len(best)] = best
        return out


def fit_ochiai(sentences: list[list[str]] | Cooc, top: int) -> Related:
    """co(i, j) / sqrt(n_i · n_j): the cosine of two tags' post-incidence columns.

    Why: on HARRISON's held-out posts it beats plain sparse PPMI cosine and PPMI+SVD
    (benchmarks/bench_tags.py) with counts only: no logs, no SVD, no second-order
    product. Unlike raw co-occurrence counts it does not drift every tag's neighbours to
    the same popular tags."""
    t0 = time.perf_counter()
    c = as_cooc(sentences)
    inv = np.divide(1.0, np.sqrt(c.posts), out=np.zeros(len(c.posts)), where=c.posts > 0)
    d = sparse.diags(inv.astype(np.float32))
    scores = top_per_row(sparse.csr_matrix(d @ c.co @ d, dtype=np.float32), top)
    return Related("ochiai", c.tags, scores, time.perf_counter() - t0)


def fit_sparse_ppmi(sentences: list[list[str]] | Cooc, top: int, batch: int = 512) -> Related:
    """Cosine of plain PPMI rows (α = 1), no SVD: the baseline the default must beat.
    Second-order (rows times rows), so it is computed in batches of tags."""
    t0 = time.perf_counter()
    c = as_cooc(sentences)
    p = l2_rows(ppmi_matrix(c, 1.0))
    pt = sparse.csr_matrix(p.T)
    parts = []
    for a in range(0, p.shape[0], batch):
        sims = sparse.csr_matrix(p[a : a + batch] @ pt)
        sims.setdiag(0, k=a)
        sims.eliminate_zeros()
        parts.append(top_per_row(sims, top))
    scores = sparse.vstack(parts, format="csr") if parts else sparse.csr_matrix((0, 0))
    return Related("ppmi_sparse", c.tags, scores.astype(np.float32), time.perf_counter() - t0)


def blend(a: Embedding, b: Embedding) -> Embedding:
    """Concatenate two embeddings on their shared tags: cosine = mean of the two cosines."""
    bi = b.index()
    tags = [t for t in a.tags if t in bi]
    ai = a.index()
    va = a.vectors[[ai[t] for t in tags]]
    vb = b.vectors[[bi[t] for t in tags]]
    return Embedding(
        "blend", tags, l2_normalise(np.hstack([va, vb]) / math.sqrt(2)), a.seconds + b.seconds
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


def topic_quality(
    emb: Embedding | Related, posts: list[list[str]], max_tags: int = 30
) -> dict[str, float]:
    """TopicTensor's metric: for each of a held-out post's n known tags take its n nearest
    tags; quality = share of those n·n candidates that are among the post's other tags.
    Posts with fewer than two known tags say nothing and are left out."""
    idx = emb.index()
    known = [[idx[t] for t in p if t in idx][:max_tags] for p in posts]
    known = [k for k in known if len(k) >= 2]
    if not known:
        return {"quality": 0.0, "posts": 0}
    width = max(len(k) for k in known)
    if isinstance(emb, Related):
        table = emb.table(width)
    else:
        table = nearest_table(emb.vectors, width)
    per_post = np.array(
        [[int(np.isin(table[k, : len(k)], k).sum()), len(k) * len(k)] for k in known], dtype=float
    )
    hits, total = per_post.sum(axis=0)
    quality = hits / total
    return {"quality": quality, "posts": len(known), "se": ratio_se(per_post, quality)}


def ratio_se(per_post: np.ndarray, ratio: float) -> float:
    """Standard error of a ratio of sums (hits / candidates over posts), by the delta
    method: how far the same model's figure moves on another draw of held-out posts,
    which the quality gate needs to tell a worse model from an unlucky split."""
    hits, total = per_post[:, 0], per_post[:, 1]
    return float(np.sqrt(np.sum((hits - ratio * total) ** 2)) / total.sum())
