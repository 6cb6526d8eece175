"""Niche-aware song picks (issue 14): songs used, and performing well, among the
creators whose content is most like this one's.

Song usage alone (collaborative filtering) knows nothing about a creator without reels
or one whose songs nobody else used; their captions and hashtags (the lookalike or tag
model's creator vectors) still say what they are about. Each creator keeps their
`neighbours` content-nearest creators *with reels*; a neighbour votes for the songs they
used, each vote similarity x lift^gamma / (songs used)^activity_power, lift = the ER of
their reels with that song / their own average ER. The hybrid blends that with CF by
a = reels / (reels + shrink): no reels -> niche only, many reels -> mostly CF.
Defaults and measurements: /tmp/research14/REPORT.md, benchmarks/bench_songs.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from engine.songs.recommenders import SongRecommender, UsageMatrix

_BLOCK_CELLS = 20_000_000
# Above this many (creator, candidate) pairs the exact scan gives way to the HNSW graph
# (engine.core.index): 100k creators with reels is 10^10 pairs, minutes of numpy; the
# graph answers the same top 100 (recall measured in bench_index) in seconds.
_EXACT_PAIRS = 400_000_000
NEIGHBOURS = 100
GAMMA = 1.0
ACTIVITY_POWER = 0.5
POP_EPSILON = 1e-3
SHRINK_GRID = (2.0, 5.0, 20.0, 50.0)


def _graph_neighbours(
    vectors: np.ndarray, cand: np.ndarray, cand_usage: np.ndarray, n: int, index: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """NicheTable.build's table from an HNSW graph: n + 1 found per creator, their own
    row dropped. `index`: the content model's graph over all of `vectors` (the
    lookalike model's, issue 27: building a second one over the creators with reels was
    two thirds of the niche table's time); found creators without reels are dropped,
    so it is asked for more in proportion to them, with a margin; a row may still come
    back short (-1 at its end, as a table with fewer candidates than `n`)."""
    if index is None:
        from engine.core.index import VectorIndex

        index, to_cand = VectorIndex.build(vectors[cand]), np.arange(cand.size)
        fetch = min(n + 1, cand.size)
    else:
        to_cand = np.full(len(vectors), -1, dtype=np.int64)
        to_cand[cand] = np.arange(cand.size)
        # The average share of creators without reels half as many times again, and 10
        # more: a creator's neighbourhood may hold more of them than the average.
        share = len(vectors) / cand.size
        fetch = min(len(vectors), int(np.ceil((n + 1) * (1.5 * share - 0.5))) + 10, 8 * n)
    found, sims = index.query_batch(vectors, fetch)
    found = np.where(found >= 0, to_cand[np.maximum(found, 0)], -1)
    own_of = np.full(len(vectors), -2, dtype=np.int64)
    own_of[cand] = np.arange(cand.size)
    keep = (found >= 0) & (found != own_of[:, None])
    # Each row's first n kept hits, in the graph's order (best first), without a loop.
    rank = np.cumsum(keep, axis=1) - 1
    take = keep & (rank < n)
    r_i, c_i = np.nonzero(take)
    rows = np.full((len(vectors), n), -1, dtype=np.int64)
    out = np.zeros((len(vectors), n), dtype=np.float32)
    rows[r_i, rank[r_i, c_i]] = cand_usage[found[r_i, c_i]]
    out[r_i, rank[r_i, c_i]] = sims[r_i, c_i]
    return rows, out


@dataclass
class NicheTable:
    """Per creator with a content vector (`handles`): their content-nearest creators
    that have reels, as rows of the usage matrix (`rows`, -1 = none) and cosines."""

    handles: np.ndarray
    rows: np.ndarray  # (n, N) int64
    sims: np.ndarray  # (n, N) float32
    _row_of: dict[str, int] | None = field(default=None, repr=False)

    @classmethod
    def build(
        cls,
        handles: list[str],
        vectors: np.ndarray,
        usage_users: np.ndarray,
        n: int = NEIGHBOURS,
        index: Any = None,
    ) -> NicheTable:
        """`vectors` are the content model's L2-normalised creator vectors; `index`, where
        it has one, its nearest-neighbour graph over them (engine.core.index.VectorIndex),
        used instead of building one when the exact scan is too big."""
        handles_arr = np.asarray(handles).astype(str)
        vectors = np.asarray(vectors, dtype=np.float32)
        usage_row = {h: i for i, h in enumerate(np.asarray(usage_users).astype(str))}
        cand = np.array([i for i, h in enumerate(handles_arr) if h in usage_row], dtype=np.int64)
        n = min(n, cand.size)
        rows = np.full((len(handles_arr), max(n, 0)), -1, dtype=np.int64)
        sims = np.zeros((len(handles_arr), max(n, 0)), dtype=np.float32)
        if n > 0 and len(handles_arr) * cand.size > _EXACT_PAIRS:
            cand_usage = np.array([usage_row[h] for h in handles_arr[cand]], dtype=np.int64)
            rows, sims = _graph_neighbours(vectors, cand, cand_usage, n, index)
        elif n > 0:
            cand_usage = np.array([usage_row[h] for h in handles_arr[cand]], dtype=np.int64)
            cvec = vectors[cand].T
            block = max(1, _BLOCK_CELLS // max(cand.size, 1))
            for start in range(0, len(handles_arr), block):
                stop = min(start + block, len(handles_arr))
                s = vectors[start:stop] @ cvec
                own = np.arange(start, stop)[:, None] == cand[None, :]
                s[own] = -np.inf  # never one's own neighbour
                part = np.argpartition(-s, n - 1, axis=1)[:, :n]
                vals = np.take_along_axis(s, part, axis=1)
                order = np.argsort(-vals, axis=1, kind="stable")
                best = np.take_along_axis(part, order, axis=1)
                got = np.take_along_axis(vals, order, axis=1)
                ok = np.isfinite(got)
                rows[start:stop] = np.where(ok, cand_usage[best], -1)
                sims[start:stop] = np.where(ok, got, 0.0)
        return cls(handles_arr, rows, sims)

    def row(self, handle: str) -> int | None:
        if self._row_of is None:
            self._row_of = {h: i for i, h in enumerate(self.handles.tolist())}
        return self._row_of.get(handle)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"handles": self.handles, "rows": self.rows, "sims": self.sims}

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> NicheTable:
        return cls(a["handles"].astype(str), a["rows"], a["sims"])


def engagement_votes(usage: UsageMatrix, creator_er: np.ndarray) -> sp.csr_matrix:
    """Per (creator, song) vote: lift^GAMMA / (songs used)^ACTIVITY_POWER, lift = ER
    with the song / the creator's average ER = 1 + Delta / average ER."""
    votes = usage.binary().astype(np.float32, copy=True)
    users = usage.entry_users()
    avg = np.maximum(np.asarray(creator_er, dtype=np.float64)[users], 1e-6)
    lift = np.maximum(1.0 + usage.rating / avg, 1e-3)
    votes.data = np.power(lift, GAMMA).astype(np.float32)
    n = np.diff(votes.indptr).astype(np.float64)
    scale = np.divide(1.0, n**ACTIVITY_POWER, out=np.zeros_like(n), where=n > 0)
    return sp.csr_matrix(sp.diags(scale.astype(np.float32)) @ votes)


def _row_scaled(s: np.ndarray) -> np.ndarray:
    top = s.max(axis=1, keepdims=True)
    return np.divide(s, top, out=np.zeros_like(s), where=top > 0)


@dataclass
class HybridRecommender(SongRecommender):
    """CF (any fitted recommender, ALS by default) blended with the niche score.
    `table` maps content creators to usage rows; `creator_er` is each usage row's
    average ER (to turn Delta into lift)."""

    name: str = "hybrid"
    cf: SongRecommender | None = None
    table: NicheTable | None = None
    creator_er: np.ndarray | None = None
    shrink: float = 20.0
    # False: `cf` is shared with another blend that has fitted it on the same usage.
    fit_cf: bool = True
    _usage: UsageMatrix | None = field(default=None, repr=False)
    _votes: sp.csr_matrix | None = field(default=None, repr=False)
    _pop: np.ndarray | None = field(default=None, repr=False)
    _table_row: np.ndarray | None = field(default=None, repr=False)

    def fit(self, usage: UsageMatrix) -> HybridRecommender:
        if self.cf is not None and self.fit_cf:
            self.cf.fit(usage)
        return self._prepare(usage)

    def _prepare(self, usage: UsageMatrix) -> HybridRecommender:
        self._usage = usage
        self._votes = engagement_votes(usage, self.creator_er)
        pop = np.bincount(usage.uses.indices, minlength=usage.shape[1]).astype(np.float32)
        self._pop = pop / pop.max() if pop.size and pop.max() > 0 else pop
        self._table_row = np.array(
            [self.table.row(h) if self.table.row(h) is not None else -1 for h in usage.users],
            dtype=np.int64,
        )
        return self

    def niche_scores(self, table_rows: np.ndarray) -> np.ndarray:
        """(len(table_rows), songs): summed neighbour votes (row -1: all zero)."""
        table_rows = np.asarray(table_rows, dtype=np.int64)
        out = np.zeros((len(table_rows), self._usage.shape[1]), dtype=np.float32)
        ok = table_rows >= 0
        if ok.any():
            nb = self.table.rows[table_rows[ok]]
            w = np.where(nb >= 0, np.maximum(self.table.sims[table_rows[ok]], 0.0), 0.0)
            q, k = nb.shape
            W = sp.csr_matrix(
                (w.ravel(), np.maximum(nb, 0).ravel(), np.arange(0, q * k + 1, k)),
                shape=(q, self._usage.shape[0]),
            )
            out[ok] = (W @ self._votes).toarray()
        return out

    def blend(self, cf: np.ndarray | None, niche: np.ndarray, n_reels: np.ndarray) -> np.ndarray:
        n = np.asarray(n_reels, dtype=np.float64)
        a = n / (n + self.shrink) if self.shrink > 0 else (n > 0).astype(np.float64)
        out = (1.0 - a)[:, None] * _row_scaled(niche)
        if cf is not None:
            out = out + a[:, None] * _row_scaled(np.asarray(cf, dtype=np.float32))
        return (out + POP_EPSILON * self._pop[None, :]).astype(np.float32)

    def scores(self, user_rows: np.ndarray) -> np.ndarray:
        user_rows = np.asarray(user_rows)
        n_reels = np.asarray(self._usage.uses[user_rows].sum(axis=1)).ravel()
        cf = self.cf.scores(user_rows) if self.cf is not None else None
        return self.blend(cf, self.niche_scores(self._table_row[user_rows]), n_reels)

    def cold_scores(self, handle: str) -> np.ndarray | None:
        """Niche-only scores (1, songs) for a creator with no reels, or None when the
        content model does not know them."""
        row = self.table.row(handle)
        if row is None or not (self.table.rows[row] >= 0).any():
            return None
        return self.blend(None, self.niche_scores(np.array([row])), np.zeros(1))

    def why_facts(self, handle: str, items: list[int]) -> list[dict[str, Any]]:
        """For each song: how many of the creator's content neighbours used it and
        their mean engagement with it against their own average (ER points)."""
        row = self.table.row(handle)
        out: list[dict[str, Any]] = []
        if row is None:
            return [{"using": 0, "of": 0} for _ in items]
        nb = self.table.rows[row]
        nb = nb[nb >= 0]
        sub = self._usage.ratings()[nb].tocsc()
        for i in items:
            lo, hi = sub.indptr[i], sub.indptr[i + 1]
            deltas = sub.data[lo:hi]
            out.append(
                {
                    "using": int(hi - lo),
                    "of": int(nb.size),
                    "delta": float(deltas.mean()) if hi > lo else None,
                }
            )
        return out

    def params(self) -> dict[str, Any]:
        return {"shrink": self.shrink, "cf": self.cf.name if self.cf is not None else None}

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {f"table.{k}": v for k, v in self.table.to_arrays().items()}
        arrays["creator_er"] = np.asarray(self.creator_er, dtype=np.float64)
        arrays["shrink"] = np.array([self.shrink])
        return arrays

    def restore(self, usage: UsageMatrix, arrays: dict[str, np.ndarray]) -> None:
        self.table = NicheTable.from_arrays(
            {k[len("table.") :]: v for k, v in arrays.items() if k.startswith("table.")}
        )
        self.creator_er = arrays["creator_er"]
        self.shrink = float(arrays["shrink"][0])
        self._prepare(usage)
