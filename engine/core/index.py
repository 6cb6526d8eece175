"""Cosine nearest-neighbour search shared by every part of Scout: an nmslib HNSW graph
for large sets, exact numpy search below a size threshold (where a graph buys nothing
and costs recall), bytes in and out so the index travels as a registry artifact, and
filtered queries that over-fetch until enough allowed rows are found."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np

from engine.core.artifact_io import pack, unpack

Allow = Callable[[np.ndarray], np.ndarray]


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best scores, best first, ties in index order: what
    `np.argsort(-scores, kind="stable")[:k]` returns, without sorting every creator
    (a full sort of 100k scores is most of a query's 5 ms budget)."""
    n = len(scores)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k >= n:
        return np.argsort(-scores, kind="stable")[:k]
    kth = np.partition(scores, n - k)[n - k]
    cand = np.flatnonzero(scores >= kth)
    return cand[np.argsort(-scores[cand], kind="stable")][:k]


@dataclass
class HnswParams:
    M: int = 16
    ef_construction: int = 200
    ef: int = 100


class VectorIndex:
    """Rows are addressed by position (0..n-1); callers keep their own id arrays."""

    def __init__(
        self, vectors: np.ndarray, params: HnswParams, hnsw=None, graph: np.ndarray | None = None
    ) -> None:
        self.vectors = vectors  # L2-normalised float32 (n, d)
        self.params = params
        self._hnsw = hnsw
        # nmslib cannot re-save a graph it loaded without its data (it writes a stub that
        # crashes the next load), so a loaded index keeps the bytes it came from.
        self._graph = graph

    # ---------------------------------------------------------------- build
    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        *,
        M: int = 16,
        ef_construction: int = 200,
        ef: int = 100,
        exact_threshold: int = 2000,
        threads: int | None = None,
    ) -> VectorIndex:
        vecs = l2_normalise(vectors)
        params = HnswParams(M, ef_construction, ef)
        if len(vecs) <= exact_threshold:
            return cls(vecs, params)
        return cls(vecs, params, _build_hnsw(vecs, params, threads))

    @property
    def exact(self) -> bool:
        return self._hnsw is None

    def __len__(self) -> int:
        return len(self.vectors)

    # ---------------------------------------------------------------- query
    def query(
        self,
        vector: np.ndarray,
        k: int,
        *,
        exclude: Collection[int] = (),
        ef: int | None = None,
        allow: Allow | None = None,
    ) -> list[tuple[int, float]]:
        """(row, cosine similarity), best first. Over-fetches (doubling) until `k`
        rows pass `exclude` and `allow`, falling back to an exact scan when the
        filter is so selective that the graph cannot supply enough candidates."""
        n = len(self.vectors)
        if n == 0 or k <= 0:
            return []
        q = l2_normalise(np.asarray(vector, dtype=np.float32).reshape(-1))
        excluded = set(int(i) for i in exclude)
        fetch = min(n, k + len(excluded) + (k * 3 if allow else 0))
        while True:
            rows, sims = self._search(q, fetch, ef)
            keep = np.array([r not in excluded for r in rows], dtype=bool)
            if allow is not None and len(rows):
                keep &= np.asarray(allow(rows), dtype=bool)
            hits = [(int(r), float(s)) for r, s in zip(rows[keep], sims[keep], strict=True)]
            if len(hits) >= k or fetch >= n:
                return hits[:k]
            if fetch * 4 >= n or self.exact:
                fetch = n
            else:
                fetch *= 4

    def _search(self, q: np.ndarray, fetch: int, ef: int | None) -> tuple[np.ndarray, np.ndarray]:
        if self._hnsw is None or fetch >= len(self.vectors) // 2:
            return _exact(self.vectors, q, fetch)
        self._hnsw.setQueryTimeParams({"efSearch": max(ef or self.params.ef, fetch)})
        rows, dist = self._hnsw.knnQuery(q, k=fetch)
        return rows.astype(np.int64), (1.0 - dist).astype(np.float32)

    def query_batch(
        self, vectors: np.ndarray, k: int, ef: int | None = None, threads: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows (m, k) and similarities (m, k) for many queries at once."""
        qs = l2_normalise(np.atleast_2d(vectors))
        k = min(k, len(self.vectors))
        if self._hnsw is None:
            sims = qs @ self.vectors.T
            rows = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            part = np.take_along_axis(sims, rows, axis=1)
            order = np.argsort(-part, axis=1)
            return np.take_along_axis(rows, order, axis=1), np.take_along_axis(part, order, axis=1)
        self._hnsw.setQueryTimeParams({"efSearch": max(ef or self.params.ef, k)})
        out = self._hnsw.knnQueryBatch(qs, k=k, num_threads=threads or os.cpu_count() or 1)
        rows = np.full((len(qs), k), -1, dtype=np.int64)
        sims = np.zeros((len(qs), k), dtype=np.float32)
        for i, (r, d) in enumerate(out):
            rows[i, : len(r)] = r
            sims[i, : len(r)] = 1.0 - d
        return rows, sims

    # ---------------------------------------------------------- serialise
    def graph(self) -> np.ndarray | None:
        """The HNSW graph alone (uint8), for owners that already store the vectors:
        a lookalike model keeps them once rather than twice."""
        if self._hnsw is None:
            return None
        if self._graph is not None:
            return self._graph
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "hnsw.bin")
            self._hnsw.saveIndex(path, save_data=False)
            return np.fromfile(path, dtype=np.uint8)

    def params_dict(self) -> dict[str, int]:
        return {
            "M": self.params.M,
            "ef_construction": self.params.ef_construction,
            "ef": self.params.ef,
        }

    def to_bytes(self) -> bytes:
        arrays = {"vectors": self.vectors}
        graph = self.graph()
        if graph is not None:
            arrays["hnsw"] = graph
        return pack(arrays, self.params_dict())

    @classmethod
    def from_bytes(cls, payload: bytes) -> VectorIndex:
        arrays, meta = unpack(payload)
        return cls.from_parts(arrays["vectors"], arrays.get("hnsw"), meta)

    @classmethod
    def from_parts(
        cls, vectors: np.ndarray, graph: np.ndarray | None, params: dict[str, int]
    ) -> VectorIndex:
        """Rebuild from `graph()` and the L2-normalised vectors it was built on."""
        hp = HnswParams(params["M"], params["ef_construction"], params["ef"])
        vectors = np.asarray(vectors, dtype=np.float32)
        if graph is None or len(graph) == 0:
            return cls(vectors, hp)
        import nmslib

        hnsw = nmslib.init(
            method="hnsw", space="cosinesimil", data_type=nmslib.DataType.DENSE_VECTOR
        )
        hnsw.addDataPointBatch(vectors)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "hnsw.bin")
            np.asarray(graph, dtype=np.uint8).tofile(path)
            hnsw.loadIndex(path, load_data=False)
        hnsw.setQueryTimeParams({"efSearch": hp.ef})
        return cls(vectors, hp, hnsw, graph)


def _build_hnsw(vectors: np.ndarray, params: HnswParams, threads: int | None):
    import nmslib

    hnsw = nmslib.init(method="hnsw", space="cosinesimil", data_type=nmslib.DataType.DENSE_VECTOR)
    hnsw.addDataPointBatch(vectors)
    hnsw.createIndex(
        {
            "M": params.M,
            "efConstruction": params.ef_construction,
            "post": 0,
            "indexThreadQty": threads or os.cpu_count() or 1,
        },
        print_progress=False,
    )
    hnsw.setQueryTimeParams({"efSearch": params.ef})
    return hnsw


def _exact(vectors: np.ndarray, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    sims = vectors @ q
    k = min(k, len(sims))
    rows = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
    order = np.argsort(-sims[rows], kind="stable")
    return rows[order].astype(np.int64), sims[rows[order]].astype(np.float32)


@dataclass(frozen=True)
class CreatorSpace:
    """Creators as rows of L2-normalised vectors with a search index: the shape every
    model that places creators in a space offers (`creator_space()`), so lookalike
    blending, the map and topic search read any of them the same way."""

    handles: list[str]
    row: dict[str, int]
    vectors: np.ndarray
    index: VectorIndex

    @classmethod
    def exact(cls, handles: Sequence[str], vectors: np.ndarray) -> CreatorSpace:
        """Exact search: building a graph would stall the first query after every reload
        (~90 s at 200k creators), while a scan costs milliseconds per query at that size."""
        vectors = np.asarray(vectors, dtype=np.float32)
        return cls(
            list(handles),
            {h: i for i, h in enumerate(handles)},
            vectors,
            VectorIndex.build(vectors, exact_threshold=len(vectors)),
        )
