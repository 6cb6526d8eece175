"""The shared cosine index: HNSW agrees with exact search, survives a bytes round trip,
and honours exclusions and filters by over-fetching."""

import numpy as np
import pytest

from engine.core.index import VectorIndex, l2_normalise


def clustered(n: int, d: int = 32, clusters: int = 20, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, d))
    return (centres[rng.integers(clusters, size=n)] + 0.3 * rng.normal(size=(n, d))).astype(
        np.float32
    )


def exact_top(vectors, q, k):
    sims = l2_normalise(vectors) @ l2_normalise(q)
    return list(np.argsort(-sims)[:k])


@pytest.mark.parametrize("threshold", [10_000, 100])  # exact path, then the HNSW graph
def test_matches_exact_search(threshold):
    vecs = clustered(3000)
    idx = VectorIndex.build(vecs, exact_threshold=threshold)
    assert idx.exact == (threshold >= 3000)
    recall = []
    for i in range(0, 3000, 150):
        got = [r for r, _ in idx.query(vecs[i], 10)]
        recall.append(len(set(got) & set(exact_top(vecs, vecs[i], 10))) / 10)
        assert got[0] == i
    assert np.mean(recall) >= 0.95


def test_bytes_round_trip_keeps_answers():
    vecs = clustered(2500)
    idx = VectorIndex.build(vecs, exact_threshold=100)
    again = VectorIndex.from_bytes(idx.to_bytes())
    assert not again.exact
    for i in (0, 7, 1999):
        assert idx.query(vecs[i], 5) == again.query(vecs[i], 5)
    rows, sims = again.query_batch(vecs[:4], 3)
    assert rows.shape == (4, 3) and list(rows[:, 0]) == [0, 1, 2, 3]
    assert np.allclose(sims[:, 0], 1.0, atol=1e-4)


def test_exclude_and_selective_filters_still_return_k():
    vecs = clustered(5000)
    idx = VectorIndex.build(vecs, exact_threshold=100)
    hits = idx.query(vecs[0], 10, exclude={0})
    assert len(hits) == 10 and 0 not in [r for r, _ in hits]
    allowed = np.zeros(5000, dtype=bool)
    allowed[4990:] = True  # 10 rows out of 5000: far outside the first candidates
    hits = idx.query(vecs[0], 10, allow=lambda rows: allowed[rows])
    assert sorted(r for r, _ in hits) == list(range(4990, 5000))
    sims = [s for _, s in hits]
    assert sims == sorted(sims, reverse=True)


def test_empty_and_tiny():
    idx = VectorIndex.build(np.zeros((0, 4), dtype=np.float32))
    assert idx.query(np.ones(4), 3) == []
    tiny = VectorIndex.build(np.eye(3, dtype=np.float32))
    assert [r for r, _ in tiny.query(np.array([1, 0.1, 0]), 5)] == [0, 1, 2]


def test_a_loaded_index_saves_the_graph_it_came_from():
    vecs = clustered(2500)
    payload = VectorIndex.build(vecs, exact_threshold=100).to_bytes()
    loaded = VectorIndex.from_bytes(payload)
    # Re-serialising a loaded index must give a loadable graph again (nmslib alone would
    # write a stub that crashes the next load).
    twice = VectorIndex.from_bytes(loaded.to_bytes())
    assert twice.query(vecs[5], 3) == loaded.query(vecs[5], 3)
    assert len(twice.graph()) == len(loaded.graph()) > 100_000


def test_top_k_equals_a_stable_full_sort_with_ties_and_excluded_scores():
    from engine.core.index import top_k

    rng = np.random.default_rng(5)
    for n, k in [(1, 1), (10, 3), (1000, 10), (1000, 1000), (50, 80)]:
        scores = rng.integers(0, 7, size=n).astype(float)  # many ties
        scores[rng.random(n) < 0.2] = -np.inf  # filtered out, as the tags query does
        want = np.argsort(-scores, kind="stable")[:k]
        assert top_k(scores, k).tolist() == want.tolist()
    assert top_k(np.array([1.0, 2.0]), 0).tolist() == []
